"""Celery tasks of the lifecycle app: thin, take the tenant id, open tenant_context, call a service."""

from __future__ import annotations

from celery import shared_task

from crm.models import Tenant
from crm.tasks import fan_out, fan_out_at_local_midnight, tenant_task


@tenant_task(name="lifecycle.tasks.recompute_lifecycle", skipped=0)
def recompute_lifecycle(tenant: Tenant, account_ids: list[int] | None = None) -> int:
    """Recompute the stage history of the tenant's accounts (all, or `account_ids`). Idempotent."""
    from lifecycle.services.stages import lifecycle_recompute

    return lifecycle_recompute(tenant=tenant, account_ids=account_ids)


@shared_task(name="lifecycle.tasks.recompute_lifecycle_all_tenants", ignore_result=True)
def recompute_lifecycle_all_tenants() -> int:
    """One recompute per active tenant (fan-out), for a full refresh on demand."""
    return fan_out(recompute_lifecycle)


@shared_task(name="lifecycle.tasks.recompute_lifecycle_due_all_tenants", ignore_result=True)
def recompute_lifecycle_due_all_tenants() -> int:
    """Beat runs this every hour; it fans out one recompute per tenant whose local day has just begun, so
    onboarding ends, grace and lapse periods run out on the tenant's own date (daily per tenant), whatever its
    time zone (a fixed UTC hour would be most of a day late somewhere)."""
    return fan_out_at_local_midnight(recompute_lifecycle)


@tenant_task(name="lifecycle.tasks.recompute_health", skipped=0)
def recompute_health(tenant: Tenant, account_ids: list[int] | None = None) -> int:
    """Recompute the health of the tenant's customer accounts (all, or `account_ids`) and run the playbooks of new
    episodes. Idempotent."""
    from lifecycle.services.health import health_recompute

    return health_recompute(tenant=tenant, account_ids=account_ids)


@shared_task(name="lifecycle.tasks.recompute_health_all_tenants", ignore_result=True)
def recompute_health_all_tenants() -> int:
    """One health recompute per active tenant (fan-out). The nightly run follows each tenant's daily lifecycle
    recompute (lifecycle_recompute schedules it), so this is for a full refresh on demand."""
    return fan_out(recompute_health)


@tenant_task(name="lifecycle.tasks.create_renewal_deals", skipped=0)
def create_renewal_deals(tenant: Tenant) -> int:
    """Create the renewal deals that are due (renewal_lead_days before each end date). Idempotent: a subscription
    gets its deal exactly once, however often this runs."""
    from lifecycle.services.renewals import renewals_create_due

    return renewals_create_due(tenant=tenant)


@shared_task(name="lifecycle.tasks.create_renewal_deals_due_all_tenants", ignore_result=True)
def create_renewal_deals_due_all_tenants() -> int:
    """Beat runs this every hour; it queues the renewal deals of each tenant whose local day has just begun (daily
    per tenant, on the tenant's own date)."""
    return fan_out_at_local_midnight(create_renewal_deals)


@shared_task(name="lifecycle.tasks.create_renewal_deals_all_tenants", ignore_result=True)
def create_renewal_deals_all_tenants() -> int:
    """One renewal-deal run per active tenant (fan-out), on demand."""
    return fan_out(create_renewal_deals)
