"""Weekly forecast snapshots and `forecast_accuracy` (KPIS.md "Conversion").

- `forecast_snapshot_take` copies, once per local week, the tenant's forecast (forecast_commit,
  forecast_best_case, forecast_weighted of the current KPI set) for every open month and quarter (the period
  holding today and later ones), per owner, team and the tenant, into ForecastSnapshot rows that are kept;
- `write_accuracy` (an engine family, after the deals family) writes, for every closed month and quarter,
  forecast_accuracy = won_amount / the forecast_commit of the snapshot taken nearest to the period's start (the
  earlier one on a tie); null without such a snapshot or with a zero commit.
"""  # noqa: S608 -- fragments from this package's constants and helpers; every value is a bound %(name)s parameter

from __future__ import annotations

import datetime

from django.db import connection, transaction
from django.utils import timezone

from crm.models import Tenant
from sales_ops.models import ForecastSnapshot
from sales_ops.services.calendar import Bounds, insert_rows_sql, write_rows

STEP_SQL = "(CASE {grain} WHEN 'month' THEN interval '1 month' ELSE interval '3 months' END)"

TAKE_SQL = f"""
INSERT INTO sales_ops_forecastsnapshot (tenant_id, week_start, taken_on, taken_at, grain, period_start, dimension,
    dimension_value, commit, best_case, weighted, created_at, updated_at)
SELECT %(tenant)s, %(week_start)s, %(today)s, %(now)s, k.grain, k.period_start, k.dimension, k.dimension_value,
       COALESCE(max(k.value) FILTER (WHERE k.metric = 'forecast_commit'), 0),
       COALESCE(max(k.value) FILTER (WHERE k.metric = 'forecast_best_case'), 0),
       COALESCE(max(k.value) FILTER (WHERE k.metric = 'forecast_weighted'), 0),
       %(now)s, %(now)s
FROM sales_ops_kpisnapshot k
JOIN sales_ops_kpisnapshotset s ON s.id = k.snapshot_set_id AND s.tenant_id = %(tenant)s AND s.is_current
WHERE k.tenant_id = %(tenant)s
  AND k.metric IN ('forecast_commit', 'forecast_best_case', 'forecast_weighted')
  AND k.grain IN ('month', 'quarter') AND k.dimension IN ('all', 'owner', 'team')
  AND (k.period_start + {STEP_SQL.format(grain="k.grain")})::date > %(today)s
GROUP BY k.grain, k.period_start, k.dimension, k.dimension_value
ON CONFLICT (tenant_id, week_start, grain, period_start, dimension, dimension_value) DO NOTHING
"""  # noqa: S608 -- fragments from this package's constants and helpers; every value is a bound %(name)s parameter


def week_start(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def forecast_snapshot_due(*, tenant: Tenant, now: datetime.datetime | None = None) -> bool:
    """Whether this local week has no snapshot yet."""
    today = timezone.localtime(now or timezone.now(), tenant.tzinfo).date()
    return not ForecastSnapshot.objects.filter(tenant=tenant, week_start=week_start(today)).exists()


@transaction.atomic
def forecast_snapshot_take(*, tenant: Tenant, now: datetime.datetime | None = None) -> int:
    """Store this local week's forecast snapshot from the tenant's current KPI set (set-based, one statement).
    Idempotent: the first snapshot of a week is kept, a second run in the same week writes nothing. Returns the
    number of rows written."""
    now = now or timezone.now()
    today = timezone.localtime(now, tenant.tzinfo).date()
    with connection.cursor() as cursor:
        cursor.execute(
            TAKE_SQL, {"tenant": tenant.pk, "week_start": week_start(today), "today": today, "now": now}
        )
        return cursor.rowcount


ACCURACY_VALUES = [("forecast_accuracy", "k.won / NULLIF(k.commit, 0)")]

ACCURACY_SQL = f"""
WITH keyed AS (
    SELECT w.grain, w.period_start, w.dimension, w.dimension_value, w.value AS won, f.commit
    FROM sales_ops_kpisnapshot w
    LEFT JOIN LATERAL (
        SELECT fs.commit FROM sales_ops_forecastsnapshot fs
        WHERE fs.tenant_id = %(tenant)s AND fs.grain = w.grain AND fs.period_start = w.period_start
          AND fs.dimension = w.dimension AND fs.dimension_value = w.dimension_value
        ORDER BY abs(fs.taken_on - w.period_start), fs.taken_on
        LIMIT 1
    ) f ON true
    WHERE w.tenant_id = %(tenant)s AND w.snapshot_set_id = %(set)s AND w.metric = 'won_amount'
      AND w.grain IN ('month', 'quarter') AND w.dimension IN ('all', 'owner', 'team')
      AND (w.period_start + {STEP_SQL.format(grain="w.grain")})::date <= %(today)s
)
{insert_rows_sql(ACCURACY_VALUES)}
"""  # noqa: S608 -- fragments from this package's constants and helpers; every value is a bound %(name)s parameter


def write_accuracy(bounds: Bounds) -> int:
    """Insert the forecast_accuracy rows of the set being built (reads its won_amount rows); returns the count."""
    return write_rows(ACCURACY_SQL, bounds.params())
