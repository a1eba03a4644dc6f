"""Celery tasks of the records area: thin, take the tenant id, open tenant_context, call a service."""

from __future__ import annotations

from celery import shared_task

from crm.tenancy import tenant_context


@shared_task(name="accounts.tasks.opportunities_reprice", acks_late=True, ignore_result=True)
def opportunities_reprice_task(tenant_id: int, currency: str) -> None:
    """After an exchange-rate change: let the deals area recompute amount_reporting of deals in `currency`.

    The deals area owns that rule (accounts.services.deals.opportunities_reprice); it is looked up at call time
    so the rates work even before it exists. Idempotent: repricing twice gives the same amounts."""
    try:
        from accounts.services import deals
    except ImportError:
        return
    reprice = getattr(deals, "opportunities_reprice", None)
    if reprice is None:
        return
    with tenant_context(tenant_id) as tenant:
        reprice(tenant=tenant, currency=currency)
