"""Lifecycle and retention metrics (KPIS.md "Lifecycle of an account"), one INSERT ... SELECT per sub-family:

- `write_stock`: stage counts, new and churned customers, logo churn rate, MRR, NRR, GRR, ARPA, CAC, LTV,
  LTV:CAC (they build on each other, so one statement);
- `write_renewals`: renewals_due and renewal_rate;
- `write_feedback`: nps and csat;
- `write_health`: avg_health_score and at_risk_accounts (now: the periods holding today).

How the stock metrics stay set-based and cheap: every "state on day d" (the stage of each account, MRR, the
accounts paying) is a step function that moves only on the days of a LifecycleChange or a subscription start/end.
Those moves become deltas per (dimension, value, day); a dense day series (generate_series) with a running sum
(window) turns them into the state of every day, and each period reads its last day (today if current) and the
day before it starts by an equality join. NRR/GRR: the cohort's starting MRR is the total MRR on period_start
(accounts outside the cohort have 0), so only the accounts whose MRR moves inside the period need their own
before/after values: one row per (account, period) with a move, not per account per period.

Rules decided here (KPIS.md leaves them open):
- subscriptions in another currency convert at the tenant's latest rate (valid today, else the earliest), rounded
  to cents; campaign cost converts at the rate of its end date (today while it runs), as a deal does at its close
  date; a currency without any rate leaves the record out;
- "P's last month" for LTV is the month holding P's last day, today for a current period;
- avg_health_score and at_risk_accounts are the current HealthScore rows of customer accounts, written for the
  periods that hold today;
- soft-deleted accounts and everything of theirs are left out; dimensions other than `all` (owner, team, region,
  tier of the account) are written for months, quarters and years.
"""  # noqa: S608 -- fragments from this package's constants and helpers; every value is a bound %(name)s parameter

from __future__ import annotations

from sales_ops.services.calendar import (
    GRAINS_SQL,
    Bounds,
    calendar_cte,
    insert_rows_sql,
    local_date,
    owner_team_joins,
    period_start,
    write_rows,
)

# The grains that carry dimensions other than `all` (days and weeks per owner would multiply the rows by ~20).
DIM_GRAINS = "('month', 'quarter', 'year')"


def _rate_sql(currency_sql: str, on_date_sql: str) -> str:
    """The tenant's rate of `currency_sql` on a date: the latest valid on it, else the earliest (crm.money)."""
    return (
        "(SELECT r.rate FROM accounts_exchangerate r"  # noqa: S608 -- SQL fragments of this module; values are bound
        f" WHERE r.tenant_id = %(tenant)s AND r.currency = upper({currency_sql})"
        f" ORDER BY (r.valid_from <= {on_date_sql}) DESC,"
        f" CASE WHEN r.valid_from <= {on_date_sql} THEN {on_date_sql} - r.valid_from"
        f" ELSE r.valid_from - {on_date_sql} END LIMIT 1)"
    )


def _to_reporting(amount_sql: str, currency_sql: str, on_date_sql: str) -> str:
    """An amount in the reporting currency, rounded to cents (NULL when its currency has no rate)."""
    return (
        f"round({amount_sql} * CASE WHEN upper(COALESCE(NULLIF({currency_sql}, ''), tn.currency))"
        f" = upper(tn.currency) THEN 1 ELSE {_rate_sql(currency_sql, on_date_sql)} END, 2)"
    )


def _accounts_ctes() -> str:
    """`tn` (the tenant's reporting currency), `acct` (the accounts that count, with their dimension values) and
    `dims` (one row per account and dimension it belongs to, `all` included)."""
    return f"""
tn AS (SELECT currency FROM crm_tenant WHERE id = %(tenant)s),
acct AS (
    SELECT a.id AS account_id, u.email::text AS owner, tm.name::text AS team,
           NULLIF(a.region, '')::text AS region, NULLIF(a.tier, '')::text AS tier
    FROM accounts_account a {owner_team_joins("a")}
    WHERE a.tenant_id = %(tenant)s AND a.deleted_at IS NULL
),
dims AS (
    SELECT acct.account_id, d.dimension, d.dimension_value
    FROM acct CROSS JOIN LATERAL (VALUES
        ('all', ''), ('owner', acct.owner), ('team', acct.team), ('region', acct.region), ('tier', acct.tier)
    ) AS d(dimension, dimension_value)
    WHERE d.dimension_value IS NOT NULL
)"""  # noqa: S608 -- fragments from this package's constants and helpers; every value is a bound %(name)s parameter


STOCK_VALUES = [
    ("accounts_acquisition", "COALESCE(k.n_acq, 0)"),
    ("accounts_conversion", "COALESCE(k.n_conv, 0)"),
    ("accounts_retention", "COALESCE(k.n_ret, 0)"),
    ("accounts_churn", "COALESCE(k.n_churn, 0)"),
    ("new_customers", "COALESCE(k.n_new, 0)"),
    ("churned_customers", "COALESCE(k.n_churned, 0)"),
    ("logo_churn_rate", "k.churn_rate"),
    ("mrr", "COALESCE(k.mrr_last, 0)"),
    ("nrr", "(k.mrr0 + COALESCE(k.dn, 0)) / NULLIF(k.mrr0, 0)"),
    ("grr", "(k.mrr0 + COALESCE(k.dg, 0)) / NULLIF(k.mrr0, 0)"),
    ("arpa", "k.arpa"),
    ("cac", "k.cac"),
    ("ltv", "k.arpa * k.margin / NULLIF(k.mean_churn, 0)"),
    ("ltv_to_cac", "k.arpa * k.margin / NULLIF(k.mean_churn, 0) / NULLIF(k.cac, 0)"),
]


def stock_sql() -> str:
    campaign_rate_day = "LEAST(c.end_date, %(today)s::date)"
    last_day = "LEAST(cal.period_end - 1, %(today)s::date)"
    return f"""
WITH {calendar_cte()},
{_accounts_ctes()},
sub AS (
    SELECT s.account_id, s.start_date, s.end_date,
           {_to_reporting("s.mrr", "s.currency", "%(today)s::date")} AS mrr
    FROM lifecycle_subscription s JOIN acct ON acct.account_id = s.account_id CROSS JOIN tn
    WHERE s.tenant_id = %(tenant)s AND s.deleted_at IS NULL
),
acct_day AS (
    SELECT account_id, day, sum(delta) AS delta FROM (
        SELECT account_id, start_date AS day, mrr AS delta FROM sub WHERE mrr IS NOT NULL
        UNION ALL
        SELECT account_id, end_date, -mrr FROM sub WHERE end_date IS NOT NULL AND mrr IS NOT NULL
    ) e GROUP BY account_id, day
),
acct_steps AS (
    SELECT account_id, day AS from_d, lead(day, 1, 'infinity'::date) OVER w AS to_d, sum(delta) OVER w AS mrr
    FROM acct_day WINDOW w AS (PARTITION BY account_id ORDER BY day)
),
delta AS (
    SELECT c.account_id, c.date AS day,
           (c.to_stage = 'acquisition')::int - (c.from_stage = 'acquisition')::int AS d_acq,
           (c.to_stage = 'conversion')::int - (c.from_stage = 'conversion')::int AS d_conv,
           (c.to_stage = 'retention')::int - (c.from_stage = 'retention')::int AS d_ret,
           (c.to_stage = 'churn')::int - (c.from_stage = 'churn')::int AS d_churn,
           0::numeric AS d_mrr, 0 AS d_paying
    FROM lifecycle_lifecyclechange c JOIN acct ON acct.account_id = c.account_id
    WHERE c.tenant_id = %(tenant)s
    UNION ALL
    SELECT account_id, from_d, 0, 0, 0, 0, mrr - prev, (mrr > 0)::int - (prev > 0)::int
    FROM (
        SELECT account_id, from_d, mrr, COALESCE(lag(mrr) OVER (PARTITION BY account_id ORDER BY from_d), 0) AS prev
        FROM acct_steps
    ) steps
),
gdelta AS (
    SELECT d.dimension, d.dimension_value, GREATEST(x.day, %(start)s::date) AS day,
           sum(x.d_acq) AS d_acq, sum(x.d_conv) AS d_conv, sum(x.d_ret) AS d_ret, sum(x.d_churn) AS d_churn,
           sum(x.d_mrr) AS d_mrr, sum(x.d_paying) AS d_paying
    FROM delta x JOIN dims d ON d.account_id = x.account_id
    WHERE x.day <= %(today)s
    GROUP BY 1, 2, 3
),
grp AS (SELECT DISTINCT dimension, dimension_value FROM gdelta UNION SELECT 'all', ''),
daily AS (
    SELECT g.dimension, g.dimension_value, gs.day::date AS day,
           sum(COALESCE(x.d_acq, 0)) OVER w AS n_acq, sum(COALESCE(x.d_conv, 0)) OVER w AS n_conv,
           sum(COALESCE(x.d_ret, 0)) OVER w AS n_ret, sum(COALESCE(x.d_churn, 0)) OVER w AS n_churn,
           sum(COALESCE(x.d_mrr, 0)) OVER w AS mrr, sum(COALESCE(x.d_paying, 0)) OVER w AS paying
    FROM grp g
    CROSS JOIN generate_series(%(start)s::date, %(today)s::date, interval '1 day') AS gs(day)
    LEFT JOIN gdelta x ON x.dimension = g.dimension AND x.dimension_value = g.dimension_value
        AND x.day = gs.day::date
    WINDOW w AS (PARTITION BY g.dimension, g.dimension_value ORDER BY gs.day)
),
first_won AS (
    SELECT o.account_id, min({local_date("o.closed_at")}) AS d
    FROM accounts_opportunity o JOIN accounts_stage st ON st.id = o.stage_id
    WHERE o.tenant_id = %(tenant)s AND st.kind = 'won' AND o.deleted_at IS NULL AND o.closed_at IS NOT NULL
    GROUP BY o.account_id
),
ev AS (
    SELECT 'n' AS s, LEAST(w.d, f.d) AS d, acct.account_id, NULL::numeric AS amount
    FROM acct
    LEFT JOIN first_won w ON w.account_id = acct.account_id
    LEFT JOIN (SELECT account_id, min(start_date) AS d FROM sub GROUP BY account_id) f
        ON f.account_id = acct.account_id
    WHERE w.d IS NOT NULL OR f.d IS NOT NULL
    UNION ALL
    SELECT 'c', c.date, c.account_id, NULL
    FROM lifecycle_lifecyclechange c JOIN acct ON acct.account_id = c.account_id
    WHERE c.tenant_id = %(tenant)s AND c.to_stage = 'churn'
),
dev AS (
    SELECT ev.s, ev.d, ev.account_id, ev.amount, dims.dimension, dims.dimension_value
    FROM ev JOIN dims ON dims.account_id = ev.account_id
    UNION ALL
    SELECT 'k', gs.day::date, NULL, cc.cost / (cc.end_date - cc.start_date + 1), 'all', ''
    FROM (
        SELECT c.start_date, c.end_date, {_to_reporting("c.cost", "c.currency", campaign_rate_day)} AS cost
        FROM leads_campaign c CROSS JOIN tn
        WHERE c.tenant_id = %(tenant)s AND c.deleted_at IS NULL
    ) cc CROSS JOIN generate_series(cc.start_date, cc.end_date, interval '1 day') AS gs(day)
    WHERE cc.cost IS NOT NULL
),
flows AS (
    SELECT g.grain, {period_start("dev.d", "g.grain")} AS period_start, dev.dimension, dev.dimension_value,
           count(*) FILTER (WHERE dev.s = 'n') AS n_new,
           count(DISTINCT dev.account_id) FILTER (WHERE dev.s = 'c') AS n_churned,
           sum(dev.amount) FILTER (WHERE dev.s = 'k') AS cost
    FROM dev CROSS JOIN {GRAINS_SQL}
    WHERE dev.dimension = 'all' OR g.grain IN {DIM_GRAINS}
    GROUP BY 1, 2, 3, 4
),
moved AS (
    SELECT DISTINCT ad.account_id, g.grain, {period_start("ad.day", "g.grain")} AS period_start
    FROM acct_day ad CROSS JOIN {GRAINS_SQL}
    WHERE ad.day <= %(today)s
),
nrr AS (
    SELECT mv.grain, mv.period_start, dims.dimension, dims.dimension_value,
           sum(s1.mrr - s0.mrr) AS dn, sum(LEAST(s1.mrr, s0.mrr) - s0.mrr) AS dg
    FROM moved mv
    JOIN cal ON cal.grain = mv.grain AND cal.period_start = mv.period_start
    JOIN acct_steps s0 ON s0.account_id = mv.account_id
        AND s0.from_d <= mv.period_start AND mv.period_start < s0.to_d
    JOIN acct_steps s1 ON s1.account_id = mv.account_id
        AND s1.from_d <= {last_day} AND {last_day} < s1.to_d
    JOIN dims ON dims.account_id = mv.account_id
    WHERE s0.mrr > 0 AND s1.from_d > mv.period_start
        AND (dims.dimension = 'all' OR mv.grain IN {DIM_GRAINS})
    GROUP BY 1, 2, 3, 4
),
periods AS (
    SELECT cal.grain, cal.period_start, cal.period_end, g.dimension, g.dimension_value,
           dl.n_acq, dl.n_conv, dl.n_ret, dl.n_churn, dl.mrr AS mrr_last,
           dl.mrr / NULLIF(dl.paying, 0) AS arpa,
           COALESCE(dp.n_conv, 0) + COALESCE(dp.n_ret, 0) AS active_before,
           COALESCE(d0.mrr, 0) AS mrr0,
           f.n_new, f.n_churned, f.cost, n.dn, n.dg
    FROM cal CROSS JOIN grp g
    LEFT JOIN daily dl ON dl.dimension = g.dimension AND dl.dimension_value = g.dimension_value
        AND dl.day = {last_day}
    LEFT JOIN daily dp ON dp.dimension = g.dimension AND dp.dimension_value = g.dimension_value
        AND dp.day = cal.period_start - 1
    LEFT JOIN daily d0 ON d0.dimension = g.dimension AND d0.dimension_value = g.dimension_value
        AND d0.day = cal.period_start
    LEFT JOIN flows f ON f.grain = cal.grain AND f.period_start = cal.period_start
        AND f.dimension = g.dimension AND f.dimension_value = g.dimension_value
    LEFT JOIN nrr n ON n.grain = cal.grain AND n.period_start = cal.period_start
        AND n.dimension = g.dimension AND n.dimension_value = g.dimension_value
    WHERE cal.period_start <= %(today)s AND (g.dimension = 'all' OR cal.grain IN {DIM_GRAINS})
),
rated AS (
    SELECT p.*, COALESCE(p.n_churned, 0)::numeric / NULLIF(p.active_before, 0) AS churn_rate,
           CASE WHEN p.dimension = 'all' THEN COALESCE(p.cost, 0) / NULLIF(p.n_new, 0) END AS cac,
           date_trunc('month', LEAST(p.period_end - 1, %(today)s::date))::date AS last_month
    FROM periods p
),
churn_mean AS (
    SELECT r.grain, r.period_start, r.dimension, r.dimension_value, avg(m.churn_rate) AS mean_churn
    FROM rated r JOIN rated m ON m.grain = 'month' AND m.dimension = r.dimension
        AND m.dimension_value = r.dimension_value
        AND m.period_start BETWEEN (r.last_month - interval '11 months')::date AND r.last_month
    WHERE m.churn_rate IS NOT NULL
    GROUP BY 1, 2, 3, 4
),
keyed AS (
    SELECT r.*, cm.mean_churn,
           COALESCE((SELECT gross_margin FROM sales_ops_kpisettings WHERE tenant_id = %(tenant)s), 0.8) AS margin
    FROM rated r LEFT JOIN churn_mean cm ON cm.grain = r.grain AND cm.period_start = r.period_start
        AND cm.dimension = r.dimension AND cm.dimension_value = r.dimension_value
)
{insert_rows_sql(STOCK_VALUES)}
"""  # noqa: S608 -- fragments from this package's constants and helpers; every value is a bound %(name)s parameter


RENEWAL_VALUES = [
    ("renewals_due", "COALESCE(k.n_due, 0)"),
    ("renewal_rate", "k.n_renewed::numeric / NULLIF(k.n_due, 0)"),
]


def renewals_sql() -> str:
    return f"""
WITH {calendar_cte()},
{_accounts_ctes()},
ending AS (
    SELECT s.account_id, s.end_date AS d, EXISTS (
        SELECT 1 FROM lifecycle_subscription n
        WHERE n.tenant_id = %(tenant)s AND n.account_id = s.account_id AND n.deleted_at IS NULL
          AND n.id <> s.id AND n.start_date > s.start_date
          AND n.start_date BETWEEN s.end_date - 90 AND s.end_date + COALESCE(
              (SELECT grace_days FROM lifecycle_lifecyclesettings WHERE tenant_id = %(tenant)s), 30)
    ) AS renewed
    FROM lifecycle_subscription s JOIN acct ON acct.account_id = s.account_id
    WHERE s.tenant_id = %(tenant)s AND s.deleted_at IS NULL AND s.end_date IS NOT NULL
),
agg AS (
    SELECT g.grain, {period_start("e.d", "g.grain")} AS period_start, dims.dimension, dims.dimension_value,
           count(*) AS n_due, count(*) FILTER (WHERE e.renewed) AS n_renewed
    FROM ending e JOIN dims ON dims.account_id = e.account_id CROSS JOIN {GRAINS_SQL}
    WHERE dims.dimension = 'all' OR g.grain IN {DIM_GRAINS}
    GROUP BY 1, 2, 3, 4
),
{_keyed_from_agg(["n_due", "n_renewed"])}
{insert_rows_sql(RENEWAL_VALUES)}
"""  # noqa: S608 -- fragments from this package's constants and helpers; every value is a bound %(name)s parameter


FEEDBACK_VALUES = [
    ("nps", "100 * (k.n_promoters - k.n_detractors)::numeric / NULLIF(k.n_nps, 0)"),
    ("csat", "k.csat"),
]


def feedback_sql() -> str:
    return f"""
WITH {calendar_cte()},
{_accounts_ctes()},
agg AS (
    SELECT g.grain, {period_start(local_date("f.received_at"), "g.grain")} AS period_start,
           dims.dimension, dims.dimension_value,
           count(*) FILTER (WHERE f.kind = 'nps') AS n_nps,
           count(*) FILTER (WHERE f.kind = 'nps' AND f.score >= 9) AS n_promoters,
           count(*) FILTER (WHERE f.kind = 'nps' AND f.score <= 6) AS n_detractors,
           avg(f.score) FILTER (WHERE f.kind = 'csat') AS csat
    FROM lifecycle_feedback f JOIN dims ON dims.account_id = f.account_id CROSS JOIN {GRAINS_SQL}
    WHERE f.tenant_id = %(tenant)s AND (dims.dimension = 'all' OR g.grain IN {DIM_GRAINS})
    GROUP BY 1, 2, 3, 4
),
{_keyed_from_agg(["n_nps", "n_promoters", "n_detractors", "csat"])}
{insert_rows_sql(FEEDBACK_VALUES)}
"""  # noqa: S608 -- fragments from this package's constants and helpers; every value is a bound %(name)s parameter


HEALTH_VALUES = [
    ("avg_health_score", "k.avg_score"),
    ("at_risk_accounts", "COALESCE(k.n_at_risk, 0)"),
]


def health_sql() -> str:
    return f"""
WITH {calendar_cte()},
{_accounts_ctes()},
scored AS (
    SELECT h.account_id, h.score
    FROM lifecycle_healthscore h JOIN accounts_account a ON a.id = h.account_id
    WHERE h.tenant_id = %(tenant)s AND a.lifecycle_stage = ANY(%(customer_stages)s)
),
now_agg AS (
    SELECT dims.dimension, dims.dimension_value, avg(s.score) AS avg_score,
           count(*) FILTER (WHERE s.score < COALESCE(
               (SELECT health_at_risk_threshold FROM lifecycle_lifecyclesettings WHERE tenant_id = %(tenant)s),
               40)) AS n_at_risk
    FROM scored s JOIN dims ON dims.account_id = s.account_id
    GROUP BY 1, 2
),
agg AS (
    SELECT cal.grain, cal.period_start, n.dimension, n.dimension_value, n.avg_score, n.n_at_risk
    FROM cal JOIN now_agg n ON n.dimension = 'all' OR cal.grain IN {DIM_GRAINS}
    WHERE cal.period_start <= %(today)s AND %(today)s < cal.period_end
),
keyed AS (
    SELECT cal.grain, cal.period_start, cal.period_end, 'all'::text AS dimension, ''::text AS dimension_value,
           a.avg_score, a.n_at_risk
    FROM cal LEFT JOIN agg a ON a.dimension = 'all' AND a.grain = cal.grain AND a.period_start = cal.period_start
    WHERE cal.period_start <= %(today)s AND %(today)s < cal.period_end
    UNION ALL
    SELECT a.grain, a.period_start, NULL, a.dimension, a.dimension_value, a.avg_score, a.n_at_risk
    FROM agg a WHERE a.dimension <> 'all'
)
{insert_rows_sql(HEALTH_VALUES)}
"""  # noqa: S608 -- fragments from this package's constants and helpers; every value is a bound %(name)s parameter


def _keyed_from_agg(aggregates: list[str]) -> str:
    """`keyed`: the `all` row of every calendar period up to today, plus the other dimensions' groups."""
    columns = ", ".join(f"a.{name}" for name in aggregates)
    return (
        "keyed AS ("  # noqa: S608 -- columns from this module's constants; values are bound
        " SELECT cal.grain, cal.period_start, cal.period_end, 'all'::text AS dimension,"
        f" ''::text AS dimension_value, {columns}"
        " FROM cal LEFT JOIN agg a ON a.dimension = 'all' AND a.grain = cal.grain"
        " AND a.period_start = cal.period_start"
        " WHERE cal.period_start <= %(today)s"
        " UNION ALL"
        f" SELECT cal.grain, cal.period_start, cal.period_end, a.dimension, a.dimension_value, {columns}"
        " FROM agg a JOIN cal ON cal.grain = a.grain AND cal.period_start = a.period_start"
        " WHERE a.dimension <> 'all' AND cal.period_start <= %(today)s"
        ")"
    )


def _run(sql: str, bounds: Bounds) -> int:
    from lifecycle.services.health import CUSTOMER_STAGES

    return write_rows(sql, {**bounds.params(), "customer_stages": list(CUSTOMER_STAGES)})


def write_stock(bounds: Bounds) -> int:
    """Insert the stage, churn, MRR and unit-economics rows of the set being built; returns the row count."""
    return _run(stock_sql(), bounds)


def write_renewals(bounds: Bounds) -> int:
    return _run(renewals_sql(), bounds)


def write_feedback(bounds: Bounds) -> int:
    return _run(feedback_sql(), bounds)


def write_health(bounds: Bounds) -> int:
    return _run(health_sql(), bounds)
