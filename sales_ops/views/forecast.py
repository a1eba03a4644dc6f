"""The forecast of a month or quarter for the tenant, each team and each rep: closed won, commit, best case,
weighted, quota, attainment, coverage and forecast accuracy (snapshots; quotas by KPIS.md's rules from the small
quota table), with the open deals behind the numbers by forecast category. Whoever may edit a deal (a manager:
their team's) changes its forecast category inline; the forecast follows after the recompute."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.models import ForecastCategory, Opportunity, StageKind
from accounts.selectors.opportunities import opportunity_base, opportunity_get
from accounts.selectors.visibility import DealAccess
from accounts.services.opportunities import opportunity_update
from crm.decorators import tenant_member_required
from crm.errors import ConflictError
from crm.models import MembershipStatus, Role
from crm.types import TenantHttpRequest, tenant_request
from sales_ops.models import Dimension, Quota
from sales_ops.views import common
from sales_ops.views.periods import Period, add_months
from sales_ops.views.tables import Cell, Column, Table

DEALS_CAP = 200
# (metric or "quota", label, kind, deals list filters or None)
COLUMNS: list[tuple[str, Any, str, dict[str, str] | None]] = [
    ("won_amount", gettext_lazy("Closed won"), "money", {"status": "won"}),
    ("forecast_commit", gettext_lazy("Commit"), "money", {"status": "open", "forecast_category": "commit"}),
    (
        "forecast_best_case",
        gettext_lazy("Best case"),
        "money",
        {"status": "open", "forecast_category": "best_case"},
    ),
    ("forecast_weighted", gettext_lazy("Weighted"), "money", {"status": "open"}),
    ("quota", gettext_lazy("Quota"), "money", None),
    ("quota_attainment", gettext_lazy("Attainment"), "rate", {"status": "won"}),
    ("pipeline_coverage", gettext_lazy("Coverage"), "ratio", None),
    ("forecast_accuracy", gettext_lazy("Forecast accuracy"), "rate", None),
]
# The categories of open deals, in the order the drill-down lists them.
OPEN_CATEGORIES = [
    ForecastCategory.COMMIT,
    ForecastCategory.BEST_CASE,
    ForecastCategory.PIPELINE,
    ForecastCategory.OMITTED,
]
SALES_ROLES = (Role.SALES_REP, Role.SALES_MANAGER)
DRILL_PAGES = frozenset({"quota", "quota_attainment", "pipeline_coverage", "forecast_accuracy"})


def quotas(tenant: Any, period: Period, people: common.People) -> dict[tuple[str, str], Decimal | None]:
    """Quota of every owner, team and the tenant for the period (KPIS.md "Quotas"): an owner's own rows; a
    team's rows for a month, else the sum of its members' owner rows; the tenant's rows for a month, else the
    sum of all owner rows; a period's quota is the sum of its months. One query on the (small) quota table."""
    months = []
    month = period.start
    while month < period.end:
        months.append(month)
        month = add_months(month, 1)
    rows = Quota.objects.filter(tenant=tenant, month__in=months).values_list(
        "owner_id", "team_id", "month", "amount"
    )
    email_of = {member.user_id: email for email, member in people.by_email.items()}
    team_name = {pk: name for name, pk in people.team_ids.items()}
    team_of = {
        email: member.team.name for email, member in people.by_email.items() if member.team is not None
    }
    owner_month: dict[tuple[str, datetime.date], Decimal] = defaultdict(Decimal)
    team_month: dict[tuple[str, datetime.date], Decimal] = defaultdict(Decimal)
    tenant_month: dict[datetime.date, Decimal] = defaultdict(Decimal)
    for owner_id, team_id, month_start, amount in rows:
        if owner_id is not None:
            owner_month[(email_of.get(owner_id, str(owner_id)), month_start)] += amount
        elif team_id is not None:
            team_month[(team_name.get(team_id, str(team_id)), month_start)] += amount
        else:
            tenant_month[month_start] += amount
    result: dict[tuple[str, str], Decimal | None] = {}
    owners = {email for email, _m in owner_month}
    for email in owners:
        result[(Dimension.OWNER, email)] = sum(
            (owner_month[(email, m)] for m in months if (email, m) in owner_month), Decimal(0)
        )
    for team in set(people.team_ids) | {name for name, _m in team_month}:
        total, found = Decimal(0), False
        for m in months:
            if (team, m) in team_month:
                total += team_month[(team, m)]
                found = True
            else:
                member_rows = [
                    owner_month[(e, m)] for e in owners if team_of.get(e) == team and (e, m) in owner_month
                ]
                if member_rows:
                    total += sum(member_rows, Decimal(0))
                    found = True
        result[(Dimension.TEAM, team)] = total if found else None
    total, found = Decimal(0), False
    for m in months:
        if m in tenant_month:
            total += tenant_month[m]
            found = True
        else:
            member_rows = [owner_month[(e, m)] for e in owners if (e, m) in owner_month]
            if member_rows:
                total += sum(member_rows, Decimal(0))
                found = True
    result[(Dimension.ALL, "")] = total if found else None
    return result


def default_scope(req: TenantHttpRequest) -> tuple[str, str]:
    membership = req.membership
    if membership.role == Role.SALES_REP:
        return Dimension.OWNER, membership.user.email
    if membership.role == Role.SALES_MANAGER and membership.team is not None:
        return Dimension.TEAM, membership.team.name
    return Dimension.ALL, ""


def parse_scope(req: TenantHttpRequest, people: common.People) -> tuple[str, str]:
    raw = req.GET.get("scope") or ""
    dimension, _sep, value = raw.partition(":")
    if dimension == Dimension.ALL:
        return Dimension.ALL, ""
    if (
        dimension in (Dimension.TEAM, Dimension.OWNER)
        and value
        and common.can_see(req, dimension, value, people)
    ):
        return dimension, value
    return default_scope(req)


def scope_deals(
    req: TenantHttpRequest, period: Period, scope: tuple[str, str], people: common.People
) -> list[Opportunity]:
    """Open deals closing in the period within the scope, that the member may see (the deals area's rules)."""
    deals = opportunity_base(tenant=req.tenant, membership=req.membership).filter(
        stage__kind=StageKind.OPEN, expected_close_date__gte=period.start, expected_close_date__lt=period.end
    )
    dimension, value = scope
    if dimension == Dimension.OWNER:
        deals = deals.filter(owner_id=people.owner_id(value) or 0)
    elif dimension == Dimension.TEAM:
        emails = people.team_members.get(value, [])
        deals = deals.filter(
            owner_id__in=[people.owner_id(email) for email in emails if people.owner_id(email)]
        )
    return list(
        deals.select_related("account", "owner", "stage").order_by("-amount_reporting", "id")[:DEALS_CAP]
    )


def build(request: HttpRequest) -> dict[str, Any]:
    req = tenant_request(request)
    tenant = req.tenant
    picked = common.pickers(req, grains=("month", "quarter"), ahead=4)
    period = picked.period
    fiscal = tenant.fiscal_year_start_month
    values = common.read_values(
        tenant=tenant,
        visibility=common.visibility(req),
        metrics=[metric for metric, *_rest in COLUMNS if metric != "quota"],
        grain=picked.grain,
        first=period.start,
        last=period.start,
        dimensions=[Dimension.ALL, Dimension.TEAM, Dimension.OWNER],
    )
    people = common.people(tenant)
    quota = quotas(tenant, period, people)
    targets: list[tuple[str, str, str]] = [(Dimension.ALL, "", _("Whole company"))]
    teams = sorted(set(people.team_ids) | set(values.values_of(Dimension.TEAM)))
    targets += [
        (Dimension.TEAM, team, team) for team in teams if common.can_see(req, Dimension.TEAM, team, people)
    ]
    owners = {
        email
        for email, member in people.by_email.items()
        if member.role in SALES_ROLES and member.status == MembershipStatus.ACTIVE
    } | set(values.values_of(Dimension.OWNER))
    targets += sorted(
        (
            (Dimension.OWNER, email, people.owner_name(email))
            for email in owners
            if common.can_see(req, Dimension.OWNER, email, people)
        ),
        key=lambda t: t[2].lower(),
    )
    scope = parse_scope(req, people)
    table = Table(
        "forecast",
        _("Forecast"),
        [Column("who", _("Who")), Column("level", _("Level"))]
        + [Column(metric, str(label)) for metric, label, _kind, _f in COLUMNS],
    )
    levels: dict[str, str] = {
        Dimension.ALL: _("Company"),
        Dimension.TEAM: _("Team"),
        Dimension.OWNER: _("Rep"),
    }
    for dimension, value, name in targets:
        filters = common.owner_team_filters(people, dimension, value)
        scope_link = (
            "?" + common.query_string(req, scope=f"{dimension}:{value}", export=None) + "#forecast-deals"
        )
        row = [
            Cell(name, link=scope_link, testid=f"forecast-who-{dimension}-{value}"),
            Cell(str(levels[dimension])),
        ]
        for metric, _label, kind, deal_filters in COLUMNS:
            number = (
                quota.get((dimension, value))
                if metric == "quota"
                else values.get(metric, period.start, dimension, value)
            )
            link = ""
            if metric in DRILL_PAGES:
                # Quota, attainment, coverage and accuracy have their own page (the won deals, open deals and
                # quota rows or forecast snapshots behind them).
                link = (
                    common.drill_link(tenant, metric, period, dimension, value) if number is not None else ""
                )
            elif deal_filters is not None and filters is not None and number is not None:
                link = common.deals_link(tenant, period, **deal_filters, **filters)
            testid = f"forecast-{metric}-{dimension}-{value}"
            row.append(Cell(number, kind, link=link, testid=testid))
        table.rows.append(row)
    table.export_url = "?" + common.query_string(req, export=table.key)
    deals = scope_deals(req, period, scope, people)
    access = DealAccess(req.membership)
    groups = []
    for category in OPEN_CATEGORIES:
        in_category = [deal for deal in deals if deal.forecast_category == category]
        for deal in in_category:
            deal.can_edit_category = access.can_edit(deal)  # type: ignore[attr-defined]
        groups.append(
            {
                "category": category,
                "label": ForecastCategory(category).label,
                "deals": in_category,
                "total": sum((deal.amount_reporting for deal in in_category), Decimal(0)),
            }
        )
    scope_name = next((name for d, v, name in targets if (d, v) == scope), _("Whole company"))
    chart = {
        "labels": [str(label) for metric, label, _k, _f in COLUMNS[:5]],
        "datasets": [
            {
                "label": scope_name,
                "data": [
                    None
                    if (
                        n := (
                            quota.get(scope)
                            if metric == "quota"
                            else values.get(metric, period.start, *scope)
                        )
                    )
                    is None
                    else float(n)
                    for metric, *_rest in COLUMNS[:5]
                ],
            }
        ],
    }
    return {
        "picked": picked,
        "period_options": picked.period_options(fiscal),
        "period_label": period.label(fiscal),
        "grains": [(g, label) for g, label in common.GRAIN_CHOICES if g in ("month", "quarter")],
        "tables": [table],
        "charts": {"forecast": chart},
        "groups": groups,
        "scope_name": scope_name,
        "deals_capped": len(deals) >= DEALS_CAP,
        "category_choices": [(c, ForecastCategory(c).label) for c in OPEN_CATEGORIES],
        "currency": tenant.currency,
    }


@tenant_member_required
@require_GET
def forecast(request: HttpRequest, slug: str) -> HttpResponse:
    req = tenant_request(request)
    return common.render_dashboard(req, "sales_ops/forecast.html", "forecast", build(request))  # type: ignore[no-any-return]


@tenant_member_required
@require_POST
def forecast_category(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Change an open deal's forecast category (accounts' deal service: its rules and optimistic locking)."""
    req = tenant_request(request)
    try:
        deal = opportunity_get(tenant=req.tenant, membership=req.membership, pk=pk)
    except ObjectDoesNotExist:
        raise Http404 from None
    if deal.stage.kind != StageKind.OPEN or not DealAccess(req.membership).can_edit(deal):
        raise Http404
    error = ""
    saved = False
    try:
        deal = opportunity_update(
            tenant=req.tenant,
            actor=req.user,
            opportunity=deal,
            version=int(request.POST.get("version") or 0),
            forecast_category=request.POST.get("forecast_category", ""),
        )
        saved = True
    except ConflictError:
        error = _("Someone else changed this deal meanwhile; here is its current category. Try again.")
    except ValidationError as exc:
        error = " ".join(exc.messages)
    except ValueError:
        error = _("Reload the page and try again.")
    deal = opportunity_get(tenant=req.tenant, membership=req.membership, pk=pk)
    deal.can_edit_category = True  # type: ignore[attr-defined]
    context = {
        "deal": deal,
        "saved": saved,
        "error": error,
        "category_choices": [(c, ForecastCategory(c).label) for c in OPEN_CATEGORIES],
    }
    return render(request, "sales_ops/partials/_forecast_deal.html", context)
