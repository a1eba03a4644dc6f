"""The lifecycle page and its API: accounts per stage now (with MRR), the flows between stages per month, the
drill-down behind every number, role visibility (reps 404, managers their team's accounts only, another tenant
404) and exact query counts at two data sizes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.dates import tenant_today
from crm.models import Role
from crm.tenancy import tenant_context
from lifecycle.selectors.overview import lifecycle_summary, month_starts, parse_month
from lifecycle.services.stages import lifecycle_recompute
from tests.factories_accounts import AccountFactory
from tests.factories_lifecycle import LifecycleChangeFactory, SubscriptionFactory, won_deal

pytestmark = pytest.mark.django_db


@pytest.fixture
def cs(member):
    return member(role=Role.CS)


@pytest.fixture
def months(tenant):
    """This month's first day and the two before (tenant calendar)."""
    return month_starts(tenant=tenant, months=3)[::-1]


def page_url(tenant, name="overview"):
    return reverse(f"lifecycle:{name}", kwargs={"slug": tenant.slug})


def api_url(tenant):
    return reverse("lifecycle-api:lifecycle-summary", kwargs={"slug": tenant.slug})


def account(tenant, stage, history, *, owner=None, mrr=None, name=None):
    """An account now in `stage` with the given changes [(date, from, to)] and an active subscription of `mrr`."""
    acct = AccountFactory(
        tenant=tenant, lifecycle_stage=stage, owner=owner, **({"name": name} if name else {})
    )
    for day, from_stage, to_stage in history:
        LifecycleChangeFactory(
            tenant=tenant, account=acct, date=day, from_stage=from_stage, to_stage=to_stage
        )
    if mrr is not None:
        start = tenant_today(tenant) - dt.timedelta(days=30)
        SubscriptionFactory(account=acct, mrr=Decimal(mrr), start_date=start)
    return acct


def dataset(tenant, months, *, owner=None):
    """Hand-made: 2 new accounts and 1 new customer this month, 1 onboarded and 1 churned last month, one came
    back two months ago; stages now: acquisition 2, conversion 2, retention 1, churn 1."""
    this, last, before = months
    account(tenant, "acquisition", [(this.replace(day=2), "", "acquisition")], owner=owner, name="Lead Co A")
    account(tenant, "acquisition", [(this.replace(day=3), "", "acquisition")], owner=owner, name="Lead Co B")
    account(
        tenant,
        "conversion",
        [(before, "", "acquisition"), (this, "acquisition", "conversion")],
        owner=owner,
        mrr="500",
        name="Fresh Customer",
    )
    account(
        tenant,
        "retention",
        [
            (before, "", "acquisition"),
            (before.replace(day=2), "acquisition", "conversion"),
            (last.replace(day=5), "conversion", "retention"),
        ],
        owner=owner,
        mrr="1200.50",
        name="Onboarded Co",
    )
    account(
        tenant,
        "churn",
        [
            (before, "", "acquisition"),
            (before.replace(day=3), "acquisition", "conversion"),
            (last.replace(day=9), "conversion", "churn"),
        ],
        owner=owner,
        name="Gone Co",
    )
    account(
        tenant,
        "conversion",
        [(before - dt.timedelta(days=400), "", "churn"), (before.replace(day=4), "churn", "conversion")],
        owner=owner,
        mrr="300",
        name="Back Co",
    )


def flows_by_month(summary):
    return {row["month"]: row for row in summary["flows"]}


def test_summary_counts_stages_with_mrr_and_flows_per_month(tenant, cs, months):
    dataset(tenant, months)
    with tenant_context(tenant):
        summary = lifecycle_summary(tenant=tenant, membership=cs)
    stages = {row["key"]: (row["count"], row["mrr"]) for row in summary["stages"]}
    assert stages == {
        "acquisition": (0, None),  # cs sees customer accounts (and their own) only
        "conversion": (2, Decimal("800.00")),
        "retention": (1, Decimal("1200.50")),
        "churn": (1, None),
    }
    this, last, before = months
    flows = flows_by_month(summary)
    assert len(summary["flows"]) == 12 and summary["flows"][-1]["month"] == this
    assert {k: v for k, v in flows[this].items() if k != "month"} == {
        "new_accounts": 0,  # the two acquisition accounts are invisible to cs
        "new_customers": 1,
        "onboarded": 0,
        "churned": 0,
        "came_back": 0,
    }
    assert flows[last]["onboarded"] == 1 and flows[last]["churned"] == 1
    assert flows[before]["new_customers"] == 2 and flows[before]["came_back"] == 1
    # Fresh Customer, Onboarded Co and Gone Co were created then (Back Co more than 12 months ago).
    assert flows[before]["new_accounts"] == 3


def test_admin_sees_every_account(tenant, admin_member, months):
    dataset(tenant, months)
    with tenant_context(tenant):
        summary = lifecycle_summary(tenant=tenant, membership=admin_member)
    assert [row["count"] for row in summary["stages"]] == [2, 2, 1, 1]
    assert flows_by_month(summary)[months[0]]["new_accounts"] == 2


def test_flows_from_the_engine_new_customer_this_month(tenant, cs):
    today = tenant_today(tenant)
    acct = AccountFactory(tenant=tenant, created_at=timezone.now() - dt.timedelta(days=400))
    won_deal(acct, timezone.now() - dt.timedelta(seconds=5))  # this month, in the tenant's zone too
    with tenant_context(tenant):
        lifecycle_recompute(tenant=tenant)
        summary = lifecycle_summary(tenant=tenant, membership=cs)
    assert flows_by_month(summary)[today.replace(day=1)]["new_customers"] == 1
    assert [row["count"] for row in summary["stages"]][1] == 1


def test_page_shows_numbers_that_drill_down_to_their_accounts(tenant, cs, client_for, months):
    dataset(tenant, months)
    client = client_for(cs)
    body = client.get(page_url(tenant)).content.decode()
    assert 'data-testid="stage-count-conversion">2<' in body
    assert (
        'data-testid="stage-mrr-retention">1,200<' in body
        or 'data-testid="stage-mrr-retention">1,201<' in body
    )
    this, last, before = months
    assert f'data-testid="flow-{last:%Y-%m}-churned"><a href=' in body
    assert body.count('data-testid="flow-row"') == 12
    drill = client.get(page_url(tenant, "overview-accounts"), {"stage": "conversion"}).content.decode()
    assert drill.count('data-testid="drilldown-row"') == 2
    assert "Fresh Customer" in drill and "Back Co" in drill
    flow = client.get(
        page_url(tenant, "overview-accounts"), {"flow": "churned", "month": f"{last:%Y-%m}"}
    ).content.decode()
    assert flow.count('data-testid="drilldown-row"') == 1 and "Gone Co" in flow
    came = client.get(
        page_url(tenant, "overview-accounts"), {"flow": "came_back", "month": f"{before:%Y-%m}"}
    ).content.decode()
    assert came.count('data-testid="drilldown-row"') == 1 and "Back Co" in came


@pytest.mark.parametrize(
    "params",
    [
        {"stage": "nope"},
        {"flow": "churned"},
        {"flow": "nope", "month": "2026-01"},
        {"flow": "churned", "month": "2026-13"},
        {},
    ],
)
def test_drill_down_with_bad_parameters_is_404(tenant, cs, client_for, params):
    assert client_for(cs).get(page_url(tenant, "overview-accounts"), params).status_code == 404


def test_parse_month():
    assert parse_month("2026-05") == dt.date(2026, 5, 1)
    assert parse_month("2026-5") is None and parse_month(None) is None and parse_month("2026-00") is None


def test_reps_get_404_on_page_drill_down_and_api(tenant, member, client_for, api_client_for):
    rep = member(role=Role.SALES_REP)
    client = client_for(rep)
    assert client.get(page_url(tenant)).status_code == 404
    assert client.get(page_url(tenant, "overview-accounts"), {"stage": "retention"}).status_code == 404
    assert api_client_for(rep).get(api_url(tenant)).status_code == 404
    assert (
        'lifecycle/"'
        not in client.get(reverse("crm:tenant-home", kwargs={"slug": tenant.slug})).content.decode()
    )


@pytest.mark.parametrize("role", [Role.CS, Role.OPS, Role.ADMIN, Role.SALES_MANAGER])
def test_cs_ops_admin_managers_open_the_page_and_have_the_menu_entry(tenant, member, client_for, role):
    body = client_for(member(role=role, team="East")).get(page_url(tenant))
    assert body.status_code == 200
    assert f'href="{page_url(tenant)}"' in body.content.decode()


def test_manager_sees_only_the_team_accounts_in_numbers_and_drill_downs(tenant, member, client_for, months):
    manager = member(role=Role.SALES_MANAGER, team="East")
    east_rep = member(role=Role.SALES_REP, team="East")
    west_rep = member(role=Role.SALES_REP, team="West")
    dataset(tenant, months, owner=east_rep.user)
    account(
        tenant, "retention", [(months[1], "conversion", "retention")], owner=west_rep.user, name="West Co"
    )
    with tenant_context(tenant):
        summary = lifecycle_summary(tenant=tenant, membership=manager)
    assert [row["count"] for row in summary["stages"]] == [2, 2, 1, 1]
    assert flows_by_month(summary)[months[1]]["onboarded"] == 1
    client = client_for(manager)
    drill = client.get(page_url(tenant, "overview-accounts"), {"stage": "retention"}).content.decode()
    assert "Onboarded Co" in drill and "West Co" not in drill
    flow = client.get(
        page_url(tenant, "overview-accounts"), {"flow": "onboarded", "month": f"{months[1]:%Y-%m}"}
    ).content.decode()
    assert flow.count('data-testid="drilldown-row"') == 1 and "West Co" not in flow


def test_other_tenant_is_404(tenant, other_tenant, cs, client_for, api_client_for):
    assert client_for(cs).get(page_url(other_tenant)).status_code == 404
    assert (
        client_for(cs).get(page_url(other_tenant, "overview-accounts"), {"stage": "churn"}).status_code == 404
    )
    assert api_client_for(cs).get(api_url(other_tenant)).status_code == 404


def test_api_gives_the_same_numbers(tenant, cs, api_client_for, months):
    dataset(tenant, months)
    data = api_client_for(cs).get(api_url(tenant)).json()
    assert data["stages"] == [
        {"stage": "acquisition", "count": 0, "mrr": None},
        {"stage": "conversion", "count": 2, "mrr": "800.00"},
        {"stage": "retention", "count": 1, "mrr": "1200.50"},
        {"stage": "churn", "count": 1, "mrr": None},
    ]
    assert len(data["flows"]) == 12
    last = next(row for row in data["flows"] if row["month"] == months[1].isoformat())
    assert last == {
        "month": months[1].isoformat(),
        "new_accounts": 0,
        "new_customers": 0,
        "onboarded": 1,
        "churned": 1,
        "came_back": 0,
    }


def _grow(tenant, months, copies):
    for _ in range(copies):
        dataset(tenant, months)


@pytest.mark.parametrize("copies", [1, 4])
def test_page_query_count_does_not_grow(tenant, cs, client_for, months, django_assert_num_queries, copies):
    _grow(tenant, months, copies)
    client = client_for(cs)
    client.get(page_url(tenant))
    # The request's fixed cost (session, user, tenant, transaction and RLS setting, membership, the menu's
    # lookups, RLS reset) plus four aggregates: the accounts by stage, the active terms' MRR by stage, and the flows
    # in two GROUP BYs (the kept counts where the cs rule on stage and owner holds; the accounts cs sees through
    # an account-team share, from their stage changes).
    with django_assert_num_queries(13):
        client.get(page_url(tenant))


@pytest.mark.parametrize("copies", [1, 4])
def test_drill_down_query_count_does_not_grow(
    tenant, cs, client_for, months, django_assert_num_queries, copies
):
    _grow(tenant, months, copies)
    client = client_for(cs)
    client.get(page_url(tenant, "overview-accounts"), {"stage": "conversion"})
    with django_assert_num_queries(11):
        response = client.get(page_url(tenant, "overview-accounts"), {"stage": "conversion"})
    assert response.content.decode().count('data-testid="drilldown-row"') == 2 * copies
    with django_assert_num_queries(11):
        response = client.get(
            page_url(tenant, "overview-accounts"), {"flow": "churned", "month": f"{months[1]:%Y-%m}"}
        )
    assert response.content.decode().count('data-testid="drilldown-row"') == copies


@pytest.mark.parametrize("copies", [1, 4])
def test_api_query_count_does_not_grow(tenant, cs, api_client_for, months, django_assert_num_queries, copies):
    _grow(tenant, months, copies)
    client = api_client_for(cs)
    client.get(api_url(tenant))
    # Token, tenant, membership, transaction and RLS setting, the four aggregates, RLS reset.
    with django_assert_num_queries(12):
        client.get(api_url(tenant))


def test_the_twelve_months_can_end_earlier_never_later(tenant, cs, client_for, api_client_for, months):
    dataset(tenant, months)
    this, last, before = months
    body = client_for(cs).get(page_url(tenant), {"until": f"{last:%Y-%m}"}).content.decode()
    assert body.count('data-testid="flow-row"') == 12
    assert f'data-month="{this:%Y-%m}"' not in body and f'data-month="{last:%Y-%m}"' in body
    assert f'data-testid="flow-{last:%Y-%m}-churned"><a href=' in body
    future = client_for(cs).get(page_url(tenant), {"until": "2999-01"}).content.decode()
    assert f'data-month="{this:%Y-%m}"' in future
    api = api_client_for(cs)
    data = api.get(api_url(tenant), {"until": f"{before:%Y-%m}"}).json()
    assert data["flows"][-1]["month"] == before.isoformat() and data["flows"][-1]["came_back"] == 1
    assert api.get(api_url(tenant), {"until": "May 2026"}).status_code == 400
