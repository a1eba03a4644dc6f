"""Refresh of the current periods: a won deal on the dashboard within seconds, not after a full recompute.

A full recompute (services/engine.py) rebuilds every metric of the tenant's whole history; at a million leads it
takes a minute or more. What a person waits for after a change to a deal or a quota is its own period: the day,
week, month, quarter and year that hold today, and the open future periods (pipeline, forecasts). So a change to
a deal or a quota queues, besides the debounced full recompute, a quicker refresh (tasks.refresh_kpis) that
rewrites in the tenant's current snapshot set only the rows of the deal metrics (the conversion family and the
open pipeline by stage: win rate, won amount, pipeline, quota attainment, coverage, forecasts) for the days, weeks
and months from the ones holding today on, from the deals of those periods alone. Everything else (past periods, leads,
activities, the lifecycle and forecast-accuracy families, quarters and years) waits for the full recompute, which
follows.

Consistency:
- the refresh deletes and re-inserts its rows in one transaction: a reader sees the set before or after it;
- it holds the current set's row FOR UPDATE, as a publish does, so it never writes into a set being retired;
- a full recompute that began before a refresh committed may have read the deals before that change: its publish
  (engine.kpi_set_publish) re-applies the refresh to the new set when the current one was refreshed after the
  new one's build began, so the dashboard never steps back;
- its own advisory lock keeps two refreshes of a tenant apart without waiting for a running full recompute.
The rows it writes equal a full recompute's rows for those metrics and periods (tests/sales_ops/test_refresh.py).
"""

from __future__ import annotations

import dataclasses
import datetime

from django.db import connection, transaction
from django.utils import timezone

from crm.models import Tenant
from crm.tenancy import tenant_context
from sales_ops.models import KpiSnapshotSet
from sales_ops.services import deals
from sales_ops.services.calendar import Bounds
from sales_ops.services.engine import calendar_bounds, tenant_lock

# The families a refresh rewrites, and the metrics they write (both write only these names).
FAMILIES = (deals.write, deals.write_stages)
METRICS = [metric for metric, _ in deals.VALUES]

# First key of the refresh's advisory lock (the second is the tenant id): "KPR" in ASCII.
LOCK_CLASS = 0x4B5052

# The rows a refresh replaces: its metrics' days, weeks (ISO, from Monday) and months from the ones holding today
# on, up to any end (a deal won or deleted may have been the last one of a far period).
DELETE_SQL = """
DELETE FROM sales_ops_kpisnapshot
WHERE tenant_id = %(tenant)s AND snapshot_set_id = %(set)s AND metric = ANY(%(metrics)s)
  AND ((grain = 'day' AND period_start >= %(day)s) OR (grain = 'week' AND period_start >= %(week)s)
       OR (grain = 'month' AND period_start >= %(month)s))
"""


def _first_periods(today: datetime.date) -> dict[str, datetime.date]:
    return {
        "day": today,
        "week": today - datetime.timedelta(days=today.weekday()),
        "month": today.replace(day=1),
    }


# The grains a refresh rewrites. A quarter or a year would make it read every deal of the fiscal year (at a million
# leads as slow as a third of the full recompute); they wait for the full recompute, minutes later.
GRAINS = ("day", "week", "month")


def refresh_bounds(bounds: Bounds) -> Bounds:
    """The calendar of a refresh: the days, weeks and months from the ones holding today to the full calendar's
    end (the last open deal's close date or quota month)."""
    return dataclasses.replace(bounds, start=bounds.today, end=max(bounds.end, bounds.today), grains=GRAINS)


def kpi_set_refresh(*, tenant: Tenant, snapshot_set: KpiSnapshotSet, now: datetime.datetime) -> int:
    """Rewrite the refreshed metrics' rows of the current periods in `snapshot_set`, inside the caller's
    transaction and tenant context. Returns the number of rows written."""
    bounds = refresh_bounds(calendar_bounds(tenant, snapshot_set, now))
    params = {**bounds.params(), "metrics": METRICS, **_first_periods(bounds.today)}
    with connection.cursor() as cursor:
        cursor.execute(DELETE_SQL, params)
        deleted = cursor.rowcount
    written = sum(write(bounds) for write in FAMILIES)
    # Stamped after its reads: a full build that began before this time may not have seen what it read.
    refreshed_at = timezone.now()
    snapshot_set.row_count = max(snapshot_set.row_count - deleted + written, 0)
    snapshot_set.refreshed_at = refreshed_at
    KpiSnapshotSet.objects.filter(tenant=tenant, pk=snapshot_set.pk).update(
        refreshed_at=refreshed_at, row_count=snapshot_set.row_count
    )
    return written


def _current_set_for_update(tenant: Tenant) -> KpiSnapshotSet | None:
    """The current set, its row locked. A publish that flips the current set while this waits for the lock makes
    the waiting statement find no row (the row it waited for is no longer current): read again."""
    for _ in range(3):
        current = KpiSnapshotSet.objects.filter(tenant=tenant, is_current=True).select_for_update().first()
        if current is not None:
            return current
        if not KpiSnapshotSet.objects.filter(tenant=tenant, is_current=True).exists():
            return None
    return None


def kpi_refresh(*, tenant: Tenant, now: datetime.datetime | None = None) -> int | None:
    """Refresh the current periods' deal metrics in the tenant's current set, atomically. Returns the rows
    written; 0 when the tenant has no current set yet (the full recompute that follows makes one); None, touching
    nothing, when another refresh of the tenant holds the lock."""
    now = now or timezone.now()
    with tenant_lock(tenant.pk, LOCK_CLASS) as acquired:
        if not acquired:
            return None
        with tenant_context(tenant), transaction.atomic():
            current = _current_set_for_update(tenant)
            if current is None:
                return 0
            return kpi_set_refresh(tenant=tenant, snapshot_set=current, now=now)
