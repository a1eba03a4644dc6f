"""Issue 12, global search in the browser: "/" and Ctrl+K focus the top bar's box, results come as you type
grouped by kind, the arrow keys and Enter open one, the results page works on its own; English and 中文. The
console stays clean (CSP). Screenshots go to test-artifacts/ (and to SHOTS when it is set)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from crm import services as crm_services
from crm.models import Role
from crm.tenancy import tenant_context
from tests.factories import PASSWORD, LeadFactory, MembershipFactory, UserFactory
from tests.factories_accounts import AccountFactory, ContactFactory
from tests.factories_deals import OpportunityFactory

SLUG = "lantern"
REP_EMAIL = "rita.rep@lantern.test"


def _world() -> None:
    tenant = crm_services.tenant_create(
        slug=SLUG,
        name="Lantern Trading",
        time_zone="Asia/Shanghai",
        currency="CNY",
        admin_email="admin@lantern.test",
        admin_password=PASSWORD,
        admin_name="Ada Admin",
    )
    rep = UserFactory(email=REP_EMAIL, full_name="Rita Rep")
    other = UserFactory(email="otto.other@lantern.test", full_name="Otto Other")
    MembershipFactory(tenant=tenant, role=Role.SALES_REP, user=rep)
    MembershipFactory(tenant=tenant, role=Role.SALES_REP, user=other)
    with tenant_context(tenant):
        huawei = AccountFactory(tenant=tenant, name="华为技术有限公司", domain="huawei.example", owner=rep)
        tyrell = AccountFactory(tenant=tenant, name="Tyrell Robotics", domain="tyrell.example", owner=rep)
        AccountFactory(tenant=tenant, name="Tyrell Secret (Otto's)", owner=other)
        LeadFactory(
            tenant=tenant,
            first_name="伟",
            last_name="张",
            company="深圳华为技术有限公司",
            email="zhang.wei@huawei.example",
            phone="+86 138-0000-1111",
            owner=rep,
        )
        LeadFactory(
            tenant=tenant,
            first_name="Wei",
            last_name="Zhang",
            company="Tyrell Robotics",
            email="wei.zhang@tyrell.example",
            phone="+86 139-1234-5678",
            owner=rep,
        )
        LeadFactory(tenant=tenant, first_name="Tyrell", last_name="Hidden", owner=other)
        ContactFactory(account=huawei, first_name="娜娜", last_name="欧阳", phone="+86 138-0000-1111")
        ContactFactory(account=tyrell, first_name="Anna", last_name="Schmidt", email="anna@tyrell.example")
        OpportunityFactory(account=huawei, name="华为 年度框架协议", owner=rep)
        OpportunityFactory(account=tyrell, name="Tyrell robots 2027", owner=rep)


def _log_in(page: Page) -> None:
    page.goto(f"/login/?next=/t/{SLUG}/")
    page.get_by_label("Email").fill(REP_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()
    # The home page's cards and scripts settle first (a busy CI machine once typed into the box before they had,
    # and the list never opened).
    page.wait_for_load_state("networkidle")


def _keep(path: Path) -> None:
    shots = os.environ.get("SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(shots) / path.name)


@pytest.mark.browser
def test_global_search_from_the_top_bar(page: Page, screenshot):
    _world()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    _log_in(page)
    box = page.get_by_test_id("global-search").locator("input[name=q]")
    results = page.locator("#global-search-results")

    # "/" focuses the box; typing shows the rep's own records, grouped by kind; not the other rep's.
    page.keyboard.press("/")
    expect(box).to_be_focused()
    with page.expect_response(lambda response: "/search/" in response.url):
        page.keyboard.type("tyrell")
    expect(results).to_be_visible()
    expect(results.locator("[data-kind=lead] [data-testid=search-hit]")).to_have_count(1)
    expect(results.locator("[data-kind=account] [data-testid=search-hit] .fw-medium")).to_have_text(
        ["Tyrell Robotics"]
    )
    expect(results.locator("[data-kind=contact]")).to_contain_text("Anna Schmidt")
    expect(results.locator("[data-kind=deal]")).to_contain_text("Tyrell robots 2027")
    expect(results).not_to_contain_text("Hidden")
    expect(results).not_to_contain_text("Otto")
    _keep(screenshot(page, "dropdown en"))

    # Arrow keys move through the options, Enter opens the chosen record.
    page.keyboard.press("ArrowDown")  # the leads group's "open list" link
    page.keyboard.press("ArrowDown")  # the lead
    expect(results.locator(".app-search-option.active")).to_contain_text("Wei Zhang")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/t/{SLUG}/leads/*/")
    expect(page.locator("h1")).to_contain_text("Wei Zhang")

    # Ctrl+K from anywhere; a phone number typed with spaces finds the lead and the contact that have it.
    page.keyboard.press("Control+k")
    expect(box).to_be_focused()
    box.fill("138 0000 1111")
    expect(results.locator("[data-kind=lead]")).to_contain_text("张伟")
    expect(results.locator("[data-kind=contact]")).to_contain_text("欧阳娜娜")
    page.keyboard.press("Escape")
    expect(results).to_be_hidden()

    # Enter with nothing chosen opens the results page (also the no-JavaScript path of the form).
    box.fill("tyrell")
    expect(results.locator("[data-testid=search-hit]").first).to_be_visible()
    page.keyboard.press("Escape")
    box.press("Enter")
    page.wait_for_url(f"**/t/{SLUG}/search/?q=tyrell")
    expect(page.get_by_test_id("search-results")).to_contain_text("Tyrell Robotics")
    _keep(screenshot(page, "results page en"))

    # 中文: the same box and page in Chinese, searched in Chinese.
    page.get_by_test_id("language-switcher").get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    box = page.get_by_test_id("global-search").locator("input[name=q]")
    page.keyboard.press("/")
    page.keyboard.type("华为")
    expect(results.locator("[data-kind=lead]")).to_contain_text("张伟")
    expect(results.locator("[data-kind=account]")).to_contain_text("华为技术有限公司")
    expect(results.locator("[data-kind=deal]")).to_contain_text("华为 年度框架协议")
    expect(results).to_contain_text("线索")
    _keep(screenshot(page, "dropdown zh"))
    page.goto(f"/t/{SLUG}/search/?q=华为")
    expect(page.get_by_test_id("search-results")).to_contain_text("华为 年度框架协议")
    _keep(screenshot(page, "results page zh"))
    page.goto(f"/t/{SLUG}/search/?q=无此记录")
    expect(page.get_by_test_id("search-empty")).to_contain_text("没有找到")
    assert not errors, errors
