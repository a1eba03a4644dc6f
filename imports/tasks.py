"""Celery tasks of the imports app: thin, take the tenant id and the job id."""

from __future__ import annotations

from crm.models import Tenant
from crm.tasks import tenant_task


# atomic=False: the job commits chunk by chunk in transactions of its own (see imports.services).
@tenant_task(name="imports.tasks.run_import_job", atomic=False)
def run_import_job(tenant: Tenant, job_id: int) -> None:
    """Run or resume an import job (idempotent: a re-delivered task continues after the last committed chunk)."""
    from imports.services import import_job_run

    import_job_run(tenant=tenant, job_id=job_id)
