"""The task outbox: tenant tasks the broker could not take are kept in PostgreSQL and delivered once it is back.

A write whose change triggers background work (the debounced KPI recompute, an account's stage and health
recompute, an import job's start, a rescore) queues a Celery task, mostly on commit. While Redis is down the send
fails: `crm.celery.BrokerSafeTask` then stores the call here (`outbox_store`) instead of dropping it, so the page
or API call still answers as usual and the work is not lost:

- a send made inside the change's transaction (a plain `.delay` in an atomic block) writes its row in that
  transaction: the change and its task commit or roll back together;
- a send made on commit (`delay_on_commit`, the commit batches of crm.oncommit) writes its row in a short
  transaction of its own right after the change committed (Django has no hook before the commit).

Rows are delivered by `outbox_relay`, which reads each active tenant's rows (row-level security: one tenant at a
time, in `tenant_context`), sends them with their remaining countdown and deletes what was sent, in one
transaction: at least once (a relay that dies after sending and before committing sends those rows again; every
tenant task is idempotent). The relay runs when a process that stored rows next sends a task successfully (the
broker is back: `crm.tasks.relay_outbox` is queued once) and from beat every few minutes as the safety net.

Always writing the outbox (and deleting the row after the send) would cover a process killed in the instant
between commit and send too, but costs every write request an INSERT and a DELETE for a case the periodic full
recomputes and the job reapers already cover; the outbox is written only when the broker fails.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import threading
from typing import Any

from django.utils import timezone

from crm.models import OutboxMessage, Tenant
from crm.tenancy import tenant_context

logger = logging.getLogger(__name__)

#: The relay's task name (crm.tasks.relay_outbox).
RELAY_TASK = "crm.tasks.relay_outbox"

#: Rows one relay sends per tenant and transaction; the rest waits for the next round.
BATCH = 200

# Set when this process stored a row; the next successful send queues the relay once (crm.celery).
_stored = threading.Event()


def message_key(task: str, args: Any, kwargs: Any) -> str:
    """The digest that keeps one row per distinct call."""
    text = json.dumps([task, list(args or ()), dict(kwargs or {})], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def outbox_store(
    *,
    tenant_id: int,
    task: str,
    args: Any = None,
    kwargs: Any = None,
    countdown: float | None = None,
    eta: datetime.datetime | None = None,
) -> bool:
    """Keep the call `task(*args, **kwargs)` of tenant `tenant_id` for the relay (inside the current transaction
    when there is one). Returns whether a new row was written (False: the same call is already waiting)."""
    args, kwargs = list(args or ()), dict(kwargs or {})
    not_before = eta or (timezone.now() + datetime.timedelta(seconds=countdown or 0))
    key = message_key(task, args, kwargs)
    with tenant_context(tenant_id) as tenant:
        created = OutboxMessage.objects.bulk_create(
            [
                OutboxMessage(
                    tenant=tenant, task=task, args=args, kwargs=kwargs, key=key, not_before=not_before
                )
            ],
            ignore_conflicts=True,  # the same call is waiting already: one run will do
        )
    mark_stored()
    logger.warning("task %s of tenant %s kept in the outbox until the broker is back", task, tenant_id)
    return bool(created and created[0].pk)


def mark_stored() -> None:
    _stored.set()


def stored_since_last_relay() -> bool:
    """Whether this process stored rows since it last asked for a relay (and forget it)."""
    if _stored.is_set():
        _stored.clear()
        return True
    return False


def _publish(message: OutboxMessage) -> None:
    """Send one row's call as the original send would have, without the outbox fallback (an error is raised)."""
    from celery import current_app

    from crm.celery import send_to_broker

    task = current_app.tasks[message.task]
    remaining = (message.not_before - timezone.now()).total_seconds()
    options = {"countdown": remaining} if remaining > 0 else {}
    send_to_broker(task, message.args, message.kwargs, **options)


def outbox_relay_tenant(*, tenant: Tenant) -> tuple[int, bool]:
    """Send the tenant's waiting calls, oldest first, and delete those sent, in one transaction. Returns how many
    were sent and whether the broker refused one (then the rest stays, and the next relay tries again)."""
    from crm.celery import BROKER_UNAVAILABLE

    sent: list[int] = []
    refused = False
    with tenant_context(tenant):
        messages = list(
            OutboxMessage.objects.filter(tenant=tenant)
            .select_for_update(skip_locked=True)
            .order_by("id")[:BATCH]
        )
        for message in messages:
            try:
                _publish(message)
            except BROKER_UNAVAILABLE as exc:
                logger.error("outbox relay: the broker is still unavailable: %r", exc)
                OutboxMessage.objects.filter(tenant=tenant, pk=message.pk).update(
                    attempts=message.attempts + 1
                )
                refused = True
                break
            sent.append(message.pk)
        if sent:
            OutboxMessage.objects.filter(tenant=tenant, pk__in=sent).delete()
    return len(sent), refused


def outbox_relay() -> int:
    """Every active tenant's waiting calls (one tenant at a time, as row-level security requires); stops at the
    first refusal of the broker. Returns how many were sent."""
    total = 0
    for tenant in Tenant.objects.filter(is_active=True).order_by("pk"):
        count, refused = outbox_relay_tenant(tenant=tenant)
        total += count
        if refused:
            break
    if total:
        logger.info("outbox relay: %d task(s) sent", total)
    return total


def outbox_pending(*, tenant: Tenant) -> int:
    """How many calls of the tenant wait in the outbox."""
    with tenant_context(tenant):
        return OutboxMessage.objects.filter(tenant=tenant).count()
