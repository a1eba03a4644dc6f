"""Conversion metrics (KPIS.md "Conversion") in one INSERT ... SELECT, quotas included.

Four event streams of the same deals, each at its own local date: created (`created_at`), won and lost
(`closed_at`), open (`expected_close_date`, as of now). Amounts are `amount_reporting`, which the deals services
keep in the reporting currency by KPIS.md's rule (closed deals at the close date's rate, open deals at the
latest rate). Cycle lengths are intervals (exact), turned into days as decimals (seconds / 86400).
"""

from __future__ import annotations

from sales_ops.metrics import FUTURE_METRICS
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

DIMENSIONS = [("owner", "owner"), ("team", "team"), ("pipeline", "pipeline"), ("type", "type")]
AGGREGATES = [
    "n_created",
    "n_won",
    "n_lost",
    "won_amount",
    "lost_amount",
    "avg_cycle",
    "median_cycle",
    "open_amount",
    "weighted_amount",
    "commit_amount",
    "best_case_amount",
]

# Quota of a (dimension, value, month), KPIS.md "Quotas": an owner's own rows; a team's rows for that month,
# else the sum of its members' owner rows; the tenant's rows for that month, else the sum of all owner rows.
# A quarter or year is the sum of its months; days and weeks have no quota.
QUOTA_CTES = f"""
qrows AS (SELECT owner_id, team_id, month, amount FROM sales_ops_quota WHERE tenant_id = %(tenant)s),
team_rows AS (SELECT team_id, month, sum(amount) AS amount FROM qrows WHERE team_id IS NOT NULL GROUP BY 1, 2),
member_rows AS (
    SELECT m.team_id, q.month, sum(q.amount) AS amount
    FROM qrows q JOIN crm_membership m ON m.tenant_id = %(tenant)s AND m.user_id = q.owner_id
    WHERE m.team_id IS NOT NULL GROUP BY 1, 2
),
tenant_rows AS (
    SELECT month, sum(amount) AS amount FROM qrows WHERE owner_id IS NULL AND team_id IS NULL GROUP BY 1
),
owner_sum AS (SELECT month, sum(amount) AS amount FROM qrows WHERE owner_id IS NOT NULL GROUP BY 1),
qmonth AS (
    SELECT 'owner'::text AS dimension, u.email::text AS dimension_value, q.month, sum(q.amount) AS amount
    FROM qrows q JOIN crm_user u ON u.id = q.owner_id GROUP BY u.email, q.month
    UNION ALL
    SELECT 'team', tm.name, x.month, x.amount FROM (
        SELECT COALESCE(t.team_id, r.team_id) AS team_id, COALESCE(t.month, r.month) AS month,
               COALESCE(t.amount, r.amount) AS amount
        FROM team_rows t FULL JOIN member_rows r ON r.team_id = t.team_id AND r.month = t.month
    ) x JOIN crm_team tm ON tm.id = x.team_id
    UNION ALL
    SELECT 'all', '', COALESCE(t.month, o.month), COALESCE(t.amount, o.amount)
    FROM tenant_rows t FULL JOIN owner_sum o ON o.month = t.month
),
quota AS (
    SELECT g.grain, {period_start("q.month", "g.grain")} AS period_start, q.dimension, q.dimension_value,
           sum(q.amount) AS amount
    FROM qmonth q CROSS JOIN (VALUES ('month'), ('quarter'), ('year')) AS g(grain)
    GROUP BY 1, 2, 3, 4
)"""  # noqa: S608 -- fragments from this package's constants and helpers; every value is a bound %(name)s parameter

VALUES = [
    ("opps_created", "COALESCE(k.n_created, 0)"),
    ("opps_won", "COALESCE(k.n_won, 0)"),
    ("opps_lost", "COALESCE(k.n_lost, 0)"),
    ("won_amount", "COALESCE(k.won_amount, 0)"),
    ("lost_amount", "COALESCE(k.lost_amount, 0)"),
    ("win_rate", "k.n_won::numeric / NULLIF(COALESCE(k.n_won, 0) + COALESCE(k.n_lost, 0), 0)"),
    (
        "win_rate_amount",
        "k.won_amount / NULLIF(COALESCE(k.won_amount, 0) + COALESCE(k.lost_amount, 0), 0)",
    ),
    ("avg_deal_size", "k.won_amount / NULLIF(k.n_won, 0)"),
    ("avg_sales_cycle_days", "k.avg_cycle"),
    ("median_sales_cycle_days", "k.median_cycle"),
    ("open_pipeline", "COALESCE(k.open_amount, 0)"),
    ("weighted_pipeline", "COALESCE(k.weighted_amount, 0)"),
    ("quota_attainment", "COALESCE(k.won_amount, 0) / NULLIF(k.quota, 0)"),
    (
        "pipeline_coverage",
        "CASE WHEN k.quota - COALESCE(k.won_amount, 0) > 0"
        " THEN COALESCE(k.open_amount, 0) / (k.quota - COALESCE(k.won_amount, 0)) END",
    ),
    ("forecast_commit", "COALESCE(k.won_amount, 0) + COALESCE(k.commit_amount, 0)"),
    (
        "forecast_best_case",
        "COALESCE(k.won_amount, 0) + COALESCE(k.commit_amount, 0) + COALESCE(k.best_case_amount, 0)",
    ),
    ("forecast_weighted", "COALESCE(k.won_amount, 0) + COALESCE(k.weighted_amount, 0)"),
    (
        "sales_velocity",
        # opps_created x win_rate x avg_deal_size / avg_sales_cycle_days
        "COALESCE(k.n_created, 0) * (k.n_won::numeric / NULLIF(COALESCE(k.n_won, 0) + COALESCE(k.n_lost, 0), 0))"
        " * (k.won_amount / NULLIF(k.n_won, 0)) / NULLIF(k.avg_cycle, 0)",
    ),
]


def _sql() -> str:
    dimension, dimension_value = dimension_case(DIMENSIONS)
    keyed = keyed_cte(AGGREGATES, last_period="%(end)s")
    return f"""
WITH {calendar_cte()},
f AS (
    SELECT {local_date("o.created_at")} AS created_d,
           {local_date("o.closed_at")} AS closed_d,
           o.expected_close_date, s.kind, o.amount_reporting AS amount, o.probability, o.forecast_category,
           (o.closed_at - o.created_at) AS cycle,
           u.email AS owner, tm.name AS team, p.name AS pipeline, o.type
    FROM accounts_opportunity o
    JOIN accounts_stage s ON s.id = o.stage_id
    JOIN accounts_pipeline p ON p.id = o.pipeline_id
    {owner_team_joins("o")}
    WHERE o.tenant_id = %(tenant)s AND o.deleted_at IS NULL
      -- Deals with an event inside the calendar (all of them for a full recompute; a refresh reads the current
      -- weeks' and months' deals only).
      AND (o.created_at >= (SELECT min(period_start) FROM cal)::timestamp AT TIME ZONE %(tz)s
           OR o.closed_at >= (SELECT min(period_start) FROM cal)::timestamp AT TIME ZONE %(tz)s
           OR o.expected_close_date >= (SELECT min(period_start) FROM cal))
),
ev AS (
    SELECT 'c' AS s, created_d AS d, f.* FROM f
    UNION ALL
    SELECT CASE kind WHEN 'won' THEN 'w' ELSE 'l' END, closed_d, f.* FROM f
    WHERE kind IN ('won', 'lost') AND closed_d IS NOT NULL
    UNION ALL
    SELECT 'o', expected_close_date, f.* FROM f WHERE kind = 'open' AND expected_close_date IS NOT NULL
),
eg AS (
    -- Only events of the calendar's periods: a no-op for a full recompute (its calendar starts at the earliest
    -- record), the whole saving of a refresh of the current periods (services/refresh.py).
    SELECT g.grain, {period_start("ev.d", "g.grain")} AS period_start, ev.* FROM ev CROSS JOIN {GRAINS_SQL}
    WHERE ev.d >= (SELECT min(period_start) FROM cal) AND g.grain = ANY(%(grains)s)
),
agg AS (
    SELECT grain, period_start, {dimension} AS dimension, {dimension_value} AS dimension_value,
           count(*) FILTER (WHERE s = 'c') AS n_created,
           count(*) FILTER (WHERE s = 'w') AS n_won,
           count(*) FILTER (WHERE s = 'l') AS n_lost,
           sum(amount) FILTER (WHERE s = 'w') AS won_amount,
           sum(amount) FILTER (WHERE s = 'l') AS lost_amount,
           avg(EXTRACT(EPOCH FROM cycle)) FILTER (WHERE s = 'w') / 86400 AS avg_cycle,
           EXTRACT(EPOCH FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY cycle) FILTER (WHERE s = 'w'))
               / 86400 AS median_cycle,
           sum(amount) FILTER (WHERE s = 'o') AS open_amount,
           sum(amount * probability) FILTER (WHERE s = 'o') AS weighted_amount,
           sum(amount) FILTER (WHERE s = 'o' AND forecast_category = 'commit') AS commit_amount,
           sum(amount) FILTER (WHERE s = 'o' AND forecast_category = 'best_case') AS best_case_amount
    FROM eg
    GROUP BY {grouping_sets(DIMENSIONS)}
),
{QUOTA_CTES},
{keyed.replace("keyed AS (", "keyed_raw AS (", 1)},
keyed AS (
    SELECT kr.*, qt.amount AS quota FROM keyed_raw kr
    LEFT JOIN quota qt ON qt.grain = kr.grain AND qt.period_start = kr.period_start
        AND qt.dimension = kr.dimension AND qt.dimension_value = kr.dimension_value
    UNION ALL
    -- An owner or team with a quota but no deal event in the period: its attainment and coverage are 0, not
    -- missing (its counts and amounts are 0 too; the averages stay null and are left out).
    SELECT cal.grain, cal.period_start, cal.period_end, qt.dimension, qt.dimension_value,
           {", ".join("NULL::numeric" for _ in AGGREGATES)}, qt.amount
    FROM quota qt JOIN cal ON cal.grain = qt.grain AND cal.period_start = qt.period_start
    WHERE qt.dimension <> 'all' AND NOT EXISTS (
        SELECT 1 FROM keyed_raw kr WHERE kr.grain = qt.grain AND kr.period_start = qt.period_start
            AND kr.dimension = qt.dimension AND kr.dimension_value = qt.dimension_value
    )
)
{insert_rows_sql(VALUES, future=FUTURE_METRICS)}
"""  # noqa: S608 -- fragments from this package's constants and helpers; every value is a bound %(name)s parameter


def write(bounds: Bounds) -> int:
    """Insert the conversion rows of the set being built; returns the number of rows."""
    return write_rows(_sql(), bounds.params())


# The open pipeline by stage (the pipeline dashboard's "by stage" table): open deals by the name of their stage
# and the period of their expected close date, dimension `stage` (a breakdown of the `all` rows of
# open_pipeline and weighted_pipeline; stages of the same name in several pipelines share a row). Only open
# deals, so a statement of its own rather than a fifth grouping set over every deal event of `_sql`.
STAGE_SQL = f"""
WITH {calendar_cte()},
f AS (
    SELECT o.expected_close_date AS d, s.name AS stage, o.amount_reporting AS amount, o.probability
    FROM accounts_opportunity o
    JOIN accounts_stage s ON s.id = o.stage_id
    WHERE o.tenant_id = %(tenant)s AND o.deleted_at IS NULL AND s.kind = 'open'
      AND o.expected_close_date IS NOT NULL AND o.expected_close_date >= (SELECT min(period_start) FROM cal)
),
agg AS (
    SELECT g.grain, {period_start("f.d", "g.grain")} AS period_start, f.stage,
           sum(f.amount) AS open_amount, sum(f.amount * f.probability) AS weighted_amount
    FROM f CROSS JOIN {GRAINS_SQL}
    GROUP BY 1, 2, 3
)
INSERT INTO sales_ops_kpisnapshot (tenant_id, snapshot_set_id, metric, grain, period_start, dimension,
    dimension_value, value, computed_at, created_at, updated_at)
SELECT %(tenant)s, %(set)s, v.metric, a.grain, a.period_start, 'stage', a.stage, v.value, %(now)s, %(now)s,
       %(now)s
FROM agg a
JOIN cal ON cal.grain = a.grain AND cal.period_start = a.period_start
CROSS JOIN LATERAL (VALUES ('open_pipeline', a.open_amount::numeric),
                           ('weighted_pipeline', a.weighted_amount::numeric)) AS v(metric, value)
WHERE v.value IS NOT NULL
"""  # noqa: S608 -- fragments from this package's constants and helpers; every value is a bound %(name)s parameter


def write_stages(bounds: Bounds) -> int:
    """Insert the open pipeline by stage into the set being built; returns the number of rows."""
    return write_rows(STAGE_SQL, bounds.params())
