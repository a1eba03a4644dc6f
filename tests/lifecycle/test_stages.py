"""The lifecycle stage engine on hand-made timelines (KPIS.md "Lifecycle of an account"; settings 90/30/365).

Each test asserts the exact derived history (date, from, to, cause) and the account's current stage. The tenant
fixture's time zone is Asia/Shanghai (UTC+8): noon UTC is 20:00 of the same local day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Account
from crm.tenancy import tenant_context
from lifecycle.models import LifecycleChange
from lifecycle.services.stages import lifecycle_recompute
from tests.conftest import make_tenant
from tests.factories_accounts import AccountFactory
from tests.factories_lifecycle import SubscriptionFactory, won_deal

pytestmark = pytest.mark.django_db

D = dt.date


def at(day: str, time: str = "04:00") -> dt.datetime:
    """An aware UTC moment (04:00 UTC is 12:00 in Shanghai, the same date)."""
    return dt.datetime.fromisoformat(f"{day}T{time}+00:00")


def account(tenant, created: str = "2024-12-01") -> Account:
    return AccountFactory(tenant=tenant, created_at=at(created))


def recompute(tenant, today: str, account_ids=None) -> int:
    with tenant_context(tenant):
        return lifecycle_recompute(tenant=tenant, account_ids=account_ids, today=D.fromisoformat(today))


def history(acct: Account) -> list[tuple[str, str, str, str]]:
    with tenant_context(acct.tenant):
        rows = LifecycleChange.objects.filter(account=acct).order_by("date")
        return [(c.date.isoformat(), c.from_stage, c.to_stage, c.cause) for c in rows]


def stage(acct: Account) -> str:
    with tenant_context(acct.tenant):
        return Account.objects.get(pk=acct.pk).lifecycle_stage


def test_never_a_customer_stays_in_acquisition(tenant):
    acct = account(tenant, "2025-01-10")
    recompute(tenant, "2026-01-01")
    assert history(acct) == [("2025-01-10", "", "acquisition", "created")]
    assert stage(acct) == "acquisition"


def test_first_won_deal_converts_then_retains_after_onboarding(tenant):
    acct = account(tenant)
    won_deal(acct, at("2025-02-01"))
    recompute(tenant, "2025-12-31")
    assert history(acct) == [
        ("2024-12-01", "", "acquisition", "created"),
        ("2025-02-01", "acquisition", "conversion", "first_won_deal"),
        ("2025-05-02", "conversion", "retention", "onboarding_done"),  # 2025-02-01 + 90 days
    ]
    assert stage(acct) == "retention"


def test_onboarding_is_not_over_the_day_before(tenant):
    acct = account(tenant)
    won_deal(acct, at("2025-02-01"))
    recompute(tenant, "2025-05-01")
    assert history(acct)[-1] == ("2025-02-01", "acquisition", "conversion", "first_won_deal")
    assert stage(acct) == "conversion"


def test_a_never_subscribed_customer_lapses_exactly_lapse_days_after_its_last_won_deal(tenant):
    acct = account(tenant)
    won_deal(acct, at("2025-01-15"))
    won_deal(acct, at("2025-02-01"))  # the last won deal counts
    recompute(tenant, "2026-01-31")
    assert stage(acct) == "retention"  # 364 days after the last won deal
    recompute(tenant, "2026-02-01")
    assert history(acct) == [
        ("2024-12-01", "", "acquisition", "created"),
        ("2025-01-15", "acquisition", "conversion", "first_won_deal"),
        ("2025-04-15", "conversion", "retention", "onboarding_done"),
        ("2026-02-01", "retention", "churn", "lapsed"),  # 2025-02-01 + 365 days
    ]
    assert stage(acct) == "churn"


def test_churn_only_after_the_grace_period(tenant):
    acct = account(tenant)
    SubscriptionFactory(account=acct, start_date=D(2025, 1, 1), end_date=D(2025, 7, 1))
    recompute(tenant, "2025-07-01")  # the end date itself: not active, but within grace
    assert stage(acct) == "retention"
    recompute(tenant, "2025-07-30")  # end + 29 days
    assert stage(acct) == "retention"
    recompute(tenant, "2025-07-31")  # end + 30 days: churn
    assert history(acct) == [
        ("2024-12-01", "", "acquisition", "created"),
        ("2025-01-01", "acquisition", "conversion", "first_subscription"),
        ("2025-04-01", "conversion", "retention", "onboarding_done"),
        ("2025-07-31", "retention", "churn", "churned"),
    ]
    assert stage(acct) == "churn"


def test_a_come_back_after_churn_converts_again_then_retains(tenant):
    acct = account(tenant)
    SubscriptionFactory(account=acct, start_date=D(2025, 1, 1), end_date=D(2025, 7, 1))
    SubscriptionFactory(account=acct, start_date=D(2025, 10, 1), end_date=None)
    recompute(tenant, "2026-06-01")
    assert history(acct) == [
        ("2024-12-01", "", "acquisition", "created"),
        ("2025-01-01", "acquisition", "conversion", "first_subscription"),
        ("2025-04-01", "conversion", "retention", "onboarding_done"),
        ("2025-07-31", "retention", "churn", "churned"),
        ("2025-10-01", "churn", "conversion", "came_back"),
        ("2025-12-30", "conversion", "retention", "onboarding_done"),  # the come-back + 90 days
    ]
    assert stage(acct) == "retention"


def test_a_renewal_within_the_grace_period_is_no_churn(tenant):
    acct = account(tenant)
    SubscriptionFactory(account=acct, start_date=D(2025, 1, 1), end_date=D(2025, 7, 1))
    SubscriptionFactory(account=acct, start_date=D(2025, 7, 20), end_date=D(2026, 7, 20))
    recompute(tenant, "2026-01-01")
    assert [row[2] for row in history(acct)] == ["acquisition", "conversion", "retention"]


def test_has_subscriptions_is_read_as_started_by_the_day(tenant):
    """A subscription signed ahead that starts later does not hold off an earlier churn: the account churns when
    the grace period of what it had ends, and comes back on the later start (our reading of KPIS.md)."""
    acct = account(tenant)
    SubscriptionFactory(account=acct, start_date=D(2025, 1, 1), end_date=D(2025, 3, 1))
    SubscriptionFactory(account=acct, start_date=D(2025, 6, 1), end_date=None)
    recompute(tenant, "2025-12-31")
    assert history(acct)[-3:] == [
        ("2025-03-31", "conversion", "churn", "churned"),  # churned during onboarding
        ("2025-06-01", "churn", "conversion", "came_back"),
        ("2025-08-30", "conversion", "retention", "onboarding_done"),
    ]


def test_an_open_ended_subscription_never_churns(tenant):
    acct = account(tenant, "2019-06-01")
    SubscriptionFactory(account=acct, start_date=D(2020, 1, 1), end_date=None)
    won_deal(acct, at("2020-01-01"))  # the won deal's lapse does not apply to a subscribed account
    recompute(tenant, "2026-06-01")
    assert history(acct) == [
        ("2019-06-01", "", "acquisition", "created"),
        ("2020-01-01", "acquisition", "conversion", "first_won_deal"),
        ("2020-03-31", "conversion", "retention", "onboarding_done"),
    ]
    assert stage(acct) == "retention"


def test_a_back_dated_subscription_rewrites_the_derived_history(tenant):
    acct = account(tenant, "2023-12-01")
    won_deal(acct, at("2024-01-10"))
    recompute(tenant, "2025-06-01")
    assert history(acct)[-1] == ("2025-01-09", "retention", "churn", "lapsed")
    assert stage(acct) == "churn"
    SubscriptionFactory(account=acct, start_date=D(2024, 6, 1), end_date=None)
    recompute(tenant, "2025-06-01")
    assert history(acct) == [
        ("2023-12-01", "", "acquisition", "created"),
        ("2024-01-10", "acquisition", "conversion", "first_won_deal"),
        ("2024-04-09", "conversion", "retention", "onboarding_done"),
    ]
    assert stage(acct) == "retention"


def test_local_dates_in_the_tenants_time_zone(tenant):
    """2026-03-31T17:30Z is 2026-04-01 01:30 in Asia/Shanghai: the deal was won on April 1st there."""
    acct = AccountFactory(tenant=tenant, created_at=at("2026-03-31", "17:00"))  # 01:00 local, April 1st
    won_deal(acct, at("2026-03-31", "17:30"))
    recompute(tenant, "2026-04-01")
    assert history(acct) == [("2026-04-01", "", "conversion", "created")]
    recompute(tenant, "2026-03-31")  # local "today" before the account existed there: no history yet
    assert history(acct) == []


def test_a_customer_before_the_account_was_created_starts_as_a_customer(tenant):
    acct = account(tenant, "2025-03-01")
    won_deal(acct, at("2025-02-01"))
    recompute(tenant, "2025-12-31")
    assert history(acct) == [
        ("2025-03-01", "", "conversion", "created"),
        ("2025-05-02", "conversion", "retention", "onboarding_done"),
    ]


def test_deleted_deals_and_subscriptions_do_not_count(tenant):
    acct = account(tenant)
    won_deal(acct, at("2025-02-01"), deleted_at=timezone.now())
    SubscriptionFactory(account=acct, start_date=D(2025, 3, 1), deleted_at=timezone.now())
    recompute(tenant, "2025-12-31")
    assert history(acct) == [("2024-12-01", "", "acquisition", "created")]
    assert stage(acct) == "acquisition"


def test_open_and_lost_deals_do_not_count(tenant):
    from tests.factories_deals import OpportunityFactory

    acct = account(tenant)
    OpportunityFactory(account=acct)  # open, in the default pipeline's first stage
    recompute(tenant, "2025-12-31")
    assert stage(acct) == "acquisition"


def test_recompute_is_idempotent(tenant):
    acct = account(tenant)
    SubscriptionFactory(account=acct, start_date=D(2025, 1, 1), end_date=D(2025, 7, 1))
    first = recompute(tenant, "2026-01-01")
    rows = history(acct)
    second = recompute(tenant, "2026-01-01")
    assert first == second == 4
    assert history(acct) == rows


def test_recompute_of_one_account_leaves_the_others_alone(tenant):
    one, two = account(tenant), account(tenant)
    recompute(tenant, "2025-12-31")
    won_deal(one, at("2025-02-01"))
    won_deal(two, at("2025-02-01"))
    recompute(tenant, "2025-12-31", account_ids=[one.pk])
    assert [row[2] for row in history(one)] == ["acquisition", "conversion", "retention"]
    assert history(two) == [("2024-12-01", "", "acquisition", "created")]
    assert stage(two) == "acquisition"


def test_another_tenants_data_is_never_read_or_written(tenant):
    other = make_tenant("gamma", time_zone="Europe/Berlin", currency="EUR")
    mine, theirs = account(tenant), account(other)
    won_deal(theirs, at("2025-02-01"))
    recompute(other, "2025-12-31")
    before = history(theirs)
    # Ids of the other tenant's accounts behave like ids that do not exist.
    assert recompute(tenant, "2025-12-31", account_ids=[theirs.pk]) == 0
    recompute(tenant, "2025-12-31")
    assert history(theirs) == before
    assert stage(theirs) == "retention"
    assert history(mine) == [("2024-12-01", "", "acquisition", "created")]


def test_the_current_stage_is_booked_to_the_system(tenant):
    from accounts.models import AccountEvent  # type: ignore[attr-defined]

    acct = account(tenant)
    won_deal(acct, at("2025-02-01"))
    recompute(tenant, "2025-03-01")
    with tenant_context(tenant):
        event = AccountEvent.objects.filter(pgh_obj=acct, lifecycle_stage="conversion").get()
        assert event.pgh_context.metadata.get("user") is None
        assert event.pgh_context.metadata.get("reason") == "lifecycle"
    # Unchanged stages are not written again (no history noise from the daily run).
    recompute(tenant, "2025-03-02")
    with tenant_context(tenant):
        assert AccountEvent.objects.filter(pgh_obj=acct, lifecycle_stage="conversion").count() == 1
