"""The metric keys of KPIS.md, by family; the engine computes every one (sales_ops.services.engine.FAMILIES)."""

from __future__ import annotations

LEAD_METRICS = (
    "leads_created",
    "leads_mql",
    "lead_to_mql_rate",
    "mql_to_sql_rate",
    "lead_conversion_rate",
    "lead_to_win_rate",
)

DEAL_METRICS = (
    "opps_created",
    "opps_won",
    "opps_lost",
    "won_amount",
    "lost_amount",
    "win_rate",
    "win_rate_amount",
    "avg_deal_size",
    "avg_sales_cycle_days",
    "median_sales_cycle_days",
    "open_pipeline",
    "weighted_pipeline",
    "quota_attainment",
    "pipeline_coverage",
    "forecast_commit",
    "forecast_best_case",
    "forecast_weighted",
    "sales_velocity",
)

# From the weekly forecast snapshots (sales_ops.services.forecasts).
FORECAST_METRICS = ("forecast_accuracy",)

ACTIVITY_METRICS = (
    "calls_logged",
    "emails_logged",
    "meetings_logged",
    "activities_logged",
    "activities_per_rep_day",
)

# Lifecycle and retention (KPIS.md "Lifecycle of an account"): sales_ops.services.customers.
LIFECYCLE_METRICS = (
    "accounts_acquisition",
    "accounts_conversion",
    "accounts_retention",
    "accounts_churn",
    "new_customers",
    "churned_customers",
    "logo_churn_rate",
    "mrr",
    "nrr",
    "grr",
    "renewals_due",
    "renewal_rate",
    "arpa",
    "cac",
    "ltv",
    "ltv_to_cac",
    "nps",
    "csat",
    "avg_health_score",
    "at_risk_accounts",
)

ALL_METRICS = LEAD_METRICS + DEAL_METRICS + FORECAST_METRICS + ACTIVITY_METRICS + LIFECYCLE_METRICS

# Metrics written for periods that start after today ("open future periods", KPIS.md): the pipeline and what
# is built on it. Every other metric stops at the period holding today.
FUTURE_METRICS = (
    "open_pipeline",
    "weighted_pipeline",
    "quota_attainment",
    "pipeline_coverage",
    "forecast_commit",
    "forecast_best_case",
    "forecast_weighted",
)
