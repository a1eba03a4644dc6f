"""The customer-success forms in a real browser (issue 8, pages that stay fast at 100,000 accounts): a CS member
logs feedback by searching the account, the contact list follows the account picked (htmx), and a new subscription
lists the chosen account's terms under "Renews" once the account is picked. English and 中文; console clean."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext
from playwright.sync_api import ConsoleMessage, Page, expect

from crm import services as crm_services
from crm.models import Role
from crm.tenancy import tenant_context
from lifecycle.models import Feedback, Subscription
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.factories_accounts import AccountFactory, ContactFactory
from tests.factories_lifecycle import SubscriptionFactory

SLUG = "lotus"


def _world():  # type: ignore[no-untyped-def]
    tenant = crm_services.tenant_create(
        slug=SLUG,
        name="Lotus Cloud",
        time_zone="Asia/Shanghai",
        currency="CNY",
        admin_email="admin@lotus.test",
        admin_password=PASSWORD,
        admin_name="Ada Admin",
    )
    MembershipFactory(
        tenant=tenant, role=Role.CS, user=UserFactory(email="cs@lotus.test", full_name="Cora CS")
    )
    MembershipFactory(
        tenant=tenant,
        role=Role.CS,
        user=UserFactory(email="cs.zh@lotus.test", full_name="陈成功", language="zh-hans"),
    )
    with tenant_context(tenant):
        harbor = AccountFactory(tenant=tenant, name="Harbor Foods", lifecycle_stage="retention")
        AccountFactory(tenant=tenant, name="Harbor Logistics", lifecycle_stage="retention")
        other = AccountFactory(tenant=tenant, name="Summit Steel", lifecycle_stage="retention")
        ContactFactory(tenant=tenant, account=harbor, first_name="Hana", last_name="Hu")
        ContactFactory(tenant=tenant, account=other, first_name="Sam", last_name="Shi")
    SubscriptionFactory(
        account=harbor,
        plan="Harbor Basic",
        mrr=Decimal("900"),
        start_date=dt.date(2025, 1, 1),
        end_date=dt.date(2026, 1, 1),
    )
    SubscriptionFactory(
        account=other,
        plan="Summit Plus",
        mrr=Decimal("500"),
        start_date=dt.date(2025, 1, 1),
        end_date=dt.date(2026, 1, 1),
    )
    return tenant, harbor


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


def _pick(page: Page, typed: str, name: str, field: str = "id_account") -> None:
    page.locator(f"#{field}_search").fill(typed)
    page.locator(f"#{field}_results [data-pick-label='{name}']").click()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("email", "save", "language"), [("cs@lotus.test", "Save", "en"), ("cs.zh@lotus.test", "保存", "zh-hans")]
)
def test_feedback_and_subscription_forms_pick_the_account_by_search(  # type: ignore[no-untyped-def]
    page: Page, screenshot, email, save, language
):
    tenant, harbor = _world()
    errors = _log_in(page, email)

    page.goto(f"/t/{SLUG}/feedback/")
    contact = page.locator("select#fb_contact")
    expect(contact.locator("option")).to_have_count(1)  # no account yet: no contact listed
    _pick(page, "harb", "Harbor Foods", field="fb_account")
    expect(contact.locator("option")).to_have_count(2)  # Harbor's one contact, loaded for the account picked
    expect(page.locator("select#fb_contact")).to_contain_text("Hu")
    expect(page.locator("select#fb_contact")).not_to_contain_text("Shi")
    page.locator("select#fb_contact").select_option(index=1)
    page.locator("#fb_score").fill("9")
    screenshot(page, f"feedback form {email}")
    page.get_by_test_id("feedback-form").locator("button[type=submit]").click()
    expect(page.locator("body")).to_contain_text("Harbor Foods")
    with tenant_context(tenant):
        saved = Feedback.objects.select_related("contact").get()
    assert (saved.account_id, saved.score, saved.contact.last_name) == (harbor.pk, 9, "Hu")

    page.goto(f"/t/{SLUG}/subscriptions/new/")
    renews = page.locator("select#id_renews_from")
    expect(renews.locator("option")).to_have_count(1)
    _pick(page, "harbor f", "Harbor Foods")
    expect(page.locator("select#id_renews_from option")).to_have_count(2)
    expect(page.locator("select#id_renews_from")).to_contain_text("Harbor Basic")
    expect(page.locator("select#id_renews_from")).not_to_contain_text("Summit Plus")
    page.locator("select#id_renews_from").select_option(index=1)
    page.locator("#id_plan").fill("Harbor Basic 2026")
    page.locator("#id_mrr").fill("950")
    with translation.override(language):
        start_label = gettext("Start date")
        shown_start = date_format(dt.date(2026, 1, 1), "SHORT_DATE_FORMAT")
    # The start date's picker (the form's own input is hidden behind it): typed as ISO, shown as the page writes dates.
    start_date = page.get_by_test_id("subscription-form").get_by_label(start_label)
    start_date.fill("2026-01-01")
    start_date.press("Tab")
    expect(start_date).to_have_value(shown_start)
    expect(page.locator("#id_start_date")).to_have_value("2026-01-01")
    screenshot(page, f"subscription form {email}")
    page.get_by_test_id("subscription-save").click()
    expect(page.locator("body")).to_contain_text("Harbor Basic 2026")
    with tenant_context(tenant):
        created = Subscription.objects.get(plan="Harbor Basic 2026")
        assert created.renews_from.plan == "Harbor Basic"
        assert Subscription.objects.get(plan="Harbor Basic").renewed is True
    assert save  # the label of the language under test (the page rendered in it)
    assert errors == []
