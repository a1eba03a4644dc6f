"""API of the ops area: CRUD per resource, roles (404 for others), cross-tenant ids, quality, query counts."""

from __future__ import annotations

import pytest
from django.utils import timezone

from crm.models import Role
from crm.tenancy import tenant_context
from leads.models import Campaign, LeadSource, ScoringRule, Territory
from tests.factories_leads import LeadFactory
from tests.factories_ops import (
    CampaignFactory,
    LeadSourceFactory,
    ScoringRuleFactory,
    TerritoryFactory,
    TerritoryMemberFactory,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/t/{slug}/"
EDITORS = {Role.ADMIN, Role.OPS}
SOURCE_READERS = {Role.ADMIN, Role.OPS, Role.SALES_MANAGER, Role.SALES_REP}
CONFIG_READERS = {Role.ADMIN, Role.OPS, Role.SALES_MANAGER}


def api(tenant, path):
    return API.format(slug=tenant.slug) + path


@pytest.fixture
def ops_client(member, api_client_for):
    membership = member(role=Role.OPS)
    client = api_client_for(membership)
    client.membership = membership
    return client


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OPS, Role.SALES_MANAGER, Role.SALES_REP, Role.CS])
def test_roles(tenant, member, api_client_for, admin_member, role):
    client = api_client_for(member(role=role))
    source = LeadSourceFactory(tenant=tenant)
    campaign = CampaignFactory(tenant=tenant, source=source)
    territory = TerritoryFactory(tenant=tenant)
    rule = ScoringRuleFactory(tenant=tenant)
    reads = [
        ("lead-sources/", SOURCE_READERS),
        (f"lead-sources/{source.pk}/", SOURCE_READERS),
        ("lead-sources/quality/", SOURCE_READERS),
        ("campaigns/", SOURCE_READERS),
        (f"campaigns/{campaign.pk}/", SOURCE_READERS),
        (f"campaigns/{campaign.pk}/funnel/", SOURCE_READERS),
        ("territories/", CONFIG_READERS),
        (f"territories/{territory.pk}/", CONFIG_READERS),
        ("territories/match/", CONFIG_READERS),
        ("scoring-rules/", CONFIG_READERS),
        (f"scoring-rules/{rule.pk}/", CONFIG_READERS),
    ]
    for path, allowed in reads:
        assert client.get(api(tenant, path)).status_code == (200 if role in allowed else 404), (path, role)
    writes = [
        ("post", "lead-sources/", {"name": f"New {role}", "kind": "inbound"}, 201),
        ("patch", f"lead-sources/{source.pk}/", {"description": "x"}, 200),
        ("patch", f"campaigns/{campaign.pk}/", {"cost": "12.00"}, 200),
        ("patch", f"territories/{territory.pk}/", {"priority": 7}, 200),
        ("post", "scoring-rules/", {"field": "industry", "value": f"I{role}", "points": 5}, 201),
        ("delete", f"scoring-rules/{rule.pk}/", None, 204),
    ]
    for method, path, body, ok in writes:
        response = getattr(client, method)(api(tenant, path), body, format="json")
        assert response.status_code == (ok if role in EDITORS else 404), (
            method,
            path,
            role,
            response.content,
        )
    with tenant_context(tenant):
        assert ScoringRule.objects.filter(pk=rule.pk).exists() == (role not in EDITORS)


def test_lead_source_crud_and_soft_delete(tenant, ops_client):
    response = ops_client.post(
        api(tenant, "lead-sources/"), {"name": "Referral", "kind": "inbound"}, format="json"
    )
    assert response.status_code == 201
    pk = response.json()["id"]
    dup = ops_client.post(
        api(tenant, "lead-sources/"), {"name": "referral", "kind": "inbound"}, format="json"
    )
    assert dup.status_code == 400 and "name" in dup.json()
    bad = ops_client.post(api(tenant, "lead-sources/"), {"name": "X", "kind": "cold"}, format="json")
    assert bad.status_code == 400 and "kind" in bad.json()
    assert ops_client.patch(api(tenant, f"lead-sources/{pk}/"), {"kind": "incentive"}, format="json").json()[
        "kind"
    ] == ("incentive")
    assert ops_client.delete(api(tenant, f"lead-sources/{pk}/")).status_code == 204
    assert ops_client.get(api(tenant, f"lead-sources/{pk}/")).status_code == 404
    with tenant_context(tenant):
        assert LeadSource.objects.get(pk=pk).deleted_at is not None
    assert ops_client.get(api(tenant, "lead-sources/"), {"kind": "incentive"}).json()["results"] == []


def test_campaign_create_validation_and_cross_tenant(tenant, other_tenant, ops_client):
    source = LeadSourceFactory(tenant=tenant, kind="incentive")
    theirs = LeadSourceFactory(tenant=other_tenant)
    body = {
        "name": "Giveaway Q1",
        "channel": "social",
        "source": source.pk,
        "cost": "9000.00",
        "start_date": "2026-01-10",
        "end_date": "2026-01-05",
    }
    response = ops_client.post(api(tenant, "campaigns/"), body, format="json")
    assert response.status_code == 400 and "end_date" in response.json()
    response = ops_client.post(api(tenant, "campaigns/"), body | {"source": theirs.pk}, format="json")
    assert response.status_code == 400 and "source" in response.json()
    response = ops_client.post(api(tenant, "campaigns/"), body | {"end_date": "2026-01-31"}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["currency"], data["source_kind"], data["n_leads"]) == ("CNY", "incentive", 0)
    clash = ops_client.post(
        api(tenant, "campaigns/"), body | {"end_date": "2026-01-31", "source_kind": "inbound"}, format="json"
    )
    assert clash.status_code == 400 and "source_kind" in clash.json()
    # Another tenant's campaign by path: 404, unchanged.
    with tenant_context(other_tenant):
        other = CampaignFactory(tenant=other_tenant, name="Theirs")
    assert (
        ops_client.patch(api(tenant, f"campaigns/{other.pk}/"), {"name": "Mine"}, format="json").status_code
        == 404
    )
    with tenant_context(other_tenant):
        assert Campaign.objects.get(pk=other.pk).name == "Theirs"
    # Another tenant's source as a filter: 400 naming the parameter.
    response = ops_client.get(api(tenant, "campaigns/"), {"source": theirs.pk})
    assert response.status_code == 400 and "source" in response.json()


def test_campaign_filters_and_funnel(tenant, ops_client, in_tenant):
    webinar = CampaignFactory(tenant=tenant, channel="webinar", cost="300.00")
    CampaignFactory(tenant=tenant, channel="event")
    for kw in [{}, {"mql_at": timezone.now()}, {"converted_at": timezone.now()}]:
        LeadFactory(tenant=tenant, campaign=webinar, **kw)
    results = ops_client.get(api(tenant, "campaigns/"), {"channel": "webinar"}).json()["results"]
    assert [(r["id"], r["n_leads"], r["n_mql"]) for r in results] == [(webinar.pk, 3, 2)]
    funnel = ops_client.get(api(tenant, f"campaigns/{webinar.pk}/funnel/")).json()
    assert (funnel["leads"], funnel["mql"], funnel["sql"], funnel["converted"], funnel["won"]) == (
        3,
        2,
        1,
        1,
        0,
    )
    assert funnel["cost_per_lead"] == "100.00" and funnel["cost_per_won"] is None


def test_quality_endpoint(tenant, ops_client, in_tenant):
    inbound = LeadSourceFactory(tenant=tenant, name="Inquiry", kind="inbound")
    incentive = LeadSourceFactory(tenant=tenant, name="Giveaway", kind="incentive")
    LeadFactory(tenant=tenant, source=inbound, mql_at=timezone.now())
    LeadFactory(tenant=tenant, source=incentive)
    LeadFactory(tenant=tenant, source=incentive)
    data = ops_client.get(api(tenant, "lead-sources/quality/")).json()
    sources = {row["name"]: row for row in data["sources"]}
    assert sources["Inquiry"]["lead_to_mql_rate"] == 1.0 and sources["Inquiry"]["id"] == inbound.pk
    assert sources["Giveaway"]["lead_to_mql_rate"] == 0.0 and sources["Giveaway"]["mql_to_sql_rate"] is None
    assert {k["kind"]: k["leads"] for k in data["kinds"]} == {"inbound": 1, "incentive": 2}
    assert data["total"]["leads"] == 3
    assert ops_client.get(api(tenant, "lead-sources/quality/"), {"created_from": "nope"}).status_code == 400
    later = ops_client.get(api(tenant, "lead-sources/quality/"), {"created_from": "2199-01-01"}).json()
    assert later["total"]["leads"] == 0


def test_territory_crud_with_members_and_match(tenant, member, ops_client):
    rep, rep2, cs = member(role=Role.SALES_REP), member(role=Role.SALES_REP), member(role=Role.CS)
    body = {
        "name": "DACH",
        "priority": 10,
        "regions": ["Germany", "Austria"],
        "member_ids": [rep2.user_id, rep.user_id],
    }
    response = ops_client.post(api(tenant, "territories/"), body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert [m["user"] for m in data["members"]] == [rep2.user_id, rep.user_id]
    assert data["next_user"] == rep2.user_id and all(m["active"] for m in data["members"])
    bad = ops_client.post(
        api(tenant, "territories/"), body | {"name": "X", "member_ids": [cs.user_id]}, format="json"
    )
    assert bad.status_code == 400 and "members" in bad.json()
    bad = ops_client.post(
        api(tenant, "territories/"), body | {"name": "Y", "size_bands": ["huge"]}, format="json"
    )
    assert bad.status_code == 400
    match = ops_client.get(api(tenant, "territories/match/"), {"region": "germany"}).json()
    assert (match["territory_name"], match["next_user"]) == ("DACH", rep2.user_id)
    pk = data["id"]
    updated = ops_client.patch(
        api(tenant, f"territories/{pk}/"), {"member_ids": [rep.user_id]}, format="json"
    ).json()
    assert [m["user"] for m in updated["members"]] == [rep.user_id]
    assert ops_client.get(api(tenant, "territories/"), {"member": rep2.user_id}).json()["results"] == []
    assert ops_client.delete(api(tenant, f"territories/{pk}/")).status_code == 204
    with tenant_context(tenant):
        assert not Territory.objects.filter(pk=pk).exists()


def test_scoring_rule_crud_rescores(tenant, ops_client, django_capture_on_commit_callbacks):
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, title="Head of IT")
    with django_capture_on_commit_callbacks(execute=True):
        response = ops_client.post(
            api(tenant, "scoring-rules/"), {"field": "title", "value": "head", "points": 35}, format="json"
        )
    assert response.status_code == 201
    assert response.json()["category"] == "fit"
    with tenant_context(tenant):
        lead.refresh_from_db()
    assert lead.score == 35
    pk = response.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            ops_client.patch(
                api(tenant, f"scoring-rules/{pk}/"), {"is_active": False}, format="json"
            ).status_code
            == 200
        )
    with tenant_context(tenant):
        lead.refresh_from_db()
    assert lead.score == 0
    bad = ops_client.post(
        api(tenant, "scoring-rules/"), {"field": "source_kind", "value": "x", "points": 5}, format="json"
    )
    assert bad.status_code == 400 and "value" in bad.json()
    assert ops_client.get(api(tenant, "scoring-rules/"), {"category": "engagement"}).json()["results"] == []


@pytest.mark.parametrize(
    ("path", "queries"),
    [("lead-sources/", 9), ("campaigns/", 9), ("territories/", 11), ("scoring-rules/", 9)],
)
def test_list_endpoints_query_count(tenant, member, ops_client, django_assert_num_queries, path, queries):
    def grow(n):
        with tenant_context(tenant):
            for i in range(n):
                source = LeadSourceFactory(tenant=tenant)
                campaign = CampaignFactory(tenant=tenant, source=source)
                LeadFactory(tenant=tenant, campaign=campaign)
                territory = TerritoryFactory(tenant=tenant)
                TerritoryMemberFactory(tenant=tenant, territory=territory, user=member().user)
                ScoringRuleFactory(tenant=tenant, value=f"I{i}-{n}")

    grow(2)
    with django_assert_num_queries(queries):
        assert len(ops_client.get(api(tenant, path)).json()["results"]) == 2
    grow(4)
    with django_assert_num_queries(queries):
        assert len(ops_client.get(api(tenant, path)).json()["results"]) == 6


def test_openapi_documents_the_ops_routes(client):
    schema = client.get("/api/schema/").content.decode()
    for route in ["lead-sources/quality/", "campaigns/{id}/funnel/", "territories/match/", "scoring-rules/"]:
        assert route in schema
    assert "An inbound source" in schema and "East China" in schema
