"""The records behind a dashboard number (KPIS.md), within the member's visibility: the subscriptions of MRR, the
starting cohort of NRR and GRR with their MRR at start and end, the churned accounts and the base of logo churn,
the inputs of LTV, the won deals and quota months of attainment, the forecast snapshots of forecast accuracy, the
open deals, won deals and quota rows of pipeline coverage.

Each reads the same tables the engine reads and by the same rules, so on records the member sees in full (an
admin; anyone on a segment they own) the totals here are the dashboard's number. The engine's SQL stays the
engine's; these are plain ORM reads, a fixed number of statements whatever the data size."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least, Round, TruncDate, TruncMonth

from accounts.models import Account, ExchangeRate, LifecycleStageName, Opportunity, StageKind
from accounts.selectors.opportunities import opportunity_base
from accounts.selectors.visibility import account_queryset
from crm.models import Membership, Tenant
from crm.money import convert_to_reporting, is_reporting, pick_rate, round_cents
from leads.models import Campaign
from leads.selectors.setup_roles import can_read_sources
from lifecycle.models import LifecycleChange, Subscription
from sales_ops.models import Dimension, ForecastSnapshot, KpiSettings, Quota

MONEY = DecimalField(max_digits=20, decimal_places=2)
ACTIVE_STAGES = (LifecycleStageName.CONVERSION, LifecycleStageName.RETENTION)
LTV_MONTHS = 12


@dataclass(frozen=True)
class Scope:
    """A segment of a dashboard number: the tenant (`all`), a team or an owner (by email)."""

    dimension: str = Dimension.ALL
    value: str = ""


def _owner_ids(tenant: Tenant, scope: Scope) -> QuerySet | None:
    """The user ids of a segment (an owner; a team's members, as the engine joins the owner's membership);
    None for the whole tenant."""
    if scope.dimension == Dimension.OWNER:
        return Membership.objects.filter(tenant=tenant, user__email=scope.value).values("user_id")
    if scope.dimension == Dimension.TEAM:
        return Membership.objects.filter(tenant=tenant, team__name=scope.value).values("user_id")
    return None


def scoped_accounts(*, tenant: Tenant, membership: Membership, scope: Scope) -> QuerySet[Account]:
    """Live accounts the member sees, of the segment (customer metrics take the account's owner)."""
    accounts = account_queryset(tenant=tenant, membership=membership)
    owners = _owner_ids(tenant, scope)
    return accounts if owners is None else accounts.filter(owner_id__in=owners)


def reporting_mrr(tenant: Tenant, today: datetime.date) -> Case:
    """A subscription's MRR in the reporting currency as the engine converts it: at the tenant's latest rate
    (valid today, else the earliest), rounded to cents; NULL for a currency without a rate. One query reads the
    (small) rate table."""
    rates: dict[str, list[tuple[datetime.date, Decimal]]] = defaultdict(list)
    for currency, valid_from, rate in (
        ExchangeRate.objects.filter(tenant=tenant)
        .order_by("currency", "valid_from")
        .values_list("currency", "valid_from", "rate")
    ):
        rates[currency.upper()].append((valid_from, rate))
    reporting = tenant.currency.upper()
    whens = [When(Q(currency="") | Q(currency__iexact=reporting), then=F("mrr"))]
    for currency, dated in rates.items():
        rate = pick_rate(dated, today)
        if currency != reporting and rate is not None:
            whens.append(
                When(
                    currency__iexact=currency,
                    then=Round(ExpressionWrapper(F("mrr") * Value(rate), output_field=MONEY), 2),
                )
            )
    return Case(*whens, default=Value(None, output_field=MONEY), output_field=MONEY)


def _active_on(day: datetime.date) -> Q:
    return Q(start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gt=day))


def subscriptions_active(
    *, tenant: Tenant, accounts: QuerySet[Account], day: datetime.date, rate: Case
) -> QuerySet[Subscription]:
    """Subscriptions of `accounts` active on `day` with an MRR in the reporting currency, the largest first."""
    return (
        Subscription.objects.filter(tenant=tenant, deleted_at=None, account__in=accounts.values("pk"))
        .filter(_active_on(day))
        .annotate(reporting=rate)
        .filter(reporting__isnull=False)
        .select_related("account", "account__owner")
        .order_by("-reporting", "id")
    )


def subscription_totals(subscriptions: QuerySet[Subscription]) -> dict[str, Decimal | int]:
    totals = subscriptions.aggregate(
        mrr=Coalesce(Sum("reporting"), Value(Decimal(0), output_field=MONEY)),
        count=Count("id"),
        accounts=Count("account_id", distinct=True),
    )
    return totals


def _mrr_on(tenant: Tenant, day: datetime.date, rate: Case) -> Coalesce:
    per_account = (
        Subscription.objects.filter(tenant=tenant, deleted_at=None, account_id=OuterRef("pk"))
        .filter(_active_on(day))
        .annotate(reporting=rate)
        .values("account_id")
        .annotate(total=Sum("reporting"))
        .values("total")
    )
    return Coalesce(Subquery(per_account, output_field=MONEY), Value(Decimal(0), output_field=MONEY))


def retention_cohort(
    *, tenant: Tenant, accounts: QuerySet[Account], start: datetime.date, last: datetime.date, rate: Case
) -> QuerySet[Account]:
    """NRR and GRR's cohort: accounts with MRR > 0 on `start`, with their MRR then (`mrr_start`), on `last`
    (`mrr_end`) and the part of it kept, capped at the start (`mrr_kept`); the largest at start first."""
    return (
        accounts.annotate(mrr_start=_mrr_on(tenant, start, rate), mrr_end=_mrr_on(tenant, last, rate))
        .filter(mrr_start__gt=0)
        .annotate(mrr_kept=Least("mrr_end", "mrr_start"))
        .select_related("owner")
        .order_by("-mrr_start", "id")
    )


def cohort_totals(cohort: QuerySet[Account]) -> dict[str, Decimal | int]:
    zero = Value(Decimal(0), output_field=MONEY)
    return cohort.aggregate(
        start=Coalesce(Sum("mrr_start"), zero),
        end=Coalesce(Sum("mrr_end"), zero),
        kept=Coalesce(Sum("mrr_kept"), zero),
        count=Count("pk"),
    )


def _stage_on(tenant: Tenant, day: datetime.date) -> Subquery:
    """An account's lifecycle stage on `day`: the stage of its latest change by then."""
    latest = (
        LifecycleChange.objects.filter(tenant=tenant, account_id=OuterRef("pk"), date__lte=day)
        .order_by("-date", "-id")
        .values("to_stage")[:1]
    )
    return Subquery(latest)


def churned_accounts(
    *, tenant: Tenant, accounts: QuerySet[Account], start: datetime.date, end: datetime.date
) -> QuerySet[Account]:
    """Accounts whose churn date is in [start, end), with it (`churn_date`), the earliest first."""
    return (
        accounts.annotate(
            churn_date=Min(
                "lifecycle_changes__date",
                filter=Q(
                    lifecycle_changes__to_stage=LifecycleStageName.CHURN,
                    lifecycle_changes__date__gte=start,
                    lifecycle_changes__date__lt=end,
                ),
            )
        )
        .filter(churn_date__isnull=False)
        .select_related("owner")
        .order_by("churn_date", "id")
    )


def active_before(*, tenant: Tenant, accounts: QuerySet[Account], starts: list[datetime.date]) -> list[int]:
    """For each period start, the accounts in conversion or retention on the day before it (one query)."""
    annotated = accounts.annotate(
        **{f"stage_{i}": _stage_on(tenant, day - datetime.timedelta(days=1)) for i, day in enumerate(starts)}
    )
    counts = annotated.aggregate(
        **{f"n_{i}": Count("pk", filter=Q(**{f"stage_{i}__in": ACTIVE_STAGES})) for i in range(len(starts))}
    )
    return [int(counts[f"n_{i}"]) for i in range(len(starts))]


def churned_by_month(
    *, tenant: Tenant, accounts: QuerySet[Account], first: datetime.date, end: datetime.date
) -> dict[datetime.date, int]:
    """Accounts churned per month of [first, end) (one query)."""
    rows = (
        LifecycleChange.objects.filter(
            tenant=tenant,
            account__in=accounts.values("pk"),
            to_stage=LifecycleStageName.CHURN,
            date__gte=first,
            date__lt=end,
        )
        .annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(n=Count("account_id", distinct=True))
        .values_list("month", "n")
    )
    return {month if isinstance(month, datetime.date) else month.date(): n for month, n in rows}


@dataclass
class ChurnMonth:
    month: datetime.date
    churned: int
    base: int

    @property
    def rate(self) -> Decimal | None:
        return Decimal(self.churned) / Decimal(self.base) if self.base else None


def churn_months(
    *, tenant: Tenant, accounts: QuerySet[Account], months: list[datetime.date], end: datetime.date
) -> list[ChurnMonth]:
    """Logo churn of each month in `months` (first days, ascending; `end` the day after the last): churned
    accounts / accounts in conversion or retention the day before the month starts (two queries)."""
    churned = churned_by_month(tenant=tenant, accounts=accounts, first=months[0], end=end)
    bases = active_before(tenant=tenant, accounts=accounts, starts=months)
    return [ChurnMonth(m, churned.get(m, 0), base) for m, base in zip(months, bases, strict=True)]


def paying_totals(
    *, tenant: Tenant, accounts: QuerySet[Account], day: datetime.date, rate: Case
) -> dict[str, Decimal | int]:
    """MRR on `day` and the accounts paying (MRR > 0) then: ARPA's numerator and denominator (one query)."""
    annotated = accounts.annotate(mrr_day=_mrr_on(tenant, day, rate))
    return annotated.aggregate(
        mrr=Coalesce(Sum("mrr_day"), Value(Decimal(0), output_field=MONEY)),
        paying=Count("pk", filter=Q(mrr_day__gt=0)),
    )


def gross_margin(tenant: Tenant) -> Decimal:
    margin = KpiSettings.objects.filter(tenant=tenant).values_list("gross_margin", flat=True).first()
    return Decimal(margin) if margin is not None else KpiSettings._meta.get_field("gross_margin").default


# Deals: attainment, forecast accuracy and pipeline coverage.


def won_deals(
    *,
    tenant: Tenant,
    membership: Membership,
    scope: Scope,
    start: datetime.datetime,
    end: datetime.datetime,
    kind: str = StageKind.WON,
) -> QuerySet[Opportunity]:
    """Won (or, `kind` lost, lost) deals the member sees closed in [start, end) of the segment (deal metrics take
    the deal's owner), the largest first."""
    deals = opportunity_base(tenant=tenant, membership=membership).filter(
        stage__kind=kind, closed_at__gte=start, closed_at__lt=end
    )
    owners = _owner_ids(tenant, scope)
    if owners is not None:
        deals = deals.filter(owner_id__in=owners)
    return deals.select_related("account", "owner").order_by("-amount_reporting", "id")


def open_deals(
    *, tenant: Tenant, membership: Membership, scope: Scope, start: datetime.date, end: datetime.date
) -> QuerySet[Opportunity]:
    """Open deals the member sees of the segment whose expected close date is in [start, end), as of now: the
    deals of open_pipeline (pipeline coverage's numerator), the largest first. Their `amount_reporting` is the
    amount the engine sums (open deals at the latest rate, kept by the deals services)."""
    deals = opportunity_base(tenant=tenant, membership=membership).filter(
        stage__kind=StageKind.OPEN, expected_close_date__gte=start, expected_close_date__lt=end
    )
    owners = _owner_ids(tenant, scope)
    if owners is not None:
        deals = deals.filter(owner_id__in=owners)
    return deals.select_related("account", "owner", "stage").order_by("-amount_reporting", "id")


def deal_totals(deals: QuerySet[Opportunity]) -> dict[str, Decimal | int]:
    return deals.aggregate(
        amount=Coalesce(Sum("amount_reporting"), Value(Decimal(0), output_field=MONEY)), count=Count("id")
    )


@dataclass
class QuotaMonth:
    """A month's quota of a segment and where it comes from (KPIS.md "Quotas")."""

    month: datetime.date
    basis: str  # "owner" | "team" | "members" | "tenant" | "owners" | "" (no quota)
    amount: Decimal | None
    rows: list[Quota] = field(default_factory=list)


def quota_months(*, tenant: Tenant, scope: Scope, months: list[datetime.date]) -> list[QuotaMonth]:
    """The quota rows behind a segment's quota for each month (one query on the small quota table): an owner's
    own rows; a team's rows for the month, else its members' owner rows; the tenant's rows for the month, else
    every owner row."""
    rows = list(
        Quota.objects.filter(tenant=tenant, month__in=months)
        .select_related("owner", "team")
        .order_by("month", "id")
    )
    team_of = dict(
        Membership.objects.filter(tenant=tenant, team__isnull=False).values_list("user_id", "team__name")
    )
    result = []
    for month in months:
        in_month = [row for row in rows if row.month == month]
        owner_rows = [row for row in in_month if row.owner_id is not None]
        chosen: list[Quota] = []
        basis = ""
        if scope.dimension == Dimension.OWNER:
            chosen = [row for row in owner_rows if row.owner is not None and row.owner.email == scope.value]
            basis = "owner" if chosen else ""
        elif scope.dimension == Dimension.TEAM:
            chosen = [row for row in in_month if row.team is not None and row.team.name == scope.value]
            basis = "team"
            if not chosen:
                chosen = [row for row in owner_rows if team_of.get(row.owner_id) == scope.value]
                basis = "members" if chosen else ""
        else:
            chosen = [row for row in in_month if row.owner_id is None and row.team_id is None]
            basis = "tenant"
            if not chosen:
                chosen, basis = owner_rows, "owners" if owner_rows else ""
        amount = sum((row.amount for row in chosen), Decimal(0)) if chosen else None
        result.append(QuotaMonth(month, basis, amount, chosen))
    return result


def forecast_snapshots(
    *, tenant: Tenant, grain: str, period_start: datetime.date, scope: Scope
) -> list[ForecastSnapshot]:
    """The weekly forecast snapshots of a segment's period, nearest to the period's start first (the earlier on a
    tie): the first is the one forecast accuracy compares with, as the engine picks it."""
    snapshots = list(
        ForecastSnapshot.objects.filter(
            tenant=tenant,
            grain=grain,
            period_start=period_start,
            dimension=scope.dimension,
            dimension_value=scope.value,
        )
    )
    snapshots.sort(key=lambda s: (abs((s.taken_on - period_start).days), s.taken_on))
    return snapshots


# CAC: campaign cost spread over its days, and the new customers.


@dataclass
class CampaignCost:
    campaign: Campaign
    cost: Decimal  # in the reporting currency
    days: int  # of the campaign
    days_in_period: int

    @property
    def share(self) -> Decimal:
        return self.cost * self.days_in_period / self.days


def campaign_costs(
    *, tenant: Tenant, membership: Membership, start: datetime.date, end: datetime.date, today: datetime.date
) -> list[CampaignCost] | None:
    """Campaigns running in [start, end) with their cost in the reporting currency (at the rate of their end date,
    today while they run, as the engine converts it) and their days in the period; none for a member who may not
    read campaigns: None, the cost is unknown to them (two queries: the rates and the campaigns)."""
    if not can_read_sources(membership):
        return None
    rates: dict[str, list[tuple[datetime.date, Decimal]]] = defaultdict(list)
    for currency, valid_from, rate in (
        ExchangeRate.objects.filter(tenant=tenant)
        .order_by("currency", "valid_from")
        .values_list("currency", "valid_from", "rate")
    ):
        rates[currency.upper()].append((valid_from, rate))
    campaigns = Campaign.objects.filter(
        tenant=tenant, deleted_at=None, start_date__lt=end, end_date__gte=start
    ).order_by("start_date", "id")
    result = []
    last = end - datetime.timedelta(days=1)
    for campaign in campaigns:
        if is_reporting(campaign.currency, tenant.currency):
            cost = round_cents(campaign.cost)
        else:
            rate = pick_rate(rates.get(campaign.currency.upper(), []), min(campaign.end_date, today))
            if rate is None:
                continue
            cost = convert_to_reporting(campaign.cost, rate)
        days = (campaign.end_date - campaign.start_date).days + 1
        inside = (min(campaign.end_date, last) - max(campaign.start_date, start)).days + 1
        if days > 0 and inside > 0:
            result.append(CampaignCost(campaign, cost, days, inside))
    return result


def new_customers(
    *, tenant: Tenant, accounts: QuerySet[Account], start: datetime.date, end: datetime.date
) -> QuerySet[Account]:
    """Accounts whose first customer date (the earlier of the first won deal's local close date and the first
    subscription's start) is in [start, end), with it (`first_customer`), the earliest first."""
    won = Q(opportunities__stage__kind=StageKind.WON, opportunities__deleted_at=None)
    return (
        accounts.annotate(
            first_won=Min(TruncDate("opportunities__closed_at", tzinfo=tenant.tzinfo), filter=won),
            first_sub=Min("subscriptions__start_date", filter=Q(subscriptions__deleted_at=None)),
        )
        .annotate(first_customer=Least("first_won", "first_sub"))
        .filter(first_customer__gte=start, first_customer__lt=end)
        .select_related("owner")
        .order_by("first_customer", "id")
    )
