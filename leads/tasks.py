"""Celery tasks of the leads area: the daily return of stale leads to the public pool and the daily rescore (one
task per tenant each), and the rescore of one lead after an activity was logged on it."""

from __future__ import annotations

from celery import shared_task

from crm.models import Tenant
from crm.tasks import fan_out
from crm.tenancy import tenant_context


@shared_task(name="leads.tasks.return_stale_leads_to_pool", acks_late=True, ignore_result=True)
def return_stale_leads_to_pool(tenant_id: int) -> int:
    """Move the tenant's leads nobody worked within its window back to the pool (idempotent)."""
    from leads.services.leads import leads_return_stale_to_pool

    tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first()
    if tenant is None:
        return 0
    with tenant_context(tenant):
        return leads_return_stale_to_pool(tenant=tenant)


@shared_task(name="leads.tasks.return_stale_leads_all_tenants", ignore_result=True)
def return_stale_leads_all_tenants() -> int:
    """Beat runs this daily: fan out one task per active tenant."""
    return fan_out(return_stale_leads_to_pool)


@shared_task(name="leads.tasks.rescore_lead", acks_late=True, ignore_result=True)
def rescore_lead(tenant_id: int, lead_id: int) -> int:
    """Rescore one lead (an activity was logged on it). Idempotent; a deleted lead or tenant is skipped."""
    from leads.models import Lead
    from leads.services.ops import lead_rescore

    tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first()
    if tenant is None:
        return 0
    with tenant_context(tenant):
        lead = Lead.objects.select_related("source").filter(tenant=tenant, pk=lead_id).first()
        if lead is None:
            return 0
        lead_rescore(tenant=tenant, lead=lead)
        return 1


@shared_task(name="leads.tasks.rescore_leads_all_tenants", ignore_result=True)
def rescore_leads_all_tenants() -> int:
    """Beat runs this daily so activities leave the 30-day engagement window: one rescore task per tenant."""
    from leads.tasks_ops import rescore_leads

    return fan_out(rescore_leads)


# Celery's autodiscovery imports `<app>.tasks` only: register the ops area's tasks with the worker too.
from leads import tasks_ops  # noqa: E402,F401
