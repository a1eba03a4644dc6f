"""Debounced recompute: a burst of changes to one tenant's records queues ONE recompute, `countdown` seconds
after the first change. A cache key per tenant marks "a recompute is queued"; the task deletes it when it starts,
so changes made while it runs queue the next one. One transaction registers one on-commit callback per tenant
whatever the number of its changes: with tasks run in-process (no REDIS_URL, the embedded demo) the task starts,
and clears the key, inside the first callback, so one callback per change would run one full recompute each."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from crm.cache import unavailable as cache_unavailable
from crm.oncommit import Changes, CommitBatch
from imports.signals import import_job_running


def pending_key(tenant_id: int) -> str:
    return f"sales_ops:kpi-recompute-pending:t{tenant_id}"


def debounce_seconds() -> int:
    return int(getattr(settings, "KPI_RECOMPUTE_DEBOUNCE_SECONDS", 5))


def kpi_recompute_soon(*, tenant_id: int) -> None:
    """After the current transaction commits, queue a recompute of the tenant unless one is already queued.
    Off when settings.KPI_RECOMPUTE_ON_CHANGE is False (the test suite outside tests/sales_ops), and while an
    import job of the tenant runs in this context (its end queues one)."""
    if not getattr(settings, "KPI_RECOMPUTE_ON_CHANGE", True):
        return
    if import_job_running(tenant_id):
        return  # the job's end queues one recompute (sales_ops.receivers), not one per committed chunk
    _batch.add(tenant_id)


def _queue_kpis(changes: Changes) -> None:
    for tenant_id in sorted(changes):
        queue_recompute(tenant_id=tenant_id)


_batch = CommitBatch(_queue_kpis)


def queue_recompute(*, tenant_id: int) -> bool:
    """Queue one recompute `debounce_seconds()` from now unless one is queued already; returns whether it did.
    The key outlives the countdown a little, so a lost task does not block the tenant for long."""
    from sales_ops.tasks import recompute_kpis

    seconds = debounce_seconds()
    if not cache.add(pending_key(tenant_id), 1, timeout=seconds + 60) and not cache_unavailable():
        return False
    # Queued (or Redis is down, and with it the broker: the call waits in the outbox, one row per tenant however
    # many changes ask for it, crm.outbox).
    recompute_kpis.apply_async((tenant_id,), countdown=seconds)
    return True


# The refresh of the current periods' deal metrics (services/refresh.py): queued besides the full recompute by a
# change to a deal or a quota, debounced the same way with a shorter countdown and its own key.


def refresh_pending_key(tenant_id: int) -> str:
    return f"sales_ops:kpi-refresh-pending:t{tenant_id}"


def refresh_debounce_seconds() -> int:
    return int(getattr(settings, "KPI_REFRESH_DEBOUNCE_SECONDS", 1))


def kpi_refresh_soon(*, tenant_id: int) -> None:
    """After the current transaction commits, queue a refresh of the tenant's current periods unless one is
    queued already (the same switches as kpi_recompute_soon)."""
    if not getattr(settings, "KPI_RECOMPUTE_ON_CHANGE", True):
        return
    if import_job_running(tenant_id):
        return
    _refresh_batch.add(tenant_id)


def _queue_refreshes(changes: Changes) -> None:
    for tenant_id in sorted(changes):
        queue_refresh(tenant_id=tenant_id)


_refresh_batch = CommitBatch(_queue_refreshes)


def queue_refresh(*, tenant_id: int) -> bool:
    """Queue one refresh `refresh_debounce_seconds()` from now unless one is queued already."""
    from sales_ops.tasks import refresh_kpis

    seconds = refresh_debounce_seconds()
    if not cache.add(refresh_pending_key(tenant_id), 1, timeout=seconds + 60) and not cache_unavailable():
        return False
    refresh_kpis.apply_async((tenant_id,), countdown=seconds)
    return True
