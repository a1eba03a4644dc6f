"""Customer success in a real browser (issue 8): a CS manager opens the renewals, logs a call on an at-risk account,
wins its renewal, accepts the next term, and sees the account's health and stage change.

The account is built by hand so every number on screen is known. Its one-year contract ended exactly `grace_days`
(30) ago: the renewal is on its last day in the "Overdue" tab, and by KPIS.md ("latest end_date + grace_days <= d")
the account churned today. Health (lifecycle.services.health) of the key account before the journey: no touch for
100 days (recency 0/20, volume 0/15, cadence 0/10), latest NPS 3 after an 8 (sentiment 6/20, trend 0/10), the
renewal deal in Qualification (10 % of 15 = 2), one overdue task (5/10): 13, at risk (< 40).

- the call logged today: recency 20, volume 5 (one activity in 90 days: 30 % of 15), cadence 10: 48;
- the renewal won: no open renewal left, renewal 15/15: 61;
- the next term accepted: it starts on the old end date, so the contract never lapsed: the derived history loses
  the churn and the account is in retention again, with its MRR back.

Every step's health and stage come from the recomputes that run on commit (Celery in-process in tests). The
browser's console must stay free of errors (a Content-Security-Policy violation is one).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format
from playwright.sync_api import ConsoleMessage, Page, expect

from accounts.models import Account, ActivityKind, LifecycleStageName, Opportunity, StageKind, Tier
from accounts.services import accounts as accounts_services
from accounts.services import activities as activities_services
from crm import services as crm_services
from crm.dates import tenant_today
from crm.models import Role, Tenant
from crm.tenancy import tenant_context
from lifecycle.models import FeedbackKind, HealthScore, LifecycleChange, Subscription
from lifecycle.services.renewals import add_months, subscription_create_renewal_deal
from lifecycle.services.subscriptions import subscription_create
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.factories_cs import FeedbackFactory

SLUG = "evergreen"
CS_NAME = "Cora Success"
CS_EMAIL = "cora.cs@evergreen.test"
CS_ZH_EMAIL = "chen.cs@evergreen.test"
REP_NAME = "Rita Rep"
ACCOUNT = "Lotus Bakeries"
PLAN = "Bakery Cloud Pro"
GRACE_DAYS = 30  # the default lifecycle setting


def _shown(day: dt.date) -> str:
    """A date as the English pages show it (crm/formats/en: "8 Oct 2026")."""
    with translation.override("en"):
        return date_format(day, "SHORT_DATE_FORMAT")


def _console_errors(page: Page) -> list[str]:
    """Collect the page's console errors and uncaught exceptions (CSP violations are console errors)."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            errors.append(f"{page.url} ({where}): {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _customer_success_tenant() -> tuple[Tenant, Account, Subscription]:
    """The tenant, its CS members (English and 中文) and the churning key account with its overdue renewal."""
    tenant = crm_services.tenant_create(
        slug=SLUG,
        name="Evergreen Software",
        time_zone="Asia/Shanghai",
        currency="CNY",
        admin_email="admin@evergreen.test",
        admin_password=PASSWORD,
        admin_name="Ada Admin",
    )
    MembershipFactory(tenant=tenant, role=Role.CS, user=UserFactory(email=CS_EMAIL, full_name=CS_NAME))
    MembershipFactory(
        tenant=tenant,
        role=Role.CS,
        user=UserFactory(email=CS_ZH_EMAIL, full_name="陈成功", language="zh-hans"),
    )
    rep = MembershipFactory(tenant=tenant, role=Role.SALES_REP, user=UserFactory(full_name=REP_NAME)).user
    now = timezone.now()
    today = tenant_today(tenant)
    end = today - dt.timedelta(days=GRACE_DAYS)
    start = add_months(end, -12)
    with tenant_context(tenant):
        account = accounts_services.account_create(
            tenant=tenant,
            actor=rep,
            name=ACCOUNT,
            owner=rep,
            tier=Tier.KEY,
            created_at=now - dt.timedelta(days=500),
        )
        subscription = subscription_create(
            tenant=tenant,
            actor=rep,
            account=account,
            plan=PLAN,
            mrr=Decimal("2000.00"),
            start_date=start,
            end_date=end,
            created_at=now - dt.timedelta(days=400),
        )
        activities_services.activity_log(
            tenant=tenant,
            actor=rep,
            kind=ActivityKind.CALL,
            subject="Kick-off of the second year",
            account=account,
            occurred_at=now - dt.timedelta(days=100),
        )
        activities_services.activity_log(
            tenant=tenant,
            actor=rep,
            kind=ActivityKind.TASK,
            subject="Send the renewal quote",
            account=account,
            due_at=now - dt.timedelta(days=3),
        )
        FeedbackFactory(
            tenant=tenant,
            account=account,
            kind=FeedbackKind.NPS,
            score=8,
            received_at=now - dt.timedelta(days=200),
        )
        FeedbackFactory(
            tenant=tenant,
            account=account,
            kind=FeedbackKind.NPS,
            score=3,
            received_at=now - dt.timedelta(days=20),
        )
    # The renewal deal (normally made by the daily task renewal_lead_days before the end): Qualification, owned by
    # the account owner, amount = 2,000 x 12. Its commit recomputes the account's stage and health.
    with tenant_context(tenant):
        deal = subscription_create_renewal_deal(tenant=tenant, subscription_id=subscription.pk)
        assert deal is not None and deal.amount == Decimal("24000.00")
    with tenant_context(tenant):
        account.refresh_from_db()
        subscription.refresh_from_db()
        assert account.lifecycle_stage == LifecycleStageName.CHURN
        assert HealthScore.objects.get(account=account).score == 13
    return tenant, account, subscription


def _log_in(page: Page, email: str) -> None:
    page.goto(f"/login/?next=/t/{SLUG}/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()


@pytest.mark.browser
def test_cs_manager_saves_a_churning_renewal_and_sees_health_and_stage_change(
    page: Page, live_url: str, screenshot
) -> None:
    tenant, account, subscription = _customer_success_tenant()
    errors = _console_errors(page)
    account_url = f"{live_url}/t/{SLUG}/accounts/{account.pk}/"
    end = subscription.end_date
    assert end is not None

    # 1. Renewals: the contract is in "Overdue" (its last day), with the MRR at stake, health and deal stage.
    _log_in(page, CS_EMAIL)
    page.get_by_role("complementary").get_by_role("link", name="Renewals").click()
    expect(page.get_by_role("heading", name="Renewals", level=1)).to_be_visible()
    expect(page.get_by_test_id("renewal-count-overdue")).to_have_text("1")
    expect(page.get_by_test_id("renewal-empty")).to_be_visible()  # nothing due in the next 30 days
    page.get_by_test_id("renewal-tab-overdue").click()
    expect(page).to_have_url(re.compile(r"window=overdue"))
    row = page.get_by_test_id("renewal-row").filter(has_text=ACCOUNT)
    expect(row).to_be_visible()
    expect(row).to_contain_text(PLAN)
    expect(row).to_contain_text(_shown(end))
    expect(row).to_contain_text("2,000.00 CNY")
    expect(row.locator(".health-badge")).to_have_text("13")
    expect(row).to_contain_text("Qualification")
    expect(row).to_contain_text(REP_NAME)
    screenshot(page, "renewals overdue")

    # 2. The account: churned today, at risk with its reasons, no MRR now.
    row.get_by_role("link", name=ACCOUNT).click()
    expect(page).to_have_url(account_url)
    expect(page.get_by_test_id("lifecycle-stage-now")).to_have_text("Churn")
    expect(page.get_by_test_id("lifecycle-change").first).to_contain_text("Retention → Churn")
    expect(page.get_by_test_id("account-mrr")).to_have_text("0.00 CNY")
    health = page.get_by_test_id("account-health")
    expect(health.get_by_test_id("health-score")).to_have_text("13")
    expect(health.get_by_test_id("health-at-risk")).to_be_visible()
    expect(health.get_by_test_id("health-components")).to_contain_text("Overdue tasks")
    page.wait_for_load_state()  # htmx is in place: the quick log answers in the page
    screenshot(page, "account churned and at risk")

    # 3. Log a call (the quick log): the timeline shows it without a reload.
    quick_log = page.get_by_test_id("quick-log")
    quick_log.get_by_text("Call", exact=True).click()
    quick_log.get_by_test_id("quick-log-subject").fill("Renewal call: they stay, with the new ovens")
    page.evaluate("window.journeyMarker = 'same page'")
    quick_log.get_by_test_id("quick-log-submit").click()
    call = page.get_by_test_id("timeline-activity").filter(has_text="Renewal call: they stay")
    expect(call).to_be_visible()
    assert page.evaluate("window.journeyMarker") == "same page"  # swapped in by htmx
    expect(call).to_contain_text(CS_NAME)
    screenshot(page, "call logged")

    # The health recomputed on the call's commit: touched today.
    page.reload()
    expect(page.get_by_test_id("health-score")).to_have_text("48")
    expect(page.get_by_test_id("health-at-risk")).to_have_count(0)
    expect(page.get_by_test_id("lifecycle-stage-now")).to_have_text("Churn")

    # 4. Win the renewal deal.
    deal_row = page.get_by_test_id("account-deal-row").filter(has_text="Renewal")
    expect(deal_row).to_contain_text("Qualification")
    deal_row.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/t/{SLUG}/deals/\d+/$"))
    expect(page.get_by_test_id("deal-stage")).to_have_text("Qualification")
    expect(page.get_by_test_id("next-term")).to_have_count(0)
    expect(page.get_by_test_id("renewal-subscription-end")).to_have_text(_shown(end))  # what it renews
    screenshot(page, "renewal deal")
    page.once("dialog", lambda dialog: dialog.accept())  # Mark won asks first (issue 12 item 7)
    page.get_by_test_id("deal-won").click()
    expect(page.get_by_role("alert").filter(has_text="is won")).to_be_visible()
    expect(page.get_by_test_id("deal-stage")).to_have_text("Closed won")

    # 5. The deal page proposes the next term, pre-filled: same plan and length, from the old end date.
    next_term = page.get_by_test_id("next-term")
    expect(next_term).to_be_visible()
    form = next_term.get_by_test_id("next-term-form")
    expect(form.get_by_label("Plan")).to_have_value(PLAN)
    expect(form.get_by_label("MRR")).to_have_value("2000.00")
    # The date pickers show the dates as the pages write them; the form sends them as ISO dates.
    expect(form.get_by_label("Start date")).to_have_value(_shown(end))
    expect(form.get_by_label("End date")).to_have_value(_shown(add_months(end, 12)))
    expect(form.locator("input[name$='start_date']")).to_have_value(end.isoformat())
    expect(form.locator("input[name$='end_date']")).to_have_value(add_months(end, 12).isoformat())
    screenshot(page, "renewal won, next term proposed")
    form.get_by_test_id("next-term-accept").click()  # one click
    expect(page.get_by_role("alert").filter(has_text="Next term created.")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/t/{SLUG}/subscriptions/\d+/$"))
    expect(page.get_by_test_id("subscription-mrr")).to_have_text("2,000.00 CNY")
    screenshot(page, "next term created")

    # 6. The account: the new term, back in retention, MRR back, healthier.
    page.goto(account_url)
    subscriptions = page.get_by_test_id("account-subscriptions").get_by_test_id("subscription-row")
    expect(subscriptions).to_have_count(2)
    expect(subscriptions.first).to_contain_text(_shown(end))
    expect(subscriptions.first).to_contain_text(_shown(add_months(end, 12)))
    expect(page.get_by_test_id("lifecycle-stage-now")).to_have_text("Retention")
    expect(page.get_by_test_id("lifecycle-badge")).to_contain_text("Retention")
    expect(page.get_by_test_id("lifecycle-history")).not_to_contain_text("Churn")
    expect(page.get_by_test_id("account-mrr")).to_have_text("2,000.00 CNY")
    expect(page.get_by_test_id("health-score")).to_have_text("61")
    expect(page.get_by_test_id("health-at-risk")).to_have_count(0)
    screenshot(page, "account back in retention")

    # 7. The renewals page has nothing left for this account.
    page.goto(f"/t/{SLUG}/renewals/?window=overdue")
    expect(page.get_by_test_id("renewal-count-overdue")).to_have_text("0")
    expect(page.get_by_test_id("renewal-count-won")).to_have_text("0")

    assert errors == []

    with tenant_context(tenant):
        account.refresh_from_db()
        renewed = Subscription.objects.get(renews_from=subscription)
        deal = Opportunity.objects.select_related("stage").get(pk=subscription.renewal_opportunity_id)
        changes = list(LifecycleChange.objects.filter(account=account).values_list("to_stage", flat=True))
        health = HealthScore.objects.get(account=account)
    assert deal.stage.kind == StageKind.WON
    assert (renewed.plan, renewed.mrr, renewed.start_date) == (PLAN, Decimal("2000.00"), end)
    assert renewed.end_date == add_months(end, 12)
    assert account.lifecycle_stage == LifecycleStageName.RETENTION
    assert LifecycleStageName.CHURN not in changes
    assert health.score == 61 and health.at_risk_since is None


@pytest.mark.browser
def test_cs_manager_in_chinese_sees_the_renewal_and_the_churning_account(
    page: Page, live_url: str, screenshot
) -> None:
    """The same first steps for a CS member whose language is 中文: the renewals page and the account's panels."""
    _tenant, account, _subscription = _customer_success_tenant()
    errors = _console_errors(page)
    _log_in(page, CS_ZH_EMAIL)
    page.goto(f"/t/{SLUG}/renewals/?window=overdue")
    expect(page.get_by_role("heading", name="续约", level=1)).to_be_visible()
    row = page.get_by_test_id("renewal-row").filter(has_text=ACCOUNT)
    expect(row.locator(".health-badge")).to_have_text("13")
    screenshot(page, "renewals in chinese")
    row.get_by_role("link", name=ACCOUNT).click()
    expect(page).to_have_url(f"{live_url}/t/{SLUG}/accounts/{account.pk}/")
    expect(page.get_by_test_id("lifecycle-stage-now")).to_have_text("流失")
    expect(page.get_by_test_id("health-at-risk")).to_have_text("流失风险")
    screenshot(page, "account in chinese")
    assert errors == []
