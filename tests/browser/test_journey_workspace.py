"""Issue 12 journeys in the browser: the quick log refuses an empty call and, after a real one, the lead page's
header, status track, status card and "last activity" follow without a reload (item 5); "Mark won" asks first and
the message after it reopens the deal (item 7); My tasks shows counts per bucket and "Show more" (item 3)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Activity, ActivityKind, Opportunity, Stage
from accounts.services import accounts as accounts_services
from accounts.services import opportunities as opportunities_services
from crm import services as crm_services
from crm.dates import tenant_today
from crm.models import Role, Tenant, User
from crm.tenancy import tenant_context
from leads.models import Lead, LeadStatus
from tests.factories import PASSWORD, LeadFactory, MembershipFactory, UserFactory

SLUG = "harbor"
REP_EMAIL = "rita.rep@harbor.test"


def _tenant() -> tuple[Tenant, User]:
    tenant = crm_services.tenant_create(
        slug=SLUG,
        name="Harbor Trading",
        time_zone="Asia/Shanghai",
        currency="CNY",
        admin_email="admin@harbor.test",
        admin_password=PASSWORD,
        admin_name="Ada Admin",
    )
    rep = UserFactory(email=REP_EMAIL, full_name="Rita Rep")
    MembershipFactory(tenant=tenant, role=Role.SALES_REP, user=rep)
    return tenant, rep


def _log_in(page: Page) -> None:
    page.goto(f"/login/?next=/t/{SLUG}/")
    page.get_by_label("Email").fill(REP_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()


@pytest.mark.browser
def test_quick_log_refuses_nothing_typed_and_the_lead_page_follows_a_call(
    page: Page, live_url: str, screenshot
) -> None:
    tenant, rep = _tenant()
    lead = LeadFactory(tenant=tenant, owner=rep, first_name="Wei", last_name="Zhang", status=LeadStatus.NEW)
    _log_in(page)
    page.goto(f"/t/{SLUG}/leads/{lead.pk}/")
    page.wait_for_load_state()
    expect(page.get_by_test_id("lead-status")).to_have_text("New")
    expect(page.get_by_test_id("lead-last-activity")).to_have_text("—")
    page.evaluate("window.journeyMarker = 'same page'")

    # Log with nothing typed: a clear error, nothing saved.
    quick_log = page.get_by_test_id("quick-log")
    quick_log.get_by_test_id("quick-log-submit").click()
    expect(page.get_by_test_id("quick-log")).to_contain_text("Say what happened: type a subject or notes.")
    expect(page.get_by_test_id("timeline-activity")).to_have_count(0)
    screenshot(page, "empty quick log refused")

    # A real call: the timeline, and the header, track, status card and last activity follow.
    page.get_by_test_id("quick-log-subject").fill("Discovery call")
    page.get_by_test_id("quick-log-submit").click()
    expect(page.get_by_test_id("timeline-activity").filter(has_text="Discovery call")).to_be_visible()
    expect(page.get_by_test_id("lead-status")).to_have_text("Working")
    expect(page.locator("#lead-steps .lead-step.current")).to_contain_text("Working")
    expect(page.locator("#lead-status-card select[name=status]")).to_have_value("working")
    expect(page.get_by_test_id("lead-last-activity")).not_to_have_text("—")
    assert page.evaluate("window.journeyMarker") == "same page"
    screenshot(page, "call logged, lead page updated")
    with tenant_context(tenant):
        assert list(Activity.objects.filter(lead=lead).values_list("subject", flat=True)) == [
            "Discovery call"
        ]
        assert Lead.objects.get(pk=lead.pk).status == LeadStatus.WORKING


@pytest.mark.browser
def test_mark_won_asks_first_and_can_be_reopened(page: Page, live_url: str, screenshot) -> None:
    tenant, rep = _tenant()
    with tenant_context(tenant):
        account = accounts_services.account_create(tenant=tenant, actor=rep, name="Lakeside Foods", owner=rep)
        proposal = Stage.objects.get(pipeline__is_default=True, name="Proposal")
        deal = opportunities_services.opportunity_create(
            tenant=tenant,
            actor=rep,
            account=account,
            owner=rep,
            stage=proposal,
            name="Cold chain",
            amount=Decimal("20000"),
        )
    _log_in(page)
    page.goto(f"/t/{SLUG}/deals/{deal.pk}/")
    page.wait_for_load_state()
    asked = []

    def dismiss(dialog):  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_test_id("deal-won").click()
    expect(page.get_by_test_id("deal-stage")).to_have_text("Proposal")
    assert asked == ["Mark this deal won? It closes the deal; you can reopen it right after."]

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("deal-won").click()
    offer = page.get_by_test_id("deal-won-undo")
    expect(offer).to_contain_text("“Cold chain” is won. Congratulations!")
    expect(page.get_by_test_id("deal-stage")).to_have_text("Closed won")
    screenshot(page, "won with the reopen offer")
    offer.get_by_test_id("deal-reopen").click()
    expect(page.get_by_test_id("deal-stage")).to_have_text("Proposal")
    expect(page.get_by_test_id("deal-won-undo")).to_have_count(0)
    screenshot(page, "reopened")
    with tenant_context(tenant):
        deal = Opportunity.objects.get(pk=deal.pk)
        assert deal.stage_id == proposal.pk and deal.closed_at is None


@pytest.mark.browser
def test_my_tasks_counts_and_show_more(page: Page, live_url: str, screenshot) -> None:
    tenant, rep = _tenant()
    today = tenant_today(tenant)
    with tenant_context(tenant):
        account = accounts_services.account_create(tenant=tenant, actor=rep, name="Lakeside Foods", owner=rep)
        Activity.objects.bulk_create(
            Activity(
                tenant=tenant,
                kind=ActivityKind.TASK,
                subject=f"Follow up {n:03d}",
                owner=rep,
                account=account,
                done=False,
                due_at=datetime.datetime.combine(
                    today + datetime.timedelta(days=2 + n % 20), datetime.time(10, 0, tzinfo=tenant.tzinfo)
                ),
            )
            for n in range(45)
        )
    _log_in(page)
    page.goto(f"/t/{SLUG}/tasks/")
    page.wait_for_load_state()
    upcoming = page.get_by_test_id("tasks-upcoming")
    expect(upcoming.get_by_test_id("tasks-count")).to_have_text("45")
    expect(upcoming.get_by_test_id("task-row")).to_have_count(20)
    upcoming.get_by_test_id("tasks-show-more").click()
    expect(upcoming.get_by_test_id("task-row")).to_have_count(40)
    upcoming.get_by_test_id("tasks-show-more").click()
    expect(upcoming.get_by_test_id("task-row")).to_have_count(45)
    expect(upcoming.get_by_test_id("tasks-show-more")).to_have_count(0)
    screenshot(page, "all upcoming tasks shown")
