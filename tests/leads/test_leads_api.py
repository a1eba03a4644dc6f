"""Lead API: list (visibility, filters, cursor pages, query count), retrieve, create (rules + scoring), update
(version -> 409), soft delete + restore, actions (status, assign, claim, convert, merge + undo), the pool."""

from __future__ import annotations

import pytest

from accounts.models import Opportunity
from crm.models import Role
from crm.tenancy import tenant_context
from leads.models import Lead, LeadStatus
from tests.factories import ValueListItemFactory
from tests.factories_leads import LeadFactory
from tests.factories_ops import (
    LeadSourceFactory,
    ScoringRuleFactory,
    TerritoryFactory,
    TerritoryMemberFactory,
)

pytestmark = pytest.mark.django_db


def api(tenant, path: str = "") -> str:
    return f"/api/v1/t/{tenant.slug}/leads/{path}"


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def test_list_visibility_and_filters(tenant, member, api_client_for, admin_member):
    rep, other = member(), member()
    inbound = LeadSourceFactory(tenant=tenant, kind="inbound")
    mine = LeadFactory(tenant=tenant, owner=rep.user, source=inbound, score=60)
    LeadFactory(tenant=tenant, owner=other.user)
    pooled = LeadFactory(tenant=tenant, owner=None)
    client = api_client_for(rep)
    assert ids(client.get(api(tenant))) == {mine.pk, pooled.pk}  # own + the pool
    assert ids(client.get(api(tenant), {"scope": "my"})) == {mine.pk}
    assert ids(api_client_for(admin_member).get(api(tenant), {"source_kind": "inbound"})) == {mine.pk}
    assert ids(api_client_for(admin_member).get(api(tenant), {"score_min": 50})) == {mine.pk}
    assert ids(api_client_for(admin_member).get(api(tenant), {"q": mine.email.upper()})) == {mine.pk}
    assert api_client_for(admin_member).get(api(tenant), {"source": 999999}).status_code == 400
    assert api_client_for(member(role=Role.CS)).get(api(tenant)).status_code == 404


def test_list_cursor_pages_and_query_count(tenant, api_client_for, admin_member, django_assert_num_queries):
    LeadFactory.create_batch(3, tenant=tenant, source=LeadSourceFactory(tenant=tenant))
    client = api_client_for(admin_member)
    with django_assert_num_queries(9) as first:
        client.get(api(tenant), {"page_size": 2})
    LeadFactory.create_batch(
        6, tenant=tenant, source=LeadSourceFactory(tenant=tenant), owner=admin_member.user
    )
    with django_assert_num_queries(len(first.captured_queries)):
        response = client.get(api(tenant), {"page_size": 50})
    assert len(response.json()["results"]) == 9
    page = client.get(api(tenant), {"page_size": 4}).json()
    second = client.get(page["next"]).json()
    assert not {r["id"] for r in page["results"]} & {r["id"] for r in second["results"]}
    by_score = client.get(api(tenant), {"ordering": "-score"})
    assert by_score.status_code == 200


def test_create_applies_rules_and_scoring(tenant, member, api_client_for, admin_member):
    rep = member()
    territory = TerritoryFactory(tenant=tenant, regions=["South"])
    TerritoryMemberFactory(tenant=tenant, territory=territory, user=rep.user)
    ScoringRuleFactory(tenant=tenant, field="title", value="cto", points=20)
    ValueListItemFactory(tenant=tenant, list_key="region", value="South")  # a region of the company's list
    response = api_client_for(admin_member).post(
        api(tenant),
        {"last_name": "Chen", "company": "Guangzhou Ltd", "region": "South", "title": "CTO"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == rep.user_id and body["score"] == 20 and body["score_reasons"]
    manual = api_client_for(admin_member).post(
        api(tenant), {"last_name": "Li", "region": "South", "owner": admin_member.user_id}, format="json"
    )
    assert manual.json()["owner"] == admin_member.user_id


def test_create_refuses_foreign_or_invisible_ids(tenant, other_tenant, member, api_client_for):
    rep = member()
    foreign = LeadSourceFactory(tenant=other_tenant)
    client = api_client_for(rep)
    response = client.post(api(tenant), {"last_name": "X", "source": foreign.pk}, format="json")
    assert response.status_code == 400 and "source" in response.json()
    response = client.post(api(tenant), {"last_name": "X", "owner": member().user_id}, format="json")
    assert response.status_code == 400 and "owner" in response.json()
    response = client.post(api(tenant), {"email": "bad"}, format="json")
    assert response.status_code == 400
    assert (
        api_client_for(member(role=Role.OPS)).post(api(tenant), {"last_name": "X"}, format="json").status_code
        == 403
    )


def test_update_version_conflict(tenant, member, api_client_for):
    rep = member()
    lead = LeadFactory(tenant=tenant, owner=rep.user)
    client = api_client_for(rep)
    assert client.patch(api(tenant, f"{lead.pk}/"), {"company": "X"}, format="json").status_code == 400
    response = client.patch(api(tenant, f"{lead.pk}/"), {"company": "New", "version": 1}, format="json")
    assert response.status_code == 200 and response.json()["version"] == 2
    response = client.patch(api(tenant, f"{lead.pk}/"), {"company": "Stale", "version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["current"]["company"] == "New" and response.json()["current_version"] == 2
    other = LeadFactory(tenant=tenant, owner=member().user)
    assert client.patch(api(tenant, f"{other.pk}/"), {"version": 1}, format="json").status_code == 404


def test_delete_restore(tenant, member, api_client_for):
    rep = member()
    lead = LeadFactory(tenant=tenant, owner=rep.user)
    client = api_client_for(rep)
    assert client.delete(api(tenant, f"{lead.pk}/")).status_code == 204
    assert client.get(api(tenant, f"{lead.pk}/")).status_code == 404
    assert client.post(api(tenant, f"{lead.pk}/restore/")).status_code == 200
    assert client.get(api(tenant, f"{lead.pk}/")).status_code == 200


def test_status_assign_claim_pool(tenant, member, api_client_for, admin_member):
    rep, rep2 = member(), member()
    lead = LeadFactory(tenant=tenant, owner=rep.user)
    client = api_client_for(rep)
    response = client.post(api(tenant, f"{lead.pk}/status/"), {"status": "disqualified"}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    response = client.post(api(tenant, f"{lead.pk}/status/"), {"status": "sql"}, format="json")
    assert response.json()["status"] == "sql" and response.json()["sql_at"]
    response = client.post(api(tenant, f"{lead.pk}/assign/"), {"owner": None}, format="json")
    assert response.status_code == 200 and response.json()["in_pool"]
    pool = api_client_for(rep2).get(api(tenant, "pool/"))
    assert ids(pool) == {lead.pk}
    response = api_client_for(rep2).post(api(tenant, f"{lead.pk}/claim/"))
    assert response.status_code == 200 and response.json()["owner"] == rep2.user_id
    response = client.post(api(tenant, f"{lead.pk}/claim/"))
    assert response.status_code == 404  # no longer visible to rep
    response = api_client_for(admin_member).post(api(tenant, f"{lead.pk}/claim/"))
    assert response.status_code == 400  # taken
    response = api_client_for(admin_member).post(
        api(tenant, f"{lead.pk}/assign/"), {"owner": member(role=Role.CS).user_id}, format="json"
    )
    assert response.status_code == 400


def test_convert_and_merge_undo(tenant, member, api_client_for):
    rep = member()
    lead = LeadFactory(tenant=tenant, owner=rep.user, company="Api Co")
    client = api_client_for(rep)
    response = client.post(
        api(tenant, f"{lead.pk}/convert/"), {"deal_name": "Api deal", "deal_amount": "999.00"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == LeadStatus.CONVERTED and body["converted_opportunity"]
    with tenant_context(tenant):
        assert Opportunity.objects.get(pk=body["converted_opportunity"]).lead_id == lead.pk
    response = client.post(api(tenant, f"{lead.pk}/convert/"), {}, format="json")
    assert response.status_code == 400
    keep = LeadFactory(tenant=tenant, owner=rep.user, phone="")
    gone = LeadFactory(tenant=tenant, owner=rep.user, phone="+86 21 1234 5678")
    response = client.post(api(tenant, f"{keep.pk}/merge/"), {"merged": gone.pk}, format="json")
    assert response.status_code == 201
    record_id = response.json()["id"]
    assert client.get(api(tenant, f"{gone.pk}/")).status_code == 404
    response = client.post(api(tenant, f"{keep.pk}/merges/{record_id}/undo/"))
    assert response.status_code == 200 and response.json()["id"] == gone.pk
    with tenant_context(tenant):
        assert Lead.objects.get(pk=keep.pk).phone == ""
    hidden = LeadFactory(tenant=tenant, owner=member().user)
    response = client.post(api(tenant, f"{keep.pk}/merge/"), {"merged": hidden.pk}, format="json")
    assert response.status_code == 400


def test_other_tenant_ids_are_404(tenant, other_tenant, member, api_client_for, admin_member):
    foreign = LeadFactory(tenant=other_tenant)
    client = api_client_for(admin_member)
    assert client.get(api(tenant, f"{foreign.pk}/")).status_code == 404
    assert client.post(api(tenant, f"{foreign.pk}/claim/")).status_code == 404
    assert (
        client.post(api(tenant, f"{foreign.pk}/status/"), {"status": "mql"}, format="json").status_code == 404
    )
    with tenant_context(other_tenant):
        assert Lead.objects.get(pk=foreign.pk).status == LeadStatus.NEW


def test_schema_documents_leads(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/t/{slug}/leads/{id}/convert/" in text and "Create a lead" in text
