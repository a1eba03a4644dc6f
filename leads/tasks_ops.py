"""Celery tasks of the ops area. Thin: take the tenant id, open its context, call a service."""

from __future__ import annotations

from celery import shared_task

from crm.tenancy import tenant_context


@shared_task(name="leads.tasks_ops.rescore_leads", acks_late=True, ignore_result=True)
def rescore_leads(tenant_id: int) -> int:
    """Rescore every lead of the tenant after a scoring rule changed (idempotent: a rerun writes nothing)."""
    from leads.services.ops import leads_rescore_all

    with tenant_context(tenant_id) as tenant:
        return leads_rescore_all(tenant=tenant)
