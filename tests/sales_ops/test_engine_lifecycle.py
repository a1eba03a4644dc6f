"""Lifecycle and retention metrics (KPIS.md "Lifecycle of an account") on a hand-made set of accounts,
Asia/Shanghai, fiscal year from April, "now" 2024-06-15 12:00 local (so June, fiscal Q1 and FY2024 are current).
The stage history is written by hand (the engine reads LifecycleChange rows; the lifecycle app derives them).

| account | owner | stage changes (2024) | subscriptions (CNY unless said) |
|---|---|---|---|
| A | rep1 | 01-10 acquisition, 02-01 conversion, 05-01 retention | S1 1000 [02-01, 06-10); S2 500 [05-15, open) |
| B | rep1 | 01-15 acquisition, 02-10 conversion, 05-10 retention, 06-05 churn | S3 2000 [02-10, 05-06); S8 0 from 06-06 |
| C | rep1 | 03-01 acquisition, 06-01 conversion | none; a deal won 06-01 00:30 local (05-31 in UTC) |
| D | rep2 | 01-05 conversion, 04-04 retention, 04-20 churn | S4 100 USD [01-05, 03-21); S7 0 from 04-20 |
| E | rep2 | 02-20 acquisition, 05-31 conversion | S5 300 [05-31, 2025-05-31); a deal won 05-20 23:30 local |
| X | - | none (lifecycle_stage acquisition) | none; a health score that must not count |

USD rates 7.0 from 01-01 and 7.2 from 05-01: S4 counts at the latest rate, 720. MRR on the last day of each
month: Jan 720, Feb 3720 (S1+S3+S4), Mar 3000, Apr 3000, May 1800 (S1+S2+S5), June (06-15) 800 (S2+S5).
Campaigns: K1 3100 CNY over 01-17..02-16 (31 days, 100 a day: Jan 1500, Feb 1600); K2 200 USD over 05-01..05-10
at its end date's rate 7.2 = 1440 (May). Grace 30 days; renewal window [end - 90, end + 30].
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from accounts.models import LifecycleStageName
from crm.tenancy import tenant_context
from lifecycle.models import FeedbackKind
from sales_ops.services.engine import kpi_recompute
from tests.factories import (
    AccountFactory,
    CampaignFactory,
    ExchangeRateFactory,
    FeedbackFactory,
    HealthScoreFactory,
    LifecycleChangeFactory,
    SubscriptionFactory,
)
from tests.factories_lifecycle import won_deal
from tests.sales_ops.conftest import NOW, local, snapshot, value

pytestmark = pytest.mark.django_db

D = datetime.date
JAN, FEB, MAR, APR, MAY, JUNE = (D(2024, m, 1) for m in range(1, 7))
FQ4 = JAN  # fiscal quarter Jan-Mar (the year starts in April)
FQ1 = APR
ACQ, CONV, RET, CHURN = (
    LifecycleStageName.ACQUISITION,
    LifecycleStageName.CONVERSION,
    LifecycleStageName.RETENTION,
    LifecycleStageName.CHURN,
)


@pytest.fixture
def book(fy_tenant, people):
    rep1, rep2 = people["rep1"].user, people["rep2"].user
    ExchangeRateFactory(tenant=fy_tenant, currency="USD", valid_from=D(2024, 1, 1), rate=Decimal("7.0"))
    ExchangeRateFactory(tenant=fy_tenant, currency="USD", valid_from=D(2024, 5, 1), rate=Decimal("7.2"))
    accounts = {
        "A": AccountFactory(tenant=fy_tenant, owner=rep1, lifecycle_stage=RET),
        "B": AccountFactory(tenant=fy_tenant, owner=rep1, lifecycle_stage=CHURN),
        "C": AccountFactory(tenant=fy_tenant, owner=rep1, lifecycle_stage=CONV),
        "D": AccountFactory(tenant=fy_tenant, owner=rep2, lifecycle_stage=CHURN),
        "E": AccountFactory(tenant=fy_tenant, owner=rep2, lifecycle_stage=CONV),
        "X": AccountFactory(tenant=fy_tenant, owner=None, lifecycle_stage=ACQ),
    }
    history = {
        "A": [(1, 10, ACQ), (2, 1, CONV), (5, 1, RET)],
        "B": [(1, 15, ACQ), (2, 10, CONV), (5, 10, RET), (6, 5, CHURN)],
        "C": [(3, 1, ACQ), (6, 1, CONV)],
        "D": [(1, 5, CONV), (4, 4, RET), (4, 20, CHURN)],
        "E": [(2, 20, ACQ), (5, 31, CONV)],
    }
    for key, changes in history.items():
        previous = ""
        for month, day, stage in changes:
            LifecycleChangeFactory(
                tenant=fy_tenant,
                account=accounts[key],
                from_stage=previous,
                to_stage=stage,
                date=D(2024, month, day),
            )
            previous = stage

    def sub(key, mrr, start, end=None, currency="CNY"):  # type: ignore[no-untyped-def]
        return SubscriptionFactory(
            account=accounts[key], mrr=Decimal(mrr), currency=currency, start_date=start, end_date=end
        )

    sub("A", "1000", D(2024, 2, 1), D(2024, 6, 10))  # S1
    sub("A", "500", D(2024, 5, 15))  # S2: expansion, and the renewal of S1 (05-15 >= 06-10 - 90)
    sub("B", "2000", D(2024, 2, 10), D(2024, 5, 6))  # S3
    sub("B", "0", D(2024, 6, 6))  # S8: one day after 05-06 + 30, so S3 is not renewed
    sub("D", "100", D(2024, 1, 5), D(2024, 3, 21), currency="USD")  # S4
    sub("D", "0", D(2024, 4, 20))  # S7: exactly 03-21 + 30, so S4 is renewed
    sub("E", "300", D(2024, 5, 31), D(2025, 5, 31))  # S5
    with tenant_context(fy_tenant):
        won_deal(accounts["C"], local(2024, 6, 1, 0, 30), owner=rep1)
        won_deal(accounts["E"], local(2024, 5, 20, 23, 30), owner=rep2)

    CampaignFactory(
        tenant=fy_tenant,
        cost=Decimal("3100"),
        currency="CNY",
        start_date=D(2024, 1, 17),
        end_date=D(2024, 2, 16),
    )
    CampaignFactory(
        tenant=fy_tenant,
        cost=Decimal("200"),
        currency="USD",
        start_date=D(2024, 5, 1),
        end_date=D(2024, 5, 10),
    )
    CampaignFactory(  # deleted: never counts
        tenant=fy_tenant,
        cost=Decimal("99999"),
        start_date=D(2024, 5, 1),
        end_date=D(2024, 5, 2),
        deleted_at=local(2024, 5, 3),
    )

    def feedback(key, kind, score, at):  # type: ignore[no-untyped-def]
        FeedbackFactory(account=accounts[key], kind=kind, score=score, received_at=at)

    # May NPS: 10, 9 (promoters), 7 (passive), 3 (detractor): 100 x (2 - 1) / 4 = 25; the 23:30 one is May 31 local.
    feedback("A", FeedbackKind.NPS, 10, local(2024, 5, 3))
    feedback("B", FeedbackKind.NPS, 9, local(2024, 5, 4))
    feedback("D", FeedbackKind.NPS, 7, local(2024, 5, 5))
    feedback("E", FeedbackKind.NPS, 3, local(2024, 5, 31, 23, 30))
    # June 1 00:10 local (still May 31 in UTC): June's only NPS answer, a detractor.
    feedback("A", FeedbackKind.NPS, 0, local(2024, 6, 1, 0, 10))
    # May CSAT 4, 5, 3: mean 4.
    feedback("A", FeedbackKind.CSAT, 4, local(2024, 5, 6))
    feedback("B", FeedbackKind.CSAT, 5, local(2024, 5, 7))
    feedback("E", FeedbackKind.CSAT, 3, local(2024, 5, 8))

    # Health now: customers A 80, E 35, B 20 (churned accounts keep a score); X is not a customer.
    HealthScoreFactory(account=accounts["A"], score=80)
    HealthScoreFactory(account=accounts["E"], score=35)
    HealthScoreFactory(account=accounts["B"], score=20)
    HealthScoreFactory(account=accounts["X"], score=10)
    return accounts


@pytest.fixture
def rows(fy_tenant, book):
    kpi_recompute(tenant=fy_tenant, now=NOW)
    return snapshot(fy_tenant)


def stages(rows, grain, period, dimension="all", dim_value=""):  # type: ignore[no-untyped-def]
    return tuple(
        value(rows, f"accounts_{stage}", grain, period, dimension, dim_value)
        for stage in ("acquisition", "conversion", "retention", "churn")
    )


def test_stage_counts_on_the_last_day_of_the_period_or_today(rows):
    assert stages(rows, "month", APR) == (2, 2, 0, 1)  # 04-30: C, E | A, B | - | D
    assert stages(rows, "month", MAY) == (1, 1, 2, 1)  # 05-31: C | E (converted that day) | A, B | D
    assert stages(rows, "month", JUNE) == (0, 2, 1, 2)  # today 06-15: - | C, E | A | B, D
    assert stages(rows, "day", D(2024, 5, 30)) == (2, 0, 2, 1)  # E still in acquisition
    assert stages(rows, "day", D(2024, 1, 9)) == (0, 1, 0, 0)  # only D exists yet
    assert stages(rows, "quarter", FQ1) == stages(rows, "month", JUNE)  # current quarter: today
    assert stages(rows, "quarter", FQ4) == (2, 3, 0, 0)  # 03-31: C, E | A, B, D
    assert stages(rows, "month", MAY, "owner", "rep1@kpi.test") == (1, 0, 2, 0)
    assert stages(rows, "month", MAY, "team", "West") == (0, 1, 0, 1)  # rep2's D and E
    assert ("accounts_churn", "month", D(2024, 7, 1), "all", "") not in rows  # no future periods


def test_new_and_churned_customers_and_logo_churn_denominators(rows):
    new = {month: value(rows, "new_customers", "month", month) for month in (JAN, FEB, MAR, APR, MAY, JUNE)}
    # D 01-05 (subscription), A 02-01, B 02-10, E 05-20 (its deal, before S5), C 06-01 00:30 local.
    assert new == {JAN: 1, FEB: 2, MAR: 0, APR: 0, MAY: 1, JUNE: 1}
    assert value(rows, "new_customers", "day", D(2024, 6, 1)) == 1
    assert value(rows, "new_customers", "day", D(2024, 5, 31)) == 0
    assert value(rows, "churned_customers", "month", APR) == 1  # D
    assert value(rows, "churned_customers", "month", JUNE) == 1  # B
    assert value(rows, "churned_customers", "quarter", FQ1) == 2
    # Denominator: conversion + retention on the day before the period starts.
    assert value(rows, "logo_churn_rate", "month", JAN) is None  # nobody before Jan 1
    assert value(rows, "logo_churn_rate", "month", FEB) == 0  # 0 / 1 (D on 01-31)
    assert value(rows, "logo_churn_rate", "month", APR) == Decimal("0.3333333333")  # 1 / 3 (A, B, D on 03-31)
    assert value(rows, "logo_churn_rate", "month", MAY) == 0  # 0 / 2 (A, B on 04-30)
    assert value(rows, "logo_churn_rate", "month", JUNE) == Decimal("0.3333333333")  # 1 / 3 (A, B, E)
    assert value(rows, "logo_churn_rate", "quarter", FQ1) == Decimal("0.6666666667")  # 2 / 3 (on 03-31)
    assert value(rows, "churned_customers", "month", APR, "owner", "rep2@kpi.test") == 1


def test_mrr_arpa_nrr_grr(rows):
    mrr = {month: value(rows, "mrr", "month", month) for month in (JAN, FEB, MAR, APR, MAY, JUNE)}
    assert mrr == {JAN: 720, FEB: 3720, MAR: 3000, APR: 3000, MAY: 1800, JUNE: 800}
    assert value(rows, "mrr", "day", D(2024, 3, 20)) == 3720  # S4 active until 03-21 (exclusive)
    assert value(rows, "mrr", "day", D(2024, 3, 21)) == 3000
    assert value(rows, "arpa", "month", FEB) == 1240  # 3720 / 3 paying accounts
    assert value(rows, "arpa", "month", MAY) == 900  # 1800 / (A, E)
    assert value(rows, "arpa", "month", JUNE) == 400
    assert value(rows, "mrr", "month", MAY, "owner", "rep1@kpi.test") == 1500
    # May cohort (MRR > 0 on 05-01): A 1000, B 2000. On 05-31: A 1500 (expansion), B 0; E is new, not in it.
    assert value(rows, "nrr", "month", MAY) == Decimal("0.5")  # 1500 / 3000
    assert value(rows, "grr", "month", MAY) == Decimal("0.3333333333")  # (min(1500, 1000) + 0) / 3000
    # June cohort on 06-01: A 1500, E 300 = 1800; on 06-15: A 500 (S1 ended), E 300.
    assert value(rows, "nrr", "month", JUNE) == Decimal("0.4444444444")
    assert value(rows, "grr", "month", JUNE) == Decimal("0.4444444444")
    assert value(rows, "nrr", "month", APR) == 1
    assert value(rows, "nrr", "month", MAR) == Decimal("0.8064516129")  # 3000 / 3720 (D's S4 ended)
    # Fiscal Q1 so far: cohort on 04-01 A 1000 + B 2000; on 06-15 A 500, B 0.
    assert value(rows, "nrr", "quarter", FQ1) == Decimal("0.1666666667")
    assert value(rows, "grr", "quarter", FQ1) == Decimal("0.1666666667")
    assert value(rows, "nrr", "day", D(2024, 6, 15)) == 1  # a day: the cohort's MRR on its only day
    assert value(rows, "nrr", "day", D(2024, 1, 5)) == 1  # the calendar's first day, S4's first
    # rep1's May: cohort A 1000, B 2000 -> A 1500.
    assert value(rows, "nrr", "month", MAY, "owner", "rep1@kpi.test") == Decimal("0.5")


def test_renewals_window(rows):
    assert value(rows, "renewals_due", "month", MAR) == 1  # S4 ends 03-21
    assert value(rows, "renewal_rate", "month", MAR) == 1  # S7 starts exactly on end + grace
    assert value(rows, "renewals_due", "month", MAY) == 1  # S3
    assert value(rows, "renewal_rate", "month", MAY) == 0  # S8 starts one day after the window
    assert value(rows, "renewal_rate", "month", JUNE) == 1  # S1 renewed by S2 (started before its end)
    assert value(rows, "renewals_due", "quarter", FQ1) == 2
    assert value(rows, "renewal_rate", "quarter", FQ1) == Decimal("0.5")
    assert value(rows, "renewals_due", "month", APR) == 0
    assert value(rows, "renewal_rate", "month", APR) is None


def test_cac_spread_over_campaign_days_ltv_and_ratio(rows):
    assert value(rows, "cac", "month", JAN) == 1500  # 15 days x 100 / D
    assert value(rows, "cac", "month", FEB) == 800  # 16 days x 100 / (A, B)
    assert value(rows, "cac", "day", D(2024, 2, 1)) == 100  # a day's cost / A (S1 starts that day)
    assert value(rows, "cac", "day", D(2024, 2, 2)) is None  # 100 of cost, no new customer that day
    assert value(rows, "cac", "month", MAY) == 1440  # 200 USD at 7.2 / E
    assert value(rows, "cac", "month", JUNE) == 0  # no campaign ran, one new customer
    assert value(rows, "cac", "month", MAR) is None  # no new customer
    assert value(rows, "cac", "quarter", FQ4) == Decimal("1033.3333333333")  # 3100 / 3
    # LTV: arpa x 0.8 / mean monthly logo churn over the 12 months ending with P's last month (months with one).
    # May: Feb 0, Mar 0, Apr 1/3, May 0 -> 1/12; 900 x 0.8 x 12 = 8640.
    assert value(rows, "ltv", "month", MAY) == Decimal("8640")
    assert value(rows, "ltv_to_cac", "month", MAY) == Decimal("6")  # 8640 / 1440
    # June (current): Feb 0, Mar 0, Apr 1/3, May 0, Jun 1/3 -> 2/15; 400 x 0.8 x 15 / 2 = 2400.
    assert value(rows, "ltv", "month", JUNE) == Decimal("2400")
    assert value(rows, "ltv_to_cac", "month", JUNE) is None  # cac 0
    assert value(rows, "ltv", "month", MAR) is None  # mean churn of Feb and Mar is 0


def test_nps_csat_and_health(rows):
    assert value(rows, "nps", "month", MAY) == 25
    assert value(rows, "nps", "month", JUNE) == -100
    assert value(rows, "nps", "month", APR) is None
    assert value(rows, "csat", "month", MAY) == 4
    assert value(rows, "csat", "month", JUNE) is None
    assert value(rows, "nps", "quarter", FQ1) == 0  # 10, 9, 7, 3, 0: 100 x (2 - 2) / 5
    # Health now (X is not a customer): mean of 80, 35, 20; at risk below 40: E and B.
    for grain, period in (
        ("month", JUNE),
        ("quarter", FQ1),
        ("day", D(2024, 6, 15)),
        ("week", D(2024, 6, 10)),
    ):
        assert value(rows, "avg_health_score", grain, period) == 45
        assert value(rows, "at_risk_accounts", grain, period) == 2
    assert ("avg_health_score", "month", MAY, "all", "") not in rows  # "now": current periods only
    assert value(rows, "at_risk_accounts", "month", JUNE, "owner", "rep2@kpi.test") == 1


def test_gross_margin_and_at_risk_threshold_settings(fy_tenant, book):
    from lifecycle.models import LifecycleSettings
    from tests.factories import KpiSettingsFactory

    KpiSettingsFactory(tenant=fy_tenant, gross_margin=Decimal("0.5"))
    with tenant_context(fy_tenant):
        LifecycleSettings.objects.update_or_create(
            tenant=fy_tenant, defaults={"health_at_risk_threshold": 30}
        )
    kpi_recompute(tenant=fy_tenant, now=NOW)
    rows = snapshot(fy_tenant)
    assert value(rows, "ltv", "month", MAY) == Decimal("5400")  # 900 x 0.5 x 12
    assert value(rows, "at_risk_accounts", "month", JUNE) == 1  # only B (20) is below 30
