"""API of the deals area: pipelines, stages, opportunities (filters, cursor pages, 409, actions), deal contacts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Contact, Opportunity, Pipeline, Stage
from accounts.services import opportunities as opportunities_services
from crm.models import Role
from crm.tenancy import tenant_context
from tests.factories_deals import deal_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(member):
    return member(role=Role.SALES_REP, team="East")


@pytest.fixture
def account(tenant, rep):
    return deal_account(tenant, owner=rep.user, name="Tencent")


def base(tenant):
    return f"/api/v1/t/{tenant.slug}"


def make_deal(tenant, actor, account, **kwargs):
    kwargs.setdefault("name", "API deal")
    kwargs.setdefault("amount", Decimal("1000"))
    with tenant_context(tenant):
        return opportunities_services.opportunity_create(
            tenant=tenant, actor=actor, account=account, **kwargs
        )


def stage_id(tenant, name):
    with tenant_context(tenant):
        return Stage.objects.get(pipeline__is_default=True, name=name).pk


def test_pipelines_with_nested_stages(tenant, api_client_for, rep):
    response = api_client_for(rep).get(f"{base(tenant)}/pipelines/")
    assert response.status_code == 200
    [pipeline] = response.json()
    assert pipeline["name"] == "Sales" and pipeline["is_default"]
    assert [s["name"] for s in pipeline["stages"]][-2:] == ["Closed won", "Closed lost"]


def test_pipeline_writes_are_admin_only(tenant, api_client_for, admin_member, rep):
    payload = {
        "name": "Channel",
        "stages": [
            {"name": "Sourced", "probability": "0.2"},
            {"name": "Won", "probability": "1", "kind": "won"},
            {"name": "Lost", "probability": "0", "kind": "lost"},
        ],
    }
    assert api_client_for(rep).post(f"{base(tenant)}/pipelines/", payload, format="json").status_code == 403
    client = api_client_for(admin_member)
    response = client.post(f"{base(tenant)}/pipelines/", payload, format="json")
    assert response.status_code == 201 and len(response.json()["stages"]) == 3
    pipeline_id = response.json()["id"]
    bad = client.post(
        f"{base(tenant)}/pipelines/",
        {"name": "No won", "stages": [{"name": "A", "probability": "0.1"}]},
        format="json",
    )
    assert bad.status_code == 400
    ids = [s["id"] for s in response.json()["stages"]]
    reordered = client.post(
        f"{base(tenant)}/pipelines/{pipeline_id}/reorder/", {"stages": ids[::-1]}, format="json"
    )
    assert [s["id"] for s in reordered.json()["stages"]] == ids[::-1]
    stage = client.post(
        f"{base(tenant)}/stages/",
        {"pipeline": pipeline_id, "name": "Demo", "probability": "0.5"},
        format="json",
    )
    assert stage.status_code == 201
    assert (
        client.patch(
            f"{base(tenant)}/stages/{stage.json()['id']}/", {"name": "Demo 2"}, format="json"
        ).json()["name"]
        == "Demo 2"
    )
    assert client.delete(f"{base(tenant)}/stages/{stage.json()['id']}/").status_code == 204
    assert client.delete(f"{base(tenant)}/pipelines/{pipeline_id}/").status_code == 204


def test_create_retrieve_and_list_with_filters(tenant, api_client_for, rep, account):
    client = api_client_for(rep)
    response = client.post(
        f"{base(tenant)}/opportunities/",
        {
            "account": account.pk,
            "name": "Cloud migration",
            "amount": "5000",
            "stage": stage_id(tenant, "Proposal"),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["stage_name"] == "Proposal" and data["probability"] == "0.500" and data["version"] == 1
    assert data["amount_reporting"] == "5000.00" and data["owner"] == rep.user.pk
    make_deal(tenant, rep.user, account, name="Other", stage="Qualification")
    listed = client.get(f"{base(tenant)}/opportunities/", {"stage": stage_id(tenant, "Proposal")}).json()
    assert [d["name"] for d in listed["results"]] == ["Cloud migration"]
    assert client.get(f"{base(tenant)}/opportunities/", {"q": "oth"}).json()["results"][0]["name"] == "Other"
    assert client.get(f"{base(tenant)}/opportunities/{data['id']}/").json()["name"] == "Cloud migration"


def test_create_refuses_invisible_account_with_400(tenant, member, api_client_for, rep):
    other = member(role=Role.SALES_REP, team="West")
    hidden = deal_account(tenant, owner=other.user)
    response = api_client_for(rep).post(
        f"{base(tenant)}/opportunities/", {"account": hidden.pk, "name": "x", "amount": "1"}, format="json"
    )
    assert response.status_code == 400 and "account" in response.json()


def test_update_with_stale_version_is_409_with_current_values(tenant, api_client_for, rep, account):
    deal = make_deal(tenant, rep.user, account)
    client = api_client_for(rep)
    ok = client.patch(
        f"{base(tenant)}/opportunities/{deal.pk}/", {"version": 1, "amount": "2000"}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.patch(
        f"{base(tenant)}/opportunities/{deal.pk}/", {"version": 1, "name": "x"}, format="json"
    )
    assert stale.status_code == 409
    assert stale.json()["current"]["amount"] == "2000.00" and stale.json()["current"]["version"] == 2


def test_move_won_lost_actions(tenant, api_client_for, rep, account):
    deal = make_deal(tenant, rep.user, account)
    client = api_client_for(rep)
    url = f"{base(tenant)}/opportunities/{deal.pk}"
    moved = client.post(f"{url}/move/", {"stage": stage_id(tenant, "Proposal"), "version": 1}, format="json")
    assert moved.status_code == 200 and moved.json()["stage_name"] == "Proposal"
    refused = client.post(f"{url}/move/", {"stage": stage_id(tenant, "Closed lost")}, format="json")
    assert refused.status_code == 400 and "lost_reason" in refused.json()
    assert client.post(f"{url}/lost/", {}, format="json").status_code == 400
    lost = client.post(f"{url}/lost/", {"reason": "No budget"}, format="json")
    assert lost.json()["stage_kind"] == "lost" and lost.json()["forecast_category"] == "omitted"
    won = client.post(f"{url}/won/", {"version": lost.json()["version"]}, format="json")
    assert (
        won.json()["stage_kind"] == "won" and won.json()["probability"] == "1.000" and won.json()["closed_at"]
    )


def test_move_to_a_stage_of_another_tenant_is_400(tenant, other_tenant, api_client_for, rep, account):
    deal = make_deal(tenant, rep.user, account)
    with tenant_context(other_tenant):
        foreign = Stage.objects.filter(pipeline__is_default=True).first().pk
    response = api_client_for(rep).post(
        f"{base(tenant)}/opportunities/{deal.pk}/move/", {"stage": foreign}, format="json"
    )
    assert response.status_code == 400


def test_soft_delete_and_restore(tenant, api_client_for, rep, account):
    deal = make_deal(tenant, rep.user, account)
    client = api_client_for(rep)
    assert client.delete(f"{base(tenant)}/opportunities/{deal.pk}/").status_code == 204
    assert client.get(f"{base(tenant)}/opportunities/{deal.pk}/").status_code == 404
    restored = client.post(f"{base(tenant)}/opportunities/{deal.pk}/restore/")
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None


def test_contacts_on_deal(tenant, api_client_for, rep, account):
    deal = make_deal(tenant, rep.user, account)
    with tenant_context(tenant):
        contact = Contact.objects.create(tenant=tenant, account=account, first_name="Li", last_name="Na")
        stranger = Contact.objects.create(tenant=tenant, first_name="No", last_name="Account")
    client = api_client_for(rep)
    url = f"{base(tenant)}/opportunities/{deal.pk}/contacts/"
    assert client.post(url, {"contact": stranger.pk}, format="json").status_code == 400
    added = client.post(url, {"contact": contact.pk, "role": "Buyer", "is_primary": True}, format="json")
    assert added.status_code == 201
    assert client.get(url).json()[0]["role"] == "Buyer"
    link = added.json()["id"]
    assert client.patch(f"{url}{link}/", {"role": "Champion"}, format="json").json()["role"] == "Champion"
    assert client.delete(f"{url}{link}/").status_code == 204


def test_invisible_and_foreign_deals_are_404(tenant, other_tenant, member, api_client_for, rep, account):
    deal = make_deal(tenant, rep.user, account)
    outsider = member(role=Role.SALES_REP, team="West")
    client = api_client_for(outsider)
    assert client.get(f"{base(tenant)}/opportunities/{deal.pk}/").status_code == 404
    assert client.post(f"{base(tenant)}/opportunities/{deal.pk}/won/").status_code == 404
    assert client.get(f"{base(tenant)}/opportunities/").json()["results"] == []


def test_ops_reads_but_cannot_write(tenant, member, api_client_for, rep, account):
    deal = make_deal(tenant, rep.user, account)
    ops = member(role=Role.OPS)
    client = api_client_for(ops)
    assert client.get(f"{base(tenant)}/opportunities/{deal.pk}/").status_code == 200
    assert client.post(f"{base(tenant)}/opportunities/{deal.pk}/won/").status_code == 403
    created = client.post(
        f"{base(tenant)}/opportunities/", {"account": account.pk, "name": "x", "amount": "1"}, format="json"
    )
    assert created.status_code == 403


def test_list_query_count_does_not_grow(tenant, api_client_for, rep, account, django_assert_num_queries):
    client = api_client_for(rep)
    make_deal(tenant, rep.user, account, name="one")
    client.get(f"{base(tenant)}/opportunities/")  # warm up (token, content types)
    with django_assert_num_queries(9):
        first = client.get(f"{base(tenant)}/opportunities/")
    for index in range(6):
        make_deal(tenant, rep.user, account, name=f"more {index}")
    with django_assert_num_queries(9):
        second = client.get(f"{base(tenant)}/opportunities/")
    assert len(first.json()["results"]) == 1 and len(second.json()["results"]) == 7


def test_schema_documents_deal_endpoints(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert "/api/v1/t/{slug}/opportunities/{id}/move/" in paths
    create = paths["/api/v1/t/{slug}/opportunities/"]["post"]
    assert "examples" in str(create["requestBody"])


def test_pipeline_api_sees_only_own_tenant(tenant, other_tenant, api_client_for, rep):
    with tenant_context(other_tenant):
        foreign = Pipeline.objects.get().pk
    client = api_client_for(rep)
    assert client.get(f"{base(tenant)}/pipelines/{foreign}/").status_code == 404
    with tenant_context(tenant):
        assert Opportunity.objects.count() == 0
