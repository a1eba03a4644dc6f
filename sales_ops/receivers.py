"""Changes that move KPIs schedule a debounced recompute of their tenant (sales_ops.services.triggers)."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save


def _changed(sender, instance, **kwargs) -> None:  # type: ignore[no-untyped-def]
    from sales_ops.services.triggers import kpi_recompute_soon

    tenant_id = getattr(instance, "tenant_id", None)
    if tenant_id is not None:
        kpi_recompute_soon(tenant_id=tenant_id)


def connect() -> None:
    from accounts.models import Activity, Opportunity
    from leads.models import Lead
    from sales_ops.models import Quota

    for model in (Lead, Opportunity, Activity, Quota):
        post_save.connect(_changed, sender=model, dispatch_uid=f"sales_ops.{model.__name__}.saved")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"sales_ops.{model.__name__}.deleted")
