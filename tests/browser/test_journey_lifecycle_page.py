"""The lifecycle page and the CS home in a real browser (issue 8): a CS member sees the customer-success cards on
the home page, opens the lifecycle page from the menu, sees the stages and the flows chart drawn (Chart.js under
the strict CSP, no console error), and follows a number to the accounts behind it; the same in 中文."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import ConsoleMessage, Page, expect

from crm.dates import tenant_today
from crm.models import Role
from crm.tenancy import tenant_context
from lifecycle.services.stages import lifecycle_recompute
from tests.conftest import make_tenant
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.factories_accounts import AccountFactory
from tests.factories_lifecycle import SubscriptionFactory, won_deal

SLUG = "orbit"
ACCOUNT = "Lantern Logistics"


def _world():
    tenant = make_tenant(SLUG)
    for email, language in (("cs@orbit.test", "en"), ("cs.zh@orbit.test", "zh-hans")):
        MembershipFactory(
            tenant=tenant, user=UserFactory(email=email, full_name="Cleo CS", language=language), role=Role.CS
        )
    account = AccountFactory(tenant=tenant, name=ACCOUNT, created_at=timezone.now() - dt.timedelta(days=400))
    won_deal(account, timezone.now() - dt.timedelta(seconds=5))  # today, in the tenant's zone too
    SubscriptionFactory(account=account, start_date=tenant_today(tenant), mrr="1500.00")
    with tenant_context(tenant):
        lifecycle_recompute(tenant=tenant)
    return tenant


def _log_in(page: Page, email: str) -> list[str]:
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


@pytest.mark.browser
@pytest.mark.parametrize(
    ("email", "menu", "new_customers"),
    [("cs@orbit.test", "Lifecycle", "New customers"), ("cs.zh@orbit.test", "生命周期", "新客户")],
)
def test_cs_opens_the_lifecycle_page_and_drills_down(
    page: Page, live_url: str, screenshot, email, menu, new_customers
):
    tenant = _world()
    errors = _log_in(page, email)
    expect(page.get_by_test_id("home-cs-mrr-value")).to_contain_text("1,500")
    expect(page.get_by_test_id("home-cs-nps-trend").locator("canvas[data-drawn='1']")).to_have_count(1)
    screenshot(page, "cs home")

    page.get_by_role("link", name=menu, exact=True).first.click()
    expect(page.get_by_test_id("stage-count-conversion")).to_have_text("1")
    expect(page.locator("canvas[data-lc-chart][data-drawn='1']")).to_have_count(1)
    month = tenant_today(tenant).strftime("%Y-%m")
    cell = page.get_by_test_id(f"flow-{month}-new_customers")
    expect(cell).to_have_text("1")
    screenshot(page, "lifecycle page")

    cell.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(new_customers)
    expect(page.get_by_test_id("drilldown-row")).to_have_count(1)
    expect(page.get_by_test_id("drilldown-row")).to_contain_text(ACCOUNT)
    screenshot(page, "drill down")
    assert errors == []
