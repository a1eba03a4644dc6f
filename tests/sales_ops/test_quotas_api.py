"""Quota API: /api/v1/t/<slug>/quotas/ CRUD with the CSV columns as fields, filters, role rules, another tenant's
quota as a 404, exact query count of the list, and the grid's bulk upsert (all or nothing)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from crm.models import Role
from crm.tenancy import tenant_context
from sales_ops.models import Quota
from tests.factories import MembershipFactory, QuotaFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
D = datetime.date
URL = "/api/v1/t/alpha/quotas/"


@pytest.fixture
def org(tenant, admin_member):
    east, west = TeamFactory(tenant=tenant, name="East"), TeamFactory(tenant=tenant, name="West")

    def make(email, role, team):  # type: ignore[no-untyped-def]
        return MembershipFactory(tenant=tenant, user=UserFactory(email=email), role=role, team=team)

    return {
        "admin": admin_member,
        "ops": make("ops@q.test", Role.OPS, None),
        "manager": make("manager@q.test", Role.SALES_MANAGER, east),
        "rep1": make("rep1@q.test", Role.SALES_REP, east),
        "rep2": make("rep2@q.test", Role.SALES_REP, west),
        "east": east,
        "west": west,
    }


def test_crud_with_the_csv_columns(tenant, org, api_client_for):
    api = api_client_for(org["ops"])
    created = api.post(
        URL,
        {
            "owner_email": "REP1@q.test",
            "period_start": "2026-04-01",
            "amount": "1200.00",
            "external_id": "Q-1",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body == {
        "id": body["id"],
        "external_id": "Q-1",
        "owner_email": "rep1@q.test",
        "team": "",
        "period_start": "2026-04-01",
        "amount": "1200.00",
    }
    url = f"{URL}{body['id']}/"
    assert api.patch(url, {"amount": "1500"}, format="json").json()["amount"] == "1500.00"
    moved = api.put(url, {"owner_email": "", "team": "West", "period_start": "2026-05-01"}, format="json")
    assert (moved.json()["team"], moved.json()["owner_email"], moved.json()["period_start"]) == (
        "West",
        "",
        "2026-05-01",
    )
    assert api.get(url).json()["amount"] == "1500.00"
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_bad_input_is_a_400(tenant, org, api_client_for):
    api = api_client_for(org["ops"])
    cases = [
        ({"period_start": "2026-04-02", "amount": "1"}, "month"),
        ({"period_start": "2026-04-01", "amount": "-1"}, "amount"),
        ({"period_start": "2026-04-01"}, "amount"),
        ({"owner_email": "nobody@q.test", "period_start": "2026-04-01", "amount": "1"}, "owner_email"),
        ({"team": "North", "period_start": "2026-04-01", "amount": "1"}, "team"),
    ]
    for payload, field in cases:
        response = api.post(URL, payload, format="json")
        assert response.status_code == 400 and field in response.json(), (payload, response.json())
    both = api.post(
        URL,
        {"owner_email": "rep1@q.test", "team": "East", "period_start": "2026-04-01", "amount": "1"},
        format="json",
    )
    assert both.status_code == 400


def test_roles_and_other_tenant(tenant, other_tenant, org, api_client_for):
    mine = QuotaFactory(tenant=tenant, owner=org["rep1"].user, month=D(2026, 4, 1))
    west = QuotaFactory(tenant=tenant, team=org["west"], month=D(2026, 4, 1))
    theirs = QuotaFactory(tenant=other_tenant, month=D(2026, 4, 1))
    manager = api_client_for(org["manager"])
    assert manager.patch(f"{URL}{mine.pk}/", {"amount": "7"}, format="json").status_code == 200
    assert manager.get(f"{URL}{west.pk}/").status_code == 404  # another team's quota: not visible
    refused = manager.post(URL, {"team": "West", "period_start": "2026-05-01", "amount": "1"}, format="json")
    assert refused.status_code == 403
    rep = api_client_for(org["rep1"])
    assert [row["id"] for row in rep.get(URL).json()["results"]] == [mine.pk]
    assert rep.patch(f"{URL}{mine.pk}/", {"amount": "9"}, format="json").status_code == 403
    ops = api_client_for(org["ops"])
    assert ops.get(f"{URL}{theirs.pk}/").status_code == 404
    assert ops.delete(f"{URL}{theirs.pk}/").status_code == 404


def test_list_filters_and_query_count(tenant, org, api_client_for, django_assert_num_queries):
    for month in range(1, 7):
        QuotaFactory(tenant=tenant, owner=org["rep1"].user, month=D(2026, month, 1))
        QuotaFactory(tenant=tenant, team=org["east"], month=D(2026, month, 1))
    QuotaFactory(tenant=tenant, month=D(2025, 12, 1))
    api = api_client_for(org["ops"])
    api.get(URL)  # warm the token and membership caches of the first request
    with django_assert_num_queries(9):  # token, its touch, tenant, savepoint, RLS on/off, membership, quotas
        rows = api.get(URL).json()["results"]
    assert len(rows) == 13
    assert len(api.get(URL, {"year": 2026}).json()["results"]) == 12
    assert len(api.get(URL, {"team": "East"}).json()["results"]) == 6
    assert (
        len(api.get(URL, {"owner_email": "rep1@q.test", "period_start": "2026-02-01"}).json()["results"]) == 1
    )


def test_bulk_upsert_all_or_nothing(tenant, org, api_client_for):
    QuotaFactory(tenant=tenant, team=org["east"], month=D(2026, 4, 1), amount=Decimal("5"))
    api = api_client_for(org["ops"])
    url = f"{URL}bulk/"
    response = api.post(
        url,
        {
            "cells": [
                {"owner_email": "rep1@q.test", "period_start": "2026-04-01", "amount": "100"},
                {"owner_email": "rep1@q.test", "period_start": "2026-05-01", "amount": "110"},
                {"period_start": "2026-04-01", "amount": "1000"},
                {"team": "East", "period_start": "2026-04-01", "amount": None},
            ]
        },
        format="json",
    )
    assert response.status_code == 200 and response.json() == {"changed": 4}
    with tenant_context(tenant):
        assert sorted(
            (q.owner_id is not None, q.team_id is not None, q.month, q.amount) for q in Quota.objects.all()
        ) == [
            (False, False, D(2026, 4, 1), Decimal("1000.00")),
            (True, False, D(2026, 4, 1), Decimal("100.00")),
            (True, False, D(2026, 5, 1), Decimal("110.00")),
        ]
        before = list(Quota.objects.order_by("pk").values_list("pk", "amount"))
    bad = api.post(
        url,
        {
            "cells": [
                {"owner_email": "rep1@q.test", "period_start": "2026-04-01", "amount": "1"},
                {"owner_email": "ghost@q.test", "period_start": "2026-04-01", "amount": "1"},
            ]
        },
        format="json",
    )
    assert bad.status_code == 400 and "1" in bad.json()["cells"]
    assert (
        api.post(url, {"cells": [{"period_start": "2026-04-03", "amount": "1"}]}, format="json").status_code
        == 400
    )
    with tenant_context(tenant):
        assert list(Quota.objects.order_by("pk").values_list("pk", "amount")) == before
    manager = api_client_for(org["manager"])
    refused = manager.post(
        url, {"cells": [{"team": "West", "period_start": "2026-04-01", "amount": "1"}]}, format="json"
    )
    assert refused.status_code == 403


def test_list_filters_bad_values_are_400s_naming_the_parameter(tenant, org, api_client_for):
    """Found by the API fuzzing (tests/test_api_fuzz.py): `year` past 9999 reached the database lookup (500), a bad
    `period_start` answered a bare list, which is not the documented 400 body (an object)."""
    api = api_client_for(org["ops"])
    for params, name in (
        ({"year": 41029598}, "year"),
        ({"year": "soon"}, "year"),
        ({"period_start": "2026-13-01"}, "period_start"),
        ({"period_start": "0001-01-01"}, "period_start"),
    ):
        response = api.get(URL, params)
        assert response.status_code == 400, (params, response.content)
        assert isinstance(response.json(), dict) and list(response.json()) == [name], response.json()
    assert api.get(URL, {"year": "", "period_start": ""}).status_code == 200
