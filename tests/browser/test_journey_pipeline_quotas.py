"""Dashboards in a real browser, continued: an ops manager reads the open pipeline by stage and close period and
drills into a stage; pastes a block of quotas copied from a spreadsheet into the grid, moves with the arrow keys
and saves; the same pages in 中文. Screenshots of each step (English and 中文)."""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import Page, expect

from crm import services as crm_services
from crm.tenancy import tenant_context
from sales_ops.models import Quota
from tests.browser.test_journey_dashboards import SLUG, _log_in, _tenant


def _paste(page: Page, selector: str, text: str) -> None:
    """A paste event carrying `text`, as a spreadsheet's copy gives it (tabs between cells, lines between rows)."""
    page.focus(selector)
    page.evaluate(
        """([selector, text]) => {
            const input = document.querySelector(selector);
            const data = new DataTransfer();
            data.setData("text", text);
            input.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
        }""",
        [selector, text],
    )


def test_ops_reads_the_pipeline_by_stage_and_pastes_quotas(page: Page, live_url: str, screenshot) -> None:
    tenant, people, records = _tenant()
    _log_in(page, "ops@dash.test")
    page.goto(f"/t/{SLUG}/dashboards/pipeline/")
    stage = page.get_by_test_id("stage-Qualification")
    expect(stage).to_have_text("4,200.00")  # 2,000 + 1,500 + 700, all in Qualification, closing this month
    expect(page.locator("canvas[data-key=stage]")).to_be_visible()
    screenshot(page, "pipeline by stage")

    stage.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"stage=\d+"))
    for name in ("Big commit", "Maybe deal", "West deal"):
        expect(page.get_by_role("link", name=name)).to_be_visible()
    screenshot(page, "drill-down into the stage")

    page.goto(f"/t/{SLUG}/dashboards/quotas/")
    rep1, rep2 = people["rep1"].user, people["rep2"].user
    first = page.locator(f"[data-testid=quota-row-owner-{rep1.pk}] input.quota-cell").first
    name = first.get_attribute("name")
    assert name is not None
    # Two rows of two months from rep1's first month: the block fills rep1's and the next editable row's cells.
    _paste(page, f'input[name="{name}"]', "1,000\t2000\r\n300\t400\r\n")
    row = int(first.get_attribute("data-row") or 0)
    col = int(first.get_attribute("data-col") or 0)
    expect(first).to_have_value("1000")
    expect(page.locator(f'input[data-row="{row}"][data-col="{col + 1}"]')).to_have_value("2000")
    below = page.locator(f'input[data-row="{row + 1}"][data-col="{col}"]')
    expect(below).to_have_value("300")
    # Keyboard: ArrowDown and Enter move down a row, ArrowRight over a selected value to the next month.
    first.focus()
    page.keyboard.press("ArrowDown")
    expect(below).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page.locator(f'input[data-row="{row + 1}"][data-col="{col + 1}"]')).to_be_focused()
    screenshot(page, "quotas pasted")
    page.get_by_test_id("quota-save").click()
    expect(first).to_have_value(re.compile(r"^1000(\.00)?$"))
    screenshot(page, "quotas saved")
    below_name = below.get_attribute("name") or ""
    with tenant_context(tenant):
        month = name.rsplit("-", 2)[-2:]
        mine = Quota.objects.get(owner=rep1, month=f"{month[0]}-{month[1]}-01")
        assert mine.amount == Decimal("1000")
        assert Quota.objects.filter(amount=Decimal("300")).count() == 1
    assert below_name.endswith("-".join(month))
    _ = rep2, records

    # The same pages in 中文.
    crm_services.user_set_language(user=people["ops"].user, language="zh-hans")
    page.goto(f"/t/{SLUG}/dashboards/pipeline/")
    expect(page.get_by_test_id("table-stage")).to_contain_text("阶段")
    screenshot(page, "pipeline by stage zh")
    page.goto(f"/t/{SLUG}/dashboards/quotas/")
    expect(page.get_by_test_id("quota-save")).to_be_visible()
    screenshot(page, "quotas zh")


def test_ops_drills_from_the_leaderboard_into_activities(page: Page, live_url: str, screenshot) -> None:
    _tenant_, people, _records = _tenant()
    _log_in(page, "ops@dash.test")
    page.goto(f"/t/{SLUG}/dashboards/reps/")
    expect(page.get_by_test_id("table-leaderboard")).to_contain_text("+200.00")  # Rita: 1,000 now, 800 before
    screenshot(page, "leaderboard with the previous period")
    rita = page.get_by_test_id("table-leaderboard").locator("tr", has_text="Rita Rep")
    rita.get_by_role("link", name="1", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/activities/\?kind=call"))
    expect(page.get_by_test_id("activity-list").locator("tbody tr")).to_have_count(1)
    screenshot(page, "activities behind the calls")
    crm_services.user_set_language(user=people["ops"].user, language="zh-hans")
    page.reload()
    expect(page.get_by_role("heading", name="跟进记录")).to_be_visible()
    screenshot(page, "activities behind the calls zh")
    page.goto(f"/t/{SLUG}/dashboards/reps/")
    expect(page.get_by_test_id("table-leaderboard")).to_contain_text("赢单金额")
    screenshot(page, "leaderboard zh")
