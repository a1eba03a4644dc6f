"""Drill-downs in a real browser (issue 9, "every number drilling down to the records behind it within the viewer's
visibility, CSV export of every table"): an ops manager opens the dashboards, clicks the company's pipeline
coverage on the forecast page, sees the open deals, quota rows and won deals behind it with a total equal to the
number clicked, downloads the open deals as CSV, then clicks the pipeline's win rate (the won and the lost deals);
a rep clicks their own coverage and sees only their own deals, and the company's drill-down lists only theirs too.
English and 中文; the console stays free of errors.

The dashboard seed (tests.sales_ops.dashboard_seed), this month: open deals 2,000 + 1,500 (rep1) and 700 (rep2);
won 1,000 (rep1) and 400 (rep2); quotas rep1 3,000, rep2 2,000 (no company rows: their sum, 5,000). Coverage:
company 4,200 / (5,000 − 1,400) = 1.17; rep1 3,500 / (3,000 − 1,000) = 1.75. Win rate: 2 won of 3 closed (a lost
300), 66.7%."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from crm import services as crm_services
from crm.models import Role
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.sales_ops.dashboard_seed import seed_people, seed_records

pytestmark = pytest.mark.browser

SLUG = "drillco"
# (ops email, the Funnel menu entry, the Forecast and Pipeline tabs, the coverage drill-down's title, its open
# deals table's title)
LANGUAGES = {
    "en": (
        "ops@drill.test",
        "Funnel",
        "Forecast",
        "Pipeline",
        "Pipeline coverage",
        "Open deals closing in the period",
    ),
    "zh": ("ops.zh@drill.test", "漏斗", "预测", "销售流程", "管道覆盖率", "本期预计成交的未结商机"),
}


def _tenant():  # type: ignore[no-untyped-def]
    tenant = crm_services.tenant_create(
        slug=SLUG,
        name="Drill Co",
        time_zone="Asia/Shanghai",
        currency="CNY",
        admin_email="admin@drill.test",
        admin_password=PASSWORD,
        admin_name="Ada Admin",
    )
    people = seed_people(tenant, domain="drill.test")
    MembershipFactory(
        tenant=tenant,
        role=Role.OPS,
        user=UserFactory(email="ops.zh@drill.test", full_name="欧阳运营", language="zh-hans"),
    )
    records = seed_records(tenant, people)
    return tenant, people, records


def _log_in(page: Page, email: str) -> list[str]:
    """Log in; returns the list the page's console errors and uncaught exceptions land in (CSP violations are
    console errors)."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    page.goto(f"/login/?next=/t/{SLUG}/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form:has(#id_username) button[type=submit]").click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()
    return errors


def _rows(page: Page, key: str) -> list[list[str]]:
    """The body rows of a drill-down table as on screen."""
    rows = page.get_by_test_id(f"table-{key}").locator("tbody tr:not(.kpi-empty)")
    return [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in rows.all()]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_ops_clicks_coverage_sees_the_records_and_downloads_them(  # type: ignore[no-untyped-def]
    page: Page, live_url: str, screenshot, language
):
    email, funnel, forecast_tab, pipeline_tab, title, open_title = LANGUAGES[language]
    _tenant()
    errors = _log_in(page, email)
    page.get_by_role("complementary").get_by_role("link", name=funnel, exact=True).click()
    expect(page.get_by_test_id("funnel-leads")).to_have_text("7")
    page.get_by_test_id("dashboard-tabs").get_by_role("link", name=forecast_tab, exact=True).click()
    coverage = page.get_by_test_id("forecast-pipeline_coverage-all-")
    expect(coverage).to_have_text("1.17")
    clicked = coverage.inner_text().strip()
    screenshot(page, f"forecast {language}")

    coverage.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/dashboards/drill/pipeline_coverage/\?.*scope=all"))
    expect(page.locator("h1")).to_contain_text(title)
    # The total of the records is the number clicked, and the dashboard's number beside it.
    expect(page.get_by_test_id("drill-total")).to_have_text(clicked)
    expect(page.get_by_test_id("drill-number")).to_have_text(clicked)
    expect(page.get_by_test_id("drill-shown")).to_have_text(clicked)
    expect(page.get_by_test_id("drill-open")).to_have_text("4,200.00")
    expect(page.get_by_test_id("drill-quota")).to_have_text("5,000.00")
    expect(page.get_by_test_id("drill-won")).to_have_text("1,400.00")
    expect(page.get_by_test_id("drill-remainder")).to_have_text("3,600.00")
    expect(page.get_by_test_id("table-open")).to_contain_text(open_title)
    expect(page.get_by_test_id("drill-partial")).to_have_count(0)
    open_rows = _rows(page, "open")
    assert [(row[0], row[2], row[-1]) for row in open_rows] == [
        ("Big commit", "Rita Rep", "2,000.00"),
        ("Maybe deal", "Rita Rep", "1,500.00"),
        ("West deal", "Wes West", "700.00"),
    ]
    assert len(_rows(page, "quota")) == 2 and len(_rows(page, "deals")) == 2
    screenshot(page, f"coverage drill-down {language}")

    with page.expect_download() as download_info:
        page.get_by_test_id("export-open").click()
    download = download_info.value
    assert re.fullmatch(
        rf"{SLUG}-pipeline_coverage-month-\d{{4}}-\d{{2}}-01-open\.csv", download.suggested_filename
    )
    with open(download.path(), encoding="utf-8-sig") as exported:
        rows = list(csv.reader(io.StringIO(exported.read())))
    assert rows[1:] == open_rows
    assert len(rows[0]) == 6

    # The pipeline's win rate: the won and the lost deals of the month, 2 of 3.
    page.get_by_test_id("dashboard-tabs").get_by_role("link", name=pipeline_tab, exact=True).click()
    win_rate = page.get_by_test_id("pipeline-win_rate")
    expect(win_rate).to_have_text("66.7%")
    win_rate.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/dashboards/drill/win_rate/\?"))
    expect(page.get_by_test_id("drill-total")).to_have_text("66.7%")
    expect(page.get_by_test_id("drill-shown")).to_have_text("66.7%")
    assert [row[-1] for row in _rows(page, "deals")] == ["1,000.00", "400.00"]
    assert [row[-1] for row in _rows(page, "lost")] == ["300.00"]
    screenshot(page, f"win rate drill-down {language}")

    # A deal's name opens the deal.
    lost = page.get_by_test_id("table-lost").locator("tbody a")
    name = lost.inner_text().strip()
    lost.click()
    expect(page).to_have_url(re.compile(rf"/t/{SLUG}/deals/\d+/$"))
    expect(page.locator("h1")).to_contain_text(name)
    assert errors == [], errors


def test_rep_sees_only_their_own_records(page: Page, live_url: str, screenshot) -> None:  # type: ignore[no-untyped-def]
    _tenant()
    errors = _log_in(page, "rep1@drill.test")
    page.goto(f"/t/{SLUG}/dashboards/forecast/")
    own = page.get_by_test_id("forecast-pipeline_coverage-owner-rep1@drill.test")
    expect(own).to_have_text("1.75")
    # A rep reads no one else's row.
    expect(page.get_by_test_id("forecast-pipeline_coverage-owner-rep2@drill.test")).to_have_count(0)
    expect(page.get_by_test_id("forecast-pipeline_coverage-team-East")).to_have_count(0)
    own.get_by_role("link").click()
    expect(page.get_by_test_id("drill-total")).to_have_text("1.75")
    expect(page.get_by_test_id("drill-shown")).to_have_text("1.75")
    assert [row[0] for row in _rows(page, "open")] == ["Big commit", "Maybe deal"]
    assert {row[2] for row in _rows(page, "deals")} == {"Rita Rep"}
    screenshot(page, "rep's own coverage")

    # The company's coverage drilled by the rep: their records only, and the page says so.
    page.goto(page.url.replace("scope=owner:rep1@drill.test", "scope=all"))
    expect(page.get_by_test_id("drill-partial")).to_be_visible()
    expect(page.get_by_test_id("drill-shown")).to_have_text("1.17")
    assert [row[0] for row in _rows(page, "open")] == ["Big commit", "Maybe deal"]
    expect(page.get_by_test_id("table-open")).not_to_contain_text("West deal")
    screenshot(page, "rep's view of the company's coverage")

    # Someone else's segment is not found.
    response = page.goto(page.url.replace("scope=all", "scope=owner:rep2@drill.test"))
    assert response is not None and response.status == 404
    assert [e for e in errors if "404" not in e] == [], errors
