"""Foundation journey: a company signs up, invites a member who joins, switches to Chinese and logs out."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from crm.models import Membership, MembershipStatus, Role, Tenant
from crm.tenancy import tenant_context

BASE_DIR = Path(__file__).resolve().parent.parent.parent
ZH_HANS_LOCALE = BASE_DIR / "locale" / "zh_Hans"

COMPANY = "Journey Trading 旅程贸易"
SLUG = "journey"
ADMIN_EMAIL = "founder@journey.test"
ADMIN_PASSWORD = "Founder-pass-2468"
MEMBER_EMAIL = "rita.rep@journey.test"
MEMBER_NAME = "Rita Rep"
MEMBER_PASSWORD = "Member-pass-1357"


def _zh(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


def _sidebar(page: Page):  # type: ignore[no-untyped-def]
    """The main navigation (the page's only complementary landmark; its label is translated)."""
    return page.get_by_role("complementary")


@pytest.mark.browser
def test_sign_up_invite_member_switch_language_and_log_out(page: Page, new_context, live_url, screenshot):
    # 1. Sign up a new company.
    page.goto("/signup/")
    screenshot(page, "signup form")
    page.get_by_label("Company name").fill(COMPANY)
    page.get_by_label("Address").fill(SLUG)
    page.get_by_label("Time zone").select_option("Asia/Shanghai")
    page.get_by_label("Reporting currency").select_option("CNY")
    page.get_by_label("Default language").select_option("en")
    page.get_by_label("Your name").fill("Fay Founder")
    page.get_by_label("Your work email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    screenshot(page, "signup filled in")
    page.get_by_role("button", name="Create workspace").click()

    # 2. Land in the new tenant as its admin.
    expect(page).to_have_url(f"{live_url}/t/{SLUG}/")
    expect(page.get_by_test_id("tenant-switcher")).to_contain_text(COMPANY)
    expect(page.get_by_test_id("user-menu")).to_contain_text("Fay Founder")
    screenshot(page, "tenant home as admin")

    # 3. Members page: invite a sales rep into a new team and see the invitation link.
    _sidebar(page).get_by_role("link", name="Members").click()
    expect(page).to_have_url(f"{live_url}/t/{SLUG}/members/")
    expect(page.get_by_test_id("member-row")).to_have_count(1)
    page.get_by_label("Email").fill(MEMBER_EMAIL)
    page.get_by_label("Role").select_option(Role.SALES_REP)
    page.get_by_label("Team").fill("North")
    page.get_by_role("button", name="Send invitation").click()
    link_box = page.get_by_test_id("invitation-link")
    expect(link_box).to_be_visible()
    invited_row = page.get_by_test_id("member-row").filter(has_text=MEMBER_EMAIL)
    expect(invited_row).to_contain_text("Sales rep")
    expect(invited_row).to_contain_text("North")
    expect(invited_row).to_contain_text("Invited")
    screenshot(page, "member invited")
    invitation_link = link_box.locator("code").inner_text().strip()
    assert invitation_link.startswith(f"{live_url}/invite/{SLUG}/"), invitation_link

    # 4. The invitee opens the link in a browser of their own and sets a name and password.
    member_page = new_context().new_page()
    member_page.goto(invitation_link)
    expect(member_page.get_by_role("heading", level=1)).to_contain_text(COMPANY)
    expect(member_page.get_by_text(MEMBER_EMAIL)).to_be_visible()
    member_page.get_by_label("Your name").fill(MEMBER_NAME)
    member_page.get_by_label("Password").fill(MEMBER_PASSWORD)
    screenshot(member_page, "invitation accept form")
    member_page.get_by_role("button", name="Accept invitation").click()

    # 5. The member lands in the tenant, as a sales rep without admin pages.
    expect(member_page).to_have_url(f"{live_url}/t/{SLUG}/")
    expect(member_page.get_by_test_id("user-menu")).to_contain_text(MEMBER_NAME)
    expect(member_page.get_by_test_id("tenant-switcher")).to_contain_text(COMPANY)
    expect(_sidebar(member_page).get_by_role("link", name="Members")).to_have_count(0)
    screenshot(member_page, "tenant home as new member")
    tenant = Tenant.objects.get(slug=SLUG)
    with tenant_context(tenant):
        membership = Membership.objects.select_related("user", "team").get(user__email=MEMBER_EMAIL)
    assert (membership.role, membership.status, membership.team.name) == (
        Role.SALES_REP,
        MembershipStatus.ACTIVE,
        "North",
    )
    assert membership.user.full_name == MEMBER_NAME

    # The admin sees the member as active now.
    page.reload()
    expect(page.get_by_test_id("member-row").filter(has_text=MEMBER_EMAIL)).to_contain_text("Active")

    # 6. Switch to Chinese with the header's language buttons.
    expect(member_page.locator("html")).to_have_attribute("lang", "en")
    member_page.get_by_test_id("language-switcher").get_by_role("button", name="中文").click()
    expect(member_page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(member_page).to_have_url(f"{live_url}/t/{SLUG}/")
    if ZH_HANS_LOCALE.exists():
        welcome = _zh("Welcome, %(name)s") % {"name": MEMBER_NAME}
        home = _zh("Home")
        assert (welcome, home) != (f"Welcome, {MEMBER_NAME}", "Home"), "zh_Hans catalog is not compiled"
        expect(member_page.get_by_role("heading", level=1)).to_have_text(welcome)
        expect(_sidebar(member_page).get_by_role("link", name=home, exact=True)).to_be_visible()
    screenshot(member_page, "tenant home in chinese")
    member_page.reload()  # the choice is saved on the user, not only for one response
    expect(member_page.locator("html")).to_have_attribute("lang", "zh-hans")

    # 7. Log out from the user menu; tenant pages then ask for a login.
    member_page.get_by_test_id("user-menu").click()
    logout_button = member_page.locator("form[action$='/logout/']").get_by_role("button")
    expect(logout_button).to_be_visible()
    screenshot(member_page, "user menu open")
    logout_button.click()
    expect(member_page).to_have_url(re.compile(r"/login/$"))
    expect(member_page.locator("input[name='password']")).to_be_visible()
    screenshot(member_page, "logged out")
    member_page.goto(f"/t/{SLUG}/")
    assert urlsplit(member_page.url).path == "/login/"
