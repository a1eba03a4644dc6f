"""Sales journeys (issue 3): a rep works a lead into a won deal; a stale edit of a deal shows a conflict that
loses nothing; stale leads return to the public pool, a manager watches it and a rep claims up to the cap.

Who edits whose deal follows DESIGN.md "Roles and visibility" as accounts.selectors.visibility.DealAccess implements
it: a sales rep edits only the deals they own (another rep sees a shared account's deals read only), a sales
manager edits the deals of their team. So the "second person" of the stale-edit journey is the rep's manager.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from accounts.models import (
    Activity,
    ActivityKind,
    ForecastCategory,
    Opportunity,
    Stage,
    StageChange,
    StageKind,
)
from accounts.services import accounts as accounts_services
from accounts.services import opportunities as opportunities_services
from crm import services as crm_services
from crm.models import Role, Tenant, User
from crm.tenancy import tenant_context
from leads.models import Lead, LeadPoolEvent, LeadStatus, PoolEventKind
from leads.tasks import return_stale_leads_to_pool
from tests.factories import (
    PASSWORD,
    LeadFactory,
    LeadSettingsFactory,
    MembershipFactory,
    TeamFactory,
    UserFactory,
)

SLUG = "northwind"
REP_NAME = "Rita Rep"
REP_EMAIL = "rita.rep@northwind.test"
MANAGER_NAME = "Max Manager"
MANAGER_EMAIL = "max.manager@northwind.test"


# --- set-up -------------------------------------------------------------------------------------------------------


def _sales_tenant() -> Tenant:
    """A tenant (with its default `Sales` pipeline) and the East team: a rep and their sales manager."""
    tenant = crm_services.tenant_create(
        slug=SLUG,
        name="Northwind Traders",
        time_zone="Asia/Shanghai",
        currency="CNY",
        admin_email="admin@northwind.test",
        admin_password=PASSWORD,
        admin_name="Ada Admin",
    )
    team = TeamFactory(tenant=tenant, name="East")
    MembershipFactory(
        tenant=tenant,
        team=team,
        role=Role.SALES_REP,
        user=UserFactory(email=REP_EMAIL, full_name=REP_NAME),
    )
    MembershipFactory(
        tenant=tenant,
        team=team,
        role=Role.SALES_MANAGER,
        user=UserFactory(email=MANAGER_EMAIL, full_name=MANAGER_NAME),
    )
    return tenant


def _stage(tenant: Tenant, name: str) -> Stage:
    with tenant_context(tenant):
        return Stage.objects.select_related("pipeline").get(pipeline__is_default=True, name=name)


def _deal(tenant: Tenant, *, owner: User, account_name: str, stage: str, **fields: object) -> Opportunity:
    """A deal created the way the app creates one (the service records its first stage change)."""
    with tenant_context(tenant):
        account = accounts_services.account_create(tenant=tenant, actor=owner, name=account_name, owner=owner)
        return opportunities_services.opportunity_create(
            tenant=tenant, actor=owner, account=account, owner=owner, stage=_stage(tenant, stage), **fields
        )


def _log_in(page: Page, email: str) -> None:
    page.goto(f"/login/?next=/t/{SLUG}/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()


def _sidebar(page: Page) -> Locator:
    return page.get_by_role("complementary")


def _column(page: Page, stage_name: str) -> Locator:
    return page.get_by_test_id("board-column").filter(
        has=page.get_by_role("heading", name=stage_name, exact=True)
    )


def _column_totals(column: Locator) -> Locator:
    return column.locator("[data-stage-totals]")


def _drag(page: Page, card: Locator, target: Locator) -> None:
    """Drag with the real mouse in small steps, as a person does: SortableJS needs the pointer to travel over the
    target list (its native HTML5 drag events come from Chromium itself)."""
    expect(target).to_have_attribute("data-sortable", "1")  # board.js has made the lists sortable
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


# --- journey 1 ----------------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_rep_logs_a_call_converts_the_lead_drags_the_deal_to_proposal_and_wins_it(
    page: Page, live_url: str, screenshot
) -> None:
    tenant = _sales_tenant()
    rep = User.objects.get(email=REP_EMAIL)
    lead = LeadFactory(
        tenant=tenant,
        owner=rep,
        first_name="Wei",
        last_name="Zhang",
        email="wei.zhang@harbor-robotics.example",
        company="Harbor Robotics",
        title="Head of Operations",
        status=LeadStatus.WORKING,
    )
    # A deal already in Proposal, so the column totals show a change, not only a first value.
    _deal(
        tenant,
        owner=rep,
        account_name="Lakeside Foods",
        stage="Proposal",
        name="Lakeside Foods – cold chain",
        amount=Decimal("20000.00"),
    )

    # 1. The rep logs in and opens the lead from their inbox.
    _log_in(page, REP_EMAIL)
    _sidebar(page).get_by_role("link", name="Leads", exact=True).click()
    page.get_by_role("link", name="Wei Zhang").first.click()
    expect(page).to_have_url(f"{live_url}/t/{SLUG}/leads/{lead.pk}/")
    expect(page.get_by_test_id("lead-name")).to_have_text("Wei Zhang")
    expect(page.get_by_test_id("timeline-activity")).to_have_count(0)
    page.wait_for_load_state()  # htmx is in place: the quick log answers in the page
    screenshot(page, "lead page")

    # 2. Log a call: the kind (Call), a subject, Log — the timeline shows it without a reload.
    quick_log = page.get_by_test_id("quick-log")
    quick_log.get_by_text("Call", exact=True).click()
    quick_log.get_by_test_id("quick-log-subject").fill("Discovery call: 40 robots for the Ningbo plant")
    page.evaluate("window.journeyMarker = 'same page'")
    quick_log.get_by_test_id("quick-log-submit").click()
    call = page.get_by_test_id("timeline-activity").filter(has_text="Discovery call: 40 robots")
    expect(call).to_be_visible()
    assert page.evaluate("window.journeyMarker") == "same page"  # swapped in by htmx, no reload
    expect(call).to_contain_text("Call")
    expect(call).to_contain_text(REP_NAME)
    expect(page.get_by_test_id("quick-log-subject")).to_have_value("")
    screenshot(page, "call logged on the lead")

    # 3. Convert: account, contact and deal in one step.
    page.get_by_test_id("lead-convert").click()
    form = page.get_by_test_id("convert-form")
    expect(form.get_by_label("Account name")).to_have_value("Harbor Robotics")
    form.get_by_label("Deal name").fill("Harbor Robotics – 40 robots")
    form.get_by_label("Amount").fill("120000")
    form.get_by_label("Expected close date").fill((timezone.localdate() + dt.timedelta(days=45)).isoformat())
    screenshot(page, "convert form")
    form.get_by_test_id("convert-submit").click()

    # The lead now links to what it became.
    expect(page).to_have_url(f"{live_url}/t/{SLUG}/leads/{lead.pk}/")
    expect(page.get_by_test_id("lead-status")).to_have_text("Converted")
    converted = page.get_by_test_id("lead-converted")
    expect(converted.get_by_role("link", name="Harbor Robotics", exact=True)).to_have_attribute(
        "href", re.compile(rf"/t/{SLUG}/accounts/\d+/$")
    )
    expect(converted.get_by_role("link", name="Wei Zhang")).to_have_attribute(
        "href", re.compile(rf"/t/{SLUG}/contacts/\d+/$")
    )
    deal_link = converted.get_by_role("link", name="Harbor Robotics – 40 robots")
    expect(deal_link).to_have_attribute("href", re.compile(rf"/t/{SLUG}/deals/\d+/$"))
    expect(page.get_by_test_id("timeline-activity").filter(has_text="Discovery call")).to_be_visible()
    screenshot(page, "lead converted")
    with tenant_context(tenant):
        deal = Opportunity.objects.get(lead=lead)

    # 4. The deal board: the new deal sits in the first stage.
    _sidebar(page).get_by_role("link", name="Deal board").click()
    card = page.get_by_test_id("board-card").filter(has_text="Harbor Robotics – 40 robots")
    qualification, proposal = _column(page, "Qualification"), _column(page, "Proposal")
    expect(qualification.get_by_test_id("board-card")).to_have_count(1)
    expect(qualification).to_contain_text("Harbor Robotics – 40 robots")
    expect(_column_totals(qualification).locator('[data-total="count"]')).to_have_text("1")
    expect(_column_totals(qualification).locator('[data-total="amount"]')).to_have_text("120,000")
    expect(_column_totals(proposal).locator('[data-total="count"]')).to_have_text("1")
    expect(_column_totals(proposal).locator('[data-total="amount"]')).to_have_text("20,000")
    expect(_column_totals(proposal).locator('[data-total="weighted"]')).to_have_text("10,000")
    screenshot(page, "board before the drag")

    # 5. Drag the card onto Proposal: the card moves, the totals follow, the board says so. The move goes through
    # htmx and comes back as out-of-band swaps (HTML, not JSON).
    with page.expect_response(re.compile(r"/deals/\d+/move/")) as move:
        _drag(page, card, proposal.locator(".board-cards"))
    assert move.value.request.headers.get("hx-request") == "true"
    assert move.value.headers["content-type"].startswith("text/html")
    expect(page.get_by_test_id("board-status")).to_contain_text("moved to Proposal")
    expect(proposal.get_by_test_id("board-card")).to_have_count(2)
    expect(proposal).to_contain_text("Harbor Robotics – 40 robots")
    expect(qualification.get_by_test_id("board-card")).to_have_count(0)
    expect(_column_totals(qualification).locator('[data-total="count"]')).to_have_text("0")
    expect(_column_totals(qualification).locator('[data-total="amount"]')).to_have_text("0")
    expect(_column_totals(proposal).locator('[data-total="count"]')).to_have_text("2")
    expect(_column_totals(proposal).locator('[data-total="amount"]')).to_have_text("140,000")
    expect(_column_totals(proposal).locator('[data-total="weighted"]')).to_have_text("70,000")
    screenshot(page, "board after the drag")
    page.reload()  # the move is stored, not only drawn
    expect(_column(page, "Proposal")).to_contain_text("Harbor Robotics – 40 robots")
    expect(_column_totals(_column(page, "Proposal")).locator('[data-total="count"]')).to_have_text("2")

    # 6. Open the deal and mark it won.
    page.get_by_role("link", name="Harbor Robotics – 40 robots").click()
    expect(page).to_have_url(f"{live_url}/t/{SLUG}/deals/{deal.pk}/")
    expect(page.get_by_test_id("deal-stage")).to_have_text("Proposal")
    primary = page.get_by_test_id("deal-contact").filter(has_text="Wei Zhang")
    expect(primary).to_contain_text("Primary")
    screenshot(page, "deal page in proposal")
    page.once("dialog", lambda dialog: dialog.accept())  # Mark won asks first (issue 12 item 7)
    page.get_by_test_id("deal-won").click()
    expect(page.get_by_role("alert").filter(has_text="is won")).to_be_visible()
    expect(page.get_by_test_id("deal-stage")).to_have_text("Closed won")
    history = page.get_by_test_id("stage-change")
    expect(history).to_have_count(3)
    for row, (from_stage, to_stage) in zip(
        (history.nth(0), history.nth(1), history.nth(2)),
        (("Proposal", "Closed won"), ("Qualification", "Proposal"), ("—", "Qualification")),
        strict=True,
    ):
        expect(row.locator("td").nth(1)).to_have_text(from_stage)
        expect(row.locator("td").nth(2)).to_have_text(to_stage)
        expect(row.locator("td").nth(5)).to_have_text(REP_NAME)
    screenshot(page, "deal won with stage history")

    # 7. The database agrees.
    with tenant_context(tenant):
        deal = Opportunity.objects.select_related("stage", "account").get(pk=deal.pk)
        lead = Lead.objects.get(pk=lead.pk)
        changes = list(
            StageChange.objects.filter(opportunity=deal)
            .select_related("from_stage", "to_stage")
            .order_by("changed_at", "id")
        )
        call = Activity.objects.get(lead=lead)
        contact_email = lead.converted_contact.email
        deal_contacts = list(deal.contact_roles.values_list("contact_id", "is_primary"))
    assert (deal.stage.name, deal.stage.kind) == ("Closed won", StageKind.WON)
    assert deal.closed_at is not None
    assert deal.owner_id == rep.pk
    assert deal.amount == Decimal("120000.00")
    assert [(c.from_stage and c.from_stage.name, c.to_stage.name) for c in changes] == [
        (None, "Qualification"),
        ("Qualification", "Proposal"),
        ("Proposal", "Closed won"),
    ]
    assert {c.actor_id for c in changes} == {rep.pk}
    assert lead.status == LeadStatus.CONVERTED and lead.converted_at is not None
    assert lead.converted_opportunity_id == deal.pk
    assert lead.converted_account_id == deal.account_id and deal.account.name == "Harbor Robotics"
    assert contact_email == lead.email
    assert deal_contacts == [(lead.converted_contact_id, True)]
    assert (call.kind, call.owner_id, call.account_id) == (ActivityKind.CALL, rep.pk, deal.account_id)


def _rep_opens_the_board_with_a_deal(
    page: Page, *, name: str, amount: str
) -> tuple[Tenant, User, Opportunity]:
    """The sales tenant with one Qualification deal of the rep (account Harbor Robotics), the rep on the board."""
    tenant = _sales_tenant()
    rep = User.objects.get(email=REP_EMAIL)
    deal = _deal(
        tenant,
        owner=rep,
        account_name="Harbor Robotics",
        stage="Qualification",
        name=name,
        amount=Decimal(amount),
    )
    _log_in(page, REP_EMAIL)
    _sidebar(page).get_by_role("link", name="Deal board").click()
    return tenant, rep, deal


@pytest.mark.browser
def test_a_stale_board_move_puts_the_card_back_and_says_so(page: Page, live_url: str, screenshot) -> None:
    """The board posts through htmx; a 409 (someone changed the deal since the board was drawn) swaps nothing:
    the card goes back, the status line explains, the board reloads with the current deal."""
    tenant, rep, deal = _rep_opens_the_board_with_a_deal(page, name="Harbor – 40 robots", amount="120000")
    qualification, proposal = _column(page, "Qualification"), _column(page, "Proposal")
    expect(qualification.get_by_test_id("board-card")).to_have_count(1)
    with tenant_context(tenant):  # renamed meanwhile (another tab): the board's version is stale
        opportunities_services.opportunity_update(
            tenant=tenant, actor=rep, opportunity=deal, version=deal.version, name="Harbor – 45 robots"
        )
    card = page.get_by_test_id("board-card").filter(has_text="Harbor – 40 robots")
    with page.expect_response(re.compile(r"/deals/\d+/move/")) as move:
        _drag(page, card, proposal.locator(".board-cards"))
    assert move.value.status == 409
    expect(page.get_by_test_id("board-status")).to_contain_text("Someone else changed this deal")
    expect(qualification.get_by_test_id("board-card")).to_have_count(1)
    expect(qualification).to_contain_text("Harbor – 45 robots")  # the board reloaded
    expect(proposal.get_by_test_id("board-card")).to_have_count(0)
    expect(_column_totals(proposal).locator('[data-total="count"]')).to_have_text("0")
    screenshot(page, "stale move put back")
    with tenant_context(tenant):
        assert Opportunity.objects.get(pk=deal.pk).stage.name == "Qualification"


@pytest.mark.browser
def test_a_board_move_into_lost_asks_why_first(new_context, live_url: str, screenshot) -> None:
    """Dropping a card on the lost column opens the reason modal: cancelling puts the card back, a reason moves it
    (through htmx, the totals follow)."""
    page = new_context(viewport={"width": 2000, "height": 900}).new_page()  # all six columns on screen
    tenant, rep, deal = _rep_opens_the_board_with_a_deal(page, name="Harbor", amount="9000")
    qualification, lost = _column(page, "Qualification"), _column(page, "Closed lost")
    card = page.get_by_test_id("board-card").filter(has_text="Harbor")
    _drag(page, card, lost.locator(".board-cards"))
    modal = page.get_by_test_id("lost-modal")
    expect(modal).to_be_visible()
    modal.get_by_role("button", name="Cancel").last.click()
    expect(modal).to_be_hidden()
    expect(qualification.get_by_test_id("board-card")).to_have_count(1)  # back where it was
    _drag(page, card, lost.locator(".board-cards"))
    expect(modal).to_be_visible()
    page.get_by_test_id("lost-reason").select_option("No budget")
    with page.expect_response(re.compile(r"/deals/\d+/move/")) as move:
        page.get_by_test_id("lost-submit").click()
    assert move.value.status == 200 and move.value.request.headers.get("hx-request") == "true"
    expect(page.get_by_test_id("board-status")).to_contain_text("moved to Closed lost")
    expect(lost.get_by_test_id("board-card")).to_have_count(1)
    expect(_column_totals(lost).locator('[data-total="count"]')).to_have_text("1")
    expect(_column_totals(qualification).locator('[data-total="count"]')).to_have_text("0")
    expect(page.locator(".modal-backdrop")).to_have_count(0)
    screenshot(page, "moved to lost with a reason")
    with tenant_context(tenant):
        moved = Opportunity.objects.select_related("stage").get(pk=deal.pk)
        assert moved.stage.kind == StageKind.LOST and moved.lost_reason == "No budget"


# --- journey 2 ----------------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_managers_stale_edit_of_a_deal_shows_the_conflict_and_loses_nothing(
    new_context, live_url: str, screenshot
) -> None:
    tenant = _sales_tenant()
    rep = User.objects.get(email=REP_EMAIL)
    deal = _deal(
        tenant,
        owner=rep,
        account_name="Blue River Logistics",
        stage="Needs analysis",
        name="Blue River – fleet tracking",
        amount=Decimal("50000.00"),
        forecast_category=ForecastCategory.PIPELINE,
        expected_close_date=timezone.localdate() + dt.timedelta(days=60),
    )
    start_version = deal.version
    url = f"/t/{SLUG}/deals/{deal.pk}/"

    rep_page = new_context().new_page()
    manager_page = new_context().new_page()
    _log_in(rep_page, REP_EMAIL)
    _log_in(manager_page, MANAGER_EMAIL)

    # 1. Both open the deal's edit form at the same version.
    for person in (rep_page, manager_page):
        person.goto(url)
        expect(person.get_by_test_id("deal-edit-form").get_by_label("Amount")).to_have_value("50000.00")
    screenshot(rep_page, "rep opens the deal")
    screenshot(manager_page, "manager opens the same deal")

    # 2. The rep saves first: a new amount and a clearer name.
    rep_form = rep_page.get_by_test_id("deal-edit-form")
    rep_form.get_by_label("Name").fill("Blue River – fleet tracking, 300 trucks")
    rep_form.get_by_label("Amount").fill("65000")
    rep_form.get_by_test_id("deal-save").click()
    expect(rep_page.get_by_role("alert").filter(has_text="Deal saved.")).to_be_visible()
    expect(rep_page.get_by_test_id("deal-title")).to_have_text("Blue River – fleet tracking, 300 trucks")
    screenshot(rep_page, "rep saved")

    # 3. The manager, still on the old version, saves a different amount and a forecast category.
    manager_form = manager_page.get_by_test_id("deal-edit-form")
    manager_form.get_by_label("Amount").fill("60000")
    manager_form.get_by_label("Forecast category").select_option(ForecastCategory.COMMIT)
    manager_form.get_by_test_id("deal-save").click()

    # They see the conflict with both versions ...
    panel = manager_page.get_by_test_id("conflict-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("This deal changed while you were editing")
    amount_row = panel.get_by_role("row").filter(has=manager_page.get_by_role("rowheader", name="Amount"))
    expect(amount_row.get_by_test_id("conflict-yours")).to_contain_text("60000")
    expect(amount_row.get_by_test_id("conflict-current")).to_contain_text("65000")
    name_row = panel.get_by_role("row").filter(has=manager_page.get_by_role("rowheader", name="Name"))
    expect(name_row.get_by_test_id("conflict-current")).to_contain_text("300 trucks")
    forecast_row = panel.get_by_role("row").filter(
        has=manager_page.get_by_role("rowheader", name="Forecast category")
    )
    expect(forecast_row.get_by_test_id("conflict-yours")).to_contain_text("Commit")
    expect(forecast_row.get_by_test_id("conflict-current")).to_contain_text("Pipeline")
    # ... and nothing they typed is lost: the form holds their changes on top of the saved version.
    manager_form = manager_page.get_by_test_id("deal-edit-form")
    expect(manager_form.get_by_label("Amount")).to_have_value("60000.00")
    expect(manager_form.get_by_label("Forecast category")).to_have_value(ForecastCategory.COMMIT)
    expect(manager_form.get_by_label("Name")).to_have_value("Blue River – fleet tracking, 300 trucks")
    screenshot(manager_page, "manager sees the conflict")
    with tenant_context(tenant):
        saved = Opportunity.objects.get(pk=deal.pk)
    assert (saved.amount, saved.forecast_category, saved.version) == (
        Decimal("65000.00"),
        ForecastCategory.PIPELINE,
        start_version + 1,
    )

    # 4. They resolve it by saving their changes onto the current version.
    manager_form.get_by_role("button", name="Save my changes onto the current version").click()
    expect(manager_page.get_by_role("alert").filter(has_text="Deal saved.")).to_be_visible()
    expect(manager_page.get_by_test_id("conflict-panel")).to_have_count(0)
    expect(manager_page.get_by_test_id("deal-title")).to_have_text("Blue River – fleet tracking, 300 trucks")
    expect(manager_page.get_by_test_id("deal-facts")).to_contain_text("Commit")
    expect(manager_page.get_by_test_id("deal-edit-form").get_by_label("Amount")).to_have_value("60000.00")
    manager_change = manager_page.get_by_test_id("timeline-history").filter(has_text=MANAGER_NAME)
    expect(manager_change).to_contain_text("Forecast category")
    expect(manager_change).to_contain_text("Commit")
    screenshot(manager_page, "manager resolved the conflict")

    with tenant_context(tenant):
        final = Opportunity.objects.get(pk=deal.pk)
    assert final.name == "Blue River – fleet tracking, 300 trucks"  # the rep's change survives
    assert final.amount == Decimal("60000.00")  # the manager's re-applied change
    assert final.forecast_category == ForecastCategory.COMMIT
    assert final.owner_id == rep.pk
    assert final.version == start_version + 2

    # The rep, reloading, sees the merged result.
    rep_page.reload()
    expect(rep_page.get_by_test_id("deal-facts")).to_contain_text("Commit")
    expect(rep_page.get_by_test_id("deal-edit-form").get_by_label("Amount")).to_have_value("60000.00")
    screenshot(rep_page, "rep sees the merged deal")


# --- journey 3 ----------------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_stale_leads_return_to_the_pool_the_manager_watches_it_and_a_rep_claims_up_to_the_cap(
    new_context, live_url: str, screenshot
) -> None:
    tenant = _sales_tenant()
    LeadSettingsFactory(tenant=tenant, pool_window_days=30, pool_claim_cap=2)
    former_owner = MembershipFactory(
        tenant=tenant, team=None, role=Role.SALES_REP, user=UserFactory(full_name="Otto Former")
    ).user
    long_ago = timezone.now() - dt.timedelta(days=45)
    stale = [
        LeadFactory(
            tenant=tenant,
            owner=former_owner,
            first_name=first,
            last_name=last,
            company=company,
            status=status,
            created_at=long_ago,
            assigned_at=long_ago,
            last_activity_at=long_ago + dt.timedelta(days=5),
        )
        for first, last, company, status in (
            ("Anna", "Chen", "Chen Textiles", LeadStatus.WORKING),
            ("Bo", "Liu", "Liu Ceramics", LeadStatus.WORKING),
            ("Chao", "Wang", "Wang Solar", LeadStatus.WORKING),
            ("Dan", "Zhao", "Zhao Packaging", LeadStatus.NEW),
        )
    ]
    worked = LeadFactory(tenant=tenant, owner=former_owner, first_name="Dora", last_name="Fresh")

    # The daily job (a Celery task; in-process here) returns the stale leads, and only those, to the pool.
    assert return_stale_leads_to_pool(tenant.pk) == 4

    # 1. The sales manager watches the pool: its size, the weekly returns, the leads in it.
    manager_page = new_context().new_page()
    _log_in(manager_page, MANAGER_EMAIL)
    _sidebar(manager_page).get_by_role("link", name="Lead pool").click()
    expect(manager_page.get_by_role("heading", name="Lead pool", level=1)).to_be_visible()
    health = manager_page.get_by_test_id("pool-health")
    expect(health).to_contain_text("Leads in the pool")
    expect(health.locator(".kpi-card .value")).to_have_text("4")
    expect(manager_page.get_by_test_id("pool-row")).to_have_count(4)
    expect(manager_page.get_by_test_id("pool-table")).not_to_contain_text("Dora Fresh")
    manager_page.wait_for_load_state()  # htmx is in place: the filter bar answers in the page
    screenshot(manager_page, "manager sees the pool")
    filters = manager_page.get_by_test_id("lead-filters")
    filters.get_by_text("More filters").click()
    filters.get_by_text("Working", exact=True).click()  # a status filter (htmx) narrows the list in place
    expect(manager_page).to_have_url(re.compile(r"status=working"))
    expect(manager_page.get_by_test_id("pool-row")).to_have_count(3)
    expect(manager_page.get_by_test_id("pool-table")).not_to_contain_text("Dan Zhao")
    screenshot(manager_page, "manager filters the pool")

    # 2. The rep claims a lead from the pool; its page says it came back and who took it.
    rep_page = new_context().new_page()
    _log_in(rep_page, REP_EMAIL)
    _sidebar(rep_page).get_by_role("link", name="Lead pool").click()
    expect(rep_page.get_by_test_id("pool-held")).to_contain_text("You hold 0 of 2 claims")
    screenshot(rep_page, "rep sees the pool")
    rep_page.get_by_test_id("pool-row").filter(has_text="Anna Chen").get_by_test_id("pool-claim").click()
    expect(rep_page).to_have_url(f"{live_url}/t/{SLUG}/leads/{stale[0].pk}/")
    expect(rep_page.get_by_role("alert").filter(has_text="You claimed")).to_be_visible()
    expect(rep_page.get_by_test_id("lead-owner")).to_have_text(REP_NAME)
    expect(rep_page.get_by_test_id("timeline")).to_contain_text("Returned to pool after")
    screenshot(rep_page, "rep claimed a lead")

    # 3. A second claim reaches the cap; a third is refused with the reason.
    _sidebar(rep_page).get_by_role("link", name="Lead pool").click()
    expect(rep_page.get_by_test_id("pool-held")).to_contain_text("You hold 1 of 2 claims")
    expect(rep_page.get_by_test_id("pool-row")).to_have_count(3)
    rep_page.get_by_test_id("pool-row").filter(has_text="Bo Liu").get_by_test_id("pool-claim").click()
    expect(rep_page.get_by_test_id("lead-owner")).to_have_text(REP_NAME)
    _sidebar(rep_page).get_by_role("link", name="Lead pool").click()
    expect(rep_page.get_by_test_id("pool-held")).to_contain_text("You hold 2 of 2 claims")
    rep_page.get_by_test_id("pool-row").filter(has_text="Chao Wang").get_by_test_id("pool-claim").click()
    expect(rep_page.get_by_role("alert").filter(has_text="You already hold 2 open leads")).to_be_visible()
    expect(rep_page.get_by_test_id("pool-row").filter(has_text="Chao Wang")).to_be_visible()
    screenshot(rep_page, "rep at the claim cap")

    # 4. The manager (the filter kept in the address) sees the pool shrink and the rep at the cap.
    manager_page.reload()
    expect(manager_page.get_by_test_id("pool-row")).to_have_count(1)
    expect(manager_page.get_by_test_id("pool-row")).to_contain_text("Chao Wang")
    expect(manager_page.get_by_test_id("pool-health").locator(".kpi-card .value")).to_have_text("2")
    rep_row = manager_page.get_by_test_id("pool-per-rep").get_by_role("row").filter(has_text=REP_NAME)
    expect(rep_row).to_contain_text("at cap")
    expect(rep_row.get_by_role("cell").nth(1)).to_have_text("2")
    screenshot(manager_page, "manager sees the claims")

    with tenant_context(tenant):
        leads = {lead.pk: lead for lead in Lead.objects.filter(pk__in=[lead.pk for lead in [*stale, worked]])}
        events = list(LeadPoolEvent.objects.order_by("at", "id").values_list("lead_id", "kind", "user_id"))
    rep = User.objects.get(email=REP_EMAIL)
    assert [leads[lead.pk].owner_id for lead in stale] == [rep.pk, rep.pk, None, None]
    assert leads[stale[2].pk].pooled_at is not None
    assert leads[worked.pk].owner_id == former_owner.pk
    assert sorted(e for e in events if e[1] == PoolEventKind.CLAIMED) == sorted(
        [(stale[0].pk, PoolEventKind.CLAIMED, rep.pk), (stale[1].pk, PoolEventKind.CLAIMED, rep.pk)]
    )
    assert {e[0] for e in events if e[1] == PoolEventKind.RETURNED} == {lead.pk for lead in stale}
