"""The KPI engine: one tenant's full recompute into a new snapshot set, swapped in atomically.

- `kpi_set_build` writes a new, not-current set: one INSERT ... SELECT per metric family (leads, deals,
  activities, forecast accuracy, the lifecycle sub-families), each in its own short transaction so the job's
  progress is visible meanwhile;
- `kpi_set_publish` flips the tenant's current set in one short transaction (readers join rows to the current
  set, so they see the old set or the new one, never half of each), then deletes the old sets;
- `kpi_recompute` runs both under a per-tenant PostgreSQL advisory lock, so two recomputes of one tenant never
  run at once; a second one returns None at once (the task re-queues it).

A worker killed mid-build leaves a set that is not current (readers never see it); the next run deletes it.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection
from django.utils import timezone

from crm.models import Tenant
from crm.tenancy import tenant_context
from sales_ops.models import KpiRecompute, KpiSnapshotSet, RecomputeStatus
from sales_ops.services import activities, customers, deals, forecasts, leads
from sales_ops.services.calendar import Bounds

logger = logging.getLogger(__name__)

# (name, writer): each writer inserts its family's rows of the set described by Bounds and returns the count.
FAMILIES: list[tuple[str, Callable[[Bounds], int]]] = [
    ("leads", leads.write),
    ("deals", deals.write),
    ("stages", deals.write_stages),
    ("activities", activities.write),
    # After deals: forecast_accuracy reads the won_amount rows the deals family wrote into the same set.
    ("forecasts", forecasts.write_accuracy),
    ("lifecycle", customers.write_stock),
    ("renewals", customers.write_renewals),
    ("feedback", customers.write_feedback),
    ("health", customers.write_health),
]

# First key of the two-key advisory lock (the second is the tenant id): "KPI" in ASCII.
LOCK_CLASS = 0x4B5049


@contextmanager
def tenant_lock(tenant_id: int, lock_class: int = LOCK_CLASS) -> Iterator[bool]:
    """A session-level advisory lock on the tenant's recompute (held across the build's transactions; released
    on exit, or by PostgreSQL when a killed worker's connection closes). Yields whether it was acquired.
    `lock_class`: another kind of work of the tenant with a lock of its own (the refresh, services/refresh.py)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [lock_class, tenant_id])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [lock_class, tenant_id])


@contextmanager
def statement_settings() -> Iterator[None]:
    """The session settings of family statements (settings.KPI_RECOMPUTE_WORK_MEM), SET LOCAL inside the caller's
    transaction and put back on exit (an enclosing transaction, as in tests, keeps its own). bench/kpi.py runs its
    plain-SQL baseline under the same settings."""
    work_mem = settings.KPI_RECOMPUTE_WORK_MEM
    if not work_mem:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('work_mem'), set_config('work_mem', %s, true)", [work_mem])
        previous = cursor.fetchone()[0]
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [previous])


def calendar_bounds(tenant: Tenant, snapshot_set: KpiSnapshotSet, now: datetime.datetime) -> Bounds:
    """The calendar of the recompute: from the earliest local date of any record to the later of today and the
    last open deal's expected close date (or quota month)."""
    today = timezone.localtime(now, tenant.tzinfo).date()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT LEAST(
                (SELECT (min(created_at) AT TIME ZONE %(tz)s)::date FROM leads_lead
                 WHERE tenant_id = %(tenant)s AND deleted_at IS NULL),
                (SELECT (min(created_at) AT TIME ZONE %(tz)s)::date FROM accounts_opportunity
                 WHERE tenant_id = %(tenant)s AND deleted_at IS NULL),
                (SELECT (min(closed_at) AT TIME ZONE %(tz)s)::date FROM accounts_opportunity
                 WHERE tenant_id = %(tenant)s AND deleted_at IS NULL),
                (SELECT min(expected_close_date) FROM accounts_opportunity
                 WHERE tenant_id = %(tenant)s AND deleted_at IS NULL),
                (SELECT (min(occurred_at) AT TIME ZONE %(tz)s)::date FROM accounts_activity
                 WHERE tenant_id = %(tenant)s AND deleted_at IS NULL AND done),
                (SELECT min(month) FROM sales_ops_quota WHERE tenant_id = %(tenant)s),
                (SELECT (min(created_at) AT TIME ZONE %(tz)s)::date FROM accounts_account
                 WHERE tenant_id = %(tenant)s AND deleted_at IS NULL),
                (SELECT min(date) FROM lifecycle_lifecyclechange WHERE tenant_id = %(tenant)s),
                (SELECT min(start_date) FROM lifecycle_subscription
                 WHERE tenant_id = %(tenant)s AND deleted_at IS NULL),
                (SELECT min(start_date) FROM leads_campaign WHERE tenant_id = %(tenant)s AND deleted_at IS NULL),
                (SELECT (min(received_at) AT TIME ZONE %(tz)s)::date FROM lifecycle_feedback
                 WHERE tenant_id = %(tenant)s)
            ), GREATEST(
                (SELECT max(o.expected_close_date) FROM accounts_opportunity o
                 JOIN accounts_stage s ON s.id = o.stage_id
                 WHERE o.tenant_id = %(tenant)s AND o.deleted_at IS NULL AND s.kind = 'open'),
                (SELECT max(month) FROM sales_ops_quota WHERE tenant_id = %(tenant)s)
            )
            """,
            {"tenant": tenant.pk, "tz": tenant.time_zone},
        )
        first, last = cursor.fetchone()
    start = min(first, today) if first else today
    end = max(last, today) if last else today
    return Bounds(
        tenant_id=tenant.pk,
        set_id=snapshot_set.pk,
        time_zone=tenant.time_zone,
        fy_shift=tenant.fiscal_year_start_month - 1,
        start=start,
        end=end,
        today=today,
        now=now,
    )


def _delete_sets(tenant: Tenant, *, keep: int | None) -> None:
    """Delete the tenant's snapshot sets other than `keep` (and their rows) in two set-based statements."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM sales_ops_kpisnapshot WHERE tenant_id = %s AND snapshot_set_id IN ("
            " SELECT id FROM sales_ops_kpisnapshotset WHERE tenant_id = %s AND id IS DISTINCT FROM %s"
            " AND NOT is_current)",
            [tenant.pk, tenant.pk, keep],
        )
        cursor.execute(
            "DELETE FROM sales_ops_kpisnapshotset WHERE tenant_id = %s AND id IS DISTINCT FROM %s"
            " AND NOT is_current",
            [tenant.pk, keep],
        )


def _progress(job: KpiRecompute | None, tenant: Tenant, **fields: object) -> None:
    if job is None:
        return
    with tenant_context(tenant):
        KpiRecompute.objects.filter(tenant=tenant, pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)


def kpi_set_build(
    *, tenant: Tenant, job: KpiRecompute | None = None, now: datetime.datetime | None = None
) -> KpiSnapshotSet:
    """Write a complete new snapshot set (not current yet) and return it. Side effects: leftover sets of an
    interrupted run are deleted; the job's progress moves from 5 to 95."""
    now = now or timezone.now()
    with tenant_context(tenant):
        _delete_sets(tenant, keep=None)
        snapshot_set = KpiSnapshotSet.objects.create(tenant=tenant, computed_at=now)
        bounds = calendar_bounds(tenant, snapshot_set, now)
    _progress(job, tenant, progress=5)
    total = 0
    for index, (name, write) in enumerate(FAMILIES, start=1):
        with tenant_context(tenant), statement_settings():
            count = write(bounds)
        total += count
        logger.info("KPI family %s of tenant %s: %s rows", name, tenant.pk, count)
        _progress(job, tenant, progress=5 + 90 * index // len(FAMILIES))
    with tenant_context(tenant):
        KpiSnapshotSet.objects.filter(tenant=tenant, pk=snapshot_set.pk).update(row_count=total)
    snapshot_set.row_count = total
    return snapshot_set


def kpi_set_publish(*, tenant: Tenant, snapshot_set: KpiSnapshotSet) -> None:
    """Make `snapshot_set` the tenant's current set in one short transaction, then delete the older sets. When
    the current set was refreshed (services/refresh.py) after this one's build began, the build may have read the
    deals before that change: the refresh is applied to the new set first, so the dashboard never steps back."""
    from sales_ops.services.refresh import kpi_set_refresh

    with tenant_context(tenant):
        # Lock the tenant's sets so two publishers (or a publisher and a refresh) cannot interleave.
        list(KpiSnapshotSet.objects.filter(tenant=tenant).select_for_update().values_list("pk", flat=True))
        refreshed = (
            KpiSnapshotSet.objects.filter(
                tenant=tenant, is_current=True, refreshed_at__gt=snapshot_set.computed_at
            )
            .exclude(pk=snapshot_set.pk)
            .exists()
        )
        if refreshed:
            # Its calendar's today is the build's, so a change made after midnight still falls in its periods.
            kpi_set_refresh(tenant=tenant, snapshot_set=snapshot_set, now=snapshot_set.computed_at)
        KpiSnapshotSet.objects.filter(tenant=tenant, is_current=True).update(is_current=False)
        KpiSnapshotSet.objects.filter(tenant=tenant, pk=snapshot_set.pk).update(is_current=True)
    snapshot_set.is_current = True
    with tenant_context(tenant):
        _delete_sets(tenant, keep=snapshot_set.pk)


def kpi_recompute(
    *, tenant: Tenant, job: KpiRecompute | None = None, now: datetime.datetime | None = None
) -> KpiSnapshotSet | None:
    """Recompute every KPI of the tenant into a new set and swap it in atomically. Idempotent (the same records
    give the same rows). Returns None, touching nothing, when another recompute of the tenant holds the lock.
    Side effects: the job goes running -> done (or failed, with the error, and the old set stays current)."""
    with tenant_lock(tenant.pk) as acquired:
        if not acquired:
            return None
        _progress(
            job, tenant, status=RecomputeStatus.RUNNING, progress=0, started_at=timezone.now(), error=""
        )
        try:
            snapshot_set = kpi_set_build(tenant=tenant, job=job, now=now)
            kpi_set_publish(tenant=tenant, snapshot_set=snapshot_set)
        except Exception as exc:
            _progress(
                job, tenant, status=RecomputeStatus.FAILED, finished_at=timezone.now(), error=repr(exc)[:2000]
            )
            raise
        _progress(job, tenant, status=RecomputeStatus.DONE, progress=100, finished_at=timezone.now())
        return snapshot_set
