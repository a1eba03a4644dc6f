"""Fixtures of the KPI engine tests: an Asia/Shanghai tenant whose fiscal year starts in April, a fixed "now",
and a reader of the current snapshot set."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import psycopg
import pytest
from django.db import connection

from accounts.models import Stage, StageKind
from crm.models import Role
from crm.tenancy import tenant_context
from sales_ops.models import KpiSnapshot
from tests.conftest import make_tenant
from tests.factories import MembershipFactory, TeamFactory, UserFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# The recompute's "now": Saturday 2024-06-15 12:00 in Shanghai.
NOW = datetime.datetime(2024, 6, 15, 12, 0, tzinfo=SHANGHAI)


def local(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime.datetime:
    """An aware datetime at a Shanghai wall-clock time."""
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def fy_tenant(db):
    return make_tenant("kpi", time_zone="Asia/Shanghai", currency="CNY", fiscal_year_start_month=4)


@pytest.fixture
def people(fy_tenant):
    """Two teams: East (rep1, manager) and West (rep2)."""
    east = TeamFactory(tenant=fy_tenant, name="East")
    west = TeamFactory(tenant=fy_tenant, name="West")

    def make(email: str, role: str, team):  # type: ignore[no-untyped-def]
        return MembershipFactory(tenant=fy_tenant, user=UserFactory(email=email), role=role, team=team)

    return {
        "rep1": make("rep1@kpi.test", Role.SALES_REP, east),
        "rep2": make("rep2@kpi.test", Role.SALES_REP, west),
        "manager": make("manager@kpi.test", Role.SALES_MANAGER, east),
        "east": east,
        "west": west,
    }


@pytest.fixture
def stages(fy_tenant):
    with tenant_context(fy_tenant):
        return {
            kind: Stage.objects.select_related("pipeline").filter(kind=kind).order_by("order").first()
            for kind in (StageKind.OPEN, StageKind.WON, StageKind.LOST)
        }


@pytest.fixture
def kpi_settings_on(settings):
    settings.KPI_RECOMPUTE_ON_CHANGE = True


def snapshot(tenant) -> dict[tuple[str, str, datetime.date, str, str], Decimal | None]:  # type: ignore[no-untyped-def]
    """The tenant's current set as {(metric, grain, period_start, dimension, dimension_value): value}."""
    with tenant_context(tenant):
        rows = KpiSnapshot.objects.filter(snapshot_set__is_current=True).values_list(
            "metric", "grain", "period_start", "dimension", "dimension_value", "value"
        )
        return {row[:5]: row[5] for row in rows}


def value(rows, metric: str, grain: str, period: datetime.date, dimension: str = "all", dim_value: str = ""):  # type: ignore[no-untyped-def]
    """A metric's value; KeyError when the row is missing (a missing `all` row would be a bug)."""
    return rows[(metric, grain, period, dimension, dim_value)]


@contextmanager
def advisory_lock_held_elsewhere(lock_class: int, tenant_id: int) -> Iterator[None]:
    """A two-key advisory lock held by another database session (another worker) while the block runs."""
    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        autocommit=True,
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [lock_class, tenant_id])
        yield
    finally:
        other.close()
