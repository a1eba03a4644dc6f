"""API of the records area: /api/v1/t/<slug>/accounts|contacts|activities|exchange-rates|merges/."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts.models import Activity, Contact
from crm.models import Role
from crm.tenancy import tenant_context
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
)

pytestmark = pytest.mark.django_db


def api(tenant, path):
    return f"/api/v1/t/{tenant.slug}/{path}"


def test_account_crud_with_optimistic_locking(tenant, admin_member, api_client_for):
    client = api_client_for(admin_member)
    response = client.post(api(tenant, "accounts/"), {"name": "Acme", "tier": "key"}, format="json")
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["version"] == 1 and response.json()["owner"] == admin_member.user.pk
    response = client.patch(api(tenant, f"accounts/{pk}/"), {"tier": "strategic"}, format="json")
    assert response.status_code == 400 and "version" in response.json()
    response = client.patch(
        api(tenant, f"accounts/{pk}/"), {"tier": "strategic", "version": 1}, format="json"
    )
    assert response.status_code == 200 and response.json()["version"] == 2
    response = client.patch(api(tenant, f"accounts/{pk}/"), {"name": "Stale", "version": 1}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert (
        body["your_version"] == 1 and body["current_version"] == 2 and body["current"]["tier"] == "strategic"
    )
    assert client.delete(api(tenant, f"accounts/{pk}/")).status_code == 204
    assert client.get(api(tenant, f"accounts/{pk}/")).status_code == 404
    assert client.post(api(tenant, f"accounts/{pk}/restore/")).status_code == 200
    assert client.get(api(tenant, f"accounts/{pk}/")).status_code == 200
    history = client.get(api(tenant, f"accounts/{pk}/history/")).json()
    assert [h["action"] for h in history][:3] == ["restored", "deleted", "updated"]
    assert history[-1]["action"] == "created"


def test_account_list_filters_and_cursor(tenant, admin_member, api_client_for):
    for i in range(5):
        AccountFactory(tenant=tenant, name=f"Acct {i}", tier="key" if i % 2 else "standard")
    client = api_client_for(admin_member)
    body = client.get(api(tenant, "accounts/?tier=key&page_size=1")).json()
    assert [r["name"] for r in body["results"]] == ["Acct 1"]
    body = client.get(body["next"]).json()
    assert [r["name"] for r in body["results"]] == ["Acct 3"]
    assert client.get(api(tenant, "accounts/?q=acct%204")).json()["results"][0]["name"] == "Acct 4"
    assert client.get(api(tenant, "accounts/?tier=bogus")).status_code == 400


def test_invisible_refs_in_body_are_400(tenant, other_tenant, member, api_client_for):
    rep = member(role=Role.SALES_REP)
    foreign = AccountFactory(tenant=other_tenant)
    hidden = AccountFactory(tenant=tenant)
    client = api_client_for(rep)
    for account in (foreign, hidden):
        response = client.post(
            api(tenant, "contacts/"), {"last_name": "X", "account": account.pk}, format="json"
        )
        assert response.status_code == 400 and "account" in response.json()
    assert client.get(api(tenant, f"accounts/{hidden.pk}/")).status_code == 404
    assert client.get(api(tenant, f"accounts/{foreign.pk}/")).status_code == 404


def test_contact_merge_and_undo(tenant, admin_member, api_client_for):
    account = AccountFactory(tenant=tenant)
    keep = ContactFactory(account=account, email="a@x.test")
    dupe = ContactFactory(account=account, email="a2@x.test", phone="123")
    ActivityFactory(account=account, contact=dupe)
    client = api_client_for(admin_member)
    response = client.post(
        api(tenant, f"contacts/{keep.pk}/merge/"),
        {"merged": dupe.pk, "choices": {"phone": "merged"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    merge_id = response.json()["id"]
    with tenant_context(tenant):
        assert Activity.objects.get().contact_id == keep.pk
        assert Contact.objects.get(pk=keep.pk).phone == "123"
    assert client.get(api(tenant, f"contacts/{dupe.pk}/")).status_code == 404
    assert client.post(api(tenant, f"merges/{merge_id}/undo/")).status_code == 200
    with tenant_context(tenant):
        assert Activity.objects.get().contact_id == dupe.pk
        assert Contact.objects.get(pk=keep.pk).phone == ""
    assert client.get(api(tenant, f"contacts/{dupe.pk}/")).status_code == 200


def test_activities_create_complete_snooze(tenant, member, api_client_for):
    rep = member(role=Role.SALES_REP)
    account = AccountFactory(tenant=tenant, owner=rep.user)
    client = api_client_for(rep)
    due = timezone.now() + datetime.timedelta(hours=2)
    response = client.post(
        api(tenant, "activities/"),
        {"kind": "task", "subject": "Send proposal", "account": account.pk, "due_at": due.isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["done"] is False
    response = client.post(api(tenant, f"activities/{pk}/snooze/"), {"by": "1w"}, format="json")
    assert response.status_code == 200
    with tenant_context(tenant):
        assert Activity.objects.get(pk=pk).due_at == due + datetime.timedelta(days=7)
    response = client.post(api(tenant, f"activities/{pk}/complete/"))
    assert response.status_code == 200 and response.json()["done"] is True
    listed = client.get(api(tenant, f"activities/?account={account.pk}&kind=task")).json()["results"]
    assert [a["id"] for a in listed] == [pk]


def test_exchange_rates_admin_only_writes(tenant, admin_member, member, api_client_for):
    rep = api_client_for(member(role=Role.SALES_REP))
    admin = api_client_for(admin_member)
    payload = {"currency": "usd", "valid_from": "2026-01-01", "rate": "7.1"}
    assert rep.post(api(tenant, "exchange-rates/"), payload, format="json").status_code == 403
    response = admin.post(api(tenant, "exchange-rates/"), payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["currency"] == "USD"
    assert rep.get(api(tenant, "exchange-rates/")).json()["results"][0]["currency"] == "USD"
    converted = rep.get(
        api(tenant, "exchange-rates/convert/?amount=10&currency=USD&on_date=2026-02-01")
    ).json()
    assert converted["value"] == "71.00"
    missing = rep.get(api(tenant, "exchange-rates/convert/?amount=10&currency=JPY"))
    assert missing.status_code == 400 and "JPY" in missing.json()["detail"]
