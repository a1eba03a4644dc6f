"""Issue 11 item 10 in the browser: a member creates named API tokens with a lifetime, sees when each was created,
last used and expires, and revokes one after confirming; in English and 中文."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from crm import services as crm_services
from crm.models import ApiToken, Role, User
from tests.factories import PASSWORD, MembershipFactory, UserFactory

SLUG = "keyring"
REP_EMAIL = "tom.token@keyring.test"


def _rep() -> User:
    tenant = crm_services.tenant_create(
        slug=SLUG,
        name="Keyring Ltd",
        time_zone="Asia/Shanghai",
        currency="CNY",
        admin_email="admin@keyring.test",
        admin_password=PASSWORD,
        admin_name="Ada Admin",
    )
    rep = UserFactory(email=REP_EMAIL, full_name="Tom Token")
    MembershipFactory(tenant=tenant, role=Role.SALES_REP, user=rep)
    return rep


@pytest.mark.browser
def test_create_use_and_revoke_tokens_in_english_and_chinese(page: Page, live_url: str, screenshot) -> None:
    rep = _rep()
    page.goto(f"/login/?next=/t/{SLUG}/api-tokens/")
    page.get_by_label("Email").fill(REP_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="API tokens", exact=True)).to_be_visible()

    page.get_by_label("Name").fill("Laptop")
    page.get_by_label("Expires after").select_option("30")
    page.get_by_role("button", name="Create token").click()
    key = page.get_by_test_id("new-token").locator("code").inner_text()
    assert len(key) == 40
    page.get_by_label("Name").fill("Nightly ERP sync")
    page.get_by_role("button", name="Create token").click()
    # The laptop's token is used once: the page shows when.
    used = page.request.get(f"/api/v1/t/{SLUG}/me/", headers={"Authorization": f"Token {key}"})
    assert used.status == 200
    page.goto(f"/t/{SLUG}/api-tokens/")
    rows = page.get_by_test_id("token-row")
    expect(rows).to_have_count(2)
    laptop = rows.filter(has_text="Laptop")
    expect(laptop).not_to_contain_text("Never")
    expect(rows.filter(has_text="Nightly ERP sync")).to_contain_text("Never")
    screenshot(page, "tokens in english")

    asked: list[str] = []

    def dismiss(dialog):  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    laptop.get_by_role("button", name="Revoke").click()
    assert asked == ["Revoke this token? Every client using it stops working at once."]
    expect(rows).to_have_count(2)
    page.once("dialog", lambda dialog: dialog.accept())
    laptop.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("Token revoked. Clients using it now get 401.")).to_be_visible()
    expect(page.get_by_test_id("token-row")).to_have_count(1)
    refused = page.request.get(f"/api/v1/t/{SLUG}/me/", headers={"Authorization": f"Token {key}"})
    assert refused.status == 401
    assert ApiToken.objects.filter(user=rep).count() == 1

    crm_services.user_set_language(user=rep, language="zh-hans")
    page.goto(f"/t/{SLUG}/api-tokens/")
    expect(page.get_by_role("heading", name="API 令牌", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="撤销")).to_have_count(1)
    expect(page.get_by_test_id("token-row")).to_contain_text("从未")
    screenshot(page, "tokens in chinese")
