"""Celery tasks of the leads area: the daily return of stale leads to the public pool (one task per tenant)."""

from __future__ import annotations

from celery import shared_task

from crm.models import Tenant
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
    tenant_ids = list(Tenant.objects.filter(is_active=True).values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        return_stale_leads_to_pool.delay(tenant_id)
    return len(tenant_ids)


# Celery's autodiscovery imports `<app>.tasks` only: register the ops area's tasks with the worker too.
from leads import tasks_ops  # noqa: E402,F401
