"""The KPI API (snapshots, recompute jobs) and the quotas API, one module each."""
