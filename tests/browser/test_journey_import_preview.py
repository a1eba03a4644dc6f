"""Migration journey (issue 10): ops uploads an XLSX leads file from another CRM with one bad row, maps a column
by hand on the preview, runs a dry run (nothing written, the bad row shown), imports, watches the progress and
downloads the error report. A colleague who reads Chinese sees the same pages in 中文."""

from __future__ import annotations

import csv
import datetime
import io

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from crm import services as crm_services
from crm.models import Role
from crm.tenancy import tenant_context
from imports.models import ImportMapping
from leads.models import Lead
from tests.factories import PASSWORD, MembershipFactory, UserFactory

SLUG = "migrators"
OPS_EMAIL = "olga.ops@migrators.test"
OPS_ZH_EMAIL = "zhou.ops@migrators.test"


def wall(*parts: int) -> datetime.datetime:
    """A wall-clock time as a spreadsheet cell holds it (XLSX cells have no time zone)."""
    return datetime.datetime(*parts)  # noqa: DTZ001


def legacy_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["external_id", "Surname", "first_name", "company", "status", "created_at", "Legacy notes"])
    sheet.append(["old-1", "王", "小明", "北京字节跳动科技有限公司", "mql", wall(2025, 3, 2, 9, 0), "vip"])
    sheet.append(["old-2", "Wolf", "Jan", "Alpen Software", "working", wall(2025, 4, 11, 14, 30), ""])
    sheet.append(["old-3", "Row", "Bad", "Nowhere", "hot", wall(2025, 5, 1, 8, 0), ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def log_in(page: Page, email: str) -> None:
    page.goto(f"/login/?next=/t/{SLUG}/imports/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.browser
def test_ops_previews_maps_dry_runs_imports_an_xlsx_and_downloads_the_errors(
    page: Page, new_context, live_url, screenshot
):
    tenant = crm_services.tenant_create(
        slug=SLUG,
        name="Migrators Ltd",
        time_zone="Asia/Shanghai",
        currency="CNY",
        admin_email=f"admin@{SLUG}.test",
        admin_password=PASSWORD,
    )
    MembershipFactory(tenant=tenant, role=Role.OPS, user=UserFactory(email=OPS_EMAIL, full_name="Olga Ops"))
    MembershipFactory(
        tenant=tenant,
        role=Role.OPS,
        user=UserFactory(email=OPS_ZH_EMAIL, full_name="周运营", language="zh-hans"),
    )
    zh = new_context().new_page()
    log_in(zh, OPS_ZH_EMAIL)

    # 1. Upload the workbook for a preview.
    log_in(page, OPS_EMAIL)
    page.get_by_label("What to import").select_option("leads")
    page.get_by_label("CSV or XLSX file").set_input_files(
        files=[
            {
                "name": "legacy-leads.xlsx",
                "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": legacy_xlsx(),
            }
        ]
    )
    screenshot(page, "upload form")
    page.get_by_test_id("import-preview").click()

    # 2. The preview shows the first rows and the detected mapping: "Surname" is not a known column.
    table = page.get_by_test_id("preview-table")
    expect(table).to_contain_text("北京字节跳动科技有限公司")
    expect(table).to_contain_text("2025-03-02 09:00:00")
    expect(page.get_by_test_id("map-external_id")).to_have_value("external_id")
    expect(page.get_by_test_id("map-Surname")).to_have_value("")
    expect(page.get_by_test_id("preview-missing")).to_contain_text("last_name")
    zh.goto(page.url)
    expect(zh.get_by_test_id("preview-table")).to_contain_text("北京字节跳动科技有限公司")
    screenshot(zh, "preview zh")
    page.get_by_label("Column for “Surname”").select_option("last_name")
    screenshot(page, "preview mapped by hand")

    # 3. Dry run: every row checked, the bad one shown, nothing written.
    page.get_by_test_id("preview-dry-run").click()
    expect(page.get_by_test_id("dry-run-notice")).to_contain_text("nothing was written")
    expect(page.get_by_test_id("count-created")).to_have_text("2")
    expect(page.get_by_test_id("count-failed")).to_have_text("1")
    expect(page.get_by_test_id("import-errors")).to_contain_text("hot")
    with tenant_context(tenant):
        assert not Lead.objects.exists()
        assert ImportMapping.objects.get(kind="leads").mapping["Surname"] == "last_name"
    screenshot(page, "dry run result")
    zh.goto(page.url)
    expect(zh.get_by_test_id("dry-run-notice")).to_be_visible()
    screenshot(zh, "dry run result zh")

    # 4. Import: the progress bar fills, the counts and the refused row stay, the report downloads.
    page.get_by_test_id("import-now").click()
    expect(page.get_by_test_id("import-status")).to_have_text("Done")
    expect(page.locator("progress.import-progress")).to_have_attribute("value", "100")
    expect(page.get_by_test_id("count-created")).to_have_text("2")
    expect(page.get_by_test_id("count-failed")).to_have_text("1")
    expect(page.get_by_test_id("dry-run-notice")).to_have_count(0)
    screenshot(page, "import done")
    zh.goto(page.url)
    expect(zh.get_by_test_id("import-progress")).to_be_visible()
    screenshot(zh, "import done zh")
    with page.expect_download() as download_info:
        page.get_by_test_id("errors-download").click()
    report = list(csv.DictReader(io.StringIO(download_info.value.path().read_text(encoding="utf-8-sig"))))
    assert [(row["row"], row["column"]) for row in report] == [("4", "status")]
    assert "hot" in report[0]["reason"]
    with tenant_context(tenant):
        wang = Lead.objects.get(external_id="old-1")
        assert sorted(Lead.objects.values_list("external_id", flat=True)) == ["old-1", "old-2"]
    assert (wang.last_name, wang.company, wang.status) == ("王", "北京字节跳动科技有限公司", "mql")
    assert wang.created_at.isoformat() == "2025-03-02T01:00:00+00:00"  # 09:00 in the tenant's zone, kept
