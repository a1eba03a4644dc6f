"""Celery app. With REDIS_URL a real worker and beat; without, tasks run eagerly in-process (see settings).

Queuing a task never fails the caller (`BrokerSafeTask`): a page or an API call whose write has committed must
not answer 500 because Redis is down when its on-commit task is sent. A tenant task (declared with
`crm.tasks.tenant_task`, the tenant id first) that the broker cannot take is kept in the outbox table
(crm.outbox) and delivered by the relay once the broker is back; the next successful send of a process that kept
one queues the relay at once, and beat runs it every few minutes. Other tasks (the periodic fan-outs, the
heartbeat) are logged and dropped: beat sends them again on its schedule.
"""

from __future__ import annotations

import datetime
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


def send_to_broker(task: DjangoTask, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
    """Celery's own send of `task`, with no outbox fallback: raises when the broker is unavailable (the relay)."""
    return DjangoTask.apply_async(task, args, kwargs, **options)


class BrokerSafeTask(DjangoTask):
    """Celery's Django task (`delay_on_commit`, the default under Django) whose `delay`/`apply_async` does not
    raise when the broker cannot take the message: a tenant task goes to the outbox, any other is logged."""

    #: Set by crm.tasks.tenant_task: the first argument is the tenant id, so the call can wait in the outbox.
    tenant_first_arg = False

    def apply_async(self, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        try:
            result = super().apply_async(args, kwargs, **options)
        except BROKER_UNAVAILABLE as exc:
            if not self._keep_in_outbox(args, kwargs, options):
                logger.error(
                    "task %s not queued, the broker is unavailable: %r (args %r)", self.name, exc, args
                )
            return None
        self._relay_after_outage()
        return result

    def _keep_in_outbox(self, args: Any, kwargs: Any, options: dict[str, Any]) -> bool:
        if not self.tenant_first_arg or not args or not isinstance(args[0], int):
            return False
        from crm.outbox import outbox_store

        eta = options.get("eta")
        try:
            outbox_store(
                tenant_id=args[0],
                task=self.name,
                args=args,
                kwargs=kwargs,
                countdown=options.get("countdown"),
                eta=eta if isinstance(eta, datetime.datetime) else None,
            )
        except Exception:  # the database is unreachable too: nothing more to do than say so
            logger.exception("task %s could not be kept in the outbox either (args %r)", self.name, args)
            return False
        return True

    def _relay_after_outage(self) -> None:
        """The broker took a message again: if this process kept tasks in the outbox, queue the relay (once)."""
        from crm.outbox import RELAY_TASK, stored_since_last_relay

        if self.name == RELAY_TASK or not stored_since_last_relay():
            return
        try:
            send_to_broker(self.app.tasks[RELAY_TASK])
        except BROKER_UNAVAILABLE:
            from crm.outbox import mark_stored

            mark_stored()  # beat's run will do it, or the next successful send


app = Celery("crm", task_cls=BrokerSafeTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
