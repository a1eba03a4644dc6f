"""Import and export journey: ops migrates leads from a previous CRM in the browser, watches the job finish, reads
the refused row, then exports the leads list as CSV with the list's filter applied."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from crm import services as crm_services
from crm.models import Role
from crm.tenancy import tenant_context
from leads.models import Lead
from tests.factories import PASSWORD, MembershipFactory, UserFactory

SLUG = "importers"
OPS_EMAIL = "olga.ops@importers.test"
REP_EMAIL = "ron.rep@importers.test"

LEGACY_CSV = (
    "external_id,first_name,last_name,email,company,status,owner_email,created_at,mql_at\n"
    f"old-1,Mei,Lin,mei@harbor.example,Harbor Tech,mql,{REP_EMAIL},2025-03-02T09:00:00,2025-03-20T10:00:00\n"
    f"old-2,Jan,Wolf,jan@alpen.example,Alpen Software,working,{REP_EMAIL},2025-04-11T14:30:00,\n"
    "old-3,Bad,Row,bad@nowhere.example,Nowhere,hot,,2025-05-01T08:00:00,\n"
)


@pytest.mark.browser
def test_ops_imports_legacy_leads_sees_the_refused_row_and_exports_the_list(page: Page, live_url, screenshot):
    tenant = crm_services.tenant_create(
        slug=SLUG,
        name="Importers Ltd",
        time_zone="Asia/Shanghai",
        currency="CNY",
        admin_email=f"admin@{SLUG}.test",
        admin_password=PASSWORD,
    )
    MembershipFactory(tenant=tenant, role=Role.OPS, user=UserFactory(email=OPS_EMAIL, full_name="Olga Ops"))
    MembershipFactory(
        tenant=tenant, role=Role.SALES_REP, user=UserFactory(email=REP_EMAIL, full_name="Ron Rep")
    )

    page.goto(f"/login/?next=/t/{SLUG}/")
    page.get_by_label("Email").fill(OPS_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("complementary").get_by_role("link", name="Import and export").click()
    expect(page.get_by_test_id("import-columns")).to_contain_text("campaign_external_id")
    screenshot(page, "import page")

    # 1. Upload the legacy file: the job page shows the progress, then the counts and the refused row.
    page.get_by_label("What to import").select_option("leads")
    page.get_by_label("CSV or XLSX file").set_input_files(
        files=[{"name": "legacy-leads.csv", "mimeType": "text/csv", "buffer": LEGACY_CSV.encode()}]
    )
    page.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("count-created")).to_have_text("2")
    expect(page.get_by_test_id("count-failed")).to_have_text("1")
    errors = page.locator("table").filter(has_text="Reason")
    expect(errors).to_contain_text("status")
    expect(errors).to_contain_text("hot")
    screenshot(page, "job done with one refused row")
    with tenant_context(tenant):
        mei = Lead.objects.get(external_id="old-1")
    assert (mei.owner.email, mei.status, mei.created_at.isoformat()) == (
        REP_EMAIL,
        "mql",
        "2025-03-02T01:00:00+00:00",  # 09:00 in the tenant's time zone, kept as history
    )

    # 2. The leads list exports what it shows: filter by status, then Export CSV.
    page.goto(f"/t/{SLUG}/leads/?status=mql")
    expect(page.get_by_text("Mei Lin")).to_be_visible()
    screenshot(page, "leads filtered to MQL")
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"{SLUG}-leads-")
    rows = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8-sig"))))
    assert [(row["external_id"], row["status"], row["owner_email"]) for row in rows] == [
        ("old-1", "mql", REP_EMAIL)
    ]
