"""Factories of sales_ops: snapshot sets and rows, recompute jobs, KPI settings, quotas; see tests/factories.py."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from sales_ops.models import ForecastSnapshot, KpiRecompute, KpiSettings, KpiSnapshot, KpiSnapshotSet, Quota
from tests.factories import TenantOwnedFactory

__all__ = [
    "ForecastSnapshotFactory",
    "KpiRecomputeFactory",
    "KpiSettingsFactory",
    "KpiSnapshotFactory",
    "KpiSnapshotSetFactory",
    "QuotaFactory",
]


class KpiSnapshotSetFactory(TenantOwnedFactory):
    """The tenant's current set by default (one per tenant: get or create)."""

    class Meta:
        model = KpiSnapshotSet
        django_get_or_create = ("tenant", "is_current")

    is_current = True
    computed_at = factory.LazyFunction(timezone.now)


class KpiSnapshotFactory(TenantOwnedFactory):
    class Meta:
        model = KpiSnapshot

    snapshot_set = factory.SubFactory(KpiSnapshotSetFactory, tenant=factory.SelfAttribute("..tenant"))
    metric = "leads_created"
    grain = "month"
    period_start = datetime.date(2026, 1, 1)
    dimension = "all"
    dimension_value = ""
    value = Decimal("12")
    computed_at = factory.LazyFunction(timezone.now)


class KpiRecomputeFactory(TenantOwnedFactory):
    class Meta:
        model = KpiRecompute

    status = "done"
    progress = 100


class KpiSettingsFactory(TenantOwnedFactory):
    class Meta:
        model = KpiSettings
        django_get_or_create = ("tenant",)


class QuotaFactory(TenantOwnedFactory):
    class Meta:
        model = Quota

    owner = None
    team = None
    month = factory.Sequence(lambda n: datetime.date(2020 + n // 12, n % 12 + 1, 1))
    amount = Decimal("50000.00")


class ForecastSnapshotFactory(TenantOwnedFactory):
    """A weekly forecast snapshot row (normally copied from the KPI set by the weekly task)."""

    class Meta:
        model = ForecastSnapshot

    week_start = factory.Sequence(lambda n: datetime.date(2026, 1, 5) + datetime.timedelta(weeks=n))
    taken_on = factory.SelfAttribute("week_start")
    taken_at = factory.LazyFunction(timezone.now)
    grain = "month"
    period_start = datetime.date(2026, 2, 1)
    commit = Decimal("1000.00")
    best_case = Decimal("1500.00")
    weighted = Decimal("800.00")
