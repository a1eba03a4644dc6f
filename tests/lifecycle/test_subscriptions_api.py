"""API of subscriptions (CRUD, filters, 409, 404 for another tenant's ids, roles), renewals (windows), lifecycle
settings (admins) and an account's lifecycle history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from crm.dates import tenant_today
from crm.models import Role
from crm.tenancy import tenant_context
from lifecycle.models import LifecycleSettings
from tests.factories_accounts import AccountFactory
from tests.factories_lifecycle import LifecycleChangeFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def api(tenant, path):
    return f"/api/v1/t/{tenant.slug}/{path}"


@pytest.fixture
def customer(tenant):
    return AccountFactory(tenant=tenant, lifecycle_stage="retention", name="Huaxin")


def test_crud_with_version_and_soft_delete(tenant, member, api_client_for, customer):
    client = api_client_for(member(role=Role.CS))
    created = client.post(
        api(tenant, "subscriptions/"),
        {
            "account": customer.pk,
            "plan": "Pro",
            "mrr": "1200.00",
            "start_date": "2026-01-01",
            "end_date": "2027-01-01",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["account_name"], body["currency"], body["version"]) == ("Huaxin", "CNY", 1)
    detail = api(tenant, f"subscriptions/{body['id']}/")
    assert client.get(detail).json()["plan"] == "Pro"
    changed = client.patch(detail, {"version": 1, "mrr": "1500"}, format="json")
    assert changed.status_code == 200 and changed.json()["mrr"] == "1500.00"
    stale = client.patch(detail, {"version": 1, "mrr": "1"}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current"]["mrr"] == "1500.00"
    assert client.patch(detail, {"mrr": "1"}, format="json").status_code == 400  # version required
    assert client.delete(detail).status_code == 204
    assert client.get(detail).status_code == 404
    assert client.post(detail + "restore/").status_code == 200
    assert client.get(detail).status_code == 200


def test_validation_errors_are_400(tenant, member, api_client_for, customer):
    client = api_client_for(member(role=Role.CS))
    response = client.post(
        api(tenant, "subscriptions/"),
        {"account": customer.pk, "start_date": "2026-02-01", "end_date": "2026-01-01", "mrr": "5"},
        format="json",
    )
    assert response.status_code == 400
    assert "end_date" in response.json()


def test_filters_match_the_page(tenant, admin_member, api_client_for, customer):
    SubscriptionFactory(
        tenant=tenant,
        account=customer,
        plan="Old",
        start_date=dt.date(2020, 1, 1),
        end_date=dt.date(2021, 1, 1),
    )
    SubscriptionFactory(tenant=tenant, account=customer, plan="Current", start_date=dt.date(2025, 1, 1))
    other = SubscriptionFactory(tenant=tenant, plan="Elsewhere")
    client = api_client_for(admin_member)

    def plans(**params):
        return [r["plan"] for r in client.get(api(tenant, "subscriptions/"), params).json()["results"]]

    assert plans(status="ended") == ["Old"]
    assert plans(status="active", account=customer.pk) == ["Current"]
    assert plans(account=other.account_id) == ["Elsewhere"]
    assert plans(ending_before="2021-06-01") == ["Old"]
    assert client.get(api(tenant, "subscriptions/"), {"account": 987654321}).status_code == 400


def test_another_tenants_ids_are_404_and_refused_in_bodies(tenant, other_tenant, member, api_client_for):
    foreign = SubscriptionFactory(tenant=other_tenant)
    client = api_client_for(member(role=Role.CS))
    assert client.get(api(tenant, f"subscriptions/{foreign.pk}/")).status_code == 404
    assert (
        client.patch(api(tenant, f"subscriptions/{foreign.pk}/"), {"version": 1}, format="json").status_code
        == 404
    )
    assert client.delete(api(tenant, f"subscriptions/{foreign.pk}/")).status_code == 404
    response = client.post(
        api(tenant, "subscriptions/"),
        {"account": foreign.account_id, "start_date": "2026-01-01", "mrr": "1"},
        format="json",
    )
    assert response.status_code == 400 and "account" in response.json()
    assert client.get(api(tenant, f"accounts/{foreign.account_id}/lifecycle-history/")).status_code == 404


def test_reps_read_their_own_and_cannot_write(tenant, member, api_client_for):
    rep = member(role=Role.SALES_REP)
    mine = SubscriptionFactory(tenant=tenant, account=AccountFactory(tenant=tenant, owner=rep.user))
    hidden = SubscriptionFactory(tenant=tenant)
    client = api_client_for(rep)
    ids = [r["id"] for r in client.get(api(tenant, "subscriptions/")).json()["results"]]
    assert ids == [mine.pk]
    assert client.get(api(tenant, f"subscriptions/{hidden.pk}/")).status_code == 404
    assert (
        client.patch(
            api(tenant, f"subscriptions/{mine.pk}/"), {"version": 1, "plan": "x"}, format="json"
        ).status_code
        == 403
    )


def test_renewals_by_window(tenant, member, api_client_for, customer):
    today = tenant_today(tenant)
    SubscriptionFactory(
        tenant=tenant,
        account=customer,
        plan="Soon",
        start_date=today - dt.timedelta(days=300),
        end_date=today + dt.timedelta(days=10),
    )
    SubscriptionFactory(
        tenant=tenant,
        account=customer,
        plan="Late",
        start_date=today - dt.timedelta(days=400),
        end_date=today - dt.timedelta(days=5),
    )
    client = api_client_for(member(role=Role.CS))
    soon = client.get(api(tenant, "renewals/")).json()["results"]
    assert [(r["plan"], r["window"], r["mrr"], r["deal_stage"]) for r in soon] == [
        ("Soon", "30", "1000.00", None)
    ]
    assert [
        r["plan"] for r in client.get(api(tenant, "renewals/"), {"window": "overdue"}).json()["results"]
    ] == ["Late"]
    assert client.get(api(tenant, "renewals/"), {"window": "7"}).status_code == 400


def test_settings_are_admin_only(tenant, admin_member, member, api_client_for):
    client = api_client_for(admin_member)
    assert client.get(api(tenant, "lifecycle/settings/")).json() == {
        "onboarding_days": 90,
        "grace_days": 30,
        "lapse_days": 365,
        "renewal_lead_days": 90,
    }
    response = client.put(api(tenant, "lifecycle/settings/"), {"renewal_lead_days": 120}, format="json")
    assert response.status_code == 200 and response.json()["renewal_lead_days"] == 120
    assert (
        client.put(api(tenant, "lifecycle/settings/"), {"grace_days": -1}, format="json").status_code == 400
    )
    with tenant_context(tenant):
        assert LifecycleSettings.objects.get().renewal_lead_days == 120
    assert api_client_for(member(role=Role.CS)).get(api(tenant, "lifecycle/settings/")).status_code == 403


def test_lifecycle_history_of_an_account(tenant, admin_member, api_client_for, customer):
    LifecycleChangeFactory(tenant=tenant, account=customer, to_stage="acquisition", date=dt.date(2025, 1, 1))
    LifecycleChangeFactory(
        tenant=tenant,
        account=customer,
        from_stage="acquisition",
        to_stage="conversion",
        date=dt.date(2025, 3, 1),
        cause="first_won_deal",
    )
    rows = api_client_for(admin_member).get(api(tenant, f"accounts/{customer.pk}/lifecycle-history/")).json()
    assert [(r["to_stage"], r["date"], r["cause"]) for r in rows] == [
        ("acquisition", "2025-01-01", "created"),
        ("conversion", "2025-03-01", "first_won_deal"),
    ]


def test_list_query_count(tenant, member, api_client_for, django_assert_num_queries):
    cs = member(role=Role.CS)
    for _index in range(5):
        SubscriptionFactory(
            tenant=tenant,
            account=AccountFactory(tenant=tenant, lifecycle_stage="retention"),
            mrr=Decimal("10"),
        )
    client = api_client_for(cs)
    client.get(api(tenant, "subscriptions/"))
    # Token (and its last use), tenant, savepoint + RLS settings, membership, one page of rows (accounts and
    # renewal deals joined; whether a term is renewed is stored), RLS reset and savepoint release: the same for any
    # number of rows.
    with django_assert_num_queries(9):
        response = client.get(api(tenant, "subscriptions/"))
    assert len(response.json()["results"]) == 5
