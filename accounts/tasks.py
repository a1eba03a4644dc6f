"""Celery tasks of the accounts app: thin, crm.tasks.tenant_task checks the tenant and opens its context, a
service works."""

from __future__ import annotations

from celery import shared_task

# Through the module, so the function is looked up when the task runs (tests replace it there).
from accounts.services import rates as rates_services
from crm.models import Tenant
from crm.tasks import fan_out_at_local_midnight, tenant_task


@tenant_task(name="accounts.tasks.opportunities_reprice")
def opportunities_reprice_task(tenant: Tenant, currency: str) -> None:
    """After an exchange-rate change: recompute amount_reporting of the tenant's deals in `currency`.
    Idempotent: repricing twice gives the same amounts."""
    rates_services.opportunities_reprice(tenant=tenant, currency=currency)


@tenant_task(name="accounts.tasks.opportunities_reprice_open", skipped=0)
def opportunities_reprice_open_task(tenant: Tenant) -> int:
    """The tenant's day began: open deals take the rates in force today (a rate dated today applies now)."""
    return rates_services.opportunities_reprice(tenant=tenant, open_only=True)


@shared_task(name="accounts.tasks.opportunities_reprice_due_all_tenants", ignore_result=True)
def opportunities_reprice_due_all_tenants() -> int:
    """Beat runs this every hour; it fans out one reprice of open deals per tenant whose local day has just begun,
    so a rate dated today is applied to open deals within the hour it comes into force (daily per tenant)."""
    return fan_out_at_local_midnight(opportunities_reprice_open_task)
