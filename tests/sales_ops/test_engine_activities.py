"""Activity metrics on a hand-made week, Asia/Shanghai; "now" is Saturday 2024-06-15 12:00 local.

rep1 (East): call Mon 06-10, email Tue 06-11, meeting Sat 06-15; also a note, an open (not done) call and a
deleted call, which never count. rep2 (West): a call on Mon 06-03 at 00:30 local (Sunday 06-02 in UTC).
Working days of June up to today: 3-7 and 10-14, ten days.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from accounts.models import ActivityKind
from sales_ops.services.engine import kpi_recompute
from tests.factories import ActivityFactory
from tests.sales_ops.conftest import NOW, local, snapshot, value

pytestmark = pytest.mark.django_db

D = datetime.date
JUNE = D(2024, 6, 1)


@pytest.fixture
def activities(fy_tenant, people):
    rep1, rep2 = people["rep1"].user, people["rep2"].user

    def log(owner, kind, at, **extra):  # type: ignore[no-untyped-def]
        return ActivityFactory(
            tenant=fy_tenant, owner=owner, kind=kind, occurred_at=at, done=extra.pop("done", True), **extra
        )

    log(rep1, ActivityKind.CALL, local(2024, 6, 10, 10))
    log(rep1, ActivityKind.EMAIL, local(2024, 6, 11, 10))
    log(rep1, ActivityKind.MEETING, local(2024, 6, 15, 9))
    log(rep1, ActivityKind.NOTE, local(2024, 6, 11, 11))
    log(rep1, ActivityKind.CALL, local(2024, 6, 12, 11), done=False)
    log(rep1, ActivityKind.CALL, local(2024, 6, 12, 12), deleted_at=local(2024, 6, 13))
    log(rep2, ActivityKind.CALL, local(2024, 6, 3, 0, 30))


def test_counts_and_local_days(fy_tenant, activities):
    kpi_recompute(tenant=fy_tenant, now=NOW)
    rows = snapshot(fy_tenant)
    assert value(rows, "calls_logged", "month", JUNE) == 2
    assert value(rows, "emails_logged", "month", JUNE) == 1
    assert value(rows, "meetings_logged", "month", JUNE) == 1
    assert value(rows, "activities_logged", "month", JUNE) == 4
    assert value(rows, "calls_logged", "day", D(2024, 6, 3)) == 1
    assert value(rows, "calls_logged", "day", D(2024, 6, 4)) == 0
    assert ("calls_logged", "day", D(2024, 6, 2), "all", "") not in rows  # the calendar starts with the data
    assert value(rows, "activities_logged", "month", JUNE, "owner", "rep1@kpi.test") == 3
    assert value(rows, "calls_logged", "month", JUNE, "team", "West") == 1


def test_activities_per_rep_day(fy_tenant, activities):
    kpi_recompute(tenant=fy_tenant, now=NOW)
    rows = snapshot(fy_tenant)
    assert value(rows, "activities_per_rep_day", "month", JUNE) == Decimal("0.2")  # 4 / 10 days / 2 reps
    assert value(rows, "activities_per_rep_day", "month", JUNE, "owner", "rep1@kpi.test") == Decimal("0.3")
    assert value(rows, "activities_per_rep_day", "month", JUNE, "team", "East") == Decimal("0.3")
    assert value(rows, "activities_per_rep_day", "month", JUNE, "team", "West") == Decimal("0.1")
    assert value(rows, "activities_per_rep_day", "week", D(2024, 6, 10)) == Decimal("0.6")  # 3 / 5 / 1
    assert value(rows, "activities_per_rep_day", "week", D(2024, 6, 3)) == Decimal("0.2")  # 1 / 5 / 1
    assert value(rows, "activities_per_rep_day", "day", D(2024, 6, 15)) is None  # a Saturday: no working day
    # Fiscal year from 2024-04-01: 22 + 23 + 10 working days up to today, two reps.
    assert value(rows, "activities_per_rep_day", "year", D(2024, 4, 1)) == Decimal("0.0363636364")


def test_no_activities_means_zero_counts_and_null_rate(fy_tenant, activities):
    kpi_recompute(tenant=fy_tenant, now=NOW)
    rows = snapshot(fy_tenant)
    assert value(rows, "activities_logged", "day", D(2024, 6, 5)) == 0
    assert value(rows, "activities_per_rep_day", "day", D(2024, 6, 5)) is None  # no rep with an activity
    assert value(rows, "activities_per_rep_day", "day", D(2024, 6, 10)) == 1  # Monday: 1 / 1 day / 1 rep
    assert ("activities_logged", "day", D(2024, 6, 16), "all", "") not in rows  # tomorrow: not yet
