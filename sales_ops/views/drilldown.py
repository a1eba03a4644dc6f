"""Drill-down pages: the records behind a dashboard number of a period and segment (KPIS.md), listed within the
viewer's visibility, paginated, every table exported to CSV, with the totals that make the number and the number
the dashboard shows beside them. MRR, new and churned customers, NRR, GRR, logo churn, LTV, CAC and LTV:CAC
(unit economics); quota, attainment, forecast accuracy and pipeline coverage (forecast page and leaderboard); win
rate (pipeline and leaderboard)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import DEFAULT_STAGE_LABELS, StageKind
from crm.dates import tenant_today
from crm.decorators import tenant_member_required
from crm.models import Role
from crm.types import TenantHttpRequest, tenant_request
from sales_ops.models import Dimension, Quota
from sales_ops.selectors import drilldowns as sel
from sales_ops.views import common
from sales_ops.views.periods import Period, add_months
from sales_ops.views.tables import Cell, Column, Table, csv_response

PAGE_SIZE = 50
ECONOMICS_GRAINS = ("month", "quarter", "year")
FORECAST_GRAINS = ("month", "quarter")


@dataclass
class Records:
    """A paginated table: its rows come from `items` (a queryset or list) through `row`."""

    table: Table
    items: Any
    row: Callable[[Any], list[Cell]]


@dataclass
class Drill:
    summary: Table
    records: list[Records]
    number: Decimal | None  # the number as the records make it
    kind: str


def _ratio(top: Decimal | int, bottom: Decimal | int) -> Decimal | None:
    return Decimal(top) / Decimal(bottom) if bottom else None


def _last_day(period: Period, today: datetime.date) -> datetime.date:
    """The day a stock number is read on: the period's last day, today while it runs."""
    return min(period.last_day, today)


def _account_cells(tenant: Any, account: Any, people: common.People) -> list[Cell]:
    link = reverse("accounts:account-detail", kwargs={"slug": tenant.slug, "pk": account.pk})
    owner = people.owner_name(account.owner.email) if account.owner_id else ""
    return [Cell(account.name, link=link), Cell(owner)]


def _summary(rows: Iterable[tuple[str, Any, str, str]]) -> Table:
    table = Table("totals", _("Totals"), [Column("what", _("What"), text=True), Column("value", _("Value"))])
    for label, value, kind, testid in rows:
        table.rows.append([Cell(label), Cell(value, kind, testid=testid)])
    return table


def _date(day: datetime.date | None) -> str:
    return date_format(day, "SHORT_DATE_FORMAT") if day else ""


def build_mrr(req: TenantHttpRequest, period: Period, scope: sel.Scope, people: common.People) -> Drill:
    tenant = req.tenant
    today = tenant_today(tenant)
    day = _last_day(period, today)
    accounts = sel.scoped_accounts(tenant=tenant, membership=req.membership, scope=scope)
    subs = sel.subscriptions_active(
        tenant=tenant, accounts=accounts, day=day, rate=sel.reporting_mrr(tenant, today)
    )
    totals = sel.subscription_totals(subs)
    summary = _summary(
        [
            (_("Active on"), _date(day), "text", ""),
            (_("Subscriptions"), totals["count"], "count", "drill-count"),
            (_("Accounts"), totals["accounts"], "count", ""),
            (_("MRR"), totals["mrr"], "money", "drill-total"),
        ]
    )
    table = Table(
        "records",
        _("Subscriptions active on %(day)s") % {"day": _date(day)},
        [
            Column("account", _("Account"), text=True),
            Column("owner", _("Owner"), text=True),
            Column("plan", _("Plan"), text=True),
            Column("start", _("Start"), text=True),
            Column("end", _("End"), text=True),
            Column("mrr", _("MRR")),
            Column("currency", _("Currency"), text=True),
            Column("reporting", _("MRR (%(currency)s)") % {"currency": tenant.currency}),
        ],
        empty_text=_("No subscription was active then."),
    )

    def row(sub: Any) -> list[Cell]:
        return _account_cells(tenant, sub.account, people) + [
            Cell(sub.plan),
            Cell(_date(sub.start_date)),
            Cell(_date(sub.end_date)),
            Cell(sub.mrr, "money"),
            Cell(sub.currency or tenant.currency),
            Cell(sub.reporting, "money"),
        ]

    return Drill(summary, [Records(table, subs, row)], Decimal(totals["mrr"]), "money")


def build_retention(
    req: TenantHttpRequest, period: Period, scope: sel.Scope, people: common.People, *, gross: bool
) -> Drill:
    tenant = req.tenant
    today = tenant_today(tenant)
    last = _last_day(period, today)
    accounts = sel.scoped_accounts(tenant=tenant, membership=req.membership, scope=scope)
    cohort = sel.retention_cohort(
        tenant=tenant, accounts=accounts, start=period.start, last=last, rate=sel.reporting_mrr(tenant, today)
    )
    totals = sel.cohort_totals(cohort)
    nrr = _ratio(totals["end"], totals["start"])
    grr = _ratio(totals["kept"], totals["start"])
    summary = _summary(
        [
            (
                _("Accounts paying on %(day)s") % {"day": _date(period.start)},
                totals["count"],
                "count",
                "drill-count",
            ),
            (_("MRR on %(day)s") % {"day": _date(period.start)}, totals["start"], "money", "drill-start"),
            (_("Their MRR on %(day)s") % {"day": _date(last)}, totals["end"], "money", "drill-end"),
            (_("Kept, capped at the start"), totals["kept"], "money", "drill-kept"),
            (_("NRR"), nrr, "rate", "drill-total" if not gross else "drill-nrr"),
            (_("GRR"), grr, "rate", "drill-total" if gross else "drill-grr"),
        ]
    )
    table = Table(
        "records",
        _("Accounts paying at the start of the period"),
        [
            Column("account", _("Account"), text=True),
            Column("owner", _("Owner"), text=True),
            Column("start", _("MRR at start")),
            Column("end", _("MRR at end")),
            Column("change", _("Change")),
            Column("kept", _("Kept (capped)")),
        ],
        empty_text=_("No account paid at the start of the period."),
    )

    def row(account: Any) -> list[Cell]:
        return _account_cells(tenant, account, people) + [
            Cell(account.mrr_start, "money"),
            Cell(account.mrr_end, "money"),
            Cell(account.mrr_end - account.mrr_start, "delta_money"),
            Cell(account.mrr_kept, "money"),
        ]

    return Drill(summary, [Records(table, cohort, row)], grr if gross else nrr, "rate")


def _dated_accounts_table(
    tenant: Any,
    people: common.People,
    *,
    key: str,
    title: str,
    date_label: str,
    empty_text: str,
    date_of: str,
) -> tuple[Table, Callable]:
    """A table of accounts with their owner and one date (the attribute `date_of` of each row)."""
    table = Table(
        key,
        title,
        [
            Column("account", _("Account"), text=True),
            Column("owner", _("Owner"), text=True),
            Column("date", date_label, text=True),
        ],
        empty_text=empty_text,
    )

    def row(account: Any) -> list[Cell]:
        return _account_cells(tenant, account, people) + [Cell(_date(getattr(account, date_of)))]

    return table, row


def _churned_table(tenant: Any, people: common.People, key: str = "records") -> tuple[Table, Callable]:
    return _dated_accounts_table(
        tenant,
        people,
        key=key,
        title=_("Churned accounts"),
        date_label=_("Churn date"),
        empty_text=_("No account churned in this period."),
        date_of="churn_date",
    )


def build_churn(req: TenantHttpRequest, period: Period, scope: sel.Scope, people: common.People) -> Drill:
    tenant = req.tenant
    accounts = sel.scoped_accounts(tenant=tenant, membership=req.membership, scope=scope)
    churned = sel.churned_accounts(tenant=tenant, accounts=accounts, start=period.start, end=period.end)
    count = churned.count()
    base = sel.active_before(tenant=tenant, accounts=accounts, starts=[period.start])[0]
    rate = _ratio(count, base)
    before = period.start - datetime.timedelta(days=1)
    summary = _summary(
        [
            (_("Churned accounts"), count, "count", "drill-count"),
            (
                _("Customers (conversion or retention) on %(day)s") % {"day": _date(before)},
                base,
                "count",
                "drill-base",
            ),
            (_("Logo churn"), rate, "rate", "drill-total"),
        ]
    )
    table, row = _churned_table(tenant, people)
    return Drill(summary, [Records(table, churned, row)], rate, "rate")


def build_ltv(req: TenantHttpRequest, period: Period, scope: sel.Scope, people: common.People) -> Drill:
    tenant = req.tenant
    today = tenant_today(tenant)
    last = _last_day(period, today)
    accounts = sel.scoped_accounts(tenant=tenant, membership=req.membership, scope=scope)
    paying = sel.paying_totals(
        tenant=tenant, accounts=accounts, day=last, rate=sel.reporting_mrr(tenant, today)
    )
    arpa = _ratio(paying["mrr"], paying["paying"])
    margin = sel.gross_margin(tenant)
    last_month = last.replace(day=1)
    months = [add_months(last_month, -offset) for offset in range(sel.LTV_MONTHS - 1, -1, -1)]
    churn = sel.churn_months(tenant=tenant, accounts=accounts, months=months, end=add_months(last_month, 1))
    rates = [m.rate for m in churn if m.rate is not None]
    mean = sum(rates, Decimal(0)) / len(rates) if rates else None
    ltv = arpa * margin / mean if arpa is not None and mean else None
    summary = _summary(
        [
            (_("MRR on %(day)s") % {"day": _date(last)}, paying["mrr"], "money", "drill-mrr"),
            (_("Accounts paying then"), paying["paying"], "count", "drill-paying"),
            (_("ARPA"), arpa, "money", "drill-arpa"),
            (_("Gross margin"), margin, "rate", "drill-margin"),
            (_("Mean monthly logo churn (months that have one)"), mean, "rate", "drill-mean-churn"),
            (_("LTV = ARPA × gross margin / mean churn"), ltv, "money", "drill-total"),
        ]
    )
    table = Table(
        "records",
        _("Monthly logo churn over the 12 months"),
        [
            Column("month", _("Month"), nowrap=True),
            Column("churned", _("Churned accounts")),
            Column("base", _("Customers the day before")),
            Column("rate", _("Logo churn")),
        ],
    )

    def row(month: sel.ChurnMonth) -> list[Cell]:
        link = common.drill_link(
            tenant, "logo_churn_rate", Period("month", month.month), scope.dimension, scope.value
        )
        return [
            Cell(Period("month", month.month).label()),
            Cell(month.churned, "count", link=link),
            Cell(month.base, "count"),
            Cell(month.rate, "rate", link=link),
        ]

    return Drill(summary, [Records(table, list(reversed(churn)), row)], ltv, "money")


def _customers_table(tenant: Any, people: common.People, key: str = "customers") -> tuple[Table, Callable]:
    return _dated_accounts_table(
        tenant,
        people,
        key=key,
        title=_("New customers"),
        date_label=_("Customer since"),
        empty_text=_("No new customer in this period."),
        date_of="first_customer",
    )


def build_new_customers(
    req: TenantHttpRequest, period: Period, scope: sel.Scope, people: common.People
) -> Drill:
    """new_customers: accounts whose first customer date is in the period."""
    tenant = req.tenant
    accounts = sel.scoped_accounts(tenant=tenant, membership=req.membership, scope=scope)
    customers = sel.new_customers(tenant=tenant, accounts=accounts, start=period.start, end=period.end)
    count = customers.count()
    summary = _summary([(_("New customers"), count, "count", "drill-total")])
    table, row = _customers_table(tenant, people, key="records")
    return Drill(summary, [Records(table, customers, row)], Decimal(count), "count")


def build_churned_customers(
    req: TenantHttpRequest, period: Period, scope: sel.Scope, people: common.People
) -> Drill:
    """churned_customers: accounts whose churn date is in the period."""
    tenant = req.tenant
    accounts = sel.scoped_accounts(tenant=tenant, membership=req.membership, scope=scope)
    churned = sel.churned_accounts(tenant=tenant, accounts=accounts, start=period.start, end=period.end)
    count = churned.count()
    summary = _summary([(_("Churned accounts"), count, "count", "drill-total")])
    table, row = _churned_table(tenant, people)
    return Drill(summary, [Records(table, churned, row)], Decimal(count), "count")


def build_cac(req: TenantHttpRequest, period: Period, scope: sel.Scope, people: common.People) -> Drill:
    tenant = req.tenant
    today = tenant_today(tenant)
    costs = sel.campaign_costs(
        tenant=tenant, membership=req.membership, start=period.start, end=period.end, today=today
    )
    # Someone who may not read campaigns does not know the cost: no CAC ("—"), not 0.
    cost = sum((c.share for c in costs), Decimal(0)) if costs is not None else None
    accounts = sel.scoped_accounts(tenant=tenant, membership=req.membership, scope=scope)
    customers = sel.new_customers(tenant=tenant, accounts=accounts, start=period.start, end=period.end)
    count = customers.count()
    cac = _ratio(cost, count) if cost is not None else None
    summary = _summary(
        [
            (_("Campaign cost in the period"), cost, "money", "drill-cost"),
            (_("New customers"), count, "count", "drill-count"),
            (_("CAC"), cac, "money", "drill-total"),
        ]
    )
    campaign_table = Table(
        "campaigns",
        _("Campaigns running in the period"),
        [
            Column("campaign", _("Campaign"), text=True),
            Column("start", _("Start"), text=True),
            Column("end", _("End"), text=True),
            Column("cost", _("Cost (%(currency)s)") % {"currency": tenant.currency}),
            Column("days", _("Days in the period"), text=True),
            Column("share", _("Cost in the period")),
        ],
        empty_text=_("No campaign you may see ran in this period."),
    )

    def campaign_row(entry: sel.CampaignCost) -> list[Cell]:
        link = reverse("leads:campaign-detail", kwargs={"slug": tenant.slug, "pk": entry.campaign.pk})
        return [
            Cell(entry.campaign.name, link=link),
            Cell(_date(entry.campaign.start_date)),
            Cell(_date(entry.campaign.end_date)),
            Cell(entry.cost, "money"),
            Cell(f"{entry.days_in_period} / {entry.days}"),
            Cell(entry.share, "money"),
        ]

    customer_table, customer_row = _customers_table(tenant, people)
    return Drill(
        summary,
        [
            Records(campaign_table, costs or [], campaign_row),
            Records(customer_table, customers, customer_row),
        ],
        cac,
        "money",
    )


def build_ltv_to_cac(
    req: TenantHttpRequest, period: Period, scope: sel.Scope, people: common.People
) -> Drill:
    ltv = build_ltv(req, period, scope, people)
    cac = build_cac(req, period, scope, people)
    ratio = ltv.number / cac.number if ltv.number is not None and cac.number else None
    rows = [row for row in ltv.summary.rows + cac.summary.rows]
    for row in rows:
        if row[1].testid == "drill-total":
            row[1].testid = ""
    ltv.summary.rows[-1][1].testid = "drill-ltv"
    cac.summary.rows[-1][1].testid = "drill-cac"
    summary = Table("totals", _("Totals"), ltv.summary.columns, rows)
    summary.rows.append([Cell(_("LTV:CAC")), Cell(ratio, "ratio", testid="drill-total")])
    return Drill(summary, ltv.records + cac.records, ratio, "ratio")


def _deals_table(tenant: Any, people: common.People, *, lost: bool = False) -> tuple[Table, Callable]:
    table = Table(
        "lost" if lost else "deals",
        _("Lost deals closed in the period") if lost else _("Won deals closed in the period"),
        [
            Column("deal", _("Deal"), text=True),
            Column("account", _("Account"), text=True),
            Column("owner", _("Owner"), text=True),
            Column("closed", _("Closed"), text=True),
            Column("amount", _("Amount (%(currency)s)") % {"currency": tenant.currency}),
        ],
        empty_text=_("No deal was lost in this period.") if lost else _("No deal was won in this period."),
    )

    def row(deal: Any) -> list[Cell]:
        link = reverse("accounts:opportunity-detail", kwargs={"slug": tenant.slug, "pk": deal.pk})
        closed = deal.closed_at.astimezone(tenant.tzinfo).date() if deal.closed_at else None
        return [
            Cell(deal.name, link=link),
            Cell(deal.account.name if deal.account_id else ""),
            Cell(people.owner_name(deal.owner.email) if deal.owner_id else ""),
            Cell(_date(closed)),
            Cell(deal.amount_reporting, "money"),
        ]

    return table, row


def _period_bounds(tenant: Any, period: Period) -> tuple[datetime.datetime, datetime.datetime]:
    zone = tenant.tzinfo
    return (
        datetime.datetime.combine(period.start, datetime.time.min, zone),
        datetime.datetime.combine(period.end, datetime.time.min, zone),
    )


QUOTA_BASES = {
    "owner": gettext_lazy("The rep's quota"),
    "team": gettext_lazy("The team's quota"),
    "members": gettext_lazy("Sum of the members' quotas"),
    "tenant": gettext_lazy("The company's quota"),
    "owners": gettext_lazy("Sum of every rep's quota"),
    "": gettext_lazy("No quota"),
}


def build_attainment(
    req: TenantHttpRequest, period: Period, scope: sel.Scope, people: common.People, *, quota_only: bool
) -> Drill:
    tenant = req.tenant
    start, end = _period_bounds(tenant, period)
    deals = sel.won_deals(tenant=tenant, membership=req.membership, scope=scope, start=start, end=end)
    won = sel.deal_totals(deals)
    months = []
    month = period.start
    while month < period.end:
        months.append(month)
        month = add_months(month, 1)
    quota_rows = sel.quota_months(tenant=tenant, scope=scope, months=months)
    amounts = [m.amount for m in quota_rows if m.amount is not None]
    quota = sum(amounts, Decimal(0)) if amounts else None
    attainment = won["amount"] / quota if quota else None
    summary = _summary(
        [
            (_("Won deals"), won["count"], "count", "drill-count"),
            (_("Won amount"), won["amount"], "money", "drill-won"),
            (_("Quota"), quota, "money", "drill-total" if quota_only else "drill-quota"),
            (_("Attainment"), attainment, "rate", "drill-attainment" if quota_only else "drill-total"),
        ]
    )
    quota_table = Table(
        "quota",
        _("Quota by month"),
        [
            Column("month", _("Month"), nowrap=True),
            Column("basis", _("Quota from"), text=True),
            Column("rows", _("Quota rows")),
            Column("amount", _("Quota")),
        ],
    )

    def quota_row(entry: sel.QuotaMonth) -> list[Cell]:
        return [
            Cell(Period("month", entry.month).label()),
            Cell(str(QUOTA_BASES[entry.basis])),
            Cell(len(entry.rows), "count"),
            Cell(entry.amount, "money"),
        ]

    deals_table, deal_row = _deals_table(tenant, people)
    records = [Records(quota_table, quota_rows, quota_row), Records(deals_table, deals, deal_row)]
    if quota_only:
        return Drill(summary, records, quota, "money")
    return Drill(summary, [records[1], records[0]], attainment, "rate")


def build_accuracy(req: TenantHttpRequest, period: Period, scope: sel.Scope, people: common.People) -> Drill:
    tenant = req.tenant
    start, end = _period_bounds(tenant, period)
    deals = sel.won_deals(tenant=tenant, membership=req.membership, scope=scope, start=start, end=end)
    won = sel.deal_totals(deals)
    snapshots = sel.forecast_snapshots(
        tenant=tenant, grain=period.grain, period_start=period.start, scope=scope
    )
    nearest = snapshots[0] if snapshots else None
    closed = period.end <= tenant_today(tenant)
    accuracy = won["amount"] / nearest.commit if closed and nearest is not None and nearest.commit else None
    summary = _summary(
        [
            (
                _("Snapshot nearest the period's start"),
                _date(nearest.taken_on) if nearest else None,
                "text",
                "",
            ),
            (_("Commit then"), nearest.commit if nearest else None, "money", "drill-commit"),
            (_("Won amount"), won["amount"], "money", "drill-won"),
            (_("Forecast accuracy"), accuracy, "rate", "drill-total"),
        ]
    )
    snapshot_table = Table(
        "snapshots",
        _("Weekly forecast snapshots of the period"),
        [
            Column("taken", _("Taken on"), nowrap=True, text=True),
            Column("used", _("Compared"), text=True),
            Column("commit", _("Commit")),
            Column("best_case", _("Best case")),
            Column("weighted", _("Weighted")),
        ],
        empty_text=_("No forecast snapshot of this period was taken."),
    )

    def snapshot_row(snapshot: Any) -> list[Cell]:
        return [
            Cell(_date(snapshot.taken_on)),
            Cell(_("Yes") if snapshot is nearest else ""),
            Cell(snapshot.commit, "money"),
            Cell(snapshot.best_case, "money"),
            Cell(snapshot.weighted, "money"),
        ]

    deals_table, deal_row = _deals_table(tenant, people)
    return Drill(
        summary,
        [Records(snapshot_table, snapshots, snapshot_row), Records(deals_table, deals, deal_row)],
        accuracy,
        "rate",
    )


def build_win_rate(req: TenantHttpRequest, period: Period, scope: sel.Scope, people: common.People) -> Drill:
    """win_rate (KPIS.md): opps_won / (opps_won + opps_lost), the won and lost deals closed in the period."""
    tenant = req.tenant
    start, end = _period_bounds(tenant, period)
    won_deals = sel.won_deals(tenant=tenant, membership=req.membership, scope=scope, start=start, end=end)
    lost_deals = sel.won_deals(
        tenant=tenant, membership=req.membership, scope=scope, start=start, end=end, kind=StageKind.LOST
    )
    won = sel.deal_totals(won_deals)["count"]
    lost = sel.deal_totals(lost_deals)["count"]
    rate = _ratio(won, won + lost)
    summary = _summary(
        [
            (_("Deals won"), won, "count", "drill-count"),
            (_("Deals lost"), lost, "count", "drill-lost"),
            (_("Win rate = won / (won + lost)"), rate, "rate", "drill-total"),
        ]
    )
    won_table, won_row = _deals_table(tenant, people)
    lost_table, lost_row = _deals_table(tenant, people, lost=True)
    return Drill(
        summary,
        [Records(won_table, won_deals, won_row), Records(lost_table, lost_deals, lost_row)],
        rate,
        "rate",
    )


def _months(period: Period) -> list[datetime.date]:
    months = []
    month = period.start
    while month < period.end:
        months.append(month)
        month = add_months(month, 1)
    return months


def build_coverage(req: TenantHttpRequest, period: Period, scope: sel.Scope, people: common.People) -> Drill:
    """Pipeline coverage (KPIS.md): open_pipeline / (quota − won_amount), null when that remainder is ≤ 0 or there
    is no quota. The open deals closing in the period (as of now, unweighted), the quota rows of its months and
    the won deals closed in it."""
    tenant = req.tenant
    opened = sel.open_deals(
        tenant=tenant, membership=req.membership, scope=scope, start=period.start, end=period.end
    )
    pipeline = sel.deal_totals(opened)
    start, end = _period_bounds(tenant, period)
    won_deals = sel.won_deals(tenant=tenant, membership=req.membership, scope=scope, start=start, end=end)
    won = sel.deal_totals(won_deals)
    quota_rows = sel.quota_months(tenant=tenant, scope=scope, months=_months(period))
    amounts = [m.amount for m in quota_rows if m.amount is not None]
    quota = sum(amounts, Decimal(0)) if amounts else None
    remainder = quota - won["amount"] if quota is not None else None
    coverage = pipeline["amount"] / remainder if remainder is not None and remainder > 0 else None
    summary = _summary(
        [
            (_("Open deals closing in the period"), pipeline["count"], "count", "drill-count"),
            (_("Open pipeline"), pipeline["amount"], "money", "drill-open"),
            (_("Quota"), quota, "money", "drill-quota"),
            (_("Won amount"), won["amount"], "money", "drill-won"),
            (_("Quota left to win (quota − won amount)"), remainder, "money", "drill-remainder"),
            (_("Coverage = open pipeline / quota left to win"), coverage, "ratio", "drill-total"),
        ]
    )
    open_table = Table(
        "open",
        _("Open deals closing in the period"),
        [
            Column("deal", _("Deal"), text=True),
            Column("account", _("Account"), text=True),
            Column("owner", _("Owner"), text=True),
            Column("stage", _("Stage"), text=True),
            Column("close", _("Expected close"), text=True),
            Column("amount", _("Amount (%(currency)s)") % {"currency": tenant.currency}),
        ],
        empty_text=_("No open deal is expected to close in this period."),
    )

    def open_row(deal: Any) -> list[Cell]:
        link = reverse("accounts:opportunity-detail", kwargs={"slug": tenant.slug, "pk": deal.pk})
        return [
            Cell(deal.name, link=link),
            Cell(deal.account.name if deal.account_id else ""),
            Cell(people.owner_name(deal.owner.email) if deal.owner_id else ""),
            Cell(str(DEFAULT_STAGE_LABELS.get(deal.stage.name, deal.stage.name))),
            Cell(_date(deal.expected_close_date)),
            Cell(deal.amount_reporting, "money"),
        ]

    quota_table = Table(
        "quota",
        _("Quota rows of the period"),
        [
            Column("month", _("Month"), nowrap=True),
            Column("basis", _("Quota from"), text=True),
            Column("who", _("Whose quota"), text=True),
            Column("amount", _("Quota")),
        ],
    )
    # One line per quota row behind the quota; a month without any reads "No quota" and "—".
    quota_lines: list[tuple[sel.QuotaMonth, Quota | None]] = []
    for entry in quota_rows:
        quota_lines += [(entry, row) for row in entry.rows] or [(entry, None)]

    def quota_row(line: tuple[sel.QuotaMonth, Quota | None]) -> list[Cell]:
        entry, row = line
        if row is None:
            who = ""
        elif row.owner is not None:
            who = people.owner_name(row.owner.email)
        elif row.team is not None:
            who = row.team.name
        else:
            who = _("Whole company")
        return [
            Cell(Period("month", entry.month).label()),
            Cell(str(QUOTA_BASES[entry.basis])),
            Cell(who),
            Cell(row.amount if row is not None else None, "money"),
        ]

    deals_table, deal_row = _deals_table(tenant, people)
    return Drill(
        summary,
        [
            Records(open_table, opened, open_row),
            Records(quota_table, quota_lines, quota_row),
            Records(deals_table, won_deals, deal_row),
        ],
        coverage,
        "ratio",
    )


# metric: (label, grains, source page, builder)
METRICS: dict[str, tuple[Any, tuple[str, ...], str, Callable[..., Drill]]] = {
    "mrr": (gettext_lazy("MRR"), ECONOMICS_GRAINS, "economics", build_mrr),
    "nrr": (
        gettext_lazy("NRR"),
        ECONOMICS_GRAINS,
        "economics",
        lambda *a: build_retention(*a, gross=False),
    ),
    "grr": (gettext_lazy("GRR"), ECONOMICS_GRAINS, "economics", lambda *a: build_retention(*a, gross=True)),
    "new_customers": (gettext_lazy("New customers"), ECONOMICS_GRAINS, "economics", build_new_customers),
    "churned_customers": (
        gettext_lazy("Churned customers"),
        ECONOMICS_GRAINS,
        "economics",
        build_churned_customers,
    ),
    "logo_churn_rate": (gettext_lazy("Logo churn"), ECONOMICS_GRAINS, "economics", build_churn),
    "ltv": (gettext_lazy("LTV"), ECONOMICS_GRAINS, "economics", build_ltv),
    "cac": (gettext_lazy("CAC"), ECONOMICS_GRAINS, "economics", build_cac),
    "ltv_to_cac": (gettext_lazy("LTV:CAC"), ECONOMICS_GRAINS, "economics", build_ltv_to_cac),
    "quota": (
        gettext_lazy("Quota"),
        FORECAST_GRAINS + ("year",),
        "forecast",
        lambda *a: build_attainment(*a, quota_only=True),
    ),
    "quota_attainment": (
        gettext_lazy("Quota attainment"),
        FORECAST_GRAINS + ("year",),
        "forecast",
        lambda *a: build_attainment(*a, quota_only=False),
    ),
    "forecast_accuracy": (gettext_lazy("Forecast accuracy"), FORECAST_GRAINS, "forecast", build_accuracy),
    "win_rate": (gettext_lazy("Win rate"), ECONOMICS_GRAINS, "pipeline", build_win_rate),
    "pipeline_coverage": (
        gettext_lazy("Pipeline coverage"),
        FORECAST_GRAINS + ("year",),
        "forecast",
        build_coverage,
    ),
}


def parse_scope(req: TenantHttpRequest, people: common.People) -> sel.Scope:
    """`scope=<dimension>:<value>`: the tenant, a team or an owner; a segment the member may not read is a 404,
    like the rows of it the KPI API leaves out."""
    raw = req.GET.get("scope") or Dimension.ALL
    dimension, _sep, value = raw.partition(":")
    if dimension == Dimension.ALL:
        return sel.Scope()
    if dimension not in (Dimension.TEAM, Dimension.OWNER) or not value:
        raise Http404
    if not common.can_see(req, dimension, value, people):
        raise Http404
    return sel.Scope(dimension, value)


def _scope_name(scope: sel.Scope, people: common.People) -> str:
    if scope.dimension == Dimension.OWNER:
        return people.owner_name(scope.value)
    if scope.dimension == Dimension.TEAM:
        return scope.value
    return _("Whole company")


@tenant_member_required
def drilldown(request: HttpRequest, slug: str, metric: str) -> HttpResponse:
    req = tenant_request(request)
    if request.method != "GET" or metric not in METRICS:
        raise Http404
    tenant = req.tenant
    label, grains, source, builder = METRICS[metric]
    picked = common.pickers(req, grains=grains, ahead=4 if source == "forecast" else 0)
    people = common.people(tenant)
    scope = parse_scope(req, people)
    drill = builder(req, picked.period, scope, people)
    tables: list[Table] = [drill.summary] + [records.table for records in drill.records]
    export_key = request.GET.get("export")
    if export_key:
        for records in drill.records:
            if records.table.key == export_key:
                records.table.rows = [records.row(item) for item in records.items]
        for table in tables:
            if table.key == export_key:
                name = f"{tenant.slug}-{metric}-{picked.grain}-{picked.period.start.isoformat()}-{export_key}.csv"
                return csv_response(table, name)
        raise Http404
    pages = []
    for records in drill.records:
        paginator = Paginator(records.items, PAGE_SIZE)
        page = paginator.get_page(request.GET.get(f"{records.table.key}_page"))
        records.table.rows = [records.row(item) for item in page.object_list]
        pages.append(
            {
                "table": records.table,
                "page": page,
                "param": f"{records.table.key}_page",
                "previous_url": "?"
                + common.query_string(req, **{f"{records.table.key}_page": str(page.previous_page_number())})
                if page.has_previous()
                else "",
                "next_url": "?"
                + common.query_string(req, **{f"{records.table.key}_page": str(page.next_page_number())})
                if page.has_next()
                else "",
            }
        )
    for table in tables:
        table.export_url = "?" + common.query_string(req, export=table.key)
    values = common.read_values(
        tenant=tenant,
        visibility=common.visibility(req),
        metrics=[metric],
        grain=picked.grain,
        first=picked.period.start,
        last=picked.period.start,
        dimensions=[scope.dimension],
        dimension_value=scope.value if scope.dimension != Dimension.ALL else None,
    )
    shown = values.get(metric, picked.period.start, scope.dimension, scope.value)
    if metric == "quota":
        from sales_ops.views.forecast import quotas

        shown = quotas(tenant, picked.period, people).get((scope.dimension, scope.value))
    fiscal = tenant.fiscal_year_start_month
    back = (
        {
            "economics": reverse("sales_ops:dashboard-economics", kwargs={"slug": slug}),
            "forecast": reverse("sales_ops:forecast", kwargs={"slug": slug}),
            "pipeline": reverse("sales_ops:dashboard-pipeline", kwargs={"slug": slug}),
        }[source]
        + "?"
        + urlencode({"grain": picked.grain, "period": picked.period.start.isoformat()})
    )
    state = common.snapshot_state(tenant)
    context = {
        **common.base_context(req, source, state),
        "metric": metric,
        "metric_label": label,
        "picked": picked,
        "grains": [(g, glabel) for g, glabel in common.GRAIN_CHOICES if g in grains],
        "period_options": picked.period_options(fiscal),
        "period_label": picked.period.label(fiscal),
        "scope_param": f"{scope.dimension}:{scope.value}" if scope.value else Dimension.ALL,
        "scope_name": _scope_name(scope, people),
        "summary": drill.summary,
        "pages": pages,
        "number": Cell(drill.number, drill.kind, testid="drill-number"),
        "shown": Cell(shown, drill.kind, testid="drill-shown"),
        # Someone who does not see every record of the segment: the totals here are of their records only.
        "partial_view": req.membership.role not in (Role.ADMIN, Role.OPS)
        and scope.dimension == Dimension.ALL,
        "back_url": back,
    }
    return render(request, "sales_ops/drilldown.html", context)
