"""Files as people have them (GB18030, UTF-8 with BOM, XLSX with 中文), column mappings saved per kind, dry runs,
the upload stored on disk rather than in the database, and a job whose worker dies resuming with every row
exactly once (issue 10)."""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from crm.tenancy import tenant_context
from imports import files, services
from imports.kinds.leads import LeadImporter
from imports.models import STALE_AFTER, ImportJob, ImportMapping, ImportStatus
from leads.models import Lead
from tests.imports.conftest import csv_text, stored_job

pytestmark = pytest.mark.django_db

CHINESE_CSV = csv_text(
    "external_id,last_name,first_name,company,title",
    "L-1,王,小明,北京字节跳动科技有限公司,销售总监",
    "L-2,李,娜,上海华为技术有限公司,采购经理",
)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("Second sheet is not read").append(["external_id", "last_name"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def leads_by_id(tenant) -> dict[str, Lead]:
    with tenant_context(tenant):
        return {lead.external_id: lead for lead in Lead.objects.all()}


@pytest.mark.parametrize("encoding", ["", "gb18030"], ids=["detected", "chosen"])
def test_gb18030_csv_with_chinese_values(
    tenant, admin_member, run_import, django_capture_on_commit_callbacks, encoding
):
    content = CHINESE_CSV.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")  # what Excel on a Chinese Windows saves is not UTF-8
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant):
        job = services.import_job_create(
            tenant=tenant,
            actor=admin_member.user,
            membership=admin_member,
            kind="leads",
            file_name="客户线索.csv",
            content=content,
            encoding=encoding,
        )
    with tenant_context(tenant):
        job.refresh_from_db()
    assert (job.status, job.created, job.failed) == (ImportStatus.DONE, 2, 0), job.row_errors
    leads = leads_by_id(tenant)
    assert (leads["L-1"].last_name, leads["L-1"].company, leads["L-1"].title) == (
        "王",
        "北京字节跳动科技有限公司",
        "销售总监",
    )


def test_utf8_with_bom_and_chinese_values(tenant, admin_member, run_import):
    job = run_import(admin_member, "leads", "\ufeff".encode() + CHINESE_CSV.encode("utf-8"))
    assert (job.created, job.failed) == (2, 0), job.row_errors
    assert leads_by_id(tenant)["L-2"].company == "上海华为技术有限公司"


def test_detection_keeps_a_character_cut_by_the_sample_as_utf8():
    text = ("a" * (files.SAMPLE_BYTES - 1) + "中文").encode("utf-8")  # "中" straddles the sample's end
    assert files.detect_encoding(io.BytesIO(text)) == "utf-8"
    assert files.detect_encoding(io.BytesIO("中文".encode("gb18030"))) == "gb18030"
    assert files.detect_encoding(io.BytesIO(b"\xef\xbb\xbfid\n")) == "utf-8-sig"


def test_a_file_that_is_not_its_chosen_encoding_fails_with_the_line(tenant, admin_member, run_import):
    content = ("external_id,last_name\nL-1,Li\n" + "L-2,王\n").encode("gb18030")
    with tenant_context(tenant), pytest.raises(ValidationError):
        services.import_job_create(
            tenant=tenant,
            actor=admin_member.user,
            membership=admin_member,
            kind="leads",
            file_name="x.csv",
            content=content,
            encoding="latin-1",
        )
    job = stored_job(tenant, admin_member.user, content, encoding="utf-8", status=ImportStatus.QUEUED)
    services.import_job_run(tenant=tenant, job_id=job.pk)
    with tenant_context(tenant):
        job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "line 3" in job.message and "UTF-8" in job.message


def test_xlsx_first_sheet_with_chinese_values_dates_and_numbers(tenant, admin_member, run_import):
    content = xlsx_bytes(
        [
            ["external_id", "last_name", "company", "created_at", "email"],
            [
                "X-1",
                "张",
                "深圳腾讯计算机系统有限公司",
                datetime.datetime(2024, 3, 1, 9, 30),  # noqa: DTZ001 (XLSX cells are naive)
                "zhang@example.cn",
            ],
            ["X-2", "赵", "杭州阿里巴巴", datetime.datetime(2023, 12, 31), None],  # noqa: DTZ001
            [None, None, None, None, None],  # a blank row keeps the numbering of the rows after it
            [12345, "钱", "成都", "not a time", None],
        ]
    )
    job = run_import(admin_member, "leads", content, file_name="线索.xlsx")
    assert job.file_format == "xlsx"
    assert (job.created, job.failed) == (2, 1), job.row_errors
    assert [(e["row"], e["column"]) for e in job.row_errors] == [(5, "created_at")]
    leads = leads_by_id(tenant)
    assert leads["X-1"].company == "深圳腾讯计算机系统有限公司"
    assert timezone.localtime(leads["X-1"].created_at, tenant.tzinfo).replace(
        tzinfo=None
    ) == datetime.datetime(2024, 3, 1, 9, 30)  # noqa: DTZ001
    assert timezone.localtime(leads["X-2"].created_at, tenant.tzinfo).date() == datetime.date(2023, 12, 31)


def test_upload_is_stored_on_disk_under_the_tenant_and_deleted_when_done(
    tenant, admin_member, settings, django_capture_on_commit_callbacks
):
    with tenant_context(tenant):
        job = services.import_job_create(
            tenant=tenant,
            actor=admin_member.user,
            membership=admin_member,
            kind="leads",
            file_name="../../etc/passwd",
            content=b"external_id,last_name\nL-1,Li\n",
            preview=True,
        )
    stored = Path(settings.MEDIA_ROOT) / job.file.name
    assert job.file.name.startswith(f"imports/tenant-{tenant.pk}/") and stored.is_file()
    with connection.cursor() as cursor:  # no column of the job holds the file's bytes
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'imports_importjob' "
            "AND data_type = 'bytea'"
        )
        assert cursor.fetchall() == []
    with django_capture_on_commit_callbacks(execute=True):
        services.import_job_start(
            tenant=tenant, membership=admin_member, job=job, mapping=None, dry_run=False
        )
    with tenant_context(tenant):
        job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.created == 1
    assert not stored.exists() and not job.file


def test_files_over_the_cap_are_refused(tenant, admin_member, monkeypatch):
    assert services.MAX_FILE_BYTES == 1024 * 1024 * 1024
    monkeypatch.setattr(services, "MAX_FILE_BYTES", 10)
    with tenant_context(tenant), pytest.raises(ValidationError) as refused:
        services.import_job_create(
            tenant=tenant,
            actor=admin_member.user,
            membership=admin_member,
            kind="leads",
            file_name="big.csv",
            content=b"external_id,last_name\nL-1,Li\n",
        )
    assert "file" in refused.value.message_dict


def test_mapping_by_hand_ignores_columns_and_is_saved_for_the_next_file(
    tenant, admin_member, django_capture_on_commit_callbacks
):
    text = csv_text("Id,Surname,Firma,Notes", "L-1,Wang,Acme,call back", "L-2,Li,Globex,")
    with tenant_context(tenant):
        job = services.import_job_create(
            tenant=tenant,
            actor=admin_member.user,
            membership=admin_member,
            kind="leads",
            file_name="legacy.csv",
            content=text.encode(),
            preview=True,
        )
        header, targets, rows = services.preview_rows(services.get_kind("leads"), job)
    assert header == ["Id", "Surname", "Firma", "Notes"] and targets == [None, None, None, None]
    assert rows[0] == ["L-1", "Wang", "Acme", "call back"]
    mapping = {"Id": "external_id", "Surname": "last_name", "Firma": "company", "Notes": ""}
    with django_capture_on_commit_callbacks(execute=True):
        services.import_job_start(
            tenant=tenant, membership=admin_member, job=job, mapping=mapping, dry_run=False, save_mapping=True
        )
    assert {lead.external_id: lead.company for lead in leads_by_id(tenant).values()} == {
        "L-1": "Acme",
        "L-2": "Globex",
    }
    with tenant_context(tenant):
        assert ImportMapping.objects.get(kind="leads").mapping == mapping
        nxt = services.import_job_create(
            tenant=tenant,
            actor=admin_member.user,
            membership=admin_member,
            kind="leads",
            file_name="next.csv",
            content=csv_text("ID,surname,firma,notes", "L-3,Zhao,Initech,x").encode(),
            preview=True,
            use_saved_mapping=True,
        )
        _header, targets, _rows = services.preview_rows(services.get_kind("leads"), nxt)
    assert targets == ["external_id", "last_name", "company", None]
    with tenant_context(tenant), pytest.raises(ValidationError):
        services.import_job_start(
            tenant=tenant, membership=admin_member, job=nxt, mapping={"Id": "password"}, dry_run=False
        )


def test_dry_run_reports_every_error_and_writes_nothing_then_imports(
    tenant, admin_member, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    text = csv_text("external_id,last_name,status", "L-1,Wang,new", "L-2,Li,hot", "L-3,Zhao,mql", "L-4,,new")
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant):
        job = services.import_job_create(
            tenant=tenant,
            actor=admin_member.user,
            membership=admin_member,
            kind="leads",
            file_name="x.csv",
            content=text.encode(),
            dry_run=True,
        )
    with tenant_context(tenant):
        job.refresh_from_db()
        assert not Lead.objects.exists()
    assert (job.status, job.dry_run, job.created, job.failed) == (ImportStatus.DONE, True, 2, 2)
    assert [(e["row"], e["column"]) for e in job.row_errors] == [(3, "status"), (5, "last_name")]
    assert job.file  # kept for the import that follows
    with django_capture_on_commit_callbacks(execute=True):
        services.import_job_start(
            tenant=tenant, membership=admin_member, job=job, mapping=None, dry_run=False
        )
    with tenant_context(tenant):
        job.refresh_from_db()
    assert (job.status, job.dry_run, job.created, job.failed) == (ImportStatus.DONE, False, 2, 2)
    assert sorted(leads_by_id(tenant)) == ["L-1", "L-3"]


class WorkerKilled(BaseException):
    """What a killed worker looks like to the code it ran: it stops where it is; nothing after runs."""


def test_a_worker_killed_mid_job_resumes_from_its_last_committed_chunk_with_every_row_once(
    tenant, admin_member, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "CHUNK_SIZE", 3)
    total = 11
    text = csv_text("external_id,last_name", *(f"L-{n},Name {n}" for n in range(1, total + 1)))
    job = stored_job(tenant, admin_member.user, text)
    original = LeadImporter.import_many
    calls = {"n": 0}

    def dies_in_the_third_chunk(self, rows):
        calls["n"] += 1
        outcomes = original(self, rows)
        if calls["n"] == 3:  # the third chunk's rows are written, not committed
            raise WorkerKilled
        return outcomes

    monkeypatch.setattr(LeadImporter, "import_many", dies_in_the_third_chunk)
    with pytest.raises(WorkerKilled):
        services.import_job_run(tenant=tenant, job_id=job.pk)
    with tenant_context(tenant):
        job.refresh_from_db()
        assert (job.status, job.processed, job.created) == (ImportStatus.RUNNING, 6, 6)
        assert Lead.objects.count() == 6
    assert not job.is_resumable  # its heartbeat is fresh: it may still be working
    with pytest.raises(ValidationError), tenant_context(tenant):
        services.import_job_resume(tenant=tenant, membership=admin_member, job=job)

    # No heartbeat for longer than STALE_AFTER: the job shows as resumable, not running forever.
    with tenant_context(tenant):
        ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - STALE_AFTER * 2)
        job.refresh_from_db()
    assert job.is_resumable
    monkeypatch.setattr(LeadImporter, "import_many", original)
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant):
        services.import_job_resume(tenant=tenant, membership=admin_member, job=job)
    with tenant_context(tenant):
        job.refresh_from_db()
        names = list(Lead.objects.values_list("external_id", flat=True))
    assert (job.status, job.total, job.processed, job.created, job.failed) == (
        ImportStatus.DONE,
        total,
        total,
        total,
        0,
    )
    assert sorted(names) == sorted(f"L-{n}" for n in range(1, total + 1))  # each row exactly once
    assert not job.is_resumable


def test_a_second_runner_of_the_same_job_writes_no_chunk_twice(tenant, admin_member, monkeypatch):
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    job = stored_job(tenant, admin_member.user, csv_text("external_id,last_name", "L-1,A", "L-2,B", "L-3,C"))
    services.import_job_run(tenant=tenant, job_id=job.pk)
    with tenant_context(tenant):
        job.refresh_from_db()
        # A slow first runner waking up with its old cursor (0) after the job moved on is stopped at once.
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    context = services.ImportContext(
        tenant=tenant, user=admin_member.user, membership=admin_member, actor=None
    )
    with pytest.raises(services.JobMovedOn):
        services._run_chunk(
            tenant=tenant,
            job=job,
            kind=services.get_kind("leads"),
            importer=LeadImporter(context),
            chunk=[(2, {"external_id": "L-1", "last_name": "A"})],
            cursor=0,
        )
    assert len(leads_by_id(tenant)) == 3


def test_api_takes_mapping_encoding_and_dry_run(
    tenant, admin_member, api_client_for, django_capture_on_commit_callbacks
):
    client = api_client_for(admin_member)
    upload = SimpleUploadedFile("线索.csv", csv_text("编号,姓", "L-1,王", "L-2,").encode("gb18030"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/t/{tenant.slug}/imports/",
            {
                "kind": "leads",
                "file": upload,
                "encoding": "gb18030",
                "mapping": json.dumps({"编号": "external_id", "姓": "last_name"}),
                "dry_run": "true",
            },
            format="multipart",
        )
    assert response.status_code == 201, response.content
    body = client.get(f"/api/v1/t/{tenant.slug}/imports/{response.json()['id']}/").json()
    assert (body["status"], body["dry_run"], body["created"], body["failed"], body["resumable"]) == (
        "done",
        True,
        1,
        1,
        False,
    )
    assert body["mapping"] == {"编号": "external_id", "姓": "last_name"}
    assert not leads_by_id(tenant)
    refused = client.post(f"/api/v1/t/{tenant.slug}/imports/{body['id']}/resume/")
    assert refused.status_code == 400
    bad = client.post(
        f"/api/v1/t/{tenant.slug}/imports/",
        {"kind": "leads", "file": SimpleUploadedFile("x.csv", b"a\n1\n"), "mapping": '{"a": "nope"}'},
        format="multipart",
    )
    assert bad.status_code == 400 and "mapping" in bad.json().get("errors", bad.json()).__str__()


def test_preview_page_maps_by_hand_then_dry_run_then_import(
    tenant, admin_member, client_for, django_capture_on_commit_callbacks
):
    client = client_for(admin_member)
    upload = SimpleUploadedFile("legacy.csv", csv_text("Id,Surname,Extra", "L-1,Wang,x", "L-2,,y").encode())
    response = client.post(
        f"/t/{tenant.slug}/imports/", {"kind": "leads", "file": upload, "action": "preview", "encoding": ""}
    )
    assert response.status_code == 302 and response["Location"].endswith("/preview/")
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="preview-table"' in page and "Wang" in page and 'data-testid="map-Surname"' in page
    form = {
        "columns": "3",
        "source-0": "Id",
        "target-0": "external_id",
        "source-1": "Surname",
        "target-1": "last_name",
        "source-2": "Extra",
        "target-2": "",
        "encoding": "",
        "save_mapping": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        dry = client.post(response["Location"], {**form, "action": "dry_run"})
    assert dry.status_code == 302
    detail = client.get(dry["Location"]).content.decode()
    assert 'data-testid="dry-run-notice"' in detail and 'data-testid="import-now"' in detail
    assert not leads_by_id(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"], {"action": "import"})
    assert sorted(leads_by_id(tenant)) == ["L-1"]
    with tenant_context(tenant):
        assert ImportMapping.objects.get(kind="leads").mapping["Surname"] == "last_name"


def test_a_stalled_job_page_offers_resume(tenant, admin_member, client_for):
    job = stored_job(
        tenant,
        admin_member.user,
        csv_text("external_id,last_name", "L-1,A"),
        status=ImportStatus.RUNNING,
        total=1,
        heartbeat_at=timezone.now() - STALE_AFTER * 2,
    )
    page = client_for(admin_member).get(f"/t/{tenant.slug}/imports/{job.pk}/").content.decode()
    assert (
        'data-testid="import-resume"' in page
        and "hx-trigger" not in page.split('id="import-progress"')[1][:300]
    )


def test_lifecycle_and_health_recompute_once_per_job_not_per_chunk(
    tenant, admin_member, run_import, monkeypatch
):
    from lifecycle import tasks
    from tests.factories_accounts import AccountFactory

    with tenant_context(tenant):
        accounts = [AccountFactory(tenant=tenant, external_id=f"A-{n}") for n in range(3)]
    calls: list[tuple[str, int, list[int] | None]] = []
    monkeypatch.setattr(
        tasks.recompute_health, "delay", lambda tid, ids=None: calls.append(("health", tid, ids))
    )
    monkeypatch.setattr(
        tasks.recompute_lifecycle, "delay", lambda tid, ids=None: calls.append(("lifecycle", tid, ids))
    )
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    job = run_import(
        admin_member,
        "activities",
        csv_text(
            "external_id,kind,subject,occurred_at,done,account_external_id",
            *(f"ACT-{n},call,Call {n},2024-03-0{n + 1} 10:00,true,A-{n % 3}" for n in range(7)),
        ),
    )
    assert (job.status, job.created, job.failed) == (ImportStatus.DONE, 7, 0), job.row_errors
    health = [call for call in calls if call[0] == "health"]
    assert health == [
        ("health", tenant.pk, sorted(account.pk for account in accounts))
    ]  # four chunks, one call
    assert not [call for call in calls if call[0] == "lifecycle"]  # activities do not move stages
