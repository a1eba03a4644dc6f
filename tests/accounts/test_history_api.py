"""History API of a deal: its change history (who, when, what) and its stage history, visible like the deal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.services import opportunities as opportunities_services
from crm.models import Role
from crm.tenancy import tenant_context
from tests.factories_deals import deal_account

pytestmark = pytest.mark.django_db

# 8 for the request (token and its last use, tenant, savepoint, set tenant, membership, reset, release), the deal,
# its events with their contexts, and one per referenced model: users, accounts, pipelines, stages.
HISTORY_QUERIES = 14
# The request's 8, the deal, its stage changes with both stages and the actor in one join.
STAGE_HISTORY_QUERIES = 10


@pytest.fixture
def rep(member):
    return member(role=Role.SALES_REP, team="East")


@pytest.fixture
def account(tenant, rep):
    return deal_account(tenant, owner=rep.user, name="NIO")


def _url(tenant, deal, what):
    return f"/api/v1/t/{tenant.slug}/opportunities/{deal.pk}/{what}/"


def _deal_with_changes(tenant, rep, account, admin, moves):
    """A deal created by the rep, then `moves` rounds of an amount change by the admin and a move by the rep."""
    with tenant_context(tenant):
        deal = opportunities_services.opportunity_create(
            tenant=tenant, actor=rep.user, account=account, name="Battery swap", amount=Decimal("1000")
        )
        stages = ["Needs analysis", "Proposal"]
        for index in range(moves):
            deal = opportunities_services.opportunity_update(
                tenant=tenant, actor=admin, opportunity=deal, version=None, amount=Decimal(2000 + index)
            )
            deal = opportunities_services.opportunity_move_stage(
                tenant=tenant, actor=rep.user, opportunity=deal, stage=stages[index % 2]
            )
    return deal


def test_history_lists_who_changed_what_newest_first(tenant, rep, account, admin_member, api_client_for):
    deal = _deal_with_changes(tenant, rep, account, admin_member.user, moves=1)
    response = api_client_for(rep).get(_url(tenant, deal, "history"))
    assert response.status_code == 200
    body = response.json()
    assert [entry["action"] for entry in body] == ["updated", "updated", "created"]
    assert body[0]["who"] == {"id": rep.user.pk, "name": rep.user.display_name}
    assert {"field": "stage", "old": "Qualification", "new": "Needs analysis"} in body[0]["changes"]
    assert body[1]["who"]["id"] == admin_member.user.pk
    assert {"field": "amount", "old": "1000.00", "new": "2000.00"} in body[1]["changes"]
    assert body[2]["who"]["id"] == rep.user.pk


def test_stage_history_lists_moves_newest_first(tenant, rep, account, admin_member, api_client_for):
    deal = _deal_with_changes(tenant, rep, account, admin_member.user, moves=2)
    response = api_client_for(rep).get(_url(tenant, deal, "stage-history"))
    assert response.status_code == 200
    body = response.json()
    assert [(row["from_stage_name"], row["to_stage_name"]) for row in body] == [
        ("Needs analysis", "Proposal"),
        ("Qualification", "Needs analysis"),
        (None, "Qualification"),
    ]
    assert body[0]["actor"] == {"id": rep.user.pk, "name": rep.user.display_name}
    assert body[0]["amount"] == "2001.00" and body[0]["probability"] == "0.500"


@pytest.mark.parametrize("what", ["history", "stage-history"])
def test_history_of_an_invisible_or_foreign_deal_is_a_404(
    tenant, other_tenant, rep, member, account, admin_member, api_client_for, what
):
    deal = _deal_with_changes(tenant, rep, account, admin_member.user, moves=1)
    other_rep = member(role=Role.SALES_REP, team="West")
    assert api_client_for(other_rep).get(_url(tenant, deal, what)).status_code == 404
    with tenant_context(other_tenant):
        from crm.models import Membership

        foreign_admin = Membership.objects.select_related("user").get(role=Role.ADMIN)
    foreign_url = f"/api/v1/t/{other_tenant.slug}/opportunities/{deal.pk}/{what}/"
    assert api_client_for(foreign_admin).get(foreign_url).status_code == 404


@pytest.mark.parametrize("moves", [1, 4])
def test_history_query_count_is_fixed(
    tenant, rep, account, admin_member, api_client_for, django_assert_num_queries, moves
):
    deal = _deal_with_changes(tenant, rep, account, admin_member.user, moves=moves)
    client = api_client_for(rep)
    with django_assert_num_queries(HISTORY_QUERIES):
        response = client.get(_url(tenant, deal, "history"))
    assert len(response.json()) == 1 + 2 * moves


@pytest.mark.parametrize("moves", [1, 4])
def test_stage_history_query_count_is_fixed(
    tenant, rep, account, admin_member, api_client_for, django_assert_num_queries, moves
):
    deal = _deal_with_changes(tenant, rep, account, admin_member.user, moves=moves)
    client = api_client_for(rep)
    with django_assert_num_queries(STAGE_HISTORY_QUERIES):
        response = client.get(_url(tenant, deal, "stage-history"))
    assert len(response.json()) == 1 + moves


def test_history_endpoints_are_in_the_schema_with_examples(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    history = paths["/api/v1/t/{slug}/opportunities/{id}/history/"]["get"]
    stage_history = paths["/api/v1/t/{slug}/opportunities/{id}/stage-history/"]["get"]
    assert history["responses"]["200"]["content"]["application/json"]["examples"]
    assert stage_history["responses"]["200"]["content"]["application/json"]["examples"]
