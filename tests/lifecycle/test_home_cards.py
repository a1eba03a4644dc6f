"""The customer-success cards of the tenant home (cs and admins): MRR now, renewals due this month (count and MRR
at stake), at-risk accounts (top by MRR with reasons), onboarding accounts past their first weeks without a
touch, the NPS trend; who sees them, visibility, and exact query counts at two data sizes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.dates import tenant_month_bounds, tenant_today
from crm.home import HomePage
from crm.models import Role
from crm.tenancy import tenant_context
from lifecycle import home
from lifecycle.selectors.cs_home import nps_value
from tests.factories_accounts import AccountFactory, ActivityFactory
from tests.factories_cs import FeedbackFactory, HealthScoreFactory
from tests.factories_lifecycle import LifecycleChangeFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cs(member):
    return member(role=Role.CS)


def home_url(tenant):
    return reverse("crm:tenant-home", kwargs={"slug": tenant.slug})


def build(card, tenant, membership):
    with tenant_context(tenant):
        return card(HomePage(tenant=tenant, membership=membership))


def customer(tenant, stage="retention", **kwargs):
    return AccountFactory(tenant=tenant, lifecycle_stage=stage, **kwargs)


def test_nps_formula():
    assert nps_value(promoters=3, detractors=1, answers=5) == 40.0
    assert nps_value(promoters=0, detractors=0, answers=0) is None


def test_mrr_now_and_renewals_due_this_month(tenant, cs):
    today = tenant_today(tenant)
    first, next_first, _s, _e = tenant_month_bounds(tenant)
    a = customer(tenant)
    SubscriptionFactory(
        account=a, mrr=Decimal("1000"), start_date=today - dt.timedelta(days=300)
    )  # open-ended
    b = customer(tenant)
    # Ends on the last day of this month: due this month.
    SubscriptionFactory(
        account=b,
        mrr=Decimal("250.50"),
        start_date=first - dt.timedelta(days=300),
        end_date=next_first - dt.timedelta(days=1),
    )
    c = customer(tenant)
    # Ended on the first of the month (an end date is not a day of the term), still due this month.
    SubscriptionFactory(
        account=c, mrr=Decimal("99"), start_date=first - dt.timedelta(days=200), end_date=first
    )
    SubscriptionFactory(
        account=customer(tenant),
        mrr=Decimal("7"),
        start_date=today - dt.timedelta(days=5),
        end_date=next_first + dt.timedelta(days=40),
    )
    SubscriptionFactory(
        account=customer(tenant, "acquisition"), mrr=Decimal("5000"), start_date=today
    )  # invisible
    card = build(home.cs_figures_card, tenant, cs)
    # b is active unless today is its end date (the month's last day); c ended on the first (never active today).
    b_active = today < next_first - dt.timedelta(days=1)
    expected_mrr = Decimal("1000") + Decimal("7") + (Decimal("250.50") if b_active else 0)
    assert card["mrr"] == expected_mrr
    assert card["renewals"] == {"count": 2, "mrr": Decimal("349.50")}


def test_a_renewed_term_is_not_due(tenant, cs):
    first, next_first, _s, _e = tenant_month_bounds(tenant)
    acct = customer(tenant)
    ending = SubscriptionFactory(
        account=acct, start_date=first - dt.timedelta(days=300), end_date=first + dt.timedelta(days=5)
    )
    SubscriptionFactory(account=acct, start_date=first + dt.timedelta(days=5), renews_from=ending)
    assert build(home.cs_figures_card, tenant, cs)["renewals"]["count"] == 0


def test_at_risk_card_top_by_mrr_with_reasons(tenant, cs):
    today = tenant_today(tenant)
    for n, mrr in enumerate(["100", "900", "500", "300", "700", "50"]):
        acct = customer(tenant, name=f"Risky {n}")
        SubscriptionFactory(account=acct, mrr=Decimal(mrr), start_date=today - dt.timedelta(days=100))
        HealthScoreFactory(
            account=acct,
            score=20,
            components={"overdue": {"weight": 10, "points": 0, "reason": "overdue_tasks", "value": 3}},
        )
    HealthScoreFactory(account=customer(tenant, name="Healthy"), score=80)
    card = build(home.at_risk_card, tenant, cs)
    assert card["count"] == 6
    assert [row["health"].account.name for row in card["rows"]] == [
        "Risky 1",
        "Risky 4",
        "Risky 2",
        "Risky 3",
        "Risky 0",
    ]
    assert card["rows"][0]["reasons"] == ["3 overdue tasks"]


def test_onboarding_card_lists_conversion_accounts_without_a_touch_since_they_started(tenant, cs):
    today = tenant_today(tenant)
    now = timezone.now()

    def onboarding(name, days_ago):
        acct = customer(tenant, "conversion", name=name)
        LifecycleChangeFactory(
            tenant=tenant,
            account=acct,
            from_stage="acquisition",
            to_stage="conversion",
            date=today - dt.timedelta(days=days_ago),
        )
        return acct

    untouched = onboarding("Untouched", 20)
    onboarding("Too new", 10)
    touched = onboarding("Touched", 30)
    ActivityFactory(account=touched, done=True, occurred_at=now - dt.timedelta(days=3))
    touched_before = onboarding("Touched only before", 25)
    ActivityFactory(account=touched_before, done=True, occurred_at=now - dt.timedelta(days=40))
    planned = onboarding("Only a planned task", 15)
    ActivityFactory(
        account=planned, kind="task", done=False, occurred_at=None, due_at=now + dt.timedelta(days=2)
    )
    card = build(home.onboarding_card, tenant, cs)
    assert [a.name for a in card["rows"]] == ["Touched only before", "Untouched", "Only a planned task"]
    assert card["count"] == 3
    assert card["rows"][1].onboarding_start == today - dt.timedelta(days=20)
    assert untouched.pk == card["rows"][1].pk


def test_nps_trend_per_month_and_latest(tenant, cs):
    first, *_ = tenant_month_bounds(tenant)
    acct = customer(tenant)
    noon = dt.datetime.combine(first, dt.time(12), tzinfo=tenant.tzinfo)
    for score in (10, 9, 7, 3):  # 2 promoters, 1 detractor of 4: NPS 25
        FeedbackFactory(account=acct, score=score, received_at=noon)
    FeedbackFactory(account=acct, kind="csat", score=1, received_at=noon)  # not NPS
    prev = dt.datetime.combine(
        (first - dt.timedelta(days=1)).replace(day=1), dt.time(12), tzinfo=tenant.tzinfo
    )
    FeedbackFactory(account=acct, score=0, received_at=prev)  # NPS -100
    # 23:30 local on the last day of the month before: that month, not this one (time-zone boundary).
    late = dt.datetime.combine(first - dt.timedelta(days=1), dt.time(23, 30), tzinfo=tenant.tzinfo)
    FeedbackFactory(account=acct, score=10, received_at=late)  # -> prev month: 1 promoter, 1 detractor: 0
    FeedbackFactory(account=customer(tenant, "acquisition"), score=0, received_at=noon)  # invisible to cs
    trend = build(home.nps_card, tenant, cs)["trend"]
    assert len(trend) == 6
    assert trend[-1] == {"month": first, "answers": 4, "nps": 25.0}
    assert trend[-2]["nps"] == 0.0 and trend[-2]["answers"] == 2
    assert trend[0]["nps"] is None
    figures = build(home.cs_figures_card, tenant, cs)
    assert figures["nps"]["nps"] == 25.0


def test_cs_home_shows_the_cards_with_links(tenant, cs, client_for):
    body = client_for(cs).get(home_url(tenant)).content.decode()
    for testid in (
        "home-cs-mrr",
        "home-cs-renewals",
        "home-cs-nps",
        "home-cs-at-risk",
        "home-cs-onboarding",
        "home-cs-nps-trend",
    ):
        assert f'data-testid="{testid}"' in body
    assert reverse("lifecycle:renewal-list", kwargs={"slug": tenant.slug}) in body
    assert reverse("lifecycle:at-risk", kwargs={"slug": tenant.slug}) in body


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER, Role.OPS])
def test_other_roles_do_not_get_the_cs_cards(tenant, member, client_for, role):
    body = client_for(member(role=role, team="East")).get(home_url(tenant)).content.decode()
    assert 'data-testid="home-cs-at-risk"' not in body and 'data-testid="home-cs-mrr"' not in body


def test_admin_gets_the_cs_cards(tenant, admin_member, client_for):
    body = client_for(admin_member).get(home_url(tenant)).content.decode()
    assert 'data-testid="home-cs-at-risk"' in body and 'data-testid="home-cs-mrr"' in body


def _grow(tenant, copies):
    today = tenant_today(tenant)
    first, next_first, _s, _e = tenant_month_bounds(tenant)
    for n in range(copies):
        acct = customer(tenant, name=f"Grown {n}")
        SubscriptionFactory(
            account=acct,
            start_date=first - dt.timedelta(days=300),
            end_date=next_first - dt.timedelta(days=1),
        )
        HealthScoreFactory(account=acct, score=10)
        FeedbackFactory(account=acct, score=n % 11)
        onboarding = customer(tenant, "conversion", name=f"Onboarding {n}")
        LifecycleChangeFactory(
            tenant=tenant,
            account=onboarding,
            from_stage="acquisition",
            to_stage="conversion",
            date=today - dt.timedelta(days=20),
        )


@pytest.mark.parametrize("copies", [1, 7])
def test_cs_home_query_count_does_not_grow(tenant, cs, client_for, django_assert_num_queries, copies):
    _grow(tenant, copies)
    client = client_for(cs)
    client.get(home_url(tenant))
    # The page's fixed cost and the other apps' cards, plus the CS cards: MRR, renewals due (the stored
    # `renewed`: no grace-days setting to read), the NPS months (one GROUP BY shared by two cards), at-risk rows
    # and count (and the threshold), onboarding rows and count.
    with django_assert_num_queries(22):
        response = client.get(home_url(tenant))
    body = response.content.decode()
    assert body.count('data-testid="home-cs-at-risk-row"') == min(copies, 5)
    assert body.count('data-testid="home-cs-onboarding-row"') == min(copies, 5)
