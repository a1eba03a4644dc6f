"""Celery tasks of the imports app: thin, take the tenant id and the job id."""

from __future__ import annotations

from celery import shared_task

from crm.models import Tenant


@shared_task(name="imports.tasks.run_import_job", acks_late=True, ignore_result=True)
def run_import_job(tenant_id: int, job_id: int) -> None:
    """Run or resume an import job (idempotent: a re-delivered task continues after the last committed chunk)."""
    from imports.services import import_job_run

    tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first()
    if tenant is None:
        return
    import_job_run(tenant=tenant, job_id=job_id)
