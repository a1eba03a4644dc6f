"""The refresh of the current periods' deal metrics (sales_ops/services/refresh.py): equal to a full recompute
where it writes, untouched elsewhere, atomic with a publish, debounced, and one at a time per tenant."""

from __future__ import annotations

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache

from accounts.models import ForecastCategory, Opportunity
from crm.tenancy import tenant_context
from sales_ops import tasks
from sales_ops.models import KpiSnapshotSet
from sales_ops.services import engine, refresh
from sales_ops.services.triggers import pending_key, refresh_pending_key
from tests.factories import OpportunityFactory, QuotaFactory
from tests.sales_ops.conftest import NOW, advisory_lock_held_elsewhere, local, snapshot

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = NOW.date()  # Saturday 2024-06-15 in Shanghai; fiscal year from April
# The first period of each grain that a refresh at NOW rewrites: the one holding today.
# Quarters and years are not refreshed (they would read the whole fiscal year's deals).
REFRESHED_FROM = {"day": TODAY, "week": D(2024, 6, 10), "month": D(2024, 6, 1)}


def refreshed(key) -> bool:  # type: ignore[no-untyped-def]
    metric, grain, period_start, _dimension, _value = key
    return metric in refresh.METRICS and grain in REFRESHED_FROM and period_start >= REFRESHED_FROM[grain]


@pytest.fixture
def deals(fy_tenant, people, stages):  # type: ignore[no-untyped-def]
    """Deals of the last two years and the next months, of both reps, in every state; quotas for this year."""

    def deal(owner, stage: str, created, *, closed=None, close_date=None, amount="1000", **extra):  # type: ignore[no-untyped-def]
        return OpportunityFactory(
            tenant=fy_tenant,
            owner=owner.user,
            stage=stages[stage],
            created_at=created,
            closed_at=closed,
            expected_close_date=close_date,
            amount=Decimal(amount),
            probability=Decimal("1")
            if stage == "won"
            else Decimal("0")
            if stage == "lost"
            else Decimal("0.4"),
            **extra,
        )

    rep1, rep2 = people["rep1"], people["rep2"]
    made = {
        "old_won": deal(rep1, "won", local(2023, 2, 1), closed=local(2023, 3, 10), amount="5000"),
        "old_lost": deal(rep2, "lost", local(2023, 9, 1), closed=local(2024, 3, 30), amount="700"),
        "won_in_may": deal(rep1, "won", local(2024, 4, 2), closed=local(2024, 5, 20), amount="1200"),
        "won_this_week": deal(rep2, "won", local(2024, 5, 1), closed=local(2024, 6, 11), amount="900"),
        "overdue": deal(rep1, "open", local(2024, 1, 5), close_date=D(2024, 5, 31), amount="400"),
        "closing_june": deal(
            rep1,
            "open",
            local(2024, 3, 5),
            close_date=D(2024, 6, 28),
            amount="2500",
            forecast_category=ForecastCategory.COMMIT,
        ),
        "closing_august": deal(
            rep2,
            "open",
            local(2024, 6, 3),
            close_date=D(2024, 8, 15),
            amount="3000",
            forecast_category=ForecastCategory.BEST_CASE,
        ),
        "created_today": deal(rep2, "open", local(2024, 6, 15, 9), close_date=D(2024, 7, 1), amount="650"),
    }
    for month in (D(2024, 4, 1), D(2024, 5, 1), D(2024, 6, 1), D(2024, 7, 1)):
        QuotaFactory(tenant=fy_tenant, owner=rep1.user, team=None, month=month, amount=Decimal("4000"))
    return made


def _change_the_deals(fy_tenant, stages, deals, people) -> None:  # type: ignore[no-untyped-def]
    """What people did since the last full recompute, written without signals (the test runs the refresh)."""
    with tenant_context(fy_tenant):
        # Won today: it was expected in June; and the overdue deal (expected in May) was lost today.
        Opportunity.objects.filter(pk=deals["closing_june"].pk).update(
            stage=stages["won"], closed_at=local(2024, 6, 15, 10), probability=Decimal("1")
        )
        Opportunity.objects.filter(pk=deals["overdue"].pk).update(
            stage=stages["lost"], closed_at=local(2024, 6, 15, 11), probability=Decimal("0")
        )
        Opportunity.objects.filter(pk=deals["closing_august"].pk).update(
            forecast_category=ForecastCategory.COMMIT, amount_reporting=Decimal("3300")
        )
    OpportunityFactory(
        tenant=fy_tenant,
        owner=people["rep1"].user,
        stage=stages["open"],
        created_at=local(2024, 6, 15, 11, 30),
        expected_close_date=D(2024, 9, 30),
        amount=Decimal("800"),
        probability=Decimal("0.4"),
    )
    QuotaFactory(
        tenant=fy_tenant, owner=people["rep2"].user, team=None, month=D(2024, 6, 1), amount=Decimal("2000")
    )


def test_a_refresh_writes_what_a_full_recompute_would_in_its_periods_and_nothing_else(
    fy_tenant, people, stages, deals
):
    engine.kpi_recompute(tenant=fy_tenant, now=NOW)
    before = snapshot(fy_tenant)
    june_won_before = before[("opps_won", "month", D(2024, 6, 1), "all", "")]
    _change_the_deals(fy_tenant, stages, deals, people)

    written = refresh.kpi_refresh(tenant=fy_tenant, now=NOW)

    after = snapshot(fy_tenant)
    engine.kpi_recompute(tenant=fy_tenant, now=NOW)
    full = snapshot(fy_tenant)
    assert written == sum(1 for key in full if refreshed(key))
    # Where the refresh writes: the full recompute's rows exactly (keys and values, nulls included).
    assert {k: v for k, v in after.items() if refreshed(k)} == {k: v for k, v in full.items() if refreshed(k)}
    # Elsewhere: the set as it was (the May pipeline of the deal lost today waits for the full recompute).
    assert {k: v for k, v in after.items() if not refreshed(k)} == {
        k: v for k, v in before.items() if not refreshed(k)
    }
    assert after[("opps_won", "month", D(2024, 6, 1), "all", "")] == june_won_before + 1
    assert after[("opps_won", "day", TODAY, "owner", "rep1@kpi.test")] == 1
    assert after[("opps_lost", "day", TODAY, "all", "")] == 1
    assert after[("forecast_commit", "month", D(2024, 8, 1), "all", "")] == Decimal("3300")
    assert ("quota_attainment", "month", D(2024, 6, 1), "owner", "rep2@kpi.test") in after
    assert (
        before[("open_pipeline", "month", D(2024, 5, 1), "all", "")]
        == after[("open_pipeline", "month", D(2024, 5, 1), "all", "")]
        != full[("open_pipeline", "month", D(2024, 5, 1), "all", "")]
    )
    with tenant_context(fy_tenant):
        current = KpiSnapshotSet.objects.get(is_current=True)
    assert current.row_count == len(full)


def test_a_refresh_keeps_the_row_count_and_stamps_the_set(fy_tenant, people, stages, deals):
    engine.kpi_recompute(tenant=fy_tenant, now=NOW)
    _change_the_deals(fy_tenant, stages, deals, people)
    refresh.kpi_refresh(tenant=fy_tenant, now=NOW)
    with tenant_context(fy_tenant):
        current = KpiSnapshotSet.objects.get(is_current=True)
    assert current.refreshed_at is not None
    assert current.row_count == len(snapshot(fy_tenant))


def test_a_publish_applies_a_refresh_made_while_its_set_was_built(fy_tenant, people, stages, deals):
    """The build read the deals before the win; the refresh of the old set came after: the new set must not step
    back to the numbers before the win."""
    engine.kpi_recompute(tenant=fy_tenant, now=NOW)
    june_won_before = snapshot(fy_tenant)[("opps_won", "month", D(2024, 6, 1), "all", "")]
    new_set = engine.kpi_set_build(tenant=fy_tenant, now=NOW)
    _change_the_deals(fy_tenant, stages, deals, people)
    refresh.kpi_refresh(tenant=fy_tenant, now=NOW)
    assert snapshot(fy_tenant)[("opps_won", "month", D(2024, 6, 1), "all", "")] == june_won_before + 1

    engine.kpi_set_publish(tenant=fy_tenant, snapshot_set=new_set)

    published = snapshot(fy_tenant)
    assert published[("opps_won", "month", D(2024, 6, 1), "all", "")] == june_won_before + 1
    with tenant_context(fy_tenant):
        assert KpiSnapshotSet.objects.get(is_current=True).pk == new_set.pk
    engine.kpi_recompute(tenant=fy_tenant, now=NOW)
    full = snapshot(fy_tenant)
    assert {k: v for k, v in published.items() if refreshed(k)} == {
        k: v for k, v in full.items() if refreshed(k)
    }


def test_a_publish_after_no_refresh_rewrites_nothing(fy_tenant, deals):
    engine.kpi_recompute(tenant=fy_tenant, now=NOW)
    new_set = engine.kpi_set_build(tenant=fy_tenant, now=NOW)
    with mock.patch("sales_ops.services.refresh.kpi_set_refresh") as kpi_set_refresh:
        engine.kpi_set_publish(tenant=fy_tenant, snapshot_set=new_set)
    kpi_set_refresh.assert_not_called()


def test_no_current_set_no_refresh(fy_tenant, deals):
    assert refresh.kpi_refresh(tenant=fy_tenant, now=NOW) == 0
    with tenant_context(fy_tenant):
        assert not KpiSnapshotSet.objects.exists()


@pytest.fixture
def refresh_lock_held_elsewhere(fy_tenant):
    with advisory_lock_held_elsewhere(refresh.LOCK_CLASS, fy_tenant.pk):
        yield


def test_one_refresh_at_a_time_and_not_behind_a_full_recompute(fy_tenant, deals, refresh_lock_held_elsewhere):
    engine.kpi_recompute(tenant=fy_tenant, now=NOW)  # the refresh lock does not hold the full recompute back
    assert refresh.kpi_refresh(tenant=fy_tenant, now=NOW) is None
    with mock.patch.object(tasks.refresh_kpis, "apply_async") as apply_async:
        assert tasks.refresh_kpis(fy_tenant.pk) == "requeued"
    apply_async.assert_called_once_with((fy_tenant.pk, 1), countdown=tasks.REFRESH_RETRY_SECONDS)


def test_a_refresh_runs_while_a_full_recompute_holds_its_lock(fy_tenant, deals):
    engine.kpi_recompute(tenant=fy_tenant, now=NOW)
    with engine.tenant_lock(fy_tenant.pk) as acquired:
        assert acquired
        assert refresh.kpi_refresh(tenant=fy_tenant, now=NOW)


def test_deal_and_quota_changes_queue_one_refresh_and_one_recompute(
    fy_tenant, people, stages, kpi_settings_on, django_capture_on_commit_callbacks
):
    cache.delete_many([pending_key(fy_tenant.pk), refresh_pending_key(fy_tenant.pk)])
    with (
        mock.patch.object(tasks.refresh_kpis, "apply_async") as refresh_async,
        mock.patch.object(tasks.recompute_kpis, "apply_async") as recompute_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        OpportunityFactory.create_batch(50, tenant=fy_tenant, owner=people["rep1"].user, stage=stages["open"])
        QuotaFactory(tenant=fy_tenant, owner=people["rep1"].user, team=None, month=D(2024, 6, 1))
    refresh_async.assert_called_once_with((fy_tenant.pk,), countdown=1)
    recompute_async.assert_called_once_with((fy_tenant.pk,), countdown=5)
    # Once the refresh starts, the next change queues the next one.
    with mock.patch("sales_ops.services.refresh.kpi_refresh", return_value=3):
        assert tasks.refresh_kpis(fy_tenant.pk) == "done"
    assert cache.get(refresh_pending_key(fy_tenant.pk)) is None
    cache.delete_many([pending_key(fy_tenant.pk), refresh_pending_key(fy_tenant.pk)])


def test_deal_edits_through_the_services_queue_the_refresh_and_the_recompute(
    fy_tenant, people, stages, deals, kpi_settings_on, django_capture_on_commit_callbacks
):
    """The deal services write with a queryset update (no post_save): accounts.signals.opportunities_changed."""
    from accounts.services import opportunities as opportunities_services

    edits = [
        lambda deal: opportunities_services.opportunity_mark_won(
            tenant=fy_tenant, actor=None, opportunity=deal
        ),
        lambda deal: opportunities_services.opportunity_update(
            tenant=fy_tenant,
            actor=None,
            opportunity=deal,
            version=None,
            forecast_category=ForecastCategory.COMMIT,
        ),
        lambda deal: opportunities_services.opportunity_delete(
            tenant=fy_tenant, actor=None, opportunity=deal
        ),
    ]
    for edit, deal in zip(
        edits, [deals["closing_june"], deals["closing_august"], deals["created_today"]], strict=True
    ):
        cache.delete_many([pending_key(fy_tenant.pk), refresh_pending_key(fy_tenant.pk)])
        with (
            mock.patch.object(tasks.refresh_kpis, "apply_async") as refresh_async,
            mock.patch.object(tasks.recompute_kpis, "apply_async") as recompute_async,
            django_capture_on_commit_callbacks(execute=True),
            tenant_context(fy_tenant),
        ):
            edit(deal)
        refresh_async.assert_called_once_with((fy_tenant.pk,), countdown=1)
        recompute_async.assert_called_once_with((fy_tenant.pk,), countdown=5)
    cache.delete_many([pending_key(fy_tenant.pk), refresh_pending_key(fy_tenant.pk)])
