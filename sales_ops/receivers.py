"""Changes that move KPIs schedule a debounced recompute of their tenant (sales_ops.services.triggers): records
of every metric family (also the activities' queryset updates: accounts.signals.activity_changed) and the settings
and rates they are computed with; the lifecycle app's set-based rewrites
of stage history and health (its signal); and the end of an import job (once per job: while it runs, its rows'
saves hold back, see imports.signals). Deals and quotas also queue the quicker refresh of the current periods
(services/refresh.py)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save


def _changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    from sales_ops.services.triggers import kpi_recompute_soon

    tenant_id = getattr(instance, "tenant_id", None)
    if tenant_id is not None:
        kpi_recompute_soon(tenant_id=tenant_id)


def _deals_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    # Deals and quotas also move the current periods' deal metrics, which a quicker refresh rewrites first.
    from sales_ops.services.triggers import kpi_refresh_soon

    tenant_id = getattr(instance, "tenant_id", None)
    if tenant_id is not None:
        kpi_refresh_soon(tenant_id=tenant_id)


def _deals_updated(sender: Any, tenant_id: int, **kwargs: Any) -> None:
    # Deals changed by a queryset update (accounts.signals.opportunities_changed): no post_save was sent.
    from sales_ops.services.triggers import kpi_recompute_soon, kpi_refresh_soon

    kpi_recompute_soon(tenant_id=tenant_id)
    kpi_refresh_soon(tenant_id=tenant_id)


def _activities_logged_many(sender: Any, tenant: Any, **kwargs: Any) -> None:
    # A set insert or update of activities (an import's chunk) sends no post_save.
    from sales_ops.services.triggers import kpi_recompute_soon

    kpi_recompute_soon(tenant_id=tenant.pk)


def _tenant_changed(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    # Time zone, fiscal year start and reporting currency cut every period and amount.
    from sales_ops.services.triggers import kpi_recompute_soon

    if not created and instance.pk is not None:
        kpi_recompute_soon(tenant_id=instance.pk)


def _tenant_id_signal(sender: Any, tenant_id: int, **kwargs: Any) -> None:
    from sales_ops.services.triggers import kpi_recompute_soon

    kpi_recompute_soon(tenant_id=tenant_id)


def _import_finished(sender: Any, tenant: Any, **kwargs: Any) -> None:
    from sales_ops.services.triggers import kpi_recompute_soon

    kpi_recompute_soon(tenant_id=tenant.pk)


def connect() -> None:
    from accounts.models import Activity, ExchangeRate, Opportunity
    from accounts.signals import (
        activities_logged_many,
        activities_updated_many,
        activity_changed,
        opportunities_changed,
    )
    from crm.models import Tenant
    from imports.signals import import_job_finished
    from leads.models import Campaign, Lead, LeadSource
    from lifecycle.models import Feedback, LifecycleSettings, Subscription
    from lifecycle.signals import customer_data_recomputed
    from sales_ops.models import KpiSettings, Quota

    models = (
        Lead,
        Opportunity,
        Activity,
        Quota,
        Subscription,
        Feedback,
        Campaign,
        LeadSource,
        ExchangeRate,
        KpiSettings,
        LifecycleSettings,
    )
    for model in models:
        post_save.connect(_changed, sender=model, dispatch_uid=f"sales_ops.{model.__name__}.saved")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"sales_ops.{model.__name__}.deleted")
    for model in (Opportunity, Quota):
        post_save.connect(
            _deals_changed, sender=model, dispatch_uid=f"sales_ops.{model.__name__}.saved.refresh"
        )
        post_delete.connect(
            _deals_changed, sender=model, dispatch_uid=f"sales_ops.{model.__name__}.deleted.refresh"
        )
    opportunities_changed.connect(_deals_updated, dispatch_uid="sales_ops.opportunities_changed")
    activities_logged_many.connect(_activities_logged_many, dispatch_uid="sales_ops.activities_logged_many")
    activities_updated_many.connect(_activities_logged_many, dispatch_uid="sales_ops.activities_updated_many")
    # A task completed, reopened or snoozed, an activity deleted or restored (queryset updates, no post_save).
    activity_changed.connect(_tenant_id_signal, dispatch_uid="sales_ops.activity_changed")
    post_save.connect(_tenant_changed, sender=Tenant, dispatch_uid="sales_ops.Tenant.saved")
    customer_data_recomputed.connect(_tenant_id_signal, dispatch_uid="sales_ops.customer_data_recomputed")
    import_job_finished.connect(_import_finished, dispatch_uid="sales_ops.import_job_finished")
