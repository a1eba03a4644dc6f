"""Celery tasks of sales_ops: thin, take the tenant id, call the engine (crm.tasks.fan_out for the beat)."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from crm.models import Tenant
from crm.tasks import fan_out, tenant_task
from crm.tenancy import tenant_context

# A recompute that finds the tenant locked (another one running) comes back this much later, at most this often.
LOCK_RETRY_SECONDS = 30
MAX_LOCK_RETRIES = 20


@tenant_task(name="sales_ops.tasks.recompute_kpis", skipped="skipped", atomic=False)
def recompute_kpis(tenant: Tenant, job_id: int | None = None, attempt: int = 0) -> str:
    """Full KPI recompute of one tenant (idempotent; the engine runs its own short transactions). Returns "done",
    "skipped" (tenant gone or inactive), "requeued" (another recompute of the tenant holds the lock) or "busy"
    (gave up after MAX_LOCK_RETRIES)."""
    from sales_ops.models import KpiRecompute, RecomputeStatus
    from sales_ops.services.engine import kpi_recompute
    from sales_ops.services.triggers import pending_key

    tenant_id = tenant.pk
    # Changes from now on must queue another run: this one may start reading before they commit.
    cache.delete(pending_key(tenant_id))
    job = None
    if job_id is not None:
        with tenant_context(tenant):
            job = KpiRecompute.objects.filter(tenant=tenant, pk=job_id).first()
    if kpi_recompute(tenant=tenant, job=job) is not None:
        return "done"
    if attempt >= MAX_LOCK_RETRIES:
        if job is not None:
            with tenant_context(tenant):
                KpiRecompute.objects.filter(tenant=tenant, pk=job.pk).update(
                    status=RecomputeStatus.FAILED, error="Another recompute kept the tenant busy."
                )
        return "busy"
    # The running recompute may have read the records before the changes that queued this one: run again after.
    recompute_kpis.apply_async((tenant_id, job_id, attempt + 1), countdown=LOCK_RETRY_SECONDS)
    return "requeued"


# A refresh that finds another refresh of the tenant running comes back this much later, at most this often.
REFRESH_RETRY_SECONDS = 2
MAX_REFRESH_RETRIES = 10


@tenant_task(name="sales_ops.tasks.refresh_kpis", skipped="skipped", atomic=False)
def refresh_kpis(tenant: Tenant, attempt: int = 0) -> str:
    """Refresh of the current periods' deal metrics (services/refresh.py), queued by changes to deals and quotas
    besides the full recompute. Returns "done", "skipped", "requeued" (another refresh holds the lock) or "busy"."""
    from sales_ops.services.refresh import kpi_refresh
    from sales_ops.services.triggers import refresh_pending_key

    cache.delete(refresh_pending_key(tenant.pk))
    if kpi_refresh(tenant=tenant) is not None:
        return "done"
    if attempt >= MAX_REFRESH_RETRIES:
        return "busy"
    # The running refresh may have read the deals before the change that queued this one.
    refresh_kpis.apply_async((tenant.pk, attempt + 1), countdown=REFRESH_RETRY_SECONDS)
    return "requeued"


@shared_task(name="sales_ops.tasks.recompute_kpis_all_tenants", ignore_result=True)
def recompute_kpis_all_tenants() -> int:
    """Beat: one full recompute per active tenant (catches what no signal reports: bulk updates, rate changes,
    the passing of time for current periods)."""
    return fan_out(recompute_kpis)


@tenant_task(name="sales_ops.tasks.take_forecast_snapshot", skipped=0, atomic=False)
def take_forecast_snapshot(tenant: Tenant) -> int:
    """This local week's forecast snapshot of the tenant, once a week (a later run in the same week does nothing):
    a fresh recompute first (the current set otherwise, when another recompute holds the lock), then the copy.
    Returns the number of snapshot rows written."""
    from sales_ops.services.engine import kpi_recompute
    from sales_ops.services.forecasts import forecast_snapshot_due, forecast_snapshot_take

    with tenant_context(tenant):
        if not forecast_snapshot_due(tenant=tenant):
            return 0
    kpi_recompute(tenant=tenant)
    with tenant_context(tenant):
        return forecast_snapshot_take(tenant=tenant)


@shared_task(name="sales_ops.tasks.take_forecast_snapshots_all_tenants", ignore_result=True)
def take_forecast_snapshots_all_tenants() -> int:
    """Beat runs this every hour: each tenant's snapshot is taken once per local week, in the first hour after its
    Monday begins (or at the next run after a worker outage)."""
    return fan_out(take_forecast_snapshot)


@tenant_task(name="sales_ops.tasks.resume_stalled_recomputes", skipped=None, atomic=False)
def resume_stalled_recomputes(tenant: Tenant) -> dict[str, int]:
    """Requested recomputes no worker runs: failed visibly or queued again (services.jobs)."""
    from sales_ops.services.jobs import kpi_recompute_jobs_resume_stalled

    return kpi_recompute_jobs_resume_stalled(tenant=tenant)


@shared_task(name="sales_ops.tasks.resume_stalled_recomputes_all_tenants", ignore_result=True)
def resume_stalled_recomputes_all_tenants() -> int:
    """Beat: one reaper task per active tenant."""
    return fan_out(resume_stalled_recomputes)
