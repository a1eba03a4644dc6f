"""Celery app. With REDIS_URL a real worker and beat; without, tasks run eagerly in-process (see settings).

Queuing a task never fails the caller (`BrokerSafeTask`): a page or an API call whose write has committed must
not answer 500 because Redis is down when its on-commit task is sent. The task is then not queued and the
failure is logged; the work is not lost for good: jobs a person waits for (imports, requested KPI recomputes)
stay queued in the database and are queued again by their periodic reapers once the broker is back, and the
derived data (KPIs, lifecycle stages, health) is recomputed by the periodic full runs.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import kombu.exceptions
import redis.exceptions
from celery import Celery
from celery.contrib.django.task import DjangoTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

logger = logging.getLogger(__name__)

BROKER_UNAVAILABLE = (
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)


class BrokerSafeTask(DjangoTask):
    """Celery's Django task (`delay_on_commit`, the default under Django) whose `delay`/`apply_async` logs and returns None when the broker cannot take the message."""

    def apply_async(self, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        try:
            return super().apply_async(args, kwargs, **options)
        except BROKER_UNAVAILABLE as exc:
            logger.error("task %s not queued, the broker is unavailable: %r (args %r)", self.name, exc, args)
            return None


app = Celery("crm", task_cls=BrokerSafeTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
