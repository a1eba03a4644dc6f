"""The task as the app runs it: committed for real, so the job runs after the request's commit (in-process when
tasks are eager, as without REDIS_URL) in transactions of its own."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.tenancy import tenant_context
from imports.models import ImportJob, ImportStatus
from imports.tasks import run_import_job
from leads.models import Lead
from tests.imports.conftest import stored_job


@pytest.mark.django_db(transaction=True)
def test_upload_runs_after_commit_in_its_own_transactions(tenant, admin_member, client_for):
    upload = SimpleUploadedFile(
        "leads.csv", b"external_id,last_name\nL-1,Zhou\nL-2,Wu\n", content_type="text/csv"
    )
    response = client_for(admin_member).post(f"/t/{tenant.slug}/imports/", {"kind": "leads", "file": upload})
    assert response.status_code == 302
    with tenant_context(tenant):
        job = ImportJob.objects.get()
        assert (job.status, job.total, job.created) == (ImportStatus.DONE, 2, 2)
        assert Lead.objects.count() == 2
    run_import_job(tenant.pk, job.pk)  # a re-delivered task does nothing more
    with tenant_context(tenant):
        assert Lead.objects.count() == 2


@pytest.mark.django_db
def test_task_for_another_tenant_finds_no_job(tenant, other_tenant, admin_member):
    job = stored_job(tenant, admin_member.user, b"last_name\nX\n")
    run_import_job(other_tenant.pk, job.pk)
    with tenant_context(tenant):
        job.refresh_from_db()
        assert job.status == ImportStatus.QUEUED and not Lead.objects.exists()
