"""API: start an import (multipart), read its status, counts and row errors; list jobs; export; schema."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.models import Role
from crm.tenancy import tenant_context
from leads.models import Lead
from tests.factories_imports import ImportJobFactory
from tests.factories_leads import LeadFactory

pytestmark = pytest.mark.django_db


def api(tenant, path: str) -> str:
    return f"/api/v1/t/{tenant.slug}/{path}"


def test_create_and_retrieve_an_import(
    tenant, admin_member, api_client_for, django_capture_on_commit_callbacks
):
    client = api_client_for(admin_member)
    upload = SimpleUploadedFile(
        "leads.csv", b"external_id,last_name,created_at\nL-1,Qian,2023-01-01T00:00:00Z\nL-2,Sun,never\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(api(tenant, "imports/"), {"kind": "leads", "file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued" and body["kind"] == "leads" and body["file_name"] == "leads.csv"
    detail = client.get(api(tenant, f"imports/{body['id']}/"))
    assert detail.status_code == 200
    job = detail.json()
    assert (job["status"], job["total"], job["processed"], job["created"], job["updated"], job["failed"]) == (
        "done",
        2,
        2,
        1,
        0,
        1,
    )
    assert job["row_errors"] == [
        {
            "row": 3,
            "column": "created_at",
            "reason": "Not an ISO 8601 timestamp. Use 2024-03-01 09:30 (this company's time zone) "
            "or 2024-03-01T09:30:00+08:00 (with its offset).",
        }
    ]
    assert job["created_by"] == admin_member.user.email
    with tenant_context(tenant):
        assert Lead.objects.get(external_id="L-1").created_at.year == 2023


def test_create_rejects_a_kind_the_role_may_not_import(tenant, member, api_client_for):
    client = api_client_for(member(role=Role.SALES_REP))
    upload = SimpleUploadedFile("a.csv", b"external_id,name\nA-1,X\n")
    response = client.post(api(tenant, "imports/"), {"kind": "accounts", "file": upload}, format="multipart")
    assert response.status_code == 400 and "kind" in response.json()
    missing = client.post(api(tenant, "imports/"), {"kind": "leads"}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()


def test_list_and_retrieve_follow_visibility(
    tenant, other_tenant, admin_member, member, api_client_for, django_assert_num_queries
):
    rep = member(role=Role.SALES_REP)
    mine = ImportJobFactory(tenant=tenant, created_by=rep.user)
    admins = ImportJobFactory(tenant=tenant, created_by=admin_member.user)
    foreign = ImportJobFactory(tenant=other_tenant)
    client = api_client_for(rep)
    assert [job["id"] for job in client.get(api(tenant, "imports/")).json()] == [mine.pk]
    assert client.get(api(tenant, f"imports/{admins.pk}/")).status_code == 404
    assert client.get(api(tenant, f"imports/{foreign.pk}/")).status_code == 404
    admin_client = api_client_for(admin_member)
    for _ in range(3):
        ImportJobFactory(tenant=tenant, created_by=rep.user)
    admin_client.get(api(tenant, "imports/"))
    # token, tenant, savepoint + set_config, membership, token touch, the jobs with their creators, reset + release
    with django_assert_num_queries(9):
        rows = admin_client.get(api(tenant, "imports/")).json()
    assert len(rows) == 5 and "row_errors" not in rows[0]


def test_export_api_streams_csv_with_visibility(tenant, member, api_client_for):
    rep = member(role=Role.SALES_REP)
    LeadFactory(tenant=tenant, owner=rep.user, external_id="mine")
    LeadFactory(tenant=tenant, external_id="not-mine", owner=member(role=Role.SALES_REP).user)
    response = api_client_for(rep).get(api(tenant, "exports/leads/"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().removeprefix("\ufeff").splitlines()
    assert len(lines) == 2 and lines[1].startswith("mine,")
    assert api_client_for(rep).get(api(tenant, "exports/nothing/")).status_code == 404


def test_schema_documents_imports_and_exports(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert "/api/v1/t/{slug}/imports/" in paths and "post" in paths["/api/v1/t/{slug}/imports/"]
    assert "/api/v1/t/{slug}/imports/{id}/" in paths
    assert "/api/v1/t/{slug}/exports/{kind}/" in paths
