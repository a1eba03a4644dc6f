"""Drill-down pages of MRR, NRR, GRR, logo churn, LTV, quota, attainment and forecast accuracy on a hand-made
book (the lifecycle engine test's accounts, Asia/Shanghai, fiscal year from April, engine "now" 2024-06-15): the
records behind each number, their totals equal to the dashboard's number, only what the viewer may see, pages,
CSV, "—" for null, and the same query count at two data sizes.

| account | owner | stage changes (2024) | subscriptions (CNY unless said) |
|---|---|---|---|
| A | rep1 | 01-10 acquisition, 02-01 conversion, 05-01 retention | S1 1000 [02-01, 06-10); S2 500 [05-15, open) |
| B | rep1 | 01-15 acquisition, 02-10 conversion, 05-10 retention, 06-05 churn | S3 2000 [02-10, 05-06); S8 0 from 06-06 |
| C | rep1 | 03-01 acquisition, 06-01 conversion | none |
| D | rep2 | 01-05 conversion, 04-04 retention, 04-20 churn | S4 100 USD [01-05, 03-21); S7 0 from 04-20 |
| E | rep2 | 02-20 acquisition, 05-31 conversion | S5 300 [05-31, 2025-05-31) |

May 2024: MRR on 05-31 = S1 + S2 + S5 = 1,800 (2 paying accounts: ARPA 900). NRR cohort on 05-01: A 1,000 and
B 2,000; on 05-31 A 1,500, B 0: NRR 1,500 / 3,000 = 50.0%, GRR (1,000 + 0) / 3,000 = 33.3%. April's logo churn:
D / (A, B, D in conversion on 03-31) = 33.3%. Monthly churn Feb 0, Mar 0, Apr 1/3, May 0 (January has no base):
mean 1/12, LTV May = 900 x 0.8 x 12 = 8,640.00. May's won deals: rep1 3,000 + 2,000, rep2 1,000; quotas rep1
10,000 and rep2 4,000 (no team or company rows): attainment 6,000 / 14,000 = 42.9%, East's 5,000 / 10,000.
Forecast snapshots of May (company): 04-29 commit 5,000 (nearest May 1) and 05-06 commit 8,000: accuracy 120.0%.
May's lost deal: rep2's 500 (E): win rate 3 / 4 = 75.0%, East 2 / 2 = 100.0%, rep2 1 / 2 = 50.0%. New customers
in May: C and E; churned customers in April: D.
Open deals expected to close in May: rep1's 6,000 (A) and 1,500 (C, on 05-31), rep2's 100 USD (D, kept at the
latest rate: 720 CNY); rep1's 900 closes on 06-01. Pipeline coverage of May = open / (quota − won): the company
8,220 / (14,000 − 6,000) = 1.0275, East 7,500 / (10,000 − 5,000) = 1.50, rep2 720 / (4,000 − 1,000) = 0.24;
April has no quota and June's (rep1's 0) is below the 700 won: null.
"""

from __future__ import annotations

import csv
import datetime
import html as html_lib
import io
import re
from decimal import Decimal

import pytest

from accounts.models import LifecycleStageName, StageKind
from crm.models import Membership, Role
from crm.tenancy import tenant_context
from sales_ops.models import ForecastSnapshot
from sales_ops.services.engine import kpi_recompute
from tests.factories import (
    AccountFactory,
    CampaignFactory,
    ExchangeRateFactory,
    LifecycleChangeFactory,
    MembershipFactory,
    OpportunityFactory,
    QuotaFactory,
    SubscriptionFactory,
    UserFactory,
)
from tests.factories_lifecycle import won_deal
from tests.sales_ops.conftest import NOW, local

pytestmark = pytest.mark.django_db

D = datetime.date
MAY, APR, JAN, JUNE = D(2024, 5, 1), D(2024, 4, 1), D(2024, 1, 1), D(2024, 6, 1)
ACQ, CONV, RET, CHURN = (
    LifecycleStageName.ACQUISITION,
    LifecycleStageName.CONVERSION,
    LifecycleStageName.RETENTION,
    LifecycleStageName.CHURN,
)


def lost_deal(account, closed_at: datetime.datetime, **kwargs) -> None:  # type: ignore[no-untyped-def]
    from accounts.services.pipelines import pipeline_default

    stage = pipeline_default(tenant=account.tenant).stages.get(kind=StageKind.LOST)
    OpportunityFactory(
        account=account, stage=stage, closed_at=closed_at, created_at=closed_at, probability=0, **kwargs
    )


def add_book(tenant, people, copy: int = 0) -> dict:  # type: ignore[no-untyped-def]
    """One copy of the book's accounts, history, subscriptions and won deals (copies scale the data)."""
    rep1, rep2 = people["rep1"].user, people["rep2"].user
    owners = {"A": rep1, "B": rep1, "C": rep1, "D": rep2, "E": rep2}
    stage_now = {"A": RET, "B": CHURN, "C": CONV, "D": CHURN, "E": CONV}
    accounts = {
        key: AccountFactory(
            tenant=tenant, owner=owners[key], lifecycle_stage=stage_now[key], name=f"{key}-{copy}"
        )
        for key in owners
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
                tenant=tenant,
                account=accounts[key],
                from_stage=previous,
                to_stage=stage,
                date=D(2024, month, day),
            )
            previous = stage

    def sub(key, mrr, start, end=None, currency="CNY"):  # type: ignore[no-untyped-def]
        SubscriptionFactory(
            account=accounts[key],
            mrr=Decimal(mrr),
            currency=currency,
            start_date=start,
            end_date=end,
            plan=key,
        )

    sub("A", "1000", D(2024, 2, 1), D(2024, 6, 10))
    sub("A", "500", D(2024, 5, 15))
    sub("B", "2000", D(2024, 2, 10), D(2024, 5, 6))
    sub("B", "0", D(2024, 6, 6))
    sub("D", "100", D(2024, 1, 5), D(2024, 3, 21), currency="USD")
    sub("D", "0", D(2024, 4, 20))
    sub("E", "300", D(2024, 5, 31), D(2025, 5, 31))
    with tenant_context(tenant):
        won_deal(accounts["C"], local(2024, 5, 10), owner=rep1, amount=Decimal(3000), name=f"Big win {copy}")
        won_deal(
            accounts["A"], local(2024, 5, 31, 23, 30), owner=rep1, amount=Decimal(2000), name=f"Late {copy}"
        )
        won_deal(accounts["E"], local(2024, 5, 20), owner=rep2, amount=Decimal(1000), name=f"West win {copy}")
        # 06-01 00:30 local is May 31 in UTC: June's, not May's.
        won_deal(
            accounts["C"], local(2024, 6, 1, 0, 30), owner=rep1, amount=Decimal(700), name=f"June {copy}"
        )
        # A lost deal of rep2's in May (win rate: 3 won of 4 closed).
        lost_deal(accounts["E"], local(2024, 5, 15), owner=rep2, amount=Decimal(500), name=f"Lost {copy}")
        # Open deals (pipeline coverage), by expected close date as of now: two of rep1's in May (the last
        # day included), rep2's 100 USD kept at the latest rate (720 CNY), rep1's June deal not May's.
        for key, owner, amount, reporting, currency, close, name in [
            ("A", rep1, "6000", "6000", "CNY", D(2024, 5, 20), "Open A"),
            ("C", rep1, "1500", "1500", "CNY", D(2024, 5, 31), "Open C"),
            ("D", rep2, "100", "720", "USD", D(2024, 5, 2), "Open D"),
            ("C", rep1, "900", "900", "CNY", D(2024, 6, 1), "Open June"),
        ]:
            OpportunityFactory(
                account=accounts[key],
                owner=owner,
                amount=Decimal(amount),
                amount_reporting=Decimal(reporting),
                currency=currency,
                expected_close_date=close,
                name=f"{name} {copy}",
            )
    return accounts


@pytest.fixture
def book(fy_tenant, people):
    ExchangeRateFactory(tenant=fy_tenant, currency="USD", valid_from=D(2024, 1, 1), rate=Decimal("7.0"))
    ExchangeRateFactory(tenant=fy_tenant, currency="USD", valid_from=D(2024, 5, 1), rate=Decimal("7.2"))
    accounts = add_book(fy_tenant, people)
    CampaignFactory(
        tenant=fy_tenant,
        cost=Decimal("200"),
        currency="USD",
        start_date=D(2024, 5, 1),
        end_date=D(2024, 5, 10),
    )
    CampaignFactory(
        tenant=fy_tenant,
        cost=Decimal("2000"),
        currency="CNY",
        start_date=D(2024, 4, 21),
        end_date=D(2024, 5, 10),
    )
    QuotaFactory(tenant=fy_tenant, owner=people["rep1"].user, month=MAY, amount=Decimal(10000))
    QuotaFactory(tenant=fy_tenant, owner=people["rep2"].user, month=MAY, amount=Decimal(4000))
    # June: rep1's quota 0, below the 700 already won: no coverage ("—"), not a negative one.
    QuotaFactory(tenant=fy_tenant, owner=people["rep1"].user, month=JUNE, amount=Decimal(0))
    with tenant_context(fy_tenant):
        for taken, commit, dimension, value in [
            (D(2024, 4, 29), 5000, "all", ""),
            (D(2024, 5, 6), 8000, "all", ""),
            (D(2024, 5, 6), 4000, "owner", "rep1@kpi.test"),
        ]:
            ForecastSnapshot.objects.create(
                tenant=fy_tenant,
                week_start=taken - datetime.timedelta(days=taken.weekday()),
                taken_on=taken,
                taken_at=local(taken.year, taken.month, taken.day),
                grain="month",
                period_start=MAY,
                dimension=dimension,
                dimension_value=value,
                commit=Decimal(commit),
                best_case=Decimal(commit),
                weighted=Decimal(commit),
            )
    kpi_recompute(tenant=fy_tenant, now=NOW)
    return accounts


@pytest.fixture
def admin(fy_tenant):
    with tenant_context(fy_tenant):
        return Membership.objects.select_related("user").get(role=Role.ADMIN)


def _testid(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{re.escape(testid)}"[^>]*>\s*(?:<a [^>]*>)?([^<]*)', html)
    assert found is not None, testid
    return found.group(1).strip()


def _get(client, url: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _drill(metric: str, period: datetime.date = MAY, scope: str = "all", grain: str = "month") -> str:
    return f"/t/kpi/dashboards/drill/{metric}/?grain={grain}&period={period.isoformat()}&scope={scope}"


def _table(html: str, key: str) -> list[list[str]]:
    block = html.split(f'data-testid="table-{key}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr(?! class=\"kpi-empty\")[^>]*>(.*?)</tr>", block, re.S)
    return [
        [
            html_lib.unescape(re.sub(r"<[^>]+>", "", cell).strip())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in rows
    ]


def _csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


ECONOMICS = "/t/kpi/dashboards/unit-economics/?grain=month&period={period}"
FORECAST = "/t/kpi/dashboards/forecast/?grain=month&period={period}"


ECONOMICS_CASES = [
    ("mrr", MAY, "1,800.00"),
    ("nrr", MAY, "50.0%"),
    ("grr", MAY, "33.3%"),
    ("logo_churn_rate", APR, "33.3%"),
    ("logo_churn_rate", MAY, "0.0%"),
    ("ltv", MAY, "8,640.00"),
    ("ltv", JAN, "—"),  # no month with a churn base: null, never 0
    ("cac", MAY, "1,220.00"),
    ("cac", APR, "—"),  # cost but no new customer: null, never 0
    ("ltv_to_cac", MAY, "7.08"),
]


def test_economics_totals_agree_with_the_dashboard(client_for, admin, book):
    client = client_for(admin)
    for metric, period, expected in ECONOMICS_CASES:
        dashboard = _get(client, ECONOMICS.format(period=period.isoformat()))
        assert _testid(dashboard, f"economics-{metric}") == expected, metric
        # The dashboard's number links to its drill-down.
        link = re.search(rf'data-testid="economics-{metric}"[^>]*>\s*(?:<a href="([^"]+)")?', dashboard)
        assert link is not None
        if expected != "—":
            assert link.group(1).replace("&amp;", "&") == _drill(metric, period)
        html = _get(client, _drill(metric, period))
        assert _testid(html, "drill-number") == expected, metric
        assert _testid(html, "drill-shown") == expected, metric
        assert _testid(html, "drill-total") == expected, metric
        assert 'data-testid="drill-partial"' not in html


def test_mrr_lists_the_active_subscriptions(client_for, admin, book):
    html = _get(client_for(admin), _drill("mrr"))
    rows = _table(html, "records")
    # Active on 05-31, the largest first: S1, S2, S5, and D's S7 (active, MRR 0).
    assert [(row[0], row[2], row[-1]) for row in rows[1:]] == [
        ("A-0", "A", "1,000.00"),
        ("A-0", "A", "500.00"),
        ("E-0", "E", "300.00"),
        ("D-0", "D", "0.00"),
    ]
    assert _testid(html, "drill-count") == "4"
    # January: D's USD subscription at the latest rate (7.2), as the engine converts it.
    january = _get(client_for(admin), _drill("mrr", JAN))
    assert _table(january, "records")[1][-3:] == ["100.00", "USD", "720.00"]
    assert _testid(january, "drill-shown") == "720.00"


def test_retention_lists_the_cohort_with_start_and_end(client_for, admin, book):
    html = _get(client_for(admin), _drill("grr"))
    rows = _table(html, "records")
    assert [row[0] for row in rows[1:]] == ["B-0", "A-0"]
    assert [row[2:] for row in rows[1:]] == [
        ["2,000.00", "0.00", "-2,000.00", "0.00"],
        ["1,000.00", "1,500.00", "+500.00", "1,000.00"],
    ]
    assert _testid(html, "drill-start") == "3,000.00" and _testid(html, "drill-end") == "1,500.00"
    assert _testid(html, "drill-kept") == "1,000.00" and _testid(html, "drill-nrr") == "50.0%"


def test_logo_churn_lists_the_churned_accounts(client_for, admin, book):
    html = _get(client_for(admin), _drill("logo_churn_rate", APR))
    assert [row[0] for row in _table(html, "records")[1:]] == ["D-0"]
    assert _testid(html, "drill-count") == "1" and _testid(html, "drill-base") == "3"


def test_ltv_lists_its_inputs(client_for, admin, book):
    html = _get(client_for(admin), _drill("ltv"))
    assert _testid(html, "drill-mrr") == "1,800.00" and _testid(html, "drill-paying") == "2"
    assert _testid(html, "drill-arpa") == "900.00" and _testid(html, "drill-margin") == "80.0%"
    assert _testid(html, "drill-mean-churn") == "8.3%"
    months = _table(html, "records")
    assert len(months) == 13  # header + 12 months, the newest first
    assert months[1][1:] == ["0", "2", "0.0%"] and months[2][1:] == ["1", "3", "33.3%"]
    assert months[5][1:] == ["0", "0", "—"]  # January: no base, no rate (not 0)


ATTAINMENT_CASES = [
    ("all", "42.9%", "14,000.00"),
    ("team:East", "50.0%", "10,000.00"),
    ("owner:rep2@kpi.test", "25.0%", "4,000.00"),
]


def test_attainment_and_quota_agree_with_the_forecast_page(client_for, admin, book):
    client = client_for(admin)
    forecast = _get(client, FORECAST.format(period=MAY.isoformat()))
    for scope, attainment, quota in ATTAINMENT_CASES:
        dimension, _sep, value = scope.partition(":")
        assert _testid(forecast, f"forecast-quota_attainment-{dimension}-{value}") == attainment
        assert _testid(forecast, f"forecast-quota-{dimension}-{value}") == quota
        html = _get(client, _drill("quota_attainment", scope=scope))
        assert _testid(html, "drill-total") == attainment == _testid(html, "drill-shown")
        assert _testid(html, "drill-quota") == quota
        quota_html = _get(client, _drill("quota", scope=scope))
        assert _testid(quota_html, "drill-total") == quota == _testid(quota_html, "drill-shown")
        for metric in ("quota_attainment", "quota"):
            link = re.search(
                rf'data-testid="forecast-{metric}-{dimension}-{value}"[^>]*><a href="([^"]+)"', forecast
            )
            assert link is not None and link.group(1).replace("&amp;", "&") == _drill(metric, scope=scope)
    # The leaderboard's attainment opens the same page for its rep.
    reps = _get(client, f"/t/kpi/dashboards/reps/?grain=month&period={MAY.isoformat()}")
    assert _drill("quota_attainment", scope="owner:rep2@kpi.test").replace("&", "&amp;") in reps


def test_cac_lists_campaign_costs_and_new_customers(client_for, admin, people, book):
    html = _get(client_for(admin), _drill("cac"))
    campaigns = _table(html, "campaigns")
    # 200 USD at its end date's rate (7.2) over 10 days, all in May; 2,000 CNY over 20 days, 10 of them in May.
    assert [row[3:] for row in campaigns[1:]] == [
        ["2,000.00", "10 / 20", "1,000.00"],
        ["1,440.00", "10 / 10", "1,440.00"],
    ]
    assert [row[0] for row in _table(html, "customers")[1:]] == ["C-0", "E-0"]  # first won deal 05-10, 05-20
    assert _testid(html, "drill-cost") == "2,440.00" and _testid(html, "drill-count") == "2"
    ratio = _get(client_for(admin), _drill("ltv_to_cac"))
    assert _testid(ratio, "drill-ltv") == "8,640.00" and _testid(ratio, "drill-cac") == "1,220.00"
    # A rep reads the campaigns and their own new customer only; customer success reads no campaign.
    rep = _get(client_for(people["rep1"]), _drill("cac"))
    assert len(_table(rep, "campaigns")) == 3 and [row[0] for row in _table(rep, "customers")[1:]] == ["C-0"]
    cs = MembershipFactory(tenant=admin.tenant, user=UserFactory(email="cs2@kpi.test"), role=Role.CS)
    cs_html = _get(client_for(cs), _drill("cac"))
    assert _table(cs_html, "campaigns")[1:] == []
    assert _testid(cs_html, "drill-cost") == "—" and _testid(cs_html, "drill-total") == "—"  # unknown, not 0


def test_attainment_lists_the_won_deals_and_quota_months(client_for, admin, book):
    html = _get(client_for(admin), _drill("quota_attainment", scope="team:East"))
    deals = _table(html, "deals")
    assert [row[0] for row in deals[1:]] == ["Big win 0", "Late 0"]  # not West's, not June's
    assert _table(html, "quota")[1][1:] == ["Sum of the members' quotas", "1", "10,000.00"]
    # No quota in April: attainment is null, shown as "—".
    april = _get(client_for(admin), _drill("quota_attainment", APR, scope="team:East"))
    assert _testid(april, "drill-total") == "—" and _testid(april, "drill-quota") == "—"


def test_forecast_accuracy_lists_snapshots_and_won_deals(client_for, admin, book):
    client = client_for(admin)
    forecast = _get(client, FORECAST.format(period=MAY.isoformat()))
    for scope, expected in [("all", "120.0%"), ("owner:rep1@kpi.test", "125.0%")]:
        dimension, _sep, value = scope.partition(":")
        assert _testid(forecast, f"forecast-forecast_accuracy-{dimension}-{value}") == expected
        html = _get(client, _drill("forecast_accuracy", scope=scope))
        assert _testid(html, "drill-total") == expected == _testid(html, "drill-shown")
        snapshots = _table(html, "snapshots")
        assert snapshots[1][1] == "Yes"  # the nearest one first, the one compared with
        if dimension == "all":
            assert [row[2] for row in snapshots[1:]] == ["5,000.00", "8,000.00"]
            assert len(_table(html, "deals")) == 4
    # A team without snapshots: no accuracy ("—", never 0).
    east = _get(client, _drill("forecast_accuracy", scope="team:East"))
    assert _testid(east, "drill-total") == "—" == _testid(east, "drill-shown")


def test_rep_sees_own_records_and_other_segments_are_404(client_for, fy_tenant, people, book):
    rep = client_for(people["rep1"])
    html = _get(rep, _drill("mrr"))
    assert 'data-testid="drill-partial"' in html
    assert {row[0] for row in _table(html, "records")[1:]} == {"A-0"}
    assert _testid(html, "drill-number") == "1,500.00"  # A's S1 + S2 only
    own = _get(rep, _drill("mrr", scope="owner:rep1@kpi.test"))
    assert 'data-testid="drill-partial"' not in own
    assert _testid(own, "drill-number") == _testid(own, "drill-shown") == "1,500.00"
    assert rep.get(_drill("mrr", scope="owner:rep2@kpi.test")).status_code == 404
    assert rep.get(_drill("quota_attainment", scope="team:West")).status_code == 404
    deals = _table(_get(rep, _drill("quota_attainment")), "deals")
    assert [row[0] for row in deals[1:]] == ["Big win 0", "Late 0"]
    manager = client_for(people["manager"])
    assert manager.get(_drill("nrr", scope="team:West")).status_code == 404
    assert _get(manager, _drill("quota_attainment", scope="team:East"))
    assert rep.get("/t/kpi/dashboards/drill/nonsense/").status_code == 404
    assert rep.get(_drill("mrr", scope="region:North")).status_code == 404


def test_cs_sees_customer_accounts_and_no_segment(client_for, fy_tenant, people, book):
    cs = MembershipFactory(tenant=fy_tenant, user=UserFactory(email="cs@kpi.test"), role=Role.CS)
    client = client_for(cs)
    html = _get(client, _drill("nrr"))
    assert [row[0] for row in _table(html, "records")[1:]] == ["B-0", "A-0"]  # customer stages: every one
    assert client.get(_drill("nrr", scope="owner:rep1@kpi.test")).status_code == 404


def test_other_tenants_member_gets_404(client_for, other_tenant, book):
    with tenant_context(other_tenant):
        stranger = Membership.objects.select_related("user").get(role=Role.ADMIN)
    for metric in ("mrr", "nrr", "quota_attainment", "forecast_accuracy"):
        assert client_for(stranger).get(_drill(metric)).status_code == 404


def test_csv_export_of_every_table(client_for, admin, book):
    client = client_for(admin)
    for metric, keys in [
        ("mrr", ("totals", "records")),
        ("grr", ("totals", "records")),
        ("logo_churn_rate", ("totals", "records")),
        ("ltv", ("totals", "records")),
        ("cac", ("totals", "campaigns", "customers")),
        ("quota_attainment", ("totals", "deals", "quota")),
        ("forecast_accuracy", ("totals", "deals", "snapshots")),
    ]:
        url = _drill(metric, APR if metric == "logo_churn_rate" else MAY)
        html = _get(client, url)
        for key in keys:
            response = client.get(url + f"&export={key}")
            assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
            assert _csv(response) == _table(html, key), (metric, key)
            assert 'data-testid="export-' + key + '"' in html
    assert client.get(_drill("mrr") + "&export=nope").status_code == 404


def test_pages_and_csv_of_all_pages(client_for, admin, fy_tenant, people, book, monkeypatch):
    from sales_ops.views import drilldown

    monkeypatch.setattr(drilldown, "PAGE_SIZE", 2)
    client = client_for(admin)
    first = _get(client, _drill("mrr"))
    assert len(_table(first, "records")) == 3 and 'data-testid="pager-records"' in first
    second = _get(client, _drill("mrr") + "&records_page=2")
    assert len(_table(second, "records")) == 3
    everything = _csv(client.get(_drill("mrr") + "&export=records"))
    assert len(everything) == 5  # header + 4 subscriptions, every page
    assert everything[1:] == _table(first, "records")[1:] + _table(second, "records")[1:]


def test_chinese_page(client_for, admin, book):
    from crm.models import User

    User.objects.filter(pk=admin.user_id).update(language="zh-hans")
    html = _get(client_for(admin), _drill("nrr"))
    assert '<html lang="zh-hans">' in html
    assert "合计" in html and "期初付费的客户" in html
    assert "Accounts paying at the start of the period" not in html


COVERAGE_CASES = [
    # scope, coverage, open deals, open pipeline, quota, won amount, quota left to win
    ("all", "1.03", 3, "8,220.00", "14,000.00", "6,000.00", "8,000.00"),
    ("team:East", "1.50", 2, "7,500.00", "10,000.00", "5,000.00", "5,000.00"),
    ("owner:rep2@kpi.test", "0.24", 1, "720.00", "4,000.00", "1,000.00", "3,000.00"),
]


def _snapshot_value(tenant, metric: str, period: datetime.date, scope: str):  # type: ignore[no-untyped-def]
    from sales_ops.models import KpiSnapshot

    dimension, _sep, value = scope.partition(":")
    with tenant_context(tenant):
        return KpiSnapshot.objects.get(
            snapshot_set__is_current=True,
            metric=metric,
            grain="month",
            period_start=period,
            dimension=dimension,
            dimension_value=value,
        ).value


def test_coverage_totals_equal_the_engines_number(client_for, admin, fy_tenant, book):
    client = client_for(admin)
    forecast = _get(client, FORECAST.format(period=MAY.isoformat()))
    for scope, coverage, count, pipeline, quota, won, remainder in COVERAGE_CASES:
        dimension, _sep, value = scope.partition(":")
        assert _testid(forecast, f"forecast-pipeline_coverage-{dimension}-{value}") == coverage
        # The forecast page's coverage links to its drill-down.
        link = re.search(
            rf'data-testid="forecast-pipeline_coverage-{dimension}-{value}"[^>]*><a href="([^"]+)"', forecast
        )
        assert link is not None
        assert link.group(1).replace("&amp;", "&") == _drill("pipeline_coverage", scope=scope)
        response = client.get(_drill("pipeline_coverage", scope=scope))
        assert response.status_code == 200
        html = response.content.decode()
        assert _testid(html, "drill-total") == coverage == _testid(html, "drill-shown")
        assert _testid(html, "drill-number") == coverage
        assert _testid(html, "drill-count") == str(count)
        assert _testid(html, "drill-open") == pipeline and _testid(html, "drill-quota") == quota
        assert _testid(html, "drill-won") == won and _testid(html, "drill-remainder") == remainder
        # Exactly the engine's value (stored with 10 decimals), not only its two shown decimals.
        number = response.context["number"].value
        engine = _snapshot_value(fy_tenant, "pipeline_coverage", MAY, scope)
        assert number.quantize(Decimal("1E-10")) == engine, (scope, number, engine)
        assert 'data-testid="drill-partial"' not in html


def test_coverage_lists_open_deals_quota_rows_and_won_deals(client_for, admin, people, book):
    rep1, rep2 = people["rep1"].user.display_name, people["rep2"].user.display_name
    html = _get(client_for(admin), _drill("pipeline_coverage"))
    # Open deals closing in May, the largest first, in the reporting currency: not June's, not won or lost ones.
    assert _table(html, "open") == [
        ["Deal", "Account", "Owner", "Stage", "Expected close", "Amount (CNY)"],
        ["Open A 0", "A-0", rep1, "Qualification", "20 May 2024", "6,000.00"],
        ["Open C 0", "C-0", rep1, "Qualification", "31 May 2024", "1,500.00"],
        ["Open D 0", "D-0", rep2, "Qualification", "2 May 2024", "720.00"],
    ]
    with tenant_context(admin.tenant):
        deal = book["A"].opportunities.get(name="Open A 0")
    assert f'<a href="/t/kpi/deals/{deal.pk}/">Open A 0</a>' in html
    # The company has no quota rows of its own: every rep's rows.
    assert _table(html, "quota") == [
        ["Month", "Quota from", "Whose quota", "Quota"],
        ["May 2024", "Sum of every rep's quota", rep1, "10,000.00"],
        ["May 2024", "Sum of every rep's quota", rep2, "4,000.00"],
    ]
    assert [row[0] for row in _table(html, "deals")[1:]] == ["Big win 0", "Late 0", "West win 0"]
    east = _get(client_for(admin), _drill("pipeline_coverage", scope="team:East"))
    assert _table(east, "quota")[1:] == [["May 2024", "Sum of the members' quotas", rep1, "10,000.00"]]
    # A quarter sums its months: Q1 of the fiscal year (April to June) has May's rows and June's 0 of rep1's;
    # April has none.
    quarter = _get(client_for(admin), _drill("pipeline_coverage", APR, scope="team:East", grain="quarter"))
    assert _table(quarter, "quota")[1:] == [
        ["Apr 2024", "No quota", "", "—"],
        ["May 2024", "Sum of the members' quotas", rep1, "10,000.00"],
        ["Jun 2024", "Sum of the members' quotas", rep1, "0.00"],
    ]
    # East's quarter: 7,500 + 900 open / (10,000 − 5,700 won) = 1.95.
    assert _testid(quarter, "drill-total") == "1.95" == _testid(quarter, "drill-shown")


@pytest.mark.parametrize(
    ("period", "scope"),
    [(APR, "all"), (JUNE, "all"), (JUNE, "owner:rep1@kpi.test"), (APR, "team:East")],
)
def test_coverage_without_quota_left_is_a_dash(client_for, admin, fy_tenant, book, period, scope):
    """No quota (April), or a quota the won amount already reaches (June: 0 against 700 won): null, "—"."""
    html = _get(client_for(admin), _drill("pipeline_coverage", period, scope=scope))
    assert _testid(html, "drill-total") == "—" == _testid(html, "drill-shown")
    assert _testid(html, "drill-number") == "—"
    assert _snapshot_value_or_none(fy_tenant, period, scope) is None
    if period == APR:
        assert _testid(html, "drill-quota") == "—" and _testid(html, "drill-remainder") == "—"
        assert [row[1:] for row in _table(html, "quota")[1:]] == [["No quota", "", "—"]]
    else:
        assert _testid(html, "drill-quota") == "0.00" and _testid(html, "drill-remainder") == "-700.00"
        assert [row[0] for row in _table(html, "open")[1:]] == ["Open June 0"]


def _snapshot_value_or_none(tenant, period: datetime.date, scope: str):  # type: ignore[no-untyped-def]
    from sales_ops.models import KpiSnapshot

    try:
        return _snapshot_value(tenant, "pipeline_coverage", period, scope)
    except KpiSnapshot.DoesNotExist:
        return None


def test_coverage_within_each_roles_visibility(client_for, fy_tenant, people, book):
    rep = client_for(people["rep1"])
    html = _get(rep, _drill("pipeline_coverage"))
    # The company's number from rep1's records only: their open deals and won deals, said so on the page.
    assert 'data-testid="drill-partial"' in html
    assert [row[0] for row in _table(html, "open")[1:]] == ["Open A 0", "Open C 0"]
    assert [row[0] for row in _table(html, "deals")[1:]] == ["Big win 0", "Late 0"]
    assert _testid(html, "drill-open") == "7,500.00" and _testid(html, "drill-won") == "5,000.00"
    own = _get(rep, _drill("pipeline_coverage", scope="owner:rep1@kpi.test"))
    assert 'data-testid="drill-partial"' not in own
    # rep1: 7,500 / (10,000 − 5,000) = 1.50, the engine's number.
    assert _testid(own, "drill-total") == _testid(own, "drill-shown") == "1.50"
    assert [row[0] for row in _table(own, "open")[1:]] == ["Open A 0", "Open C 0"]
    for scope in ("owner:rep2@kpi.test", "team:East", "team:West"):
        assert rep.get(_drill("pipeline_coverage", scope=scope)).status_code == 404, scope
    manager = client_for(people["manager"])
    team = _get(manager, _drill("pipeline_coverage", scope="team:East"))
    assert _testid(team, "drill-total") == "1.50" == _testid(team, "drill-shown")
    assert [row[0] for row in _table(team, "open")[1:]] == ["Open A 0", "Open C 0"]
    assert _get(manager, _drill("pipeline_coverage", scope="owner:rep1@kpi.test"))
    for scope in ("team:West", "owner:rep2@kpi.test"):
        assert manager.get(_drill("pipeline_coverage", scope=scope)).status_code == 404, scope
    # Customer success reads the company's row only (the KPI API's rule) and the deals of customer accounts
    # (conversion, retention, churn) or renewals: not a new prospect's deal.
    prospect = AccountFactory(tenant=fy_tenant, owner=people["rep2"].user, lifecycle_stage=ACQ, name="P-0")
    OpportunityFactory(account=prospect, amount=Decimal(500), expected_close_date=D(2024, 5, 9), name="New P")
    cs = MembershipFactory(tenant=fy_tenant, user=UserFactory(email="cs3@kpi.test"), role=Role.CS)
    cs_client = client_for(cs)
    cs_html = _get(cs_client, _drill("pipeline_coverage"))
    assert 'data-testid="drill-partial"' in cs_html
    assert [row[0] for row in _table(cs_html, "open")[1:]] == ["Open A 0", "Open C 0", "Open D 0"]
    assert "New P" in _table(_get(client_for(people["rep2"]), _drill("pipeline_coverage")), "open")[2]
    assert _testid(cs_html, "drill-shown") == "1.03"
    for scope in ("owner:rep1@kpi.test", "team:East"):
        assert cs_client.get(_drill("pipeline_coverage", scope=scope)).status_code == 404, scope


def test_coverage_of_another_tenant_is_404(client_for, other_tenant, book):
    with tenant_context(other_tenant):
        stranger = Membership.objects.select_related("user").get(role=Role.ADMIN)
    client = client_for(stranger)
    for scope in ("all", "team:East", "owner:rep1@kpi.test"):
        assert client.get(_drill("pipeline_coverage", scope=scope)).status_code == 404, scope
        assert client.get(_drill("pipeline_coverage", scope=scope) + "&export=open").status_code == 404


def test_coverage_csv_of_every_table(client_for, admin, book, monkeypatch):
    from sales_ops.views import drilldown

    client = client_for(admin)
    url = _drill("pipeline_coverage")
    html = _get(client, url)
    for key in ("totals", "open", "quota", "deals"):
        response = client.get(url + f"&export={key}")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert _csv(response) == _table(html, key), key
        assert f'data-testid="export-{key}"' in html
        assert f"kpi-pipeline_coverage-month-2024-05-01-{key}.csv" in response["Content-Disposition"]
    assert _csv(client.get(url + "&export=totals"))[-1] == [
        "Coverage = open pipeline / quota left to win",
        "1.03",
    ]
    # Every page of open deals, not the one on screen.
    monkeypatch.setattr(drilldown, "PAGE_SIZE", 2)
    first = _get(client, url)
    assert len(_table(first, "open")) == 3 and 'data-testid="pager-open"' in first
    second = _get(client, url + "&open_page=2")
    everything = _csv(client.get(url + "&export=open"))
    assert everything[1:] == _table(first, "open")[1:] + _table(second, "open")[1:]
    assert len(everything) == 4


def test_coverage_in_chinese(client_for, admin, book):
    from crm.models import User

    User.objects.filter(pk=admin.user_id).update(language="zh-hans")
    html = _get(client_for(admin), _drill("pipeline_coverage"))
    assert "本期预计成交的未结商机" in html and "管道覆盖率" in html
    assert "Open deals closing in the period" not in html and "Quota left to win" not in html


PIPELINE = "/t/kpi/dashboards/pipeline/?grain=month&period={period}"


@pytest.mark.parametrize(
    ("scope", "expected", "won", "lost"),
    [
        ("all", "75.0%", ["Big win 0", "Late 0", "West win 0"], ["Lost 0"]),
        ("team:East", "100.0%", ["Big win 0", "Late 0"], []),
        ("owner:rep2@kpi.test", "50.0%", ["West win 0"], ["Lost 0"]),
    ],
)
def test_win_rate_lists_won_and_lost_deals(client_for, admin, fy_tenant, book, scope, expected, won, lost):
    client = client_for(admin)
    dimension, _sep, value = scope.partition(":")
    query = "" if dimension == "all" else f"&dimension={dimension}&value={value}"
    dashboard = _get(client, PIPELINE.format(period=MAY.isoformat()) + query)
    assert _testid(dashboard, "pipeline-win_rate") == expected
    # The pipeline's win rate (the period's and the trend's) links to its drill-down.
    link = re.search(r'data-testid="pipeline-win_rate"[^>]*><a href="([^"]+)"', dashboard)
    assert link is not None and link.group(1).replace("&amp;", "&") == _drill("win_rate", scope=scope)
    assert dashboard.count(f'<a href="{_drill("win_rate", scope=scope).replace("&", "&amp;")}">') == 2
    response = client.get(_drill("win_rate", scope=scope))
    html = response.content.decode()
    assert _testid(html, "drill-total") == expected == _testid(html, "drill-shown")
    assert [row[0] for row in _table(html, "deals")[1:]] == won
    assert [row[0] for row in _table(html, "lost")[1:]] == lost
    assert _testid(html, "drill-count") == str(len(won)) and _testid(html, "drill-lost") == str(len(lost))
    engine = _snapshot_value(fy_tenant, "win_rate", MAY, scope)
    assert response.context["number"].value.quantize(Decimal("1E-10")) == engine
    for key in ("totals", "deals", "lost"):
        assert _csv(client.get(_drill("win_rate", scope=scope) + f"&export={key}")) == _table(html, key)
    # The leaderboard's win rate opens the same page for its rep or team.
    if dimension != "all":
        rows = "" if dimension == "owner" else "&rows=team"
        reps = _get(client, f"/t/kpi/dashboards/reps/?grain=month&period={MAY.isoformat()}{rows}")
        assert _drill("win_rate", scope=scope).replace("&", "&amp;") in reps


def test_win_rate_without_closed_deals_is_a_dash(client_for, admin, people, book):
    html = _get(client_for(admin), _drill("win_rate", APR))
    assert _testid(html, "drill-total") == "—" == _testid(html, "drill-shown")
    rep = client_for(people["rep1"])
    assert rep.get(_drill("win_rate", scope="owner:rep2@kpi.test")).status_code == 404
    own = _get(rep, _drill("win_rate"))
    assert 'data-testid="drill-partial"' in own and _table(own, "lost")[1:] == []
    assert [row[0] for row in _table(own, "deals")[1:]] == ["Big win 0", "Late 0"]


def test_new_and_churned_customers_drill_down(client_for, admin, people, book):
    client = client_for(admin)
    for metric, period, expected, accounts in [
        ("new_customers", MAY, "2", ["C-0", "E-0"]),
        ("churned_customers", APR, "1", ["D-0"]),
        ("churned_customers", MAY, "0", []),
    ]:
        dashboard = _get(client, ECONOMICS.format(period=period.isoformat()))
        assert _testid(dashboard, f"economics-{metric}") == expected
        html = _get(client, _drill(metric, period))
        assert _testid(html, "drill-total") == expected == _testid(html, "drill-shown")
        assert [row[0] for row in _table(html, "records")[1:]] == accounts
        assert _csv(client.get(_drill(metric, period) + "&export=records")) == _table(html, "records")
    # A quarter's numbers, and a rep's (who does not open the lifecycle lists), link to the drill-down page.
    quarter = _get(client, f"/t/kpi/dashboards/unit-economics/?grain=quarter&period={APR.isoformat()}")
    assert _drill("new_customers", APR, grain="quarter").replace("&", "&amp;") in quarter
    rep = client_for(people["rep1"])
    rep_dashboard = _get(rep, ECONOMICS.format(period=MAY.isoformat()))
    assert _drill("new_customers", MAY).replace("&", "&amp;") in rep_dashboard
    rep_html = _get(rep, _drill("new_customers"))
    assert [row[0] for row in _table(rep_html, "records")[1:]] == ["C-0"]
    assert 'data-testid="drill-partial"' in rep_html


DRILL_QUERIES = {
    "mrr": 18,
    "nrr": 18,
    "grr": 18,
    "logo_churn_rate": 17,
    "ltv": 19,
    "cac": 19,
    "ltv_to_cac": 24,
    "quota": 20,
    "quota_attainment": 19,
    "forecast_accuracy": 18,
    "pipeline_coverage": 22,
    "win_rate": 19,
    "new_customers": 17,
    "churned_customers": 16,
}


def _count(client, url: str) -> int:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_exact_query_counts_do_not_grow_with_the_data(client_for, admin, fy_tenant, people, book):
    client = client_for(admin)
    small = {metric: _count(client, _drill(metric, scope="team:East")) for metric in DRILL_QUERIES}
    for copy in (1, 2):
        add_book(fy_tenant, people, copy)
    kpi_recompute(tenant=fy_tenant, now=NOW)
    large = {metric: _count(client, _drill(metric, scope="team:East")) for metric in DRILL_QUERIES}
    assert small == large, (small, large)
    assert small == DRILL_QUERIES
