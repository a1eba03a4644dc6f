"""Acquisition metrics (KPIS.md "Acquisition") in one INSERT ... SELECT.

Two event streams of the same leads: by `created_at` (leads_created and the cohort rates) and by the first
reaching of mql (leads_mql, mql_to_sql_rate). A lead *reached* a status when it has that stamp or a later one.
"""

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

DIMENSIONS = [
    ("owner", "owner"),
    ("team", "team"),
    ("source", "source"),
    ("source_kind", "source_kind"),
    ("campaign", "campaign"),
    ("region", "region"),
]
AGGREGATES = ["n_created", "n_created_mql", "n_created_conv", "n_created_won", "n_mql", "n_mql_sql"]

VALUES = [
    ("leads_created", "COALESCE(k.n_created, 0)"),
    ("leads_mql", "COALESCE(k.n_mql, 0)"),
    ("lead_to_mql_rate", "k.n_created_mql::numeric / NULLIF(k.n_created, 0)"),
    ("mql_to_sql_rate", "k.n_mql_sql::numeric / NULLIF(k.n_mql, 0)"),
    ("lead_conversion_rate", "k.n_created_conv::numeric / NULLIF(k.n_created, 0)"),
    ("lead_to_win_rate", "k.n_created_won::numeric / NULLIF(k.n_created, 0)"),
]


def _sql() -> str:
    dimension, dimension_value = dimension_case(DIMENSIONS)
    return f"""
WITH {calendar_cte()},
f AS (
    SELECT {local_date("l.created_at")} AS created_d,
           {local_date("LEAST(l.mql_at, l.sql_at, l.converted_at)")} AS mql_d,
           (l.sql_at IS NOT NULL OR l.converted_at IS NOT NULL) AS r_sql,
           (l.converted_at IS NOT NULL) AS r_conv,
           EXISTS (
               SELECT 1 FROM accounts_opportunity o JOIN accounts_stage s ON s.id = o.stage_id
               WHERE o.tenant_id = l.tenant_id AND o.lead_id = l.id AND s.kind = 'won' AND o.deleted_at IS NULL
           ) AS r_won,
           u.email AS owner, tm.name AS team, src.name AS source,
           COALESCE(src.kind, NULLIF(c.source_kind, '')) AS source_kind, c.name AS campaign,
           NULLIF(l.region, '') AS region
    FROM leads_lead l {owner_team_joins("l")}
    LEFT JOIN leads_leadsource src ON src.id = l.source_id
    LEFT JOIN leads_campaign c ON c.id = l.campaign_id
    WHERE l.tenant_id = %(tenant)s AND l.deleted_at IS NULL
),
ev AS (
    SELECT 'c' AS s, created_d AS d, (mql_d IS NOT NULL) AS r_mql, r_sql, r_conv, r_won,
           owner, team, source, source_kind, campaign, region FROM f
    UNION ALL
    SELECT 'm', mql_d, TRUE, r_sql, r_conv, r_won, owner, team, source, source_kind, campaign, region
    FROM f WHERE mql_d IS NOT NULL
),
eg AS (
    SELECT g.grain, {period_start("ev.d", "g.grain")} AS period_start, ev.* FROM ev CROSS JOIN {GRAINS_SQL}
),
agg AS (
    SELECT grain, period_start, {dimension} AS dimension, {dimension_value} AS dimension_value,
           count(*) FILTER (WHERE s = 'c') AS n_created,
           count(*) FILTER (WHERE s = 'c' AND r_mql) AS n_created_mql,
           count(*) FILTER (WHERE s = 'c' AND r_conv) AS n_created_conv,
           count(*) FILTER (WHERE s = 'c' AND r_won) AS n_created_won,
           count(*) FILTER (WHERE s = 'm') AS n_mql,
           count(*) FILTER (WHERE s = 'm' AND r_sql) AS n_mql_sql
    FROM eg
    GROUP BY {grouping_sets(DIMENSIONS)}
),
{keyed_cte(AGGREGATES)}
{insert_rows_sql(VALUES)}
"""  # noqa: S608 -- fragments from this package's constants and helpers; every value is a bound %(name)s parameter


def write(bounds: Bounds) -> int:
    """Insert the acquisition rows of the set being built; returns the number of rows."""
    return write_rows(_sql(), bounds.params())
