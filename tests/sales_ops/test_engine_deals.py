"""Conversion metrics (KPIS.md "Conversion") and quotas on a hand-made set of deals, Asia/Shanghai, fiscal year
from April, "now" 2024-06-15 12:00 local. Amounts are in CNY (the reporting currency) except D2, 300 USD.

USD rates: 7.0 from 2024-01-01, 7.2 from 2024-05-01. D2 closed 2024-05-01 00:30 local (April 30 in UTC), so it
counts in May and converts at 7.2: 2160.00 (at April 30's rate it would be 2100.00).

| deal | owner | outcome | created (local) | closed / expected | amount | cycle |
|---|---|---|---|---|---|---|
| D1 | rep1 | won | 04-01 12:00 | 04-11 00:00 | 1000 | 9.5 |
| D8 | rep1 | won | 04-03 12:00 | 04-04 00:00 | 100 | 0.5 |
| D3 | rep1 | lost | 04-02 12:00 | 04-15 12:00 | 500 | |
| D2 | rep2 | won | 04-20 00:30 | 05-01 00:30 | 300 USD = 2160 | 11 |
| D4 | rep1 | open, commit, p 0.5 | 05-10 | exp. 06-20 | 2000 | |
| D6 | rep2 | open, pipeline, p 0.1 | 05-10 | exp. 06-30 | 1000 | |
| D5 | rep2 | open, best case, p 0.25 | 05-10 | exp. 07-10 | 4000 | |
| D7 | rep1 | won, deleted | 04-05 | 04-06 | 99999 | |

Quotas: rep1 2000 (April), 2000 (May), 3000 (June); rep2 1000 (April); team West 5000 (April); no tenant rows.
So `all` = sum of owner rows (3000, 2000, 3000); East = its members' rows (rep1's); West = its own team row.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from accounts.models import ForecastCategory, Stage
from accounts.services.rates import opportunities_reprice
from crm.tenancy import tenant_context
from sales_ops.services.engine import kpi_recompute
from tests.factories import ExchangeRateFactory, OpportunityFactory, QuotaFactory
from tests.sales_ops.conftest import NOW, local, snapshot, value

pytestmark = pytest.mark.django_db

D = datetime.date
APRIL, MAY, JUNE, JULY = D(2024, 4, 1), D(2024, 5, 1), D(2024, 6, 1), D(2024, 7, 1)


@pytest.fixture
def deals(fy_tenant, people, stages):
    rep1, rep2 = people["rep1"].user, people["rep2"].user
    ExchangeRateFactory(tenant=fy_tenant, currency="USD", valid_from=D(2024, 1, 1), rate=Decimal("7.0"))
    ExchangeRateFactory(tenant=fy_tenant, currency="USD", valid_from=D(2024, 5, 1), rate=Decimal("7.2"))

    def deal(owner, stage, created, amount, closed=None, currency="CNY", **extra):  # type: ignore[no-untyped-def]
        return OpportunityFactory(
            tenant=fy_tenant,
            owner=owner,
            stage=stages[stage],
            probability=extra.pop("probability", Decimal("1")),
            created_at=created,
            closed_at=closed,
            amount=Decimal(amount),
            currency=currency,
            **extra,
        )

    deal(rep1, "won", local(2024, 4, 1, 12), "1000", local(2024, 4, 11, 0))
    deal(rep1, "won", local(2024, 4, 3, 12), "100", local(2024, 4, 4, 0))
    deal(rep1, "lost", local(2024, 4, 2, 12), "500", local(2024, 4, 15, 12))
    deal(rep2, "won", local(2024, 4, 20, 0, 30), "300", local(2024, 5, 1, 0, 30), currency="USD")
    deal(
        rep1,
        "open",
        local(2024, 5, 10),
        "2000",
        expected_close_date=D(2024, 6, 20),
        forecast_category=ForecastCategory.COMMIT,
        probability=Decimal("0.5"),
    )
    deal(
        rep2,
        "open",
        local(2024, 5, 10),
        "1000",
        expected_close_date=D(2024, 6, 30),
        forecast_category=ForecastCategory.PIPELINE,
        probability=Decimal("0.1"),
    )
    deal(
        rep2,
        "open",
        local(2024, 5, 10),
        "4000",
        expected_close_date=D(2024, 7, 10),
        forecast_category=ForecastCategory.BEST_CASE,
        probability=Decimal("0.25"),
    )
    deal(rep1, "won", local(2024, 4, 5), "99999", local(2024, 4, 6), deleted_at=local(2024, 4, 7))
    with tenant_context(fy_tenant):
        opportunities_reprice(tenant=fy_tenant)  # the deals services' own conversion into amount_reporting

    for month, amount in ((APRIL, "2000"), (MAY, "2000"), (JUNE, "3000")):
        QuotaFactory(tenant=fy_tenant, owner=rep1, month=month, amount=Decimal(amount))
    QuotaFactory(tenant=fy_tenant, owner=rep2, month=APRIL, amount=Decimal("1000"))
    QuotaFactory(tenant=fy_tenant, team=people["west"], month=APRIL, amount=Decimal("5000"))


def test_april_closed_deals(fy_tenant, deals):
    kpi_recompute(tenant=fy_tenant, now=NOW)
    rows = snapshot(fy_tenant)
    assert value(rows, "opps_created", "month", APRIL) == 4  # D1, D8, D3, D2 (not the deleted D7)
    assert value(rows, "opps_won", "month", APRIL) == 2  # D1, D8; D2 closed on May 1 local
    assert value(rows, "opps_lost", "month", APRIL) == 1
    assert value(rows, "won_amount", "month", APRIL) == Decimal("1100")
    assert value(rows, "lost_amount", "month", APRIL) == Decimal("500")
    assert value(rows, "win_rate", "month", APRIL) == Decimal("0.6666666667")
    assert value(rows, "win_rate_amount", "month", APRIL) == Decimal("0.6875")  # 1100 / 1600
    assert value(rows, "avg_deal_size", "month", APRIL) == Decimal("550")
    assert value(rows, "avg_sales_cycle_days", "month", APRIL) == Decimal("5")  # (9.5 + 0.5) / 2
    assert value(rows, "median_sales_cycle_days", "month", APRIL) == Decimal("5")
    # 4 x 2/3 x 550 / 5
    assert value(rows, "sales_velocity", "month", APRIL) == Decimal("293.3333333333")
    assert value(rows, "quota_attainment", "month", APRIL) == Decimal("0.3666666667")  # 1100 / (2000 + 1000)
    assert value(rows, "pipeline_coverage", "month", APRIL) == 0  # nothing open closing in April / 1900


def test_may_boundary_currency_and_null_coverage(fy_tenant, deals):
    kpi_recompute(tenant=fy_tenant, now=NOW)
    rows = snapshot(fy_tenant)
    assert value(rows, "opps_won", "day", D(2024, 4, 30)) == 0
    assert value(rows, "opps_won", "day", D(2024, 5, 1)) == 1
    assert value(rows, "won_amount", "month", MAY) == Decimal("2160")  # 300 USD at May 1's 7.2
    assert value(rows, "opps_created", "month", MAY) == 3
    assert value(rows, "win_rate", "month", MAY) == 1
    assert value(rows, "avg_sales_cycle_days", "month", MAY) == Decimal("11")
    assert value(rows, "quota_attainment", "month", MAY) == Decimal("1.08")  # 2160 / 2000
    assert value(rows, "pipeline_coverage", "month", MAY) is None  # quota - won = -160 <= 0
    assert value(rows, "win_rate", "month", JUNE) is None  # no closed deals in June
    assert value(rows, "median_sales_cycle_days", "month", JUNE) is None
    assert value(rows, "avg_deal_size", "month", JUNE) is None
    assert value(rows, "sales_velocity", "month", JUNE) is None
    assert value(rows, "quota_attainment", "week", D(2024, 4, 1)) is None  # weeks have no quota


def test_pipeline_forecasts_and_future_periods(fy_tenant, deals):
    kpi_recompute(tenant=fy_tenant, now=NOW)
    rows = snapshot(fy_tenant)
    assert value(rows, "open_pipeline", "month", JUNE) == Decimal("3000")  # D4 + D6
    assert value(rows, "weighted_pipeline", "month", JUNE) == Decimal("1100")  # 2000 x 0.5 + 1000 x 0.1
    assert value(rows, "forecast_commit", "month", JUNE) == Decimal("2000")  # no won yet + D4 (commit)
    assert value(rows, "forecast_best_case", "month", JUNE) == Decimal("2000")
    assert value(rows, "forecast_weighted", "month", JUNE) == Decimal("1100")
    assert value(rows, "quota_attainment", "month", JUNE) == 0
    assert value(rows, "pipeline_coverage", "month", JUNE) == 1  # 3000 / (3000 - 0)
    # July is in the future: pipeline metrics only.
    assert value(rows, "open_pipeline", "month", JULY) == Decimal("4000")
    assert value(rows, "weighted_pipeline", "month", JULY) == Decimal("1000")
    assert value(rows, "forecast_best_case", "month", JULY) == Decimal("4000")
    assert value(rows, "forecast_commit", "month", JULY) == 0
    assert value(rows, "quota_attainment", "month", JULY) is None  # no quota for July
    assert ("opps_created", "month", JULY, "all", "") not in rows
    assert ("won_amount", "month", JULY, "all", "") not in rows
    assert value(rows, "open_pipeline", "day", D(2024, 7, 10)) == Decimal("4000")
    assert value(rows, "open_pipeline", "quarter", JULY) == Decimal("4000")


def test_fiscal_quarter_and_quota_rules(fy_tenant, deals):
    kpi_recompute(tenant=fy_tenant, now=NOW)
    rows = snapshot(fy_tenant)
    # Fiscal Q1 (April-June): won D1, D8, D2; lost D3; quota = 3000 + 2000 + 3000 (the owner rows).
    assert value(rows, "won_amount", "quarter", APRIL) == Decimal("3260")
    assert value(rows, "win_rate", "quarter", APRIL) == Decimal("0.75")
    assert value(rows, "avg_sales_cycle_days", "quarter", APRIL) == Decimal("7")  # (9.5 + 0.5 + 11) / 3
    assert value(rows, "median_sales_cycle_days", "quarter", APRIL) == Decimal("9.5")
    assert value(rows, "quota_attainment", "quarter", APRIL) == Decimal("0.4075")  # 3260 / 8000
    assert value(rows, "pipeline_coverage", "quarter", APRIL) == Decimal("0.6329113924")  # 3000 / 4740
    assert value(rows, "quota_attainment", "year", APRIL) == Decimal("0.4075")  # fiscal year from April 1
    # Owner: its own rows. Team East: no team row, so its members' rows (rep1's 2000). West: its team row 5000.
    assert value(rows, "quota_attainment", "month", APRIL, "owner", "rep1@kpi.test") == Decimal("0.55")
    assert value(rows, "quota_attainment", "month", APRIL, "team", "East") == Decimal("0.55")
    assert value(rows, "quota_attainment", "month", APRIL, "team", "West") == 0  # 0 / 5000, not 0 / 1000
    assert value(rows, "won_amount", "month", MAY, "owner", "rep2@kpi.test") == Decimal("2160")
    assert value(rows, "open_pipeline", "month", JULY, "team", "West") == Decimal("4000")


def test_tenant_quota_rows_win_over_owner_rows(fy_tenant, deals):
    QuotaFactory(tenant=fy_tenant, month=APRIL, amount=Decimal("11000"))
    kpi_recompute(tenant=fy_tenant, now=NOW)
    rows = snapshot(fy_tenant)
    assert value(rows, "quota_attainment", "month", APRIL) == Decimal("0.1")  # 1100 / 11000
    assert value(rows, "quota_attainment", "month", MAY) == Decimal("1.08")  # May: still the owner rows


def test_a_quota_without_deals_attains_zero(fy_tenant, people, deals):
    """rep2 and West have a quota in February but no deal event: attainment and coverage are 0 (defined: nothing
    won of a quota), not missing; the counts are 0 and the averages stay out (null)."""
    QuotaFactory(tenant=fy_tenant, owner=people["rep2"].user, month=D(2024, 2, 1), amount=Decimal("800"))
    QuotaFactory(tenant=fy_tenant, team=people["west"], month=D(2024, 2, 1), amount=Decimal("900"))
    kpi_recompute(tenant=fy_tenant, now=NOW)
    rows = snapshot(fy_tenant)
    february = D(2024, 2, 1)
    for dimension, member in (("owner", "rep2@kpi.test"), ("team", "West")):
        assert value(rows, "quota_attainment", "month", february, dimension, member) == 0
        assert value(rows, "pipeline_coverage", "month", february, dimension, member) == 0
        assert value(rows, "opps_won", "month", february, dimension, member) == 0
        assert value(rows, "quota_attainment", "quarter", D(2024, 1, 1), dimension, member) == 0
        assert ("win_rate", "month", february, dimension, member) not in rows
        assert ("avg_deal_size", "month", february, dimension, member) not in rows
    # The fiscal year of February (from April 2023) sums the quota of its months.
    assert value(rows, "quota_attainment", "year", D(2023, 4, 1), "owner", "rep2@kpi.test") == 0
    # A quota inside a period with deals of others: rep1's row is unchanged by rep2's quota.
    assert value(rows, "quota_attainment", "month", APRIL, "owner", "rep1@kpi.test") == Decimal("0.55")


def test_open_pipeline_by_stage(fy_tenant, people, stages, deals):
    """Dimension `stage`: the open deals of each stage by the period of their expected close date. D4, D6 and D5
    sit in the first open stage (Qualification); D9 (600, p 0.25, expected 06-05) and D10 (deleted) in Needs
    analysis; D11 (Needs analysis, no expected close date) counts nowhere; won and lost stages have no rows."""
    with tenant_context(fy_tenant):
        needs = Stage.objects.select_related("pipeline").get(
            pipeline=stages["open"].pipeline, name="Needs analysis"
        )
    rep1 = people["rep1"].user
    common = {"tenant": fy_tenant, "owner": rep1, "stage": needs, "created_at": local(2024, 5, 20)}
    OpportunityFactory(
        **common, amount=Decimal("600"), probability=Decimal("0.25"), expected_close_date=D(2024, 6, 5)
    )
    OpportunityFactory(
        **common,
        amount=Decimal("777"),
        probability=Decimal("0.25"),
        expected_close_date=D(2024, 6, 6),
        deleted_at=local(2024, 5, 21),
    )
    OpportunityFactory(**common, amount=Decimal("50"), probability=Decimal("0.25"), expected_close_date=None)
    with tenant_context(fy_tenant):
        opportunities_reprice(tenant=fy_tenant)
    kpi_recompute(tenant=fy_tenant, now=NOW)
    rows = snapshot(fy_tenant)
    qualification = stages["open"].name
    assert qualification == "Qualification"
    # June: Qualification D4 2000 + D6 1000, weighted 2000 x 0.5 + 1000 x 0.1; Needs analysis D9 600 x 0.25.
    assert value(rows, "open_pipeline", "month", JUNE, "stage", qualification) == Decimal("3000")
    assert value(rows, "weighted_pipeline", "month", JUNE, "stage", qualification) == Decimal("1100")
    assert value(rows, "open_pipeline", "month", JUNE, "stage", "Needs analysis") == Decimal("600")
    assert value(rows, "weighted_pipeline", "month", JUNE, "stage", "Needs analysis") == Decimal("150")
    # The stages add up to the `all` row: 3000 + 600.
    assert value(rows, "open_pipeline", "month", JUNE) == Decimal("3600")
    # July (future): D5 4000 x 0.25 in Qualification; nothing of Needs analysis, so no row.
    assert value(rows, "open_pipeline", "month", JULY, "stage", qualification) == Decimal("4000")
    assert value(rows, "weighted_pipeline", "month", JULY, "stage", qualification) == Decimal("1000")
    assert ("open_pipeline", "month", JULY, "stage", "Needs analysis") not in rows
    # Fiscal Q1 (April-June) holds June's deals; the first day of D9's close.
    assert value(rows, "open_pipeline", "quarter", APRIL, "stage", "Needs analysis") == Decimal("600")
    assert value(rows, "open_pipeline", "quarter", APRIL, "stage", qualification) == Decimal("3000")
    assert value(rows, "open_pipeline", "day", D(2024, 6, 5), "stage", "Needs analysis") == Decimal("600")
    # Only the two pipeline metrics, and no closed stage.
    stage_rows = {key for key in rows if key[3] == "stage"}
    assert {key[0] for key in stage_rows} == {"open_pipeline", "weighted_pipeline"}
    assert {key[4] for key in stage_rows} == {qualification, "Needs analysis"}
