"""Signals of the lifecycle app, for the apps that build on its derived data (the KPI engine of sales_ops)."""

from django.dispatch import Signal

# Sent (sender: the model written, tenant_id=...) inside the transaction that rewrote derived customer data: the
# stage history (lifecycle_recompute) or the health scores (health_recompute). Both are set-based SQL, so no
# post_save reports them.
customer_data_recomputed = Signal()
