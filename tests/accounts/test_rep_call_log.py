"""Issue 12, "What reps expect from a call log": a call's outcome and duration (service, quick log, timeline, API);
the next step on a deal (services with history, deal page and form, board card, API); days in the current stage
on board cards (from the stage-change history, no query per card); tasks on the home page open their record."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Activity, ActivityKind, CallOutcome, Opportunity, StageChange
from accounts.selectors.history import history_for
from accounts.selectors.opportunity_board import opportunity_board
from accounts.services import activities as activities_services
from accounts.services import opportunities as opportunities_services
from accounts.services.pipelines import pipeline_default
from crm.dates import tenant_today
from crm.models import Role
from crm.tenancy import tenant_context
from tests.factories_deals import deal_account
from tests.factories_leads import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(member):
    return member(role=Role.SALES_REP, team="East")


def _deal(tenant, owner, **fields):
    account = deal_account(tenant, owner=owner, name=fields.pop("account_name", "Huaxin 华信"))
    with tenant_context(tenant):
        return opportunities_services.opportunity_create(
            tenant=tenant,
            actor=owner,
            account=account,
            name=fields.pop("name", "MES rollout"),
            amount=Decimal("1000"),
            **fields,
        )


# --- Call outcome and duration -----------------------------------------------------------------------------------


def test_a_call_keeps_its_outcome_and_duration(tenant, rep):
    deal = _deal(tenant, rep.user)
    with tenant_context(tenant):
        call = activities_services.activity_log(
            tenant=tenant,
            actor=rep.user,
            kind=ActivityKind.CALL,
            subject="Budget call",
            opportunity=deal,
            outcome=CallOutcome.CONNECTED,
            duration_minutes=12,
        )
        call.refresh_from_db()
    assert (call.outcome, call.duration_minutes) == ("connected", 12)


@pytest.mark.parametrize(
    ("kind", "details", "field"),
    [
        (ActivityKind.NOTE, {"outcome": CallOutcome.NO_ANSWER}, "outcome"),
        (ActivityKind.EMAIL, {"duration_minutes": 5}, "duration_minutes"),
        (ActivityKind.CALL, {"outcome": "busy"}, "outcome"),
        (ActivityKind.CALL, {"duration_minutes": 1441}, "duration_minutes"),
        (ActivityKind.CALL, {"duration_minutes": -1}, "duration_minutes"),
    ],
)
def test_call_details_are_refused_off_calls_and_out_of_bounds(tenant, rep, kind, details, field):
    deal = _deal(tenant, rep.user)
    with tenant_context(tenant), pytest.raises(ValidationError) as caught:
        activities_services.activity_log(
            tenant=tenant, actor=rep.user, kind=kind, subject="x", opportunity=deal, **details
        )
    assert field in caught.value.message_dict


def test_duration_bounds_are_inclusive_and_a_call_turned_note_drops_its_details(tenant, rep):
    deal = _deal(tenant, rep.user)
    with tenant_context(tenant):
        for minutes in (0, 1440):
            call = activities_services.activity_log(
                tenant=tenant,
                actor=rep.user,
                kind=ActivityKind.CALL,
                subject="x",
                opportunity=deal,
                duration_minutes=minutes,
            )
            assert call.duration_minutes == minutes
        note = activities_services.activity_update(
            tenant=tenant, actor=rep.user, activity=call, kind=ActivityKind.NOTE
        )
        note.refresh_from_db()
    assert (note.outcome, note.duration_minutes) == ("", None)


def _quick_log(client, tenant, deal, **data):
    url = reverse("accounts:activity-create", kwargs={"slug": tenant.slug})
    payload = {"opportunity": deal.pk, "account": deal.account_id, "timeline_id": "timeline", **data}
    return client.post(url, payload, HTTP_HX_REQUEST="true")


def test_quick_log_saves_the_outcome_and_the_timeline_says_it(tenant, rep, client_for):
    deal = _deal(tenant, rep.user)
    client = client_for(rep)
    response = _quick_log(
        client, tenant, deal, kind="call", subject="Budget", outcome="connected", duration_minutes="12"
    )
    assert response.status_code == 200
    assert "Call · connected · 12 min" in response.content.decode()
    with tenant_context(tenant):
        call = Activity.objects.get(opportunity=deal)
    assert (call.outcome, call.duration_minutes) == ("connected", 12)
    page = client.get(reverse("accounts:opportunity-detail", kwargs={"slug": tenant.slug, "pk": deal.pk}))
    body = page.content.decode()
    assert "Call · connected · 12 min" in body
    assert 'data-testid="quick-log-outcome"' in body


def test_quick_log_an_outcome_alone_is_a_call_and_other_kinds_ignore_the_hidden_call_fields(
    tenant, rep, client_for
):
    deal = _deal(tenant, rep.user)
    client = client_for(rep)
    assert _quick_log(client, tenant, deal, kind="call", outcome="no_answer").status_code == 200
    # The call fields still hold values when the kind is switched to a note: they are not part of the note.
    response = _quick_log(
        client,
        tenant,
        deal,
        kind="note",
        subject="Met at the fair",
        outcome="connected",
        duration_minutes="9",
    )
    assert response.status_code == 200
    with tenant_context(tenant):
        rows = list(Activity.objects.filter(opportunity=deal).order_by("id").values_list("kind", "outcome"))
    assert rows == [("call", "no_answer"), ("note", "")]


def test_quick_log_refuses_a_duration_over_a_day_keeping_what_was_typed(tenant, rep, client_for):
    deal = _deal(tenant, rep.user)
    response = _quick_log(
        client_for(rep), tenant, deal, kind="call", subject="Long one", duration_minutes="1500"
    )
    body = response.content.decode()
    assert "1440" in body
    assert 'value="Long one"' in body
    with tenant_context(tenant):
        assert not Activity.objects.filter(opportunity=deal).exists()


def test_timeline_in_chinese_says_the_outcome(tenant, rep, client_for):
    deal = _deal(tenant, rep.user)
    with tenant_context(tenant):
        activities_services.activity_log(
            tenant=tenant,
            actor=rep.user,
            kind=ActivityKind.CALL,
            subject="预算",
            opportunity=deal,
            outcome=CallOutcome.LEFT_VOICEMAIL,
            duration_minutes=3,
        )
    client = client_for(rep)
    client.cookies["django_language"] = "zh-hans"
    body = client.get(
        reverse("accounts:opportunity-detail", kwargs={"slug": tenant.slug, "pk": deal.pk}),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()
    assert "电话 · 已留言 · 3 分钟" in body


def test_activity_api_reads_writes_and_filters_the_outcome(tenant, rep, api_client_for):
    deal = _deal(tenant, rep.user)
    api = api_client_for(rep)
    url = f"/api/v1/t/{tenant.slug}/activities/"
    created = api.post(
        url,
        {
            "kind": "call",
            "subject": "Pilot",
            "opportunity": deal.pk,
            "outcome": "wrong_number",
            "duration_minutes": 1,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert (created.json()["outcome"], created.json()["duration_minutes"]) == ("wrong_number", 1)
    api.post(
        url,
        {"kind": "call", "subject": "Again", "opportunity": deal.pk, "outcome": "connected"},
        format="json",
    )
    bad = api.post(
        url, {"kind": "note", "subject": "x", "opportunity": deal.pk, "outcome": "connected"}, format="json"
    )
    assert bad.status_code == 400
    assert "outcome" in bad.json()
    too_long = api.post(
        url, {"kind": "call", "subject": "x", "opportunity": deal.pk, "duration_minutes": 2000}, format="json"
    )
    assert too_long.status_code == 400
    listed = api.get(url, {"outcome": "wrong_number"}).json()["results"]
    assert [row["subject"] for row in listed] == ["Pilot"]


# --- Next step on a deal ----------------------------------------------------------------------------------------


def test_next_step_is_saved_folded_and_recorded_in_the_history(tenant, rep):
    deal = _deal(tenant, rep.user, next_step="Send   the quote")
    assert deal.next_step == "Send the quote"
    with tenant_context(tenant):
        updated = opportunities_services.opportunity_update(
            tenant=tenant,
            actor=rep.user,
            opportunity=deal,
            version=deal.version,
            next_step="Demo for the plant managers",
            next_step_date=datetime.date(2026, 12, 4),
        )
        entries = history_for(tenant=tenant, obj=Opportunity.objects.get(pk=deal.pk))
    assert (updated.next_step, updated.next_step_date) == (
        "Demo for the plant managers",
        datetime.date(2026, 12, 4),
    )
    changes = [(str(label), old, new) for entry in entries for label, old, new in entry.changes]
    assert ("next step", "Send the quote", "Demo for the plant managers") in changes
    assert any(str(label) == "next step date" for label, _old, _new in changes)


def test_next_step_over_200_characters_is_refused(tenant, rep):
    with pytest.raises(ValidationError) as caught:
        _deal(tenant, rep.user, next_step="x" * 201)
    assert "next_step" in caught.value.message_dict


def test_deal_page_shows_and_edits_the_next_step(tenant, rep, client_for):
    deal = _deal(tenant, rep.user)
    client = client_for(rep)
    url = reverse("accounts:opportunity-detail", kwargs={"slug": tenant.slug, "pk": deal.pk})
    body = client.get(url).content.decode()
    assert 'name="next_step"' in body
    assert 'name="next_step_date"' in body
    form = client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(next_step="Call the CFO", next_step_date="2026-12-08")
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    body = client.get(url).content.decode()
    facts = body.split('data-testid="deal-next-step"')[1].split("</dd>")[0]
    assert "Call the CFO" in facts and "8 Dec 2026" in facts  # the page's date format (crm/formats)


def test_deal_api_reads_and_writes_the_next_step(tenant, rep, api_client_for):
    deal = _deal(tenant, rep.user)
    api = api_client_for(rep)
    url = f"/api/v1/t/{tenant.slug}/opportunities/{deal.pk}/"
    response = api.patch(
        url, {"version": deal.version, "next_step": "Sign", "next_step_date": "2026-12-10"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["next_step"], response.json()["next_step_date"]) == ("Sign", "2026-12-10")
    assert api.get(url).json()["next_step"] == "Sign"


# --- Board cards: next step and days in the stage -------------------------------------------------------------


def test_board_cards_show_days_in_stage_from_the_history_and_the_next_step(tenant, rep, client_for):
    deal = _deal(tenant, rep.user, stage="Qualification", next_step="Book the demo")
    fresh = _deal(tenant, rep.user, name="Fresh", stage="Proposal")
    long_ago = timezone.now() - datetime.timedelta(days=40)
    with tenant_context(tenant):
        deal = opportunities_services.opportunity_move_stage(
            tenant=tenant, actor=rep.user, opportunity=deal, stage="Proposal", at=long_ago
        )
        # Entered Proposal 40 days ago; an older change into another stage does not count.
        StageChange.objects.filter(opportunity=deal, to_stage__name="Qualification").update(
            changed_at=long_ago - datetime.timedelta(days=10)
        )
        columns = opportunity_board(
            tenant=tenant,
            pipeline=pipeline_default(tenant=tenant),
            deals=Opportunity.objects.filter(tenant=tenant),
        )
    cards = {card.name: card for column in columns for card in column.cards}
    assert (
        cards["MES rollout"].days_in_stage
        == (tenant_today(tenant) - timezone.localtime(long_ago, tenant.tzinfo).date()).days
    )
    assert cards["Fresh"].days_in_stage == 0
    body = (
        client_for(rep)
        .get(reverse("accounts:opportunity-board", kwargs={"slug": tenant.slug}))
        .content.decode()
    )
    card = body.split(f'id="board-card-{deal.pk}"')[1].split("</article>")[0]
    assert "Book the demo" in card
    assert 'data-testid="board-card-days"' in card and "40 d" in card
    fresh_card = body.split(f'id="board-card-{fresh.pk}"')[1].split("</article>")[0]
    assert "0 d" in fresh_card


def test_a_deal_without_a_stage_change_counts_from_its_creation(tenant, rep):
    deal = _deal(tenant, rep.user)
    with tenant_context(tenant):
        StageChange.objects.filter(opportunity=deal).delete()
        Opportunity.objects.filter(pk=deal.pk).update(created_at=timezone.now() - datetime.timedelta(days=3))
        columns = opportunity_board(
            tenant=tenant,
            pipeline=pipeline_default(tenant=tenant),
            deals=Opportunity.objects.filter(tenant=tenant),
        )
    (card,) = [card for column in columns for card in column.cards]
    assert card.days_in_stage == 3


def test_a_card_moved_on_the_board_starts_at_zero_days(tenant, rep, client_for):
    deal = _deal(tenant, rep.user, stage="Qualification")
    with tenant_context(tenant):
        StageChange.objects.filter(opportunity=deal).update(
            changed_at=timezone.now() - datetime.timedelta(days=9)
        )
    url = reverse("accounts:opportunity-move", kwargs={"slug": tenant.slug, "pk": deal.pk})
    with tenant_context(tenant):
        proposal = deal.pipeline.stages.get(name="Proposal")
    response = client_for(rep).post(
        url, {"stage": proposal.pk, "version": deal.version}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    card = response.content.decode().split(f'id="board-card-{deal.pk}"')[1].split("</article>")[0]
    assert "0 d" in card


# --- Home: tasks open their record --------------------------------------------------------------------------------


def test_home_tasks_link_to_their_record(tenant, rep, client_for):
    deal = _deal(tenant, rep.user)
    account = deal_account(tenant, owner=rep.user, name="Only account")
    due = timezone.now() + datetime.timedelta(days=2)
    with tenant_context(tenant):
        activities_services.activity_log(
            tenant=tenant,
            actor=rep.user,
            kind=ActivityKind.TASK,
            subject="Deal task",
            opportunity=deal,
            due_at=due,
        )
        activities_services.activity_log(
            tenant=tenant,
            actor=rep.user,
            kind=ActivityKind.TASK,
            subject="Account task",
            account=account,
            due_at=due,
        )
        lead = LeadFactory(tenant=tenant, owner=rep.user, status="working")
        activities_services.activity_log(
            tenant=tenant, actor=rep.user, kind=ActivityKind.TASK, subject="Lead task", lead=lead, due_at=due
        )
    body = client_for(rep).get(reverse("crm:tenant-home", kwargs={"slug": tenant.slug})).content.decode()
    lead_url = reverse("leads:lead-detail", kwargs={"slug": tenant.slug, "pk": lead.pk})
    assert f'href="{lead_url}" data-testid="home-task-link">Lead task</a>' in body
    deal_url = reverse("accounts:opportunity-detail", kwargs={"slug": tenant.slug, "pk": deal.pk})
    account_url = reverse("accounts:account-detail", kwargs={"slug": tenant.slug, "pk": account.pk})
    assert f'href="{deal_url}" data-testid="home-task-link">Deal task</a>' in body
    assert f'href="{account_url}" data-testid="home-task-link">Account task</a>' in body
