"""Dashboards in a real browser: an ops manager filters the funnel by source kind (inbound against incentive),
drills into a number and exports the table; a sales manager moves a deal into commit on the forecast page and
sees the forecast change after "Recompute now". Every dashboard page is screenshotted on the way."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import Page, expect

from crm import services as crm_services
from tests.factories import PASSWORD
from tests.sales_ops.dashboard_seed import seed_people, seed_records

SLUG = "dashco"


def _tenant():  # type: ignore[no-untyped-def]
    tenant = crm_services.tenant_create(
        slug=SLUG,
        name="Dash Co",
        time_zone="Asia/Shanghai",
        currency="CNY",
        admin_email="admin@dash.test",
        admin_password=PASSWORD,
        admin_name="Ada Admin",
    )
    people = seed_people(tenant)
    records = seed_records(tenant, people)
    return tenant, people, records


def _log_in(page: Page, email: str) -> None:
    page.goto(f"/login/?next=/t/{SLUG}/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()


def test_ops_filters_the_funnel_by_source_kind_drills_in_and_exports(
    page: Page, live_url: str, screenshot
) -> None:
    _tenant()
    _log_in(page, "ops@dash.test")
    page.get_by_role("complementary").get_by_role("link", name="Funnel").click()
    expect(page.get_by_test_id("funnel-leads")).to_have_text("7")
    expect(page.get_by_test_id("as-of")).to_contain_text("As of")
    screenshot(page, "funnel")

    page.get_by_label("Segment by").select_option("source_kind")
    expect(page.get_by_test_id("funnel-inbound-leads")).to_have_text("3")
    expect(page.get_by_test_id("funnel-incentive-leads")).to_have_text("4")
    expect(page.locator("canvas[data-chart=funnel]")).to_have_count(2)
    screenshot(page, "funnel inbound vs incentive")

    with page.expect_download() as download_info:
        page.get_by_test_id("export-funnel").click()
    with open(download_info.value.path(), encoding="utf-8-sig") as exported:
        rows = list(csv.reader(io.StringIO(exported.read())))
    assert rows[0][:3] == ["Stage", "Inbound (own need): count", "Inbound (own need): rate"]
    assert rows[1][:2] == ["Leads", "3"]
    assert [row[0] for row in rows[1:]] == ["Leads", "MQL", "SQL", "Converted", "Won"]

    page.get_by_test_id("funnel-inbound-leads").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"source_kind=inbound"))
    screenshot(page, "drill-down into the inbound leads")

    for name, step in (
        ("Pipeline", "pipeline"),
        ("Reps", "reps"),
        ("Unit economics", "unit economics"),
        ("Forecast", "forecast"),
        ("Quotas", "quotas"),
    ):
        page.get_by_role("complementary").get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_test_id("dashboard-tabs")).to_be_visible()
        screenshot(page, step)


def test_manager_moves_a_deal_into_commit_and_sees_the_forecast_change(
    page: Page, live_url: str, screenshot
) -> None:
    _company, _people, records = _tenant()
    deal = records["deals"]["best"]
    _log_in(page, "manager@dash.test")
    page.goto(f"/t/{SLUG}/dashboards/forecast/")
    commit = page.get_by_test_id("forecast-forecast_commit-team-East")
    expect(commit).to_have_text("3,000.00")  # won 1,000 this month + the 2,000 commit deal
    screenshot(page, "forecast of the team")

    page.get_by_test_id(f"forecast-category-{deal.pk}").select_option("commit")
    expect(page.get_by_test_id("forecast-saved")).to_be_visible()
    screenshot(page, "category changed")

    page.get_by_test_id("recompute-now").click()
    expect(page.get_by_test_id("recompute-done")).to_be_visible()
    page.get_by_test_id("recompute-reload").click()
    expect(page.get_by_test_id("forecast-forecast_commit-team-East")).to_have_text("4,500.00")
    expect(page.get_by_test_id(f"forecast-deal-{deal.pk}")).to_be_visible()
    screenshot(page, "forecast after the recompute")
