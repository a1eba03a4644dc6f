"""SQL pieces of the tenant calendar shared by the metric families (KPIS.md "Conventions").

Periods are cut in the tenant's time zone: a timestamp becomes a local date with `AT TIME ZONE %(tz)s`; weeks
are ISO (Monday); quarters and years start in the fiscal year start month. `period_start` is a local date and a
period is [period_start, period_end). Every family statement takes the same named parameters (see `params`).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection

# The grains and their steps. A fact is expanded once per grain (CROSS JOIN) and grouped by its period start.
GRAINS_SQL = (
    "(VALUES ('day', interval '1 day'), ('week', interval '7 days'), ('month', interval '1 month'), "
    "('quarter', interval '3 months'), ('year', interval '1 year')) AS g(grain, step)"
)


def local_date(column: str) -> str:
    """A timestamptz column as the tenant's local date."""
    return f"({column} AT TIME ZONE %(tz)s)::date"


def period_start(date_sql: str, grain_sql: str) -> str:
    """The start of the period of `grain_sql` holding local date `date_sql`. Fiscal quarters and years: shift
    the date back by (start month - 1) months, truncate, shift forward again (April start: 2024-03-15 ->
    2023-12-15 -> 2023-01-01 -> 2023-04-01)."""
    shifted = f"(({date_sql})::timestamp - make_interval(months => %(fy_shift)s))"
    fiscal = "(date_trunc('{unit}', " + shifted + ") + make_interval(months => %(fy_shift)s))::date"
    return (
        f"(CASE {grain_sql}"
        f" WHEN 'day' THEN ({date_sql})::date"
        f" WHEN 'week' THEN date_trunc('week', ({date_sql})::timestamp)::date"
        f" WHEN 'month' THEN date_trunc('month', ({date_sql})::timestamp)::date"
        f" WHEN 'quarter' THEN {fiscal.format(unit='quarter')}"
        f" WHEN 'year' THEN {fiscal.format(unit='year')}"
        " END)"
    )


def calendar_cte() -> str:
    """`cal(grain, period_start, period_end)`: every period of every grain of %(grains)s from the period holding
    %(start)s to the one holding %(end)s, from generate_series (so a period with no records still has its `all`
    row)."""
    return (
        "cal AS ("  # noqa: S608 -- column names from GRAINS_SQL and period_start(); values are bound
        " SELECT g.grain, p.ps::date AS period_start, (p.ps + g.step)::date AS period_end"
        f" FROM {GRAINS_SQL}"
        " CROSS JOIN LATERAL generate_series("
        f"{period_start('%(start)s::date', 'g.grain')}::timestamp,"
        f" {period_start('%(end)s::date', 'g.grain')}::timestamp, g.step) AS p(ps)"
        " WHERE g.grain = ANY(%(grains)s)"
        ")"
    )


def owner_team_joins(table_alias: str) -> str:
    """The owner's email and team name (the owner's membership in this tenant) for a record with owner_id."""
    return (
        f" LEFT JOIN crm_user u ON u.id = {table_alias}.owner_id"
        f" LEFT JOIN crm_membership m ON m.tenant_id = {table_alias}.tenant_id AND m.user_id = {table_alias}.owner_id"
        " LEFT JOIN crm_team tm ON tm.id = m.team_id"
    )


def dimension_case(columns: list[tuple[str, str]]) -> tuple[str, str]:
    """(dimension, dimension_value) SQL of a GROUPING SETS query whose sets are () and each single column:
    the grouped column names the dimension; a NULL group value (no owner, no source...) is dropped later."""
    whens = " ".join(f"WHEN GROUPING({column}) = 0 THEN '{name}'" for name, column in columns)
    return f"(CASE {whens} ELSE 'all' END)", f"COALESCE({', '.join(column for _, column in columns)})"


def grouping_sets(columns: list[tuple[str, str]]) -> str:
    sets = ["(grain, period_start)"] + [f"(grain, period_start, {column})" for _, column in columns]
    return f"GROUPING SETS ({', '.join(sets)})"


@dataclass(frozen=True)
class Bounds:
    """The calendar of one recompute: local dates, and the set being written."""

    tenant_id: int
    set_id: int
    time_zone: str
    fy_shift: int
    start: datetime.date
    end: datetime.date
    today: datetime.date
    now: datetime.datetime
    # The grains written: all of them, but for the refresh of the current periods (services/refresh.py).
    grains: tuple[str, ...] = ("day", "week", "month", "quarter", "year")

    def params(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant_id,
            "set": self.set_id,
            "tz": self.time_zone,
            "fy_shift": self.fy_shift,
            "start": self.start,
            "end": self.end,
            "today": self.today,
            "now": self.now,
            "grains": list(self.grains),
        }


def insert_rows_sql(values: list[tuple[str, str]], *, future: tuple[str, ...] = ()) -> str:
    """The INSERT ... SELECT of a family: `keyed` rows (grain, period_start, period_end, dimension,
    dimension_value, aggregates...) unpivoted into one snapshot row per metric. `all` rows keep a null value
    (the calendar is complete); other dimensions leave null rows out (KPIS.md lets a reader read a missing row as
    null). Periods starting after today keep only the `future` metrics."""
    lines = ",\n".join(f"('{metric}', ({expression})::numeric)" for metric, expression in values)
    future_list = ", ".join(f"'{metric}'" for metric in future) or "NULL"
    return (
        "INSERT INTO sales_ops_kpisnapshot (tenant_id, snapshot_set_id, metric, grain, period_start, dimension,"
        " dimension_value, value, computed_at, created_at, updated_at)\n"
        "SELECT %(tenant)s, %(set)s, v.metric, k.grain, k.period_start, k.dimension, k.dimension_value, v.value,"
        " %(now)s, %(now)s, %(now)s\n"
        f"FROM keyed k CROSS JOIN LATERAL (VALUES\n{lines}\n) AS v(metric, value)\n"
        "WHERE (k.dimension = 'all' OR v.value IS NOT NULL)"
        f" AND (k.period_start <= %(today)s OR v.metric IN ({future_list}))"
    )


def keyed_cte(aggregates: list[str], *, last_period: str = "%(today)s") -> str:
    """`keyed`: the `all` rows of every calendar period up to `last_period` (a LEFT JOIN, so empty periods get
    zero counts) plus the other dimensions' groups (non-null values) inside the calendar."""
    columns = ", ".join(f"a.{name}" for name in aggregates)
    return (
        "keyed AS ("  # noqa: S608 -- columns from the families' AGGREGATES constants; values are bound
        " SELECT cal.grain, cal.period_start, cal.period_end, 'all'::text AS dimension,"
        f" ''::text AS dimension_value, {columns}"
        " FROM cal LEFT JOIN agg a ON a.dimension = 'all' AND a.grain = cal.grain"
        " AND a.period_start = cal.period_start"
        f" WHERE cal.period_start <= {last_period}"
        " UNION ALL"
        f" SELECT cal.grain, cal.period_start, cal.period_end, a.dimension, a.dimension_value, {columns}"
        " FROM agg a JOIN cal ON cal.grain = a.grain AND cal.period_start = a.period_start"
        f" WHERE a.dimension <> 'all' AND a.dimension_value IS NOT NULL AND cal.period_start <= {last_period}"
        ")"
    )


INSERT_HEAD = re.compile(r"INSERT INTO sales_ops_kpisnapshot (\([^)]*\))\s*")
FAMILY_ROWS = "kpi_family_rows"


def write_rows(sql: str, params: Mapping[str, Any]) -> int:
    """Run a family statement (`WITH ... INSERT INTO sales_ops_kpisnapshot (...) SELECT ...`) and return the rows
    written. Its SELECT runs as CREATE TEMPORARY TABLE ... AS, which PostgreSQL may plan in parallel as it does
    the same SELECT on its own (an INSERT ... SELECT never is), then one plain INSERT copies the rows over; the
    temporary table goes with the transaction, or at once when the caller's transaction goes on."""
    found = INSERT_HEAD.search(sql)
    if found is None:
        raise ValueError("a family statement must insert into sales_ops_kpisnapshot")
    select = sql[: found.start()] + sql[found.end() :]
    with connection.cursor() as cursor:
        columns = found.group(1)
        cursor.execute(f"CREATE TEMPORARY TABLE {FAMILY_ROWS} {columns} ON COMMIT DROP AS {select}", params)
        cursor.execute(
            f"INSERT INTO sales_ops_kpisnapshot {columns} SELECT * FROM {FAMILY_ROWS}"  # noqa: S608 -- constants
        )
        written = cursor.rowcount
        cursor.execute(f"DROP TABLE {FAMILY_ROWS}")
    return written
