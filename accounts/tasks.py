"""Celery tasks of the accounts app: thin, take the tenant id, open tenant_context, call a service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from crm.models import Tenant
from crm.tenancy import tenant_context


@shared_task(name="accounts.tasks.opportunities_reprice", acks_late=True, ignore_result=True)
def opportunities_reprice_task(tenant_id: int, currency: str) -> None:
    """After an exchange-rate change: recompute amount_reporting of the tenant's deals in `currency`.
    Idempotent: repricing twice gives the same amounts."""
    from accounts.services.deals import opportunities_reprice

    with tenant_context(tenant_id) as tenant:
        opportunities_reprice(tenant=tenant, currency=currency)


@shared_task(name="accounts.tasks.opportunities_reprice_open", acks_late=True, ignore_result=True)
def opportunities_reprice_open_task(tenant_id: int) -> int:
    """The tenant's day began: open deals take the rates in force today (a rate dated today applies now)."""
    from accounts.services.deals import opportunities_reprice

    tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first()
    if tenant is None:
        return 0
    with tenant_context(tenant):
        return opportunities_reprice(tenant=tenant, open_only=True)


@shared_task(name="accounts.tasks.opportunities_reprice_due_all_tenants", ignore_result=True)
def opportunities_reprice_due_all_tenants() -> int:
    """Beat runs this every hour; it fans out one reprice of open deals per tenant whose local day has just begun,
    so a rate dated today is applied to open deals within the hour it comes into force (daily per tenant)."""
    now = timezone.now()
    tenant_ids = [
        tenant.pk
        for tenant in Tenant.objects.filter(is_active=True).only("pk", "time_zone")
        if timezone.localtime(now, tenant.tzinfo).hour == 0
    ]
    for tenant_id in tenant_ids:
        opportunities_reprice_open_task.delay(tenant_id)
    return len(tenant_ids)
