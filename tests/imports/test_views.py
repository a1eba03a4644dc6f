"""Pages: upload, job progress (htmx polling), error CSV, template CSV, list buttons, who sees which jobs."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.models import Role
from crm.tenancy import tenant_context
from imports.models import ImportJob, ImportStatus
from leads.models import Lead
from tests.factories_imports import ImportJobFactory

pytestmark = pytest.mark.django_db


def url(name: str, tenant, **kwargs) -> str:
    return reverse(f"imports:{name}", kwargs={"slug": tenant.slug, **kwargs})


def test_upload_page_shows_columns_and_templates(tenant, admin_member, client_for):
    response = client_for(admin_member).get(url("import-list", tenant))
    assert response.status_code == 200
    body = response.content.decode()
    assert "external_id, name, channel, source_kind, cost, currency, start_date, end_date" in body
    assert url("import-template", tenant, kind="opportunities") in body


def test_template_csv_has_the_header(tenant, admin_member, client_for):
    response = client_for(admin_member).get(url("import-template", tenant, kind="contacts"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="alpha-contacts-template.csv"'
    assert response.content.decode() == (
        "\ufeffexternal_id,account_external_id,first_name,last_name,email,phone,title,created_at\r\n"
    )


def test_upload_runs_the_import_and_redirects_to_the_job(
    tenant, admin_member, client_for, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile(
        "leads.csv", b"external_id,last_name\nL-1,Zhou\nL-2,\n", content_type="text/csv"
    )
    client = client_for(admin_member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("import-list", tenant), {"kind": "leads", "file": upload})
    assert response.status_code == 302
    with tenant_context(tenant):
        job = ImportJob.objects.get()
        assert response["Location"] == url("import-detail", tenant, pk=job.pk)
        assert (job.status, job.created, job.failed) == (ImportStatus.DONE, 1, 1)
        assert Lead.objects.filter(external_id="L-1").exists()
    page = client.get(response["Location"])
    body = page.content.decode()
    # A finished job stops polling (the top bar's search box has its own hx-trigger).
    assert 'data-testid="import-errors"' in body and 'hx-trigger="every 1s"' not in body
    errors = client.get(url("import-errors", tenant, pk=job.pk))
    lines = b"".join(errors.streaming_content).decode().removeprefix("\ufeff").splitlines()
    assert lines[0] == "row,column,reason" and lines[1].startswith("3,last_name,")


def test_upload_errors_keep_the_form(tenant, admin_member, client_for):
    response = client_for(admin_member).post(url("import-list", tenant), {"kind": "leads"})
    assert response.status_code == 400
    assert 'name="file"' in response.content.decode()


def test_running_job_polls_until_done(tenant, admin_member, client_for):
    job = ImportJobFactory(
        tenant=tenant, created_by=admin_member.user, status=ImportStatus.RUNNING, total=10, processed=4
    )
    client = client_for(admin_member)
    page = client.get(url("import-detail", tenant, pk=job.pk)).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'value="40"' in page
    partial = client.get(url("import-detail", tenant, pk=job.pk), HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<section id="import-progress"') and "<html" not in partial


def test_members_see_only_their_own_jobs(tenant, admin_member, member, client_for):
    rep = member(role=Role.SALES_REP)
    mine = ImportJobFactory(tenant=tenant, created_by=rep.user, file_name="rep-file.csv")
    theirs = ImportJobFactory(tenant=tenant, created_by=admin_member.user, file_name="admin-file.csv")
    client = client_for(rep)
    assert client.get(url("import-detail", tenant, pk=mine.pk)).status_code == 200
    assert client.get(url("import-detail", tenant, pk=theirs.pk)).status_code == 404
    assert client.get(url("import-errors", tenant, pk=theirs.pk)).status_code == 404
    listing = client.get(url("import-list", tenant)).content.decode()
    assert "rep-file.csv" in listing and "admin-file.csv" not in listing
    # A rep imports leads only.
    assert client.get(url("import-template", tenant, kind="accounts")).status_code == 404
    # A CS member imports subscriptions and feedback (issue 8): the page opens with only their own jobs, and other
    # members' jobs stay 404 for them (and theirs for the others).
    cs = member(role=Role.CS)
    cs_job = ImportJobFactory(
        tenant=tenant, created_by=cs.user, kind="subscriptions", file_name="cs-file.csv"
    )
    cs_client = client_for(cs)
    cs_listing = cs_client.get(url("import-list", tenant))
    assert cs_listing.status_code == 200
    cs_body = cs_listing.content.decode()
    assert "cs-file.csv" in cs_body and "rep-file.csv" not in cs_body and "admin-file.csv" not in cs_body
    assert cs_client.get(url("import-detail", tenant, pk=cs_job.pk)).status_code == 200
    assert cs_client.get(url("import-detail", tenant, pk=mine.pk)).status_code == 404
    assert cs_client.get(url("import-detail", tenant, pk=theirs.pk)).status_code == 404
    assert cs_client.get(url("import-errors", tenant, pk=theirs.pk)).status_code == 404
    assert cs_client.get(url("import-template", tenant, kind="accounts")).status_code == 404
    assert cs_client.get(url("import-template", tenant, kind="subscriptions")).status_code == 200
    assert client.get(url("import-detail", tenant, pk=cs_job.pk)).status_code == 404
    assert "cs-file.csv" not in client.get(url("import-list", tenant)).content.decode()


def test_list_pages_offer_export_and_import(tenant, admin_member, member, client_for):
    admin = client_for(admin_member)
    pages = {
        "leads": reverse("leads:lead-list", kwargs={"slug": tenant.slug}),
        "accounts": reverse("accounts:account-list", kwargs={"slug": tenant.slug}),
        "contacts": reverse("accounts:contact-list", kwargs={"slug": tenant.slug}),
        "opportunities": reverse("accounts:opportunity-list", kwargs={"slug": tenant.slug}),
        "campaigns": reverse("leads:campaign-list", kwargs={"slug": tenant.slug}),
    }
    for kind, page in pages.items():
        body = admin.get(page, {"q": "x"}).content.decode()
        assert f'href="{url("export", tenant, kind=kind)}?q=x"' in body, kind
        assert f"{url('import-list', tenant)}?kind={kind}" in body, kind
    cs_body = client_for(member(role=Role.CS)).get(pages["accounts"]).content.decode()
    assert 'data-testid="export-csv"' in cs_body and 'data-testid="import-csv"' not in cs_body


def test_job_page_and_list_query_counts(tenant, admin_member, client_for, django_assert_num_queries):
    # Per request: session, user, tenant, savepoint + set_config (the test's transaction), membership, the menu's
    # memberships (full pages only), the job(s) with their creators, set_config reset + release.
    ImportJobFactory(tenant=tenant, created_by=admin_member.user)
    job = ImportJobFactory(tenant=tenant, created_by=admin_member.user, row_errors=[])
    client = client_for(admin_member)
    client.get(url("import-list", tenant))  # warm the session
    with django_assert_num_queries(10):
        assert client.get(url("import-list", tenant)).status_code == 200
    for _ in range(5):
        ImportJobFactory(tenant=tenant, created_by=admin_member.user)
    with django_assert_num_queries(10):
        assert client.get(url("import-list", tenant)).status_code == 200
    with django_assert_num_queries(10):
        assert client.get(url("import-detail", tenant, pk=job.pk)).status_code == 200
    with tenant_context(tenant):
        ImportJob.objects.filter(pk=job.pk).update(
            row_errors=[{"row": n, "column": "email", "reason": "Bad"} for n in range(2, 50)]
        )
    with django_assert_num_queries(10):
        assert client.get(url("import-detail", tenant, pk=job.pk)).status_code == 200
    with django_assert_num_queries(9):
        assert client.get(url("import-detail", tenant, pk=job.pk), HTTP_HX_REQUEST="true").status_code == 200
