"""HTML pages of sales_ops: the dashboards (funnel, pipeline, reps, unit economics, forecast), the quotas grid and
"Recompute now". Each module is one page; `common`, `periods` and `tables` are what they share."""
