"""Reads of sales_ops: KPI snapshots with their visibility rule, quotas and the quota grid."""
