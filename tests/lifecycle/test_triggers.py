"""Recomputes scheduled on commit after the changes that can move a stage: one per transaction and tenant."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Account, StageKind
from accounts.services.opportunities import opportunity_create, opportunity_move_stage
from accounts.services.pipelines import pipeline_default
from crm.tenancy import tenant_context
from lifecycle import tasks
from lifecycle.models import LifecycleChange
from lifecycle.services.settings import lifecycle_settings_get, lifecycle_settings_update
from lifecycle.services.subscriptions import (
    subscription_create,
    subscription_delete,
    subscription_update,
)
from tests.factories_accounts import AccountFactory

pytestmark = pytest.mark.django_db

CLOSED = dt.datetime(2025, 2, 1, 4, 0, tzinfo=dt.UTC)


@pytest.fixture
def recomputes(monkeypatch):
    """The recompute tasks queued (tenant id, account ids); they still run (eagerly)."""
    calls: list[tuple[int, list[int] | None]] = []
    original = tasks.recompute_lifecycle.delay

    def spy(tenant_id, account_ids=None):  # type: ignore[no-untyped-def]
        calls.append((tenant_id, account_ids))
        return original(tenant_id, account_ids)

    monkeypatch.setattr(tasks.recompute_lifecycle, "delay", spy)
    return calls


def stage_of(tenant, account) -> str:
    with tenant_context(tenant):
        return Account.objects.get(pk=account.pk).lifecycle_stage


def won_stage(tenant):
    return pipeline_default(tenant=tenant).stages.get(kind=StageKind.WON)


def test_deals_won_in_one_transaction_give_one_recompute_after_commit(
    tenant, admin_member, recomputes, django_capture_on_commit_callbacks
):
    one = AccountFactory(tenant=tenant, created_at=CLOSED - dt.timedelta(days=30))
    two = AccountFactory(tenant=tenant, created_at=CLOSED - dt.timedelta(days=30))
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant), transaction.atomic():
        for account in (one, two, one):
            opportunity_create(
                tenant=tenant,
                actor=admin_member.user,
                account=account,
                name="Deal",
                amount=100,
                stage=won_stage(tenant),
                created_at=CLOSED,
                closed_at=CLOSED,
            )
        subscription_create(
            tenant=tenant, actor=admin_member.user, account=two, start_date=dt.date(2025, 3, 1), mrr=10
        )
        assert recomputes == []  # nothing before commit
    assert recomputes == [(tenant.pk, sorted([one.pk, two.pk]))]
    assert stage_of(tenant, one) != "acquisition"
    with tenant_context(tenant):
        first = LifecycleChange.objects.get(account=one, from_stage="acquisition")
    assert (first.date, first.to_stage, first.cause) == (dt.date(2025, 2, 1), "conversion", "first_won_deal")


def test_reopening_a_won_deal_recomputes_and_moving_between_open_stages_does_not(
    tenant, admin_member, recomputes, django_capture_on_commit_callbacks
):
    account = AccountFactory(tenant=tenant)
    with tenant_context(tenant):
        pipeline = pipeline_default(tenant=tenant)
        first_open, second_open = pipeline.stages.filter(kind=StageKind.OPEN).order_by("order")[:2]
        with django_capture_on_commit_callbacks(execute=True):
            deal = opportunity_create(
                tenant=tenant,
                actor=admin_member.user,
                account=account,
                name="Deal",
                amount=1,
                stage=first_open,
            )
        assert recomputes == [(tenant.pk, [account.pk])]  # the deal was saved (post_save)
        with django_capture_on_commit_callbacks(execute=True):
            deal = opportunity_move_stage(
                tenant=tenant, actor=admin_member.user, opportunity=deal, stage=second_open
            )
        assert len(recomputes) == 1
        with django_capture_on_commit_callbacks(execute=True):
            deal = opportunity_move_stage(
                tenant=tenant, actor=admin_member.user, opportunity=deal, stage=won_stage(tenant)
            )
        assert len(recomputes) == 2
        assert Account.objects.get(pk=account.pk).lifecycle_stage == "conversion"
        with django_capture_on_commit_callbacks(execute=True):
            opportunity_move_stage(tenant=tenant, actor=admin_member.user, opportunity=deal, stage=first_open)
        assert len(recomputes) == 3
        assert Account.objects.get(pk=account.pk).lifecycle_stage == "acquisition"


def test_a_rolled_back_transaction_schedules_nothing_and_the_next_one_does(
    tenant, admin_member, recomputes, django_capture_on_commit_callbacks
):
    account = AccountFactory(tenant=tenant, created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant):
        with pytest.raises(RuntimeError), transaction.atomic():
            subscription_create(
                tenant=tenant, actor=admin_member.user, account=account, start_date=dt.date(2025, 1, 1)
            )
            raise RuntimeError
        subscription_create(
            tenant=tenant, actor=admin_member.user, account=account, start_date=dt.date(2025, 2, 1)
        )
    assert recomputes == [(tenant.pk, [account.pk])]
    with tenant_context(tenant):
        assert LifecycleChange.objects.filter(
            account=account, cause="first_subscription"
        ).get().date == dt.date(2025, 2, 1)


def test_subscription_services_validate_and_a_back_dated_change_rewrites_history(
    tenant, admin_member, recomputes, django_capture_on_commit_callbacks
):
    account = AccountFactory(tenant=tenant, created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    user = admin_member.user
    with tenant_context(tenant):
        with pytest.raises(ValidationError) as error:
            subscription_create(
                tenant=tenant,
                actor=user,
                account=account,
                start_date=dt.date(2025, 1, 1),
                end_date=dt.date(2025, 1, 1),
                mrr="-1",
                currency="euro",
            )
        assert set(error.value.message_dict) == {"end_date", "mrr", "currency"}
        with django_capture_on_commit_callbacks(execute=True):
            sub = subscription_create(
                tenant=tenant,
                actor=user,
                account=account,
                start_date=dt.date(2025, 1, 1),
                mrr=Decimal("99.5"),
            )
        assert (sub.currency, sub.mrr, sub.version) == (tenant.currency, Decimal("99.50"), 1)
        assert LifecycleChange.objects.get(account=account, cause="first_subscription").date == dt.date(
            2025, 1, 1
        )
        with django_capture_on_commit_callbacks(execute=True):
            sub = subscription_update(
                tenant=tenant, actor=user, subscription=sub, version=1, start_date=dt.date(2024, 6, 1)
            )
        assert sub.version == 2
        assert LifecycleChange.objects.get(account=account, cause="first_subscription").date == dt.date(
            2024, 6, 1
        )
        with django_capture_on_commit_callbacks(execute=True):
            subscription_delete(tenant=tenant, actor=user, subscription=sub)
        assert list(LifecycleChange.objects.filter(account=account).values_list("to_stage", flat=True)) == [
            "acquisition"
        ]
        assert Account.objects.get(pk=account.pk).lifecycle_stage == "acquisition"
    assert len(recomputes) == 3


def test_settings_defaults_validation_and_a_window_change_recomputes_the_tenant(
    tenant, admin_member, recomputes, django_capture_on_commit_callbacks
):
    account = AccountFactory(tenant=tenant, created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    with tenant_context(tenant):
        settings = lifecycle_settings_get(tenant=tenant)
        assert (
            settings.onboarding_days,
            settings.grace_days,
            settings.lapse_days,
            settings.renewal_lead_days,
            settings.health_at_risk_threshold,
        ) == (90, 30, 365, 90, 40)
        with pytest.raises(ValidationError) as error:
            lifecycle_settings_update(
                tenant=tenant, actor=admin_member.user, onboarding_days=0, lapse_days="x"
            )
        assert set(error.value.message_dict) == {"onboarding_days", "lapse_days"}
        with pytest.raises(ValidationError):
            lifecycle_settings_update(tenant=tenant, actor=admin_member.user, grace_days=100000)
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle_settings_update(tenant=tenant, actor=admin_member.user, health_at_risk_threshold=35)
        assert recomputes == []  # not a stage window
        with django_capture_on_commit_callbacks(execute=True):
            updated = lifecycle_settings_update(tenant=tenant, actor=admin_member.user, onboarding_days="30")
        assert updated.onboarding_days == 30
        assert lifecycle_settings_get(tenant=tenant).health_at_risk_threshold == 35
    assert recomputes == [(tenant.pk, None)]
    with tenant_context(tenant):
        assert LifecycleChange.objects.filter(account=account).count() == 1


def test_the_task_skips_an_inactive_tenant(tenant):
    account = AccountFactory(tenant=tenant)
    type(tenant).objects.filter(pk=tenant.pk).update(is_active=False)
    assert tasks.recompute_lifecycle(tenant.pk, [account.pk]) == 0
    with tenant_context(tenant):
        assert not LifecycleChange.objects.exists()


def test_the_hourly_beat_recomputes_the_tenants_whose_day_just_began(tenant, other_tenant, monkeypatch):
    from django.utils import timezone

    created = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    AccountFactory(tenant=tenant, created_at=created)
    AccountFactory(tenant=other_tenant, created_at=created)
    # 16:20 UTC in winter: 00:20 in Shanghai (tenant), 17:20 in Berlin (other_tenant).
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 1, 10, 16, 20, tzinfo=dt.UTC))
    assert tasks.recompute_lifecycle_due_all_tenants() == 1
    with tenant_context(tenant):
        assert LifecycleChange.objects.count() == 1
    with tenant_context(other_tenant):
        assert LifecycleChange.objects.count() == 0
    assert tasks.recompute_lifecycle_all_tenants() == 2
    with tenant_context(other_tenant):
        assert LifecycleChange.objects.count() == 1
