"""Celery tasks of the imports app: thin, take the tenant id and the job id."""

from __future__ import annotations

from celery import shared_task

from crm.models import Tenant
from crm.tasks import fan_out, tenant_task


# atomic=False: the job commits chunk by chunk in transactions of its own (see imports.services).
@tenant_task(name="imports.tasks.run_import_job", atomic=False)
def run_import_job(tenant: Tenant, job_id: int) -> None:
    """Run or resume an import job (idempotent: a re-delivered task continues after the last committed chunk)."""
    from imports.services import import_job_run

    import_job_run(tenant=tenant, job_id=job_id)


@tenant_task(name="imports.tasks.resume_stalled_import_jobs", skipped=0, atomic=False)
def resume_stalled_import_jobs(tenant: Tenant) -> int:
    """Queue again the tenant's import jobs that no worker runs (imports.services.import_jobs_resume_stalled)."""
    from imports.services import import_jobs_resume_stalled

    return len(import_jobs_resume_stalled(tenant=tenant))


@shared_task(name="imports.tasks.resume_stalled_import_jobs_all_tenants", ignore_result=True)
def resume_stalled_import_jobs_all_tenants() -> int:
    """Beat: one reaper task per active tenant."""
    return fan_out(resume_stalled_import_jobs)
