"""Celery tasks of the leads app: the daily return of stale leads to the public pool and the daily rescore (one
task per tenant each), the rescore of one lead after an activity was logged on it, and the rescore of every lead
after a scoring rule changed. Thin: crm.tasks.tenant_task checks the tenant and opens its context, a service works.

The task names are part of the contract with beat schedules and queued messages: they never change (the rescore
of every lead keeps the name it had in the former tasks_ops module)."""

from __future__ import annotations

from celery import shared_task

from crm.models import Tenant
from crm.tasks import fan_out, tenant_task
from leads.models import Lead
from leads.services.pool import leads_return_stale_to_pool
from leads.services.scoring import lead_rescore, leads_rescore_all


@tenant_task(name="leads.tasks.return_stale_leads_to_pool", skipped=0)
def return_stale_leads_to_pool(tenant: Tenant) -> int:
    """Move the tenant's leads nobody worked within its window back to the pool (idempotent)."""
    return leads_return_stale_to_pool(tenant=tenant)


@shared_task(name="leads.tasks.return_stale_leads_all_tenants", ignore_result=True)
def return_stale_leads_all_tenants() -> int:
    """Beat runs this daily: fan out one task per active tenant."""
    return fan_out(return_stale_leads_to_pool)


@tenant_task(name="leads.tasks.rescore_lead", skipped=0)
def rescore_lead(tenant: Tenant, lead_id: int) -> int:
    """Rescore one lead (an activity was logged on it). Idempotent; a deleted lead or tenant is skipped."""
    lead = Lead.objects.select_related("source").filter(tenant=tenant, pk=lead_id).first()
    if lead is None:
        return 0
    lead_rescore(tenant=tenant, lead=lead)
    return 1


@tenant_task(name="leads.tasks_ops.rescore_leads", skipped=0)
def rescore_leads(tenant: Tenant) -> int:
    """Rescore every lead of the tenant after a scoring rule changed (idempotent: a rerun writes nothing)."""
    return leads_rescore_all(tenant=tenant)


@shared_task(name="leads.tasks.rescore_leads_all_tenants", ignore_result=True)
def rescore_leads_all_tenants() -> int:
    """Beat runs this daily so activities leave the 30-day engagement window: one rescore task per tenant."""
    return fan_out(rescore_leads)
