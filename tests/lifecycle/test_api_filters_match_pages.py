"""Issue 8, API: "the same filters as the pages". The subscriptions, renewals and feedback lists answer the same
query string with the same rows, in the same order, on the page and in the API (one FilterSet and one selector
behind both); a filter the page refuses (another tenant's or an invisible account) is a 400 in the API and an empty
list on the page. Checked as a CS member and as a sales rep (who sees only their own accounts' rows)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Opportunity, StageKind
from accounts.services.pipelines import pipeline_default
from crm.dates import tenant_today
from crm.models import Role
from crm.tenancy import tenant_context
from lifecycle.services.renewals import subscription_create_renewal_deal
from tests.factories_accounts import AccountFactory
from tests.factories_cs import FeedbackFactory
from tests.factories_lifecycle import SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant, other_tenant, member):  # type: ignore[no-untyped-def]
    """Two reps' accounts with subscriptions in every status and renewal window, and feedback of both kinds."""
    today = tenant_today(tenant)
    day = dt.timedelta(days=1)
    cs = member(role=Role.CS)
    rep, rep2 = member(role=Role.SALES_REP), member(role=Role.SALES_REP)
    north = AccountFactory(tenant=tenant, name="North Mills", owner=rep.user, lifecycle_stage="retention")
    south = AccountFactory(tenant=tenant, name="South Docks", owner=rep2.user, lifecycle_stage="retention")

    def account(name: str, owner: Any) -> Any:
        return AccountFactory(tenant=tenant, name=name, owner=owner.user, lifecycle_stage="retention")

    # One ending term per account: a term starting near another's end would count as its renewal.
    plans = [
        (north, "Pro annual", today - 400 * day, today + 10 * day),  # due in 30
        (north, "Starter", today - 700 * day, today - 300 * day),  # ended
        (account("North Annex", rep), "Pro add-on", today - 50 * day, today + 45 * day),  # due in 31-60
        (south, "Pro annual", today - 330 * day, today + 70 * day),  # due in 61-90
        (account("South Yard", rep2), "Basic", today - 380 * day, today - 5 * day),  # overdue
        (account("South Pier", rep2), "Future pro", today + 20 * day, today + 385 * day),  # starts later
        (account("South Pier 2", rep2), "Open-ended", today - 100 * day, None),
        (account("East Bakery", rep), "Won pro", today - 350 * day, today + 15 * day),  # renewal won
    ]
    subscriptions = [
        SubscriptionFactory(
            tenant=tenant, account=account, plan=plan, start_date=start, end_date=end, mrr=Decimal("900")
        )
        for account, plan, start, end in plans
    ]
    with tenant_context(tenant):
        for subscription in subscriptions:
            if subscription.end_date is not None and subscription.end_date >= today:
                deal = subscription_create_renewal_deal(tenant=tenant, subscription_id=subscription.pk)
                if subscription.plan == "Won pro":
                    won = pipeline_default(tenant=tenant).stages.get(kind=StageKind.WON)
                    Opportunity.objects.filter(pk=deal.pk).update(stage=won, closed_at=timezone.now())
    now = timezone.now()
    for account, kind, score, days_ago in (
        (north, "nps", 9, 2),
        (north, "csat", 4, 20),
        (south, "nps", 3, 40),
        (south, "csat", 2, 70),
        (north, "nps", 7, 100),
    ):
        FeedbackFactory(
            tenant=tenant,
            account=account,
            kind=kind,
            score=score,
            received_at=now - dt.timedelta(days=days_ago),
        )
    foreign = AccountFactory(tenant=other_tenant, name="Elsewhere")
    return {
        "cs": cs,
        "rep": rep,
        "rep2": rep2,
        "north": north,
        "south": south,
        "foreign": foreign,
        "today": today,
    }


def _page_ids(client, tenant, name: str, context_key: str, params: dict[str, Any]) -> list[int]:
    response = client.get(reverse(f"lifecycle:{name}", kwargs={"slug": tenant.slug}), params)
    assert response.status_code == 200
    return [row.pk for row in response.context[context_key]]


def _api_ids(client, tenant, path: str, params: dict[str, Any]) -> list[int] | int:
    response = client.get(f"/api/v1/t/{tenant.slug}/{path}", params)
    if response.status_code != 200:
        return response.status_code
    return [row["id"] for row in response.json()["results"]]


def _subscription_cases(world: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """Filters the member may use (a rep sees North Mills only; refused filters: the last test)."""
    today = world["today"]
    seen = world["north"] if role == "rep" else world["south"]
    return [
        {},
        {"status": "active"},
        {"status": "ended"},
        {"status": "future"},
        {"account": world["north"].pk},
        {"account": seen.pk, "status": "active"},
        {"plan": "pro"},
        {"ending_after": today.isoformat()},
        {"ending_before": (today + dt.timedelta(days=60)).isoformat()},
        {"owner": world["rep2"].user.pk},
        {"sort": "end"},
        {"sort": "-end", "plan": "PRO"},
        {"sort": "start", "owner": world["rep"].user.pk},
    ]


@pytest.mark.parametrize("role", ["cs", "rep"])
def test_subscription_filters_give_the_same_rows_on_the_page_and_in_the_api(
    tenant, world, client_for, api_client_for, role
):
    membership = world[role]
    page, api = client_for(membership), api_client_for(membership)
    seen_any = False
    for params in _subscription_cases(world, role):
        on_page = _page_ids(page, tenant, "subscription-list", "subscriptions", params)
        assert _api_ids(api, tenant, "subscriptions/", params) == on_page, params
        seen_any = seen_any or bool(on_page)
    assert seen_any


@pytest.mark.parametrize("role", ["cs", "rep"])
@pytest.mark.parametrize("window", ["overdue", "30", "60", "90", "won"])
def test_renewal_filters_give_the_same_rows_on_the_page_and_in_the_api(
    tenant, world, client_for, api_client_for, role, window
):
    membership = world[role]
    page, api = client_for(membership), api_client_for(membership)
    for params in (
        {},
        {"account": world["north"].pk},
        {"owner": world["rep"].user.pk},
        {"owner": world["rep2"].user.pk},
        {"plan": "pro"},
        {"sort": "-end"},
    ):
        query = {"window": window, **params}
        on_page = _page_ids(page, tenant, "renewal-list", "rows", query)
        assert _api_ids(api, tenant, "renewals/", query) == on_page, query


def test_every_renewal_window_has_a_row_for_cs(tenant, world, client_for):
    """The fixture is not vacuous: each window shows one of its subscriptions."""
    page = client_for(world["cs"])
    counts = {
        window: len(_page_ids(page, tenant, "renewal-list", "rows", {"window": window}))
        for window in ("overdue", "30", "60", "90", "won")
    }
    assert counts == {"overdue": 1, "30": 1, "60": 1, "90": 1, "won": 1}


@pytest.mark.parametrize("role", ["cs", "rep"])
def test_feedback_filters_give_the_same_rows_on_the_page_and_in_the_api(
    tenant, world, client_for, api_client_for, role
):
    membership = world[role]
    page, api = client_for(membership), api_client_for(membership)
    today = world["today"]
    for params in (
        {},
        {"kind": "nps"},
        {"kind": "csat"},
        {"account": world["north"].pk},
        {"received_after": (today - dt.timedelta(days=30)).isoformat()},
        {"received_before": (today - dt.timedelta(days=30)).isoformat(), "kind": "nps"},
    ):
        on_page = _page_ids(page, tenant, "feedback-list", "page", params)
        assert _api_ids(api, tenant, "feedback/", params) == on_page, params


@pytest.mark.parametrize(
    ("name", "context_key", "path"),
    [
        ("subscription-list", "subscriptions", "subscriptions/"),
        ("renewal-list", "rows", "renewals/"),
        ("feedback-list", "page", "feedback/"),
    ],
)
def test_an_account_filter_the_member_may_not_use_is_refused_on_both(
    tenant, world, client_for, api_client_for, name, context_key, path
):
    """Another tenant's account, and for a rep an account they do not see: an empty page, a 400 in the API."""
    for role, account in (("cs", world["foreign"]), ("rep", world["foreign"]), ("rep", world["south"])):
        membership = world[role]
        params = {"account": account.pk}
        if name == "renewal-list":
            params["window"] = "60"
        assert _page_ids(client_for(membership), tenant, name, context_key, params) == []
        assert _api_ids(api_client_for(membership), tenant, path, params) == 400
