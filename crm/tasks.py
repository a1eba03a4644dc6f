"""Celery tasks of the core, and the two helpers every app's tasks use: `tenant_task` (the decorator of a task
that works on one tenant) and `fan_out` (a periodic job queues one such task per active tenant)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import kombu.exceptions
import psycopg
import redis.exceptions
from celery import shared_task
from django import db
from django.utils import timezone

from crm.health import record_heartbeat
from crm.models import Tenant
from crm.tenancy import tenant_context

logger = logging.getLogger(__name__)

# Errors that a later attempt may not meet: the database connection or the broker went away, a deadlock or a
# serialization failure (psycopg raises both as OperationalError). Anything else, a ValidationError or a bug, would
# fail the same way again: it is not retried.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    db.OperationalError,
    db.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)
# Up to 5 retries, after about 2, 4, 8, 16, 32 s (full jitter, at most 10 minutes), then the error is raised.
MAX_RETRIES = 5
RETRY_BACKOFF = 2
RETRY_BACKOFF_MAX = 600


def tenant_task(
    *, name: str, skipped: Any = None, atomic: bool = True, **options: Any
) -> Callable[[Callable[..., Any]], Any]:
    """Make `fn(tenant, *args)` a Celery task called as `task.delay(tenant_id, *args)`.

    In one place for every tenant task: the tenant is looked up and must still be active (else the task logs a
    line and returns `skipped`, quietly: a tenant deactivated after the message was queued is not an error); the
    body runs inside `tenant_context(tenant)` (one transaction; `atomic=False` for a body that commits in steps of
    its own and opens the context itself, as an import job does); messages are acknowledged after the task ran
    (`acks_late`, so a worker lost mid-task leaves it for another one: tenant tasks are idempotent); and
    TRANSIENT_ERRORS are retried with exponential backoff, at most MAX_RETRIES times.
    """

    def decorate(fn: Callable[..., Any]) -> Any:
        def run(tenant_id: int, *args: Any, **kwargs: Any) -> Any:
            tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first()
            if tenant is None:
                logger.info("task %s skipped: tenant %s is inactive or gone", name, tenant_id)
                return skipped
            if not atomic:
                return fn(tenant, *args, **kwargs)
            with tenant_context(tenant):
                return fn(tenant, *args, **kwargs)

        # Celery reads the task's name, module and docs from the function it wraps.
        run.__name__, run.__qualname__ = fn.__name__, fn.__qualname__
        run.__module__, run.__doc__ = fn.__module__, fn.__doc__
        settings: dict[str, Any] = {
            "name": name,
            "acks_late": True,
            "ignore_result": True,
            "autoretry_for": TRANSIENT_ERRORS,
            "max_retries": MAX_RETRIES,
            "retry_backoff": RETRY_BACKOFF,
            "retry_backoff_max": RETRY_BACKOFF_MAX,
            "retry_jitter": True,
            "tenant_first_arg": True,  # kept in the outbox while the broker is down (crm.celery, crm.outbox)
        }
        return shared_task(**{**settings, **options})(run)

    return decorate


@shared_task(name="crm.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Beat sends this every 30 s; a worker running it proves the queue is consumed (see /healthz)."""
    record_heartbeat()


@shared_task(name="crm.tasks.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    """Send the tasks kept in the outbox while the broker was down (crm.outbox); queued by the first successful
    send of a process that kept some, and by beat every few minutes. Returns how many were sent."""
    from crm.outbox import outbox_relay

    return outbox_relay()


def fan_out(task) -> int:  # type: ignore[no-untyped-def]
    """Periodic jobs fan out one task per active tenant (STYLE.md "Celery"): queue `task(tenant_id)` for each and
    return how many were queued."""
    tenant_ids = list(Tenant.objects.filter(is_active=True).values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        task.delay(tenant_id)
    return len(tenant_ids)


def fan_out_at_local_midnight(task) -> int:  # type: ignore[no-untyped-def]
    """Beat runs a daily job every hour through this: queue `task(tenant_id)` for each active tenant whose local
    day has just begun (its local hour is 0), so the job runs once a day on the tenant's own date whatever its time
    zone (one fixed UTC hour would be most of a day late somewhere). Returns how many were queued."""
    now = timezone.now()
    tenant_ids = [
        tenant.pk
        for tenant in Tenant.objects.filter(is_active=True).only("pk", "time_zone")
        if timezone.localtime(now, tenant.tzinfo).hour == 0
    ]
    for tenant_id in tenant_ids:
        task.delay(tenant_id)
    return len(tenant_ids)
