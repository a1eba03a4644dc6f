"""Issue 12 item 7: "Mark won" asks first (like delete) and can be undone from the message shown after it: the deal
page offers "Undo: reopen in <the stage it came from>" once, and that reopens the deal (closed_at cleared, a stage
change booked)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Stage, StageChange, StageKind
from accounts.services import opportunities as opportunities_services
from crm.models import Role
from crm.tenancy import tenant_context
from tests.factories_deals import deal_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(member):
    return member(role=Role.SALES_REP, team="East")


def _deal(tenant, rep, stage_name="Proposal"):
    account = deal_account(tenant, owner=rep.user, name="Harbor Robotics")
    with tenant_context(tenant):
        stage = Stage.objects.get(pipeline__is_default=True, name=stage_name)
        return opportunities_services.opportunity_create(
            tenant=tenant,
            actor=rep.user,
            account=account,
            name="40 robots",
            amount=Decimal("1000"),
            stage=stage,
        )


def _url(name, tenant, deal):
    return reverse(f"accounts:{name}", kwargs={"slug": tenant.slug, "pk": deal.pk})


def test_mark_won_asks_for_confirmation(tenant, rep, client_for):
    deal = _deal(tenant, rep)
    body = client_for(rep).get(_url("opportunity-detail", tenant, deal)).content.decode()
    won_form = body.split(f'action="{_url("opportunity-won", tenant, deal)}"')[1].split(">")[0]
    assert 'data-confirm="Mark this deal won? It closes the deal; you can reopen it right after."' in won_form


def test_won_deal_can_be_reopened_from_the_message_once(tenant, rep, client_for):
    deal = _deal(tenant, rep)
    client = client_for(rep)
    won = client.post(_url("opportunity-won", tenant, deal), {"version": deal.version})
    assert won.status_code == 302 and won["Location"] == _url("opportunity-detail", tenant, deal)
    page = client.get(won["Location"]).content.decode()
    offer = page.split('data-testid="deal-won-undo"')[1].split("</form>")[0]
    assert "“40 robots” is won. Congratulations!" in offer
    assert "Undo: reopen in Proposal" in offer
    with tenant_context(tenant):
        deal.refresh_from_db()
        proposal = Stage.objects.get(pipeline__is_default=True, name="Proposal")
        assert deal.stage.kind == StageKind.WON and deal.closed_at is not None
    assert (
        f'name="stage" value="{proposal.pk}"' in offer and f'name="version" value="{deal.version}"' in offer
    )
    # Shown once: a reload no longer offers it.
    assert 'data-testid="deal-won-undo"' not in client.get(won["Location"]).content.decode()

    reopened = client.post(
        _url("opportunity-move", tenant, deal), {"stage": proposal.pk, "version": deal.version}
    )
    assert reopened.status_code == 302
    with tenant_context(tenant):
        deal.refresh_from_db()
        moves = list(
            StageChange.objects.filter(opportunity=deal)
            .order_by("changed_at", "pk")
            .values_list("to_stage__name", flat=True)
        )
    assert (
        deal.stage_id == proposal.pk and deal.closed_at is None and deal.probability == proposal.probability
    )
    assert moves == ["Proposal", "Closed won", "Proposal"]


def test_no_reopen_offer_when_won_from_lost_or_for_json(tenant, rep, client_for):
    lost = _deal(tenant, rep)
    client = client_for(rep)
    with tenant_context(tenant):
        lost = opportunities_services.opportunity_mark_lost(
            tenant=tenant, actor=rep.user, opportunity=lost, reason="Price"
        )
    won = client.post(_url("opportunity-won", tenant, lost), {"version": lost.version})
    page = client.get(won["Location"]).content.decode()
    assert "is won. Congratulations!" in page and 'data-testid="deal-won-undo"' not in page

    deal = _deal(tenant, rep)
    answer = client.post(
        _url("opportunity-won", tenant, deal), {"version": deal.version}, HTTP_ACCEPT="application/json"
    )
    assert answer.status_code == 200 and answer.json()["ok"] is True
    assert (
        'data-testid="deal-won-undo"'
        not in client.get(_url("opportunity-detail", tenant, deal)).content.decode()
    )
