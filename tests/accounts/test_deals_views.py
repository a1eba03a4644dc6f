"""Pages of the deals area: list, board, deal page (edit, conflict, won/lost), contacts, pipeline admin."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Contact, Opportunity, Pipeline, Stage, StageChange, StageKind
from accounts.services import opportunities as opportunities_services
from crm.models import Role
from crm.tenancy import tenant_context
from tests.factories_deals import deal_account

pytestmark = pytest.mark.django_db

# The htmx board move, whatever the number of deals on the board: session, user, tenant, savepoint + tenant
# context, membership, the deal; the service (context + savepoint, membership, the locked deal, the stage, the
# update, the stage change, the deal again, release); the filter's pipeline, the stage totals (one aggregate),
# the pipeline's stages; tenant context reset + release. The moved card renders from the refetched deal.
BOARD_MOVE_QUERIES = 20


@pytest.fixture
def rep(member):
    return member(role=Role.SALES_REP, team="East")


@pytest.fixture
def account(tenant, rep):
    return deal_account(tenant, owner=rep.user, name="Alibaba Cloud")


def make_deal(tenant, actor, account, **kwargs):
    kwargs.setdefault("name", "ERP rollout")
    kwargs.setdefault("amount", Decimal("1000"))
    with tenant_context(tenant):
        return opportunities_services.opportunity_create(
            tenant=tenant, actor=actor, account=account, **kwargs
        )


def url(name, tenant, **kwargs):
    return reverse(f"accounts:{name}", kwargs={"slug": tenant.slug, **kwargs})


def stage(tenant, name):
    with tenant_context(tenant):
        return Stage.objects.get(pipeline__is_default=True, name=name)


def test_list_shows_visible_deals_only(tenant, member, client_for, rep, account):
    other = member(role=Role.SALES_REP, team="East")
    make_deal(tenant, rep.user, account, name="Mine")
    theirs = deal_account(tenant, owner=other.user)
    make_deal(tenant, other.user, theirs, name="Theirs")
    response = client_for(rep).get(url("opportunity-list", tenant))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Mine" in body and "Theirs" not in body


def test_list_filters_and_keyset_pages(tenant, client_for, rep, account):
    for index in range(55):
        make_deal(tenant, rep.user, account, name=f"Deal {index:02d}", amount=index)
    client = client_for(rep)
    first = client.get(url("opportunity-list", tenant), {"sort": "amount"})
    assert first.context["page"].rows[0].name == "Deal 00"
    cursor = first.context["page"].next_cursor
    second = client.get(url("opportunity-list", tenant), {"sort": "amount", "cursor": cursor})
    names = [d.name for d in second.context["page"].rows]
    assert names == ["Deal 50", "Deal 51", "Deal 52", "Deal 53", "Deal 54"]
    back = client.get(
        url("opportunity-list", tenant), {"sort": "amount", "cursor": second.context["page"].previous_cursor}
    )
    assert [d.name for d in back.context["page"].rows][-1] == "Deal 49"
    filtered = client.get(url("opportunity-list", tenant), {"q": "Deal 07"}, HTTP_HX_REQUEST="true")
    assert [d.name for d in filtered.context["page"].rows] == ["Deal 07"]
    assert "<html" not in filtered.content.decode()


def test_board_renders_columns_with_totals(tenant, client_for, rep, account):
    make_deal(tenant, rep.user, account, name="A", amount=100, stage="Proposal")
    make_deal(tenant, rep.user, account, name="B", amount=300, stage="Proposal")
    response = client_for(rep).get(url("opportunity-board", tenant))
    assert response.status_code == 200
    columns = {c.stage.name: c for c in response.context["columns"]}
    assert list(columns)[:2] == ["Qualification", "Needs analysis"]
    proposal = columns["Proposal"]
    assert proposal.count == 2 and proposal.amount == Decimal("400.00")
    assert proposal.weighted == Decimal("200.00")


def test_board_move_posts_json_and_updates_totals(tenant, client_for, rep, account):
    deal = make_deal(tenant, rep.user, account, amount=500)
    proposal = stage(tenant, "Proposal")
    response = client_for(rep).post(
        url("opportunity-move", tenant, pk=deal.pk),
        {"stage": proposal.pk, "version": deal.version},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    payload = response.json()
    assert payload["ok"] and payload["version"] == 2
    assert payload["totals"][str(proposal.pk)]["count"] == 1


def test_board_move_into_lost_without_reason_is_refused(tenant, client_for, rep, account):
    deal = make_deal(tenant, rep.user, account)
    lost = stage(tenant, "Closed lost")
    client = client_for(rep)
    response = client.post(
        url("opportunity-move", tenant, pk=deal.pk), {"stage": lost.pk}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400 and "lost_reason" in response.json()["errors"]
    response = client.post(
        url("opportunity-move", tenant, pk=deal.pk),
        {"stage": lost.pk, "lost_reason": "No budget"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    with tenant_context(tenant):
        assert Opportunity.objects.get(pk=deal.pk).lost_reason == "No budget"


def test_board_stale_move_is_409(tenant, client_for, rep, account):
    deal = make_deal(tenant, rep.user, account)
    response = client_for(rep).post(
        url("opportunity-move", tenant, pk=deal.pk),
        {"stage": stage(tenant, "Proposal").pk, "version": 99},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 409 and response.json()["current"]["version"] == 1


def _oob(body, element_id):
    """The out-of-band element with this id in an htmx answer (its opening tag up to the next element's)."""
    match = re.search(
        rf'<[a-z]+ id="{element_id}"[^>]*hx-swap-oob="true"[^>]*>(.*?)(?=<[a-z]+ id="|\Z)', body, re.S
    )
    assert match, f"no out-of-band #{element_id} in the answer"
    return match.group(0)


def test_board_move_over_htmx_answers_out_of_band_swaps(tenant, client_for, rep, account):
    other = make_deal(tenant, rep.user, account, name="Already there", amount=200, stage="Proposal")
    deal = make_deal(tenant, rep.user, account, amount=500)
    qualification, proposal = stage(tenant, "Qualification"), stage(tenant, "Proposal")
    response = client_for(rep).post(
        url("opportunity-move", tenant, pk=deal.pk),
        {"stage": proposal.pk, "version": deal.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    card = _oob(body, f"board-card-{deal.pk}")
    assert 'data-version="2"' in card and "50%" in card  # the new version and the stage's probability
    assert f"board-card-{other.pk}" not in body  # only the moved card
    left = _oob(body, f"stage-totals-{qualification.pk}")
    assert re.search(r'data-total="count">0<', left) and re.search(r'data-total="amount">0<', left)
    entered = _oob(body, f"stage-totals-{proposal.pk}")
    assert re.search(r'data-total="count">2<', entered)
    assert re.search(r'data-total="amount">700<', entered) and re.search(
        r'data-total="weighted">350<', entered
    )
    assert body.count('id="stage-totals-') == 2  # the two columns the move touched, no other
    summary = _oob(body, "board-summary")
    assert re.search(r'data-summary="count">2<', summary) and re.search(
        r'data-summary="amount">700<', summary
    )
    status = _oob(body, "board-status")
    assert "alert-success" in status and "moved to Proposal" in status
    with tenant_context(tenant):
        assert Opportunity.objects.get(pk=deal.pk).stage_id == proposal.pk


def test_board_move_over_htmx_query_count(tenant, client_for, rep, account, django_assert_num_queries):
    deal = make_deal(tenant, rep.user, account, amount=500)
    for index in range(3):
        make_deal(tenant, rep.user, account, name=f"Other {index}", stage="Proposal")
    proposal = stage(tenant, "Proposal")
    client = client_for(rep)
    client.get(url("opportunity-board", tenant))  # session and caches warm, as after opening the board
    with django_assert_num_queries(BOARD_MOVE_QUERIES):
        response = client.post(
            url("opportunity-move", tenant, pk=deal.pk),
            {"stage": proposal.pk, "version": deal.version},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200 and f'id="stage-totals-{proposal.pk}"' in response.content.decode()


def test_board_move_over_htmx_stale_version_is_409_json(tenant, client_for, rep, account):
    deal = make_deal(tenant, rep.user, account)
    response = client_for(rep).post(
        url("opportunity-move", tenant, pk=deal.pk),
        {"stage": stage(tenant, "Proposal").pk, "version": 99},
        HTTP_HX_REQUEST="true",
    )
    # htmx swaps no 4xx answer; board.js reads it, puts the card back and reloads the board.
    assert response.status_code == 409 and response.json()["current"]["version"] == 1
    assert "hx-swap-oob" not in response.content.decode()
    with tenant_context(tenant):
        assert Opportunity.objects.get(pk=deal.pk).stage.name == "Qualification"


def test_board_move_over_htmx_into_lost_without_reason_is_refused(tenant, client_for, rep, account):
    deal = make_deal(tenant, rep.user, account)
    lost = stage(tenant, "Closed lost")
    client = client_for(rep)
    response = client.post(
        url("opportunity-move", tenant, pk=deal.pk),
        {"stage": lost.pk, "version": deal.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400 and "lost_reason" in response.json()["errors"]
    response = client.post(
        url("opportunity-move", tenant, pk=deal.pk),
        {"stage": lost.pk, "version": deal.version, "lost_reason": "No budget"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'data-version="2"' in _oob(response.content.decode(), f"board-card-{deal.pk}")
    with tenant_context(tenant):
        assert Opportunity.objects.get(pk=deal.pk).lost_reason == "No budget"


def test_board_move_over_htmx_with_json_accept_keeps_json(tenant, client_for, rep, account):
    deal = make_deal(tenant, rep.user, account)
    response = client_for(rep).post(
        url("opportunity-move", tenant, pk=deal.pk),
        {"stage": stage(tenant, "Proposal").pk, "version": deal.version},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200 and response.json()["version"] == 2


def test_board_show_more_returns_next_cards(tenant, client_for, rep, account):
    for index in range(23):
        make_deal(tenant, rep.user, account, name=f"Card {index}")
    client = client_for(rep)
    board = client.get(url("opportunity-board", tenant))
    qualification = board.context["columns"][0]
    assert len(qualification.cards) == 20 and qualification.has_more
    more = client.get(
        url("opportunity-board-column", tenant),
        {"stage": qualification.stage.pk, "offset": 20, "total": 23},
        HTTP_HX_REQUEST="true",
    )
    assert more.status_code == 200 and len(more.context["cards"]) == 3 and not more.context["has_more"]


def test_board_show_more_counts_the_column_itself(tenant, client_for, member, rep, account):
    """The total comes from the server (same filters and visibility), whatever `total=` the URL carries."""
    for index in range(45):
        make_deal(tenant, rep.user, account, name=f"Card {index}")
    other_rep = member(role=Role.SALES_REP, team="East")
    make_deal(tenant, other_rep.user, deal_account(tenant, owner=other_rep.user), name="Not mine")
    qualification = stage(tenant, "Qualification")
    client = client_for(rep)
    more = client.get(
        url("opportunity-board-column", tenant),
        {"stage": qualification.pk, "offset": 20, "total": 0, "owner": rep.user.pk},
        HTTP_HX_REQUEST="true",
    )
    assert len(more.context["cards"]) == 20 and more.context["has_more"]
    assert more.context["total"] == 45
    assert "total=" not in more.context["filter_query"]
    assert "Show more (40 of 45)" in more.content.decode()
    last = client.get(
        url("opportunity-board-column", tenant),
        {"stage": qualification.pk, "offset": 40, "total": 1000, "owner": rep.user.pk},
        HTTP_HX_REQUEST="true",
    )
    assert len(last.context["cards"]) == 5 and not last.context["has_more"] and last.context["total"] == 45


def test_detail_edit_and_conflict_panel_keeps_typed_values(tenant, member, client_for, rep, account):
    manager = member(role=Role.SALES_MANAGER, team="East")
    deal = make_deal(tenant, rep.user, account)
    client = client_for(rep)
    page = client.get(url("opportunity-detail", tenant, pk=deal.pk))
    assert page.status_code == 200
    initial = page.context["form"].initial
    # the manager saves first
    with tenant_context(tenant):
        opportunities_services.opportunity_update(
            tenant=tenant, actor=manager.user, opportunity=deal, version=1, amount="2000"
        )
    data = {
        "name": "ERP rollout (phase 1)",
        "type": initial["type"],
        "amount": "1000.00",
        "currency": initial["currency"],
        "stage": initial["stage"],
        "probability": "0.100",
        "forecast_category": "commit",
        "expected_close_date": "",
        "owner": rep.user.pk,
        "lost_reason": "",
        "version": 1,
        "original": initial["original"],
    }
    response = client.post(url("opportunity-detail", tenant, pk=deal.pk), data)
    assert response.status_code == 409
    body = response.content.decode()
    assert 'data-testid="conflict-panel"' in body and "ERP rollout (phase 1)" in body
    merged = response.context["form"].initial
    assert merged["name"] == "ERP rollout (phase 1)"  # mine, re-applied
    assert merged["amount"] == "2000.00"  # theirs, kept since I did not change it
    assert merged["forecast_category"] == "commit" and merged["version"] == 2
    data.update(version=2, original=merged["original"], amount=merged["amount"])
    saved = client.post(url("opportunity-detail", tenant, pk=deal.pk), data)
    assert saved.status_code == 302
    with tenant_context(tenant):
        deal.refresh_from_db()
    assert deal.name == "ERP rollout (phase 1)" and deal.amount == Decimal("2000.00") and deal.version == 3


def test_won_and_lost_actions_on_the_deal_page(tenant, client_for, rep, account):
    deal = make_deal(tenant, rep.user, account)
    client = client_for(rep)
    lost = client.post(url("opportunity-lost", tenant, pk=deal.pk), {"lost_reason": "", "version": 1})
    assert lost.status_code == 400
    lost = client.post(url("opportunity-lost", tenant, pk=deal.pk), {"lost_reason": "Price", "version": 1})
    assert lost.status_code == 302
    won = client.post(url("opportunity-won", tenant, pk=deal.pk), {"version": 2})
    assert won.status_code == 302
    with tenant_context(tenant):
        deal.refresh_from_db()
        assert deal.stage.kind == StageKind.WON and deal.lost_reason == "" and deal.probability == 1
        assert StageChange.objects.filter(opportunity=deal).count() == 3


def test_contacts_on_the_deal_page(tenant, client_for, rep, account):
    deal = make_deal(tenant, rep.user, account)
    with tenant_context(tenant):
        contact = Contact.objects.create(tenant=tenant, account=account, first_name="Zhang", last_name="San")
    client = client_for(rep)
    response = client.post(
        url("opportunity-contact-add", tenant, pk=deal.pk),
        {"contact": contact.pk, "role": "Champion", "is_primary": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "Champion" in response.content.decode()
    with tenant_context(tenant):
        link = deal.contact_roles.get()
    response = client.post(url("opportunity-contact-remove", tenant, pk=deal.pk, link_pk=link.pk))
    assert response.status_code == 302
    with tenant_context(tenant):
        assert not deal.contact_roles.exists()


def test_read_only_viewer_cannot_post(tenant, member, client_for, rep, account):
    ops = member(role=Role.OPS)
    deal = make_deal(tenant, rep.user, account)
    client = client_for(ops)
    assert client.get(url("opportunity-detail", tenant, pk=deal.pk)).status_code == 200
    assert client.post(url("opportunity-detail", tenant, pk=deal.pk), {"name": "x"}).status_code == 403
    response = client.post(
        url("opportunity-move", tenant, pk=deal.pk),
        {"stage": stage(tenant, "Proposal").pk},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 403


def test_invisible_deal_is_404_everywhere(tenant, member, client_for, rep, account):
    other = member(role=Role.SALES_REP, team="West")
    deal = make_deal(tenant, rep.user, account)
    client = client_for(other)
    for name in ("opportunity-detail", "opportunity-lost"):
        assert client.get(url(name, tenant, pk=deal.pk)).status_code == 404
    for name in ("opportunity-move", "opportunity-won", "opportunity-delete", "opportunity-restore"):
        assert client.post(url(name, tenant, pk=deal.pk), {"stage": 1}).status_code == 404


def test_create_deal_page_offers_visible_accounts_only(tenant, member, client_for, rep, account):
    other = member(role=Role.SALES_REP, team="West")
    hidden = deal_account(tenant, owner=other.user, name="Hidden Corp")
    client = client_for(rep)
    page = client.get(url("opportunity-create", tenant))
    assert "Alibaba Cloud" in page.content.decode() and "Hidden Corp" not in page.content.decode()
    data = {
        "name": "New",
        "account": hidden.pk,
        "type": "new_business",
        "amount": "10",
        "currency": tenant.currency,
        "stage": stage(tenant, "Qualification").pk,
        "forecast_category": "pipeline",
        "owner": rep.user.pk,
    }
    assert client.post(url("opportunity-create", tenant), data).status_code == 200  # form error
    data["account"] = account.pk
    response = client.post(url("opportunity-create", tenant), data)
    assert response.status_code == 302


def test_delete_shows_undo_and_restore(tenant, client_for, rep, account):
    deal = make_deal(tenant, rep.user, account)
    client = client_for(rep)
    response = client.post(url("opportunity-delete", tenant, pk=deal.pk), follow=True)
    assert 'data-testid="deal-undo"' in response.content.decode()
    assert (
        client.get(url("opportunity-detail", tenant, pk=deal.pk)).status_code == 200
    )  # shows deleted banner
    client.post(url("opportunity-restore", tenant, pk=deal.pk))
    with tenant_context(tenant):
        assert Opportunity.objects.get(pk=deal.pk).deleted_at is None


def test_pipeline_admin_pages(tenant, admin_member, client_for, rep, account):
    client = client_for(admin_member)
    assert client.get(url("pipeline-list", tenant)).status_code == 200
    response = client.post(url("pipeline-list", tenant), {"name": "Renewals"})
    assert response.status_code == 302
    with tenant_context(tenant):
        pipeline = Pipeline.objects.get(name="Renewals")
        first, second = list(pipeline.stages.order_by("order")[:2])
    assert client.get(url("pipeline-detail", tenant, pk=pipeline.pk)).status_code == 200
    response = client.post(
        url("stage-update", tenant, pk=pipeline.pk, stage_pk=first.pk),
        {
            f"stage-{first.pk}-name": "Discovery",
            f"stage-{first.pk}-probability": "0.15",
            f"stage-{first.pk}-kind": "open",
        },
    )
    assert response.status_code == 302
    client.post(url("stage-move", tenant, pk=pipeline.pk, stage_pk=first.pk), {"direction": "down"})
    with tenant_context(tenant):
        assert list(pipeline.stages.order_by("order").values_list("pk", flat=True))[:2] == [
            second.pk,
            first.pk,
        ]
    with tenant_context(tenant):
        ordered = list(pipeline.stages.order_by("order").values_list("pk", flat=True))
    ids = [ordered[1], ordered[0], *ordered[2:]]
    response = client.post(
        url("stage-reorder", tenant, pk=pipeline.pk), {"stages": ids}, HTTP_ACCEPT="application/json"
    )
    assert response.json() == {"ok": True}
    response = client.post(
        url("stage-create", tenant, pk=pipeline.pk),
        {"new-name": "Demo", "new-probability": "0.4", "new-kind": "open"},
    )
    assert response.status_code == 302
    response = client.post(
        url("pipeline-detail", tenant, pk=pipeline.pk), {"name": "Renewals", "is_default": "on"}
    )
    assert response.status_code == 302
    with tenant_context(tenant):
        assert Pipeline.objects.get(is_default=True).name == "Renewals"


def test_stage_delete_asks_where_to_move_deals(tenant, admin_member, client_for, rep, account):
    deal = make_deal(tenant, rep.user, account, stage="Proposal")
    proposal, negotiation = stage(tenant, "Proposal"), stage(tenant, "Negotiation")
    pipeline_pk = proposal.pipeline_id
    client = client_for(admin_member)
    page = client.get(url("stage-delete", tenant, pk=pipeline_pk, stage_pk=proposal.pk))
    assert page.status_code == 200 and page.context["deal_count"] == 1
    with tenant_context(tenant):
        choices = [str(c) for c in page.context["form"].fields["move_to"].queryset]
    assert "Closed won" not in choices and "Negotiation" in choices
    refused = client.post(url("stage-delete", tenant, pk=pipeline_pk, stage_pk=proposal.pk), {})
    assert refused.status_code == 400
    done = client.post(
        url("stage-delete", tenant, pk=pipeline_pk, stage_pk=proposal.pk), {"move_to": negotiation.pk}
    )
    assert done.status_code == 302
    with tenant_context(tenant):
        assert Opportunity.objects.get(pk=deal.pk).stage == negotiation


def test_pipeline_admin_is_admin_only(tenant, member, client_for):
    manager = member(role=Role.SALES_MANAGER, team="East")
    assert client_for(manager).get(url("pipeline-list", tenant)).status_code == 404


def test_stage_reorder_rejects_partial_lists(tenant, admin_member, client_for):
    with tenant_context(tenant):
        pipeline = Pipeline.objects.get(is_default=True)
        first = pipeline.stages.order_by("order").first()
    response = client_for(admin_member).post(
        url("stage-reorder", tenant, pk=pipeline.pk),
        {"stages": json.dumps([first.pk])},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
