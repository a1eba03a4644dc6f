"""Renewal deals: created renewal_lead_days before the end, exactly once; a won one proposes the next term (accepted
once); a lost one records the churn reason; bulk hand-over within the role's rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Opportunity, OpportunityType, StageKind
from accounts.services.opportunities import (
    opportunity_mark_lost,
    opportunity_mark_won,
    opportunity_move_stage,
)
from crm.models import Role
from crm.tenancy import tenant_context
from lifecycle import tasks
from lifecycle.models import Subscription
from lifecycle.services.renewals import (
    next_term_proposal,
    renewal_deals_assign,
    renewals_create_due,
    subscription_accept_next_term,
    subscription_create_renewal_deal,
)
from lifecycle.services.settings import lifecycle_settings_update
from tests.factories_accounts import AccountFactory
from tests.factories_lifecycle import SubscriptionFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 1)


@pytest.fixture
def owner(member):
    return member(role=Role.SALES_REP)


@pytest.fixture
def ending(tenant, owner):
    """A one-year term of 1,000 MRR ending in 60 days, on an account owned by a rep."""
    account = AccountFactory(tenant=tenant, owner=owner.user, name="Huaxin")
    return SubscriptionFactory(
        tenant=tenant,
        account=account,
        plan="Pro",
        mrr=Decimal("1000.00"),
        start_date=dt.date(2025, 4, 30),
        end_date=TODAY + dt.timedelta(days=60),
    )


def test_the_renewal_deal_has_type_pipeline_stage_amount_close_owner_and_link(tenant, ending, owner):
    with tenant_context(tenant):
        assert renewals_create_due(tenant=tenant, today=TODAY) == 1
        ending.refresh_from_db()
        deal = Opportunity.objects.select_related("stage", "pipeline").get(pk=ending.renewal_opportunity_id)
        first_open = deal.pipeline.stages.filter(kind=StageKind.OPEN).order_by("order").first()
    assert deal.type == OpportunityType.RENEWAL
    assert deal.pipeline.is_default
    assert deal.stage == first_open
    assert deal.amount == Decimal("12000.00")  # 1,000 × 12 months (2025-04-30 .. 2026-04-30)
    assert deal.expected_close_date == ending.end_date
    assert deal.owner_id == owner.user_id
    assert deal.account_id == ending.account_id


def test_running_twice_creates_one_deal(tenant, ending):
    with tenant_context(tenant):
        assert renewals_create_due(tenant=tenant, today=TODAY) == 1
        assert renewals_create_due(tenant=tenant, today=TODAY) == 0
        assert subscription_create_renewal_deal(tenant=tenant, subscription_id=ending.pk) is None
        assert Opportunity.objects.filter(type=OpportunityType.RENEWAL).count() == 1


def test_the_task_is_idempotent_too(tenant, ending, monkeypatch):
    monkeypatch.setattr("lifecycle.services.renewals.tenant_today", lambda tenant: TODAY)
    tasks.create_renewal_deals.delay(tenant.pk)
    tasks.create_renewal_deals.delay(tenant.pk)
    with tenant_context(tenant):
        assert Opportunity.objects.filter(type=OpportunityType.RENEWAL).count() == 1


def test_a_deal_renews_one_subscription_only(tenant, ending):
    """The database backs the service: one deal cannot be linked to two subscriptions."""
    other = SubscriptionFactory(tenant=tenant, account=ending.account, start_date=dt.date(2025, 1, 1))
    with tenant_context(tenant):
        deal = subscription_create_renewal_deal(tenant=tenant, subscription_id=ending.pk)
        with pytest.raises(IntegrityError), transaction.atomic():
            Subscription.objects.filter(pk=other.pk).update(renewal_opportunity=deal)


def test_the_lead_time_is_the_tenant_setting(tenant, ending, admin_member):
    with tenant_context(tenant):
        lifecycle_settings_update(tenant=tenant, actor=admin_member.user, renewal_lead_days=30)
        assert renewals_create_due(tenant=tenant, today=TODAY) == 0  # ends in 60 days
        assert renewals_create_due(tenant=tenant, today=TODAY + dt.timedelta(days=30)) == 1


def test_no_deal_for_open_ended_ended_deleted_or_renewed_terms(tenant, ending):
    account = ending.account
    SubscriptionFactory(tenant=tenant, account=account, end_date=None)
    SubscriptionFactory(tenant=tenant, account=account, start_date=dt.date(2025, 1, 1), end_date=TODAY)
    SubscriptionFactory(
        tenant=tenant,
        account=account,
        end_date=TODAY + dt.timedelta(days=10),
        deleted_at=dt.datetime.now(dt.UTC),
    )
    SubscriptionFactory(
        tenant=tenant, account=account, start_date=dt.date(2025, 1, 1), end_date=TODAY - dt.timedelta(days=1)
    )
    SubscriptionFactory(tenant=tenant, account=account, renews_from=ending, start_date=ending.end_date)
    with tenant_context(tenant):
        # Ending today counts; the renewed, deleted, ended and open-ended terms do not.
        assert renewals_create_due(tenant=tenant, today=TODAY) == 1
        assert Subscription.objects.filter(renewal_opportunity__isnull=False).get().end_date == TODAY


@pytest.fixture
def with_deal(tenant, ending):
    with tenant_context(tenant):
        deal = subscription_create_renewal_deal(tenant=tenant, subscription_id=ending.pk)
        ending.refresh_from_db()
    return ending, deal


def test_won_renewal_proposes_the_next_term_and_accepting_creates_it_once(tenant, with_deal, admin_member):
    subscription, deal = with_deal
    with tenant_context(tenant):
        assert next_term_proposal(subscription) is None  # still open
        opportunity_update_amount(tenant, deal, "13200.00", admin_member)
        opportunity_mark_won(tenant=tenant, actor=admin_member.user, opportunity=deal)
        fresh = Subscription.objects.select_related("renewal_opportunity__stage").get(pk=subscription.pk)
        proposal = next_term_proposal(fresh)
        assert proposal is not None
        assert (proposal.plan, proposal.mrr, proposal.currency) == ("Pro", Decimal("1100.00"), "CNY")
        assert (proposal.start_date, proposal.end_date) == (dt.date(2026, 4, 30), dt.date(2027, 4, 30))
        created = subscription_accept_next_term(
            tenant=tenant,
            actor=admin_member.user,
            subscription=fresh,
            plan="Pro+",
            mrr="1150",
            currency="CNY",
            start_date=proposal.start_date,
            end_date=proposal.end_date,
        )
        assert (created.renews_from_id, created.plan, created.mrr) == (fresh.pk, "Pro+", Decimal("1150.00"))
        with pytest.raises(ValidationError):
            subscription_accept_next_term(
                tenant=tenant,
                actor=admin_member.user,
                subscription=fresh,
                plan="Pro+",
                mrr="1150",
                currency="CNY",
                start_date=proposal.start_date,
                end_date=proposal.end_date,
            )
        assert next_term_proposal(Subscription.objects.get(pk=fresh.pk)) is None


def opportunity_update_amount(tenant, deal, amount, admin_member):
    from accounts.services.opportunities import opportunity_update

    opportunity_update(tenant=tenant, actor=admin_member.user, opportunity=deal, version=None, amount=amount)


def test_lost_renewal_records_the_churn_reason_and_reopening_takes_it_back(
    tenant, with_deal, admin_member, django_capture_on_commit_callbacks
):
    subscription, deal = with_deal
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant):
        opportunity_mark_lost(
            tenant=tenant, actor=admin_member.user, opportunity=deal, reason="Moved to a rival"
        )
    with tenant_context(tenant):
        assert Subscription.objects.get(pk=subscription.pk).churn_reason == "Moved to a rival"
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant):
        first_open = deal.pipeline.stages.filter(kind=StageKind.OPEN).order_by("order").first()
        opportunity_move_stage(tenant=tenant, actor=admin_member.user, opportunity=deal, stage=first_open)
    with tenant_context(tenant):
        assert Subscription.objects.get(pk=subscription.pk).churn_reason == ""


def test_bulk_assign_by_cs_and_managers_limits(tenant, with_deal, member):
    _subscription, deal = with_deal
    cs = member(role=Role.CS)
    target = member(role=Role.SALES_REP)
    with tenant_context(tenant):
        assert (
            renewal_deals_assign(
                tenant=tenant, actor=cs.user, membership=cs, opportunities=[deal], owner=target.user
            )
            == 1
        )
        assert Opportunity.objects.get(pk=deal.pk).owner_id == target.user_id
        manager = member(role=Role.SALES_MANAGER, team="East")
        with pytest.raises(ValidationError):
            renewal_deals_assign(
                tenant=tenant, actor=manager.user, membership=manager, opportunities=[deal], owner=cs.user
            )


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_create_one_deal(tenant, ending):
    """Two workers at once: the second waits on the subscription's row lock, then finds the deal and stops."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(2)
    results: list[object] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with tenant_context(tenant):
                barrier.wait(timeout=10)
                results.append(subscription_create_renewal_deal(tenant=tenant, subscription_id=ending.pk))
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    assert sum(result is not None for result in results) == 1
    with tenant_context(tenant):
        assert Opportunity.objects.filter(type=OpportunityType.RENEWAL).count() == 1
        assert Subscription.objects.get(pk=ending.pk).renewal_opportunity_id is not None
