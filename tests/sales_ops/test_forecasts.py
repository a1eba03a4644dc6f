"""Weekly forecast snapshots and forecast_accuracy (KPIS.md), Asia/Shanghai, fiscal year from April.

Monday 05-27: rep1's D1 (1000, commit, p 0.5, closing 06-20) and rep2's D2 (500, best case, p 0.2, closing
06-25) are open -> snapshot 1. Monday 06-03: rep1's D3 (3000, commit, p 0.5, closing 06-28) joins -> snapshot 2.
Then D1 is won on 06-20 and D3 lost; recomputed on 07-02, June and fiscal Q1 (April-June) are closed. rep2's
D0 (100) was won on 04-10, before any snapshot.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.conf import settings

from accounts.models import ForecastCategory, Opportunity
from accounts.services.rates import opportunities_reprice
from crm.tenancy import tenant_context
from sales_ops.models import ForecastSnapshot
from sales_ops.services.engine import kpi_recompute
from sales_ops.services.forecasts import forecast_snapshot_take
from sales_ops.tasks import take_forecast_snapshot, take_forecast_snapshots_all_tenants
from tests.factories import OpportunityFactory
from tests.sales_ops.conftest import local, snapshot, value

pytestmark = pytest.mark.django_db

D = datetime.date
APRIL, MAY, JUNE, JULY = D(2024, 4, 1), D(2024, 5, 1), D(2024, 6, 1), D(2024, 7, 1)
WEEK1, WEEK2 = local(2024, 5, 27, 9), local(2024, 6, 3, 9)


def open_deal(tenant, stages, owner, amount, category, probability, closes):  # type: ignore[no-untyped-def]
    deal = OpportunityFactory(
        tenant=tenant,
        owner=owner,
        stage=stages["open"],
        amount=Decimal(amount),
        currency="CNY",
        forecast_category=category,
        probability=Decimal(probability),
        expected_close_date=closes,
        created_at=local(2024, 5, 20),
    )
    with tenant_context(tenant):
        opportunities_reprice(tenant=tenant)
    return deal


def take(tenant, now):  # type: ignore[no-untyped-def]
    kpi_recompute(tenant=tenant, now=now)
    with tenant_context(tenant):
        return forecast_snapshot_take(tenant=tenant, now=now)


def snapshots(tenant):  # type: ignore[no-untyped-def]
    with tenant_context(tenant):
        return {
            (row.week_start, row.grain, row.period_start, row.dimension, row.dimension_value): (
                row.commit,
                row.best_case,
                row.weighted,
            )
            for row in ForecastSnapshot.objects.filter(tenant=tenant)
        }


@pytest.fixture
def history(fy_tenant, people, stages):
    rep1, rep2 = people["rep1"].user, people["rep2"].user
    OpportunityFactory(
        tenant=fy_tenant,
        owner=rep2,
        stage=stages["won"],
        amount=Decimal("100"),
        currency="CNY",
        created_at=local(2024, 4, 2),
        closed_at=local(2024, 4, 10),
    )
    d1 = open_deal(fy_tenant, stages, rep1, "1000", ForecastCategory.COMMIT, "0.5", D(2024, 6, 20))
    open_deal(fy_tenant, stages, rep2, "500", ForecastCategory.BEST_CASE, "0.2", D(2024, 6, 25))
    first = take(fy_tenant, WEEK1)
    d3 = open_deal(fy_tenant, stages, rep1, "3000", ForecastCategory.COMMIT, "0.5", D(2024, 6, 28))
    second = take(fy_tenant, WEEK2)
    with tenant_context(fy_tenant):
        Opportunity.objects.filter(pk=d1.pk).update(stage=stages["won"], closed_at=local(2024, 6, 20))
        Opportunity.objects.filter(pk=d3.pk).update(stage=stages["lost"], closed_at=local(2024, 6, 28))
        opportunities_reprice(tenant=fy_tenant)
    return first, second


def test_weekly_snapshot_of_every_open_period_per_owner_team_and_tenant(fy_tenant, history):
    first, second = history
    rows = snapshots(fy_tenant)
    week1, week2 = D(2024, 5, 27), D(2024, 6, 3)
    # Week 1, June: commit D1 1000; best case + D2 = 1500; weighted 1000 x 0.5 + 500 x 0.2 = 600.
    assert rows[(week1, "month", JUNE, "all", "")] == (1000, 1500, 600)
    assert rows[(week1, "month", JUNE, "owner", "rep2@kpi.test")] == (0, 500, 100)
    assert rows[(week1, "month", JUNE, "team", "East")] == (1000, 1000, 500)
    assert rows[(week1, "month", MAY, "all", "")] == (0, 0, 0)  # May holds 05-27: still open
    # Fiscal Q1: D0's 100 is won already, so every figure starts from it.
    assert rows[(week1, "quarter", APRIL, "all", "")] == (1100, 1600, 700)
    # Week 2: May is over, June gains D3.
    assert (week2, "month", MAY, "all", "") not in rows
    assert rows[(week2, "month", JUNE, "all", "")] == (4000, 4500, 2100)
    assert first == sum(1 for key in rows if key[0] == week1)
    assert second == sum(1 for key in rows if key[0] == week2)


def test_second_snapshot_in_a_week_writes_nothing(fy_tenant, history):
    before = snapshots(fy_tenant)
    assert take(fy_tenant, local(2024, 6, 6, 9)) == 0  # Thursday of week 2
    assert snapshots(fy_tenant) == before


def test_forecast_accuracy_uses_the_snapshot_nearest_to_the_period_start(fy_tenant, history):
    kpi_recompute(tenant=fy_tenant, now=local(2024, 7, 2, 9))
    rows = snapshot(fy_tenant)
    # June: won 1000; snapshots of June taken 05-27 (5 days before June 1) and 06-03 (2 days after): 06-03's 4000.
    assert value(rows, "forecast_accuracy", "month", JUNE) == Decimal("0.25")
    assert value(rows, "forecast_accuracy", "month", JUNE, "owner", "rep1@kpi.test") == Decimal("0.25")
    assert value(rows, "forecast_accuracy", "month", JUNE, "team", "East") == Decimal("0.25")
    # Fiscal Q1 (from 04-01): won 1100; 05-27 is nearer than 06-03, its commit 1100.
    assert value(rows, "forecast_accuracy", "quarter", APRIL) == 1
    assert value(rows, "forecast_accuracy", "month", MAY) is None  # the only May snapshot commits 0
    assert value(rows, "won_amount", "month", APRIL) == 100
    assert value(rows, "forecast_accuracy", "month", APRIL) is None  # no snapshot of April
    assert ("forecast_accuracy", "month", JULY, "all", "") not in rows  # July is not closed
    assert ("forecast_accuracy", "week", D(2024, 6, 17), "all", "") not in rows  # months and quarters only


def test_task_takes_one_snapshot_a_week_and_beat_fans_out(fy_tenant, people, stages, monkeypatch):
    from django.utils import timezone

    from sales_ops import tasks

    open_deal(fy_tenant, stages, people["rep1"].user, "1000", ForecastCategory.COMMIT, "0.5", D(2024, 6, 20))
    fixed = local(2024, 6, 3, 0, 3)
    monkeypatch.setattr(timezone, "now", lambda: fixed)  # the clock of the recompute and of the snapshot
    assert take_forecast_snapshot(fy_tenant.pk) > 0
    assert take_forecast_snapshot(fy_tenant.pk) == 0
    queued = []
    monkeypatch.setattr(tasks.take_forecast_snapshot, "delay", lambda tenant_id: queued.append(tenant_id))
    assert take_forecast_snapshots_all_tenants() == len(queued)
    assert fy_tenant.pk in queued
    entries = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "sales_ops.tasks.take_forecast_snapshots_all_tenants" in entries
