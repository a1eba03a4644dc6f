"""Activity metrics (KPIS.md, activities) in one INSERT ... SELECT: done calls, emails and meetings at their
`occurred_at`, and activities per rep per working day (Mon-Fri of the period up to today, local)."""

from __future__ import annotations

from sales_ops.services.calendar import (
    GRAINS_SQL,
    Bounds,
    calendar_cte,
    dimension_case,
    grouping_sets,
    insert_rows_sql,
    keyed_cte,
    local_date,
    owner_team_joins,
    period_start,
    write_rows,
)

DIMENSIONS = [("owner", "owner"), ("team", "team")]
AGGREGATES = ["n_calls", "n_emails", "n_meetings", "n_owners"]

VALUES = [
    ("calls_logged", "COALESCE(k.n_calls, 0)"),
    ("emails_logged", "COALESCE(k.n_emails, 0)"),
    ("meetings_logged", "COALESCE(k.n_meetings, 0)"),
    ("activities_logged", "COALESCE(k.n_calls + k.n_emails + k.n_meetings, 0)"),
    (
        "activities_per_rep_day",
        # `owner` rows divide by one rep; `all` and `team` by the distinct owners with a counted activity.
        "(k.n_calls + k.n_emails + k.n_meetings)::numeric / NULLIF(k.working_days, 0)"
        " / NULLIF(CASE WHEN k.dimension = 'owner' THEN 1 ELSE k.n_owners END, 0)",
    ),
]


def _sql() -> str:
    dimension, dimension_value = dimension_case(DIMENSIONS)
    keyed = keyed_cte(AGGREGATES)
    return f"""
WITH {calendar_cte()},
f AS (
    SELECT {local_date("a.occurred_at")} AS d, a.kind, a.owner_id, u.email AS owner, tm.name AS team
    FROM accounts_activity a {owner_team_joins("a")}
    WHERE a.tenant_id = %(tenant)s AND a.deleted_at IS NULL AND a.done AND a.occurred_at IS NOT NULL
      AND a.kind IN ('call', 'email', 'meeting')
),
eg AS (
    SELECT g.grain, {period_start("f.d", "g.grain")} AS period_start, f.* FROM f CROSS JOIN {GRAINS_SQL}
),
agg AS (
    SELECT grain, period_start, {dimension} AS dimension, {dimension_value} AS dimension_value,
           count(*) FILTER (WHERE kind = 'call') AS n_calls,
           count(*) FILTER (WHERE kind = 'email') AS n_emails,
           count(*) FILTER (WHERE kind = 'meeting') AS n_meetings,
           count(DISTINCT owner_id) AS n_owners
    FROM eg
    GROUP BY {grouping_sets(DIMENSIONS)}
),
{keyed.replace("keyed AS (", "keyed_raw AS (", 1)},
keyed AS (
    SELECT kr.*, (
        SELECT count(*) FROM generate_series(
            kr.period_start::timestamp, LEAST(kr.period_end - 1, %(today)s::date)::timestamp, interval '1 day'
        ) AS day WHERE EXTRACT(ISODOW FROM day) < 6
    ) AS working_days
    FROM keyed_raw kr
)
{insert_rows_sql(VALUES)}
"""  # noqa: S608 -- fragments from this package's constants and helpers; every value is a bound %(name)s parameter


def write(bounds: Bounds) -> int:
    """Insert the activity rows of the set being built; returns the number of rows."""
    return write_rows(_sql(), bounds.params())
