"""One filter bar, long names and 1,366-pixel screens (issue 12, "one product"), in a real browser.

An admin on a 1366x768 screen: the lead list applies its filters as they change (a select at once, the search
after typing, no Filter button), keeps them in the address bar (a reload shows the same list), and Reset clears
them; the accounts list behaves the same with the same bar. A lead, an account and a deal named with 120
characters and no space wrap inside their cells: no list table scrolls sideways and no page is wider than the
window, in English and in 中文.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.services import accounts as accounts_services
from accounts.services import opportunities as opportunities_services
from crm import services as crm_services
from crm.models import Membership, Role, Tenant
from crm.tenancy import tenant_context
from tests.factories import PASSWORD, LeadFactory
from tests.factories_ops import LeadSourceFactory

SLUG = "widewall"
ADMIN_EMAIL = "admin@widewall.test"
LONG_NAME = "Ünbroken" + "X" * 104 + "名称结束ABCD"  # 120 characters, no space
SCREEN = {"width": 1366, "height": 768}

pytestmark = pytest.mark.browser


def _tenant() -> Tenant:
    tenant = crm_services.tenant_create(
        slug=SLUG,
        name="Widewall 宽墙",
        time_zone="Asia/Shanghai",
        currency="CNY",
        admin_email=ADMIN_EMAIL,
        admin_password=PASSWORD,
        admin_name="Ada Admin",
    )
    with tenant_context(tenant):
        admin = Membership.objects.select_related("user").get(role=Role.ADMIN).user
        web = LeadSourceFactory(tenant=tenant, name="Website 官网")
        fair = LeadSourceFactory(tenant=tenant, name="Trade fair 展会")
        LeadFactory(
            tenant=tenant, owner=admin, source=web, first_name="Wen", last_name="Web", company="Haier"
        )
        LeadFactory(
            tenant=tenant, owner=admin, source=fair, first_name="Fei", last_name="Fair", company="Midea"
        )
        LeadFactory(
            tenant=tenant, owner=admin, source=fair, first_name="Lon", last_name="Long", company=LONG_NAME
        )
        account = accounts_services.account_create(tenant=tenant, actor=admin, name=LONG_NAME, owner=admin)
        opportunities_services.opportunity_create(
            tenant=tenant, actor=admin, account=account, owner=admin, name=LONG_NAME, amount="1200"
        )
    return tenant


def _log_in(page: Page) -> None:
    page.goto(f"/login/?next=/t/{SLUG}/")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()


def _fits(page: Page) -> None:
    """No table scrolls sideways and the page is no wider than the window."""
    page.wait_for_load_state("networkidle")
    wide = page.evaluate(
        """() => [...document.querySelectorAll('.table-responsive')]
             .filter(el => el.scrollWidth > el.clientWidth + 1).length"""
    )
    assert wide == 0, page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREEN["width"], page.url


def test_filter_bar_applies_as_it_changes_and_long_names_wrap(new_context, live_url, screenshot):
    _tenant()
    page = new_context(viewport=SCREEN).new_page()
    _log_in(page)

    page.goto(f"/t/{SLUG}/leads/")
    rows = page.get_by_test_id("lead-row")
    expect(rows).to_have_count(3)
    _fits(page)
    screenshot(page, "lead list with a long name")
    bar = page.get_by_test_id("lead-filters")
    expect(bar.get_by_role("button", name="Filter")).to_have_count(0)  # no button to press: it applies itself

    bar.get_by_label("Source", exact=True).select_option(label="Trade fair 展会")
    expect(page).to_have_url(re.compile(r"[?&]source=\d+"))
    expect(rows).to_have_count(2)
    bar.get_by_test_id("lead-search").press_sequentially("Mid", delay=50)
    expect(page).to_have_url(re.compile(r"[?&]q=Mid"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Midea")
    screenshot(page, "lead list filtered by source and search")

    page.reload()  # the query is in the address bar: the same list comes back
    expect(rows).to_have_count(1)
    expect(page.get_by_test_id("lead-search")).to_have_value("Mid")

    page.get_by_test_id("lead-filters").locator("[data-filter-reset]").click()
    expect(page).not_to_have_url(re.compile(r"q=Mid"))
    expect(rows).to_have_count(3)

    page.goto(f"/t/{SLUG}/accounts/")
    accounts_bar = page.get_by_test_id("account-filters")
    expect(accounts_bar.locator("[data-filter-reset]")).to_have_count(1)
    accounts_bar.get_by_role("searchbox").first.press_sequentially("nothing-like-it", delay=30)
    expect(page).to_have_url(re.compile(r"[?&]q=nothing-like-it"))
    expect(page.get_by_text(LONG_NAME)).to_have_count(0)

    for path in ("leads/", "accounts/", "deals/"):
        page.goto(f"/t/{SLUG}/{path}")
        _fits(page)
    screenshot(page, "deal list with a long name")

    page.get_by_test_id("language-switcher").locator('button[value="zh-hans"]').click()
    for path in ("leads/", "accounts/", "deals/"):
        page.goto(f"/t/{SLUG}/{path}")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        _fits(page)
    screenshot(page, "deal list in Chinese with a long name")
