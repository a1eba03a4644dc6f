"""Lead API additions: duplicates (endpoint and on create), history, pool health and settings, retired sources
and campaigns refused, keyset ordering by score or company that pages through ties."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from crm.models import Role
from crm.tenancy import tenant_context
from leads.models import Lead, LeadSettings
from tests.factories_leads import LeadFactory, LeadPoolEventFactory
from tests.factories_ops import CampaignFactory, LeadSourceFactory

pytestmark = pytest.mark.django_db


def api(tenant, path: str = "") -> str:
    return f"/api/v1/t/{tenant.slug}/leads/{path}"


def test_duplicates_endpoint_shows_only_visible_leads(tenant, member, api_client_for, admin_member):
    rep = member()
    mine = LeadFactory(tenant=tenant, owner=rep.user, email="wang@huaxin.cn", phone="+86 138 0000 1111")
    theirs = LeadFactory(tenant=tenant, owner=member().user, email="wang@huaxin.cn")
    response = api_client_for(rep).get(api(tenant, "duplicates/"), {"email": "Wang@Huaxin.cn"})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [mine.pk]
    row = response.json()[0]
    assert row["same_email"] and row["owner_email"] == rep.user.email
    response = api_client_for(admin_member).get(
        api(tenant, "duplicates/"), {"email": "wang@huaxin.cn", "exclude": mine.pk}
    )
    assert [row["id"] for row in response.json()] == [theirs.pk]
    assert api_client_for(rep).get(api(tenant, "duplicates/")).json() == []


def test_create_answers_with_the_duplicates(tenant, member, api_client_for):
    rep = member()
    existing = LeadFactory(tenant=tenant, owner=rep.user, email="li@dragon.cn")
    LeadFactory(tenant=tenant, owner=member().user, email="li@dragon.cn")  # invisible to rep
    response = api_client_for(rep).post(
        api(tenant), {"last_name": "Li", "email": "li@dragon.cn", "owner": rep.user_id}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert [d["id"] for d in body["duplicates"]] == [existing.pk] and body["duplicates"][0]["same_email"]
    response = api_client_for(rep).post(
        api(tenant), {"last_name": "Unique", "email": "unique@x.cn", "owner": rep.user_id}, format="json"
    )
    assert response.json()["duplicates"] == []


def test_history_endpoint(tenant, member, api_client_for):
    rep = member()
    lead = LeadFactory(tenant=tenant, owner=rep.user, company="Old name")
    client = api_client_for(rep)
    client.patch(api(tenant, f"{lead.pk}/"), {"company": "New name", "version": 1}, format="json")
    response = client.get(api(tenant, f"{lead.pk}/history/"))
    assert response.status_code == 200
    newest = response.json()[0]
    assert newest["action"] == "updated" and newest["who"] == {
        "id": rep.user_id,
        "name": rep.user.display_name,
    }
    assert {"field": "company", "old": "Old name", "new": "New name"} in newest["changes"]
    hidden = LeadFactory(tenant=tenant, owner=member().user)
    assert client.get(api(tenant, f"{hidden.pk}/history/")).status_code == 404


def test_pool_health_endpoint(tenant, member, api_client_for):
    manager = member(role=Role.SALES_MANAGER, team="East")
    with tenant_context(tenant):
        LeadFactory(tenant=tenant, owner=None, pooled_at=timezone.now() - datetime.timedelta(days=10))
        LeadPoolEventFactory(tenant=tenant)
    response = api_client_for(manager).get(api(tenant, "pool/health/"))
    assert response.status_code == 200
    body = response.json()
    assert body["size"] == 2 and len(body["weeks"]) == 8 and sum(w["returned"] for w in body["weeks"]) == 1
    assert [bucket["count"] for bucket in body["age_buckets"]] == [1, 1, 0, 0]
    assert api_client_for(member()).get(api(tenant, "pool/health/")).status_code == 403
    assert api_client_for(member(role=Role.CS)).get(api(tenant, "pool/health/")).status_code == 404


def test_pool_settings_endpoint(tenant, member, api_client_for):
    rep, ops = member(), member(role=Role.OPS)
    url = api(tenant, "pool/settings/")
    assert api_client_for(rep).get(url).json() == {"pool_window_days": 30, "pool_claim_cap": 20}
    response = api_client_for(ops).put(url, {"pool_window_days": 21, "pool_claim_cap": 15}, format="json")
    assert response.status_code == 200 and response.json() == {"pool_window_days": 21, "pool_claim_cap": 15}
    response = api_client_for(ops).patch(url, {"pool_claim_cap": 9}, format="json")
    assert response.json() == {"pool_window_days": 21, "pool_claim_cap": 9}
    assert api_client_for(ops).patch(url, {"pool_window_days": 0}, format="json").status_code == 400
    response = api_client_for(rep).put(url, {"pool_window_days": 5, "pool_claim_cap": 5}, format="json")
    assert response.status_code == 403
    with tenant_context(tenant):
        settings = LeadSettings.objects.get(tenant=tenant)
        assert (settings.pool_window_days, settings.pool_claim_cap) == (21, 9)


def test_retired_sources_and_campaigns_are_refused(tenant, member, api_client_for):
    rep = member()
    deleted_source = LeadSourceFactory(tenant=tenant, deleted_at=timezone.now())
    inactive_source = LeadSourceFactory(tenant=tenant, is_active=False)
    deleted_campaign = CampaignFactory(tenant=tenant, deleted_at=timezone.now())
    live_source, live_campaign = LeadSourceFactory(tenant=tenant), CampaignFactory(tenant=tenant)
    client = api_client_for(rep)
    base = {"last_name": "Zhao", "owner": rep.user_id}
    for body in (
        {"source": deleted_source.pk},
        {"source": inactive_source.pk},
        {"campaign": deleted_campaign.pk},
    ):
        response = client.post(api(tenant), {**base, **body}, format="json")
        assert response.status_code == 400 and set(response.json()) == set(body), body
    response = client.post(
        api(tenant), {**base, "source": live_source.pk, "campaign": live_campaign.pk}, format="json"
    )
    assert response.status_code == 201
    lead_id = response.json()["id"]
    response = client.patch(
        api(tenant, f"{lead_id}/"), {"source": inactive_source.pk, "version": 1}, format="json"
    )
    assert response.status_code == 400 and "source" in response.json()
    # A source retired after the lead got it stays acceptable for that lead (sending it back is no change).
    with tenant_context(tenant):
        type(live_source).objects.filter(pk=live_source.pk).update(is_active=False)
    response = client.patch(
        api(tenant, f"{lead_id}/"), {"source": live_source.pk, "title": "CEO", "version": 1}, format="json"
    )
    assert response.status_code == 200 and response.json()["source"] == live_source.pk


def _walk(client, url: str, params: dict) -> list[int]:
    seen: list[int] = []
    page = client.get(url, params).json()
    while True:
        seen += [row["id"] for row in page["results"]]
        if not page["next"]:
            return seen
        page = client.get(page["next"]).json()


@pytest.mark.parametrize("ordering", ["-score", "score", "company", "-company"])
def test_ordering_pages_through_ties(tenant, api_client_for, admin_member, ordering):
    with tenant_context(tenant):
        tied = LeadFactory.create_batch(17, tenant=tenant, score=50, company="Same Co")
        others = [LeadFactory(tenant=tenant, score=score, company=f"Co {score:02d}") for score in (10, 90)]
        Lead.objects.filter(pk__in=[lead.pk for lead in tied]).update(score=50)
        for lead in others:
            Lead.objects.filter(pk=lead.pk).update(score=int(lead.company[-2:]))
    client = api_client_for(admin_member)
    seen = _walk(client, api(tenant), {"ordering": ordering, "page_size": 4})
    assert sorted(seen) == sorted(lead.pk for lead in [*tied, *others])  # every lead exactly once
    with tenant_context(tenant):
        rows = {lead.pk: lead for lead in Lead.objects.all()}
    field = ordering.lstrip("-")
    keys = [(getattr(rows[pk], field), pk) for pk in seen]
    assert keys == sorted(keys, reverse=ordering.startswith("-"))
    second = client.get(client.get(api(tenant), {"ordering": ordering, "page_size": 4}).json()["next"]).json()
    back = client.get(second["previous"]).json()
    assert [row["id"] for row in back["results"]] == seen[:4]


def test_schema_documents_the_new_endpoints(client):
    text = client.get("/api/schema/").content.decode()
    for path in ("leads/duplicates/", "leads/{id}/history/", "leads/pool/health/", "leads/pool/settings/"):
        assert f"/api/v1/t/{{slug}}/{path}" in text, path
    for example in ("The same email", "A status change", "Pool health", "Return leads after 21 idle days"):
        assert example in text, example
