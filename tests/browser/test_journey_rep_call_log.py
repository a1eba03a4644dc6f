"""Issue 12, "What reps expect from a call log", in the browser: a rep logs a call with its outcome and minutes from
the keyboard (the outcome shows for calls only) and the timeline says "Call · connected · 12 min"; the board's
cards show the next step and the days in the current stage (0 after a drag); a task on the home page opens its
deal; signing up a second company while logged in asks only for the company. English and 中文, no console error.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import ConsoleMessage, Locator, Page, expect

from accounts.models import ActivityKind, Opportunity, StageChange
from accounts.services import accounts as accounts_services
from accounts.services import activities as activities_services
from accounts.services import opportunities as opportunities_services
from crm import services as crm_services
from crm.models import Role, Tenant, User
from crm.tenancy import tenant_context
from tests.factories import PASSWORD, MembershipFactory, UserFactory

SLUG = "lumen"
REP_EMAIL = "rui.rep@lumen.test"


def _console_errors(page: Page) -> list[str]:
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _tenant() -> tuple[Tenant, User]:
    tenant = crm_services.tenant_create(
        slug=SLUG,
        name="Lumen Optics 流明光学",
        time_zone="Europe/Berlin",
        currency="EUR",
        admin_email="admin@lumen.test",
        admin_password=PASSWORD,
        admin_name="Ada Admin",
    )
    rep = UserFactory(email=REP_EMAIL, full_name="Rui Rep")
    MembershipFactory(tenant=tenant, role=Role.SALES_REP, user=rep)
    return tenant, rep


def _deal(tenant: Tenant, rep: User, *, name: str, stage: str, **fields: object) -> Opportunity:
    with tenant_context(tenant):
        account = accounts_services.account_create(tenant=tenant, actor=rep, name=f"{name} GmbH", owner=rep)
        return opportunities_services.opportunity_create(
            tenant=tenant,
            actor=rep,
            account=account,
            name=name,
            amount=Decimal("48000"),
            stage=stage,
            **fields,
        )


def _log_in(page: Page, email: str) -> None:
    page.goto(f"/login/?next=/t/{SLUG}/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()


def _switch_to_chinese(page: Page) -> None:
    page.get_by_test_id("language-switcher").get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")


def _drag(page: Page, card: Locator, target: Locator) -> None:
    """The real mouse in small steps, as in the sales journey (SortableJS needs the pointer to travel)."""
    expect(target).to_have_attribute("data-sortable", "1")
    card.scroll_into_view_if_needed()
    start = card.bounding_box()
    end = target.bounding_box()
    assert start and end
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + 12)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 10, start["y"] + 20, steps=5)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 20, steps=20)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 30, steps=5)
    page.mouse.up()


@pytest.mark.browser
def test_rep_logs_a_call_outcome_from_the_keyboard_and_the_timeline_says_it(
    page: Page, live_url: str, screenshot
) -> None:
    tenant, rep = _tenant()
    deal = _deal(tenant, rep, name="Spectrometer fleet", stage="Proposal")
    errors = _console_errors(page)
    _log_in(page, REP_EMAIL)
    page.goto(f"/t/{SLUG}/deals/{deal.pk}/")
    quick = page.get_by_test_id("quick-log")
    outcome = quick.get_by_test_id("quick-log-outcome")
    # "Call" is the default kind: its outcome and minutes are shown; other kinds hide them.
    expect(outcome).to_be_visible()
    quick.locator('label[for="timeline-kind-note"]').click()
    expect(outcome).to_be_hidden()
    quick.locator('label[for="timeline-kind-call"]').click()
    expect(outcome).to_be_visible()
    # Keyboard only: focus the outcome, pick with the arrow keys, tab to the minutes, type, tab, subject, Enter.
    outcome.focus()
    page.keyboard.press("ArrowDown")  # — -> connected
    expect(outcome).to_have_value("connected")
    page.keyboard.press("Tab")
    expect(quick.get_by_test_id("quick-log-minutes")).to_be_focused()
    page.keyboard.type("12")
    page.keyboard.press("Tab")
    expect(quick.get_by_test_id("quick-log-subject")).to_be_focused()
    page.keyboard.type("Budget confirmed")
    screenshot(page, "quick log call outcome en")
    page.keyboard.press("Enter")
    first = page.get_by_test_id("timeline-activity").first
    expect(first.get_by_test_id("timeline-activity-kind")).to_have_text("Call · connected · 12 min")
    expect(first).to_contain_text("Budget confirmed")
    # The fresh form is back to a call with no outcome.
    expect(page.get_by_test_id("quick-log-outcome")).to_have_value("")
    screenshot(page, "timeline call outcome en")

    _switch_to_chinese(page)
    expect(
        page.get_by_test_id("timeline-activity").first.get_by_test_id("timeline-activity-kind")
    ).to_have_text("电话 · 已接通 · 12 分钟")
    page.get_by_test_id("quick-log-outcome").select_option("no_answer")
    expect(page.get_by_test_id("quick-log-outcome")).to_contain_text("无人接听")
    screenshot(page, "quick log call outcome zh")
    page.get_by_test_id("quick-log-submit").click()
    expect(
        page.get_by_test_id("timeline-activity").first.get_by_test_id("timeline-activity-kind")
    ).to_have_text("电话 · 无人接听")
    screenshot(page, "timeline call outcome zh")
    assert errors == []


@pytest.mark.browser
def test_board_cards_show_next_step_and_days_in_stage_and_home_tasks_open_their_deal(
    page: Page, live_url: str, screenshot
) -> None:
    tenant, rep = _tenant()
    stale = _deal(tenant, rep, name="Laser line", stage="Qualification", next_step="Book the plant visit")
    _deal(tenant, rep, name="Lens coating", stage="Proposal", next_step="Send the revised quote")
    with tenant_context(tenant):
        # Noon of the 40th local day back: a plain "now - 40 days" lands on the 39th local day when the test
        # runs in the last hour before Berlin's midnight, the summer time offset being an hour longer.
        berlin = ZoneInfo("Europe/Berlin")
        forty_days_ago = timezone.localdate(timezone=berlin) - dt.timedelta(days=40)
        StageChange.objects.filter(opportunity=stale).update(
            changed_at=dt.datetime.combine(forty_days_ago, dt.time(12), tzinfo=berlin)
        )
        activities_services.activity_log(
            tenant=tenant,
            actor=rep,
            kind=ActivityKind.TASK,
            subject="Prepare the pilot plan",
            opportunity=stale,
            due_at=timezone.now() + dt.timedelta(days=2),
        )
    errors = _console_errors(page)
    _log_in(page, REP_EMAIL)

    # Home: the task opens its deal.
    page.get_by_test_id("home-tasks").get_by_role("link", name="Prepare the pilot plan").click()
    expect(page.get_by_test_id("deal-title")).to_have_text("Laser line")
    expect(page.get_by_test_id("deal-next-step")).to_contain_text("Book the plant visit")
    screenshot(page, "deal page next step en")

    page.goto(f"/t/{SLUG}/deal-board/")
    card = page.locator(f"#board-card-{stale.pk}")
    expect(card.get_by_test_id("board-card-next-step")).to_contain_text("Book the plant visit")
    expect(card.get_by_test_id("board-card-days")).to_have_text("40 d")
    screenshot(page, "board cards en")
    target = page.get_by_test_id("board-column").filter(
        has=page.get_by_role("heading", name="Needs analysis", exact=True)
    )
    with page.expect_response(re.compile(r"/deals/\d+/move/")):
        _drag(page, card, target.locator(".board-cards"))
    moved = target.locator(f"#board-card-{stale.pk}")
    expect(moved.get_by_test_id("board-card-days")).to_have_text("0 d")
    expect(moved.get_by_test_id("board-card-next-step")).to_contain_text("Book the plant visit")

    _switch_to_chinese(page)
    expect(page.locator(f"#board-card-{stale.pk}").get_by_test_id("board-card-days")).to_have_text("0 天")
    screenshot(page, "board cards zh")
    page.goto(f"/t/{SLUG}/deals/{stale.pk}/")
    expect(page.get_by_test_id("deal-next-step")).to_contain_text("Book the plant visit")
    screenshot(page, "deal page next step zh")
    assert errors == []


@pytest.mark.browser
def test_a_logged_in_admin_adds_a_second_company_giving_only_its_name(
    page: Page, live_url: str, screenshot
) -> None:
    _tenant()
    errors = _console_errors(page)
    _log_in(page, "admin@lumen.test")
    page.get_by_test_id("tenant-switcher").get_by_role("button").click()
    page.get_by_test_id("new-company").click()
    form = page.get_by_test_id("company-signup-form")
    expect(form.get_by_label("Company name")).to_be_focused()
    expect(form.locator('[name="admin_email"]')).to_have_count(0)
    expect(form.locator('[name="admin_password"]')).to_have_count(0)
    expect(page.get_by_test_id("signup-settings")).to_contain_text("Lumen Optics 流明光学")
    screenshot(page, "signup second company en")
    _switch_to_chinese(page)
    expect(page.get_by_role("heading", name="添加公司")).to_be_visible()
    screenshot(page, "signup second company zh")
    form = page.get_by_test_id("company-signup-form")
    form.locator('[name="company_name"]').fill("Lumen Asia 流明亚洲")
    form.locator('[name="slug"]').fill("lumen-asia")
    page.get_by_test_id("company-signup-submit").click()
    expect(page).to_have_url(f"{live_url}/t/lumen-asia/")
    with tenant_context(Tenant.objects.get(slug="lumen-asia")):
        created = Tenant.objects.get(slug="lumen-asia")
    assert (created.time_zone, created.currency) == ("Europe/Berlin", "EUR")
    assert errors == []
