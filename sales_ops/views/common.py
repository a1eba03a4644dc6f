"""What every dashboard shares: the snapshot state ("as of", stale), the visible snapshot rows of a page (one
query), the people behind owner and team rows (one query), the grain/period/segment pickers and the drill-down
links into the leads and deals lists. Pages read snapshots (and small tables: members, quotas) only, so their
cost does not grow with the number of leads or deals."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.dates import tenant_today
from crm.models import Membership, MembershipStatus, Role, Tenant
from crm.types import TenantHttpRequest
from sales_ops.models import (
    Dimension,
    KpiRecompute,
    KpiSettings,
    KpiSnapshot,
    KpiSnapshotSet,
    RecomputeStatus,
)
from sales_ops.selectors.kpis import snapshot_visibility
from sales_ops.views.periods import Period, parse_period, period_choices

# Who may start a recompute (the same roles as the API's POST kpis/recompute/).
RECOMPUTE_ROLES = frozenset({Role.ADMIN, Role.OPS, Role.SALES_MANAGER})

# Sums and counts: a group (owner, source...) with no row in a period had no records, so it reads 0 (KPIS.md
# "a reader treats a missing row as null, or 0 for such a group"); rates and means stay null.
ZERO_WHEN_MISSING = frozenset(
    {
        "leads_created",
        "leads_mql",
        "opps_created",
        "opps_won",
        "opps_lost",
        "won_amount",
        "lost_amount",
        "open_pipeline",
        "weighted_pipeline",
        "forecast_commit",
        "forecast_best_case",
        "forecast_weighted",
        "calls_logged",
        "emails_logged",
        "meetings_logged",
        "activities_logged",
    }
)

GRAIN_CHOICES = [
    ("month", gettext_lazy("Month")),
    ("quarter", gettext_lazy("Quarter")),
    ("year", gettext_lazy("Year")),
]


@dataclass
class SnapshotState:
    snapshot_set: KpiSnapshotSet | None
    stale_after_minutes: int
    job: KpiRecompute | None

    @property
    def as_of(self) -> datetime.datetime | None:
        return self.snapshot_set.computed_at if self.snapshot_set else None

    @property
    def stale(self) -> bool:
        if self.snapshot_set is None:
            return True
        return timezone.now() - self.snapshot_set.computed_at > datetime.timedelta(
            minutes=self.stale_after_minutes
        )


def snapshot_state(tenant: Tenant) -> SnapshotState:
    """The current set's time, the tenant's stale setting and a recompute still queued or running (3 queries)."""
    current = KpiSnapshotSet.objects.filter(tenant=tenant, is_current=True).only("computed_at").first()
    settings = KpiSettings.objects.filter(tenant=tenant).only("stale_after_minutes").first()
    job = (
        KpiRecompute.objects.filter(
            tenant=tenant, status__in=[RecomputeStatus.QUEUED, RecomputeStatus.RUNNING]
        )
        .only("status", "progress")
        .first()
    )
    stale_after = (
        settings.stale_after_minutes
        if settings
        else KpiSettings._meta.get_field("stale_after_minutes").default
    )
    return SnapshotState(snapshot_set=current, stale_after_minutes=int(stale_after), job=job)


class Values:
    """Snapshot values by (metric, period_start, dimension, dimension_value); a missing row reads as null, or 0
    for a counted metric of a group other than `all`."""

    def __init__(self, rows: Iterable[tuple[str, datetime.date, str, str, Decimal | None]]) -> None:
        self._rows = {(m, p, d, v): value for m, p, d, v, value in rows}

    def get(
        self, metric: str, period: datetime.date, dimension: str = Dimension.ALL, value: str = ""
    ) -> Decimal | None:
        key = (metric, period, dimension, value)
        if key in self._rows:
            return self._rows[key]
        if dimension != Dimension.ALL and metric in ZERO_WHEN_MISSING:
            return Decimal(0)
        return None

    def values_of(self, dimension: str) -> list[str]:
        return sorted({key[3] for key in self._rows if key[2] == dimension and key[3]})


def read_values(
    *,
    tenant: Tenant,
    visibility: Q | None,
    metrics: Iterable[str],
    grain: str,
    first: datetime.date,
    last: datetime.date,
    dimensions: Iterable[str] = (Dimension.ALL,),
    dimension_value: str | None = None,
) -> Values:
    """One query: the visible rows of the current set for the metrics, grain, periods [first, last] and
    dimensions (and one dimension value when given; `all` rows always come along)."""
    rows = KpiSnapshot.objects.filter(
        tenant=tenant,
        snapshot_set__is_current=True,
        metric__in=list(metrics),
        grain=grain,
        period_start__gte=first,
        period_start__lte=last,
        dimension__in=list(dimensions),
    )
    if dimension_value is not None:
        rows = rows.filter(Q(dimension=Dimension.ALL) | Q(dimension_value=dimension_value))
    if visibility is not None:
        rows = rows.filter(visibility)
    return Values(rows.values_list("metric", "period_start", "dimension", "dimension_value", "value"))


@dataclass
class People:
    """Members and teams of the tenant (one query): names for owner rows, ids for drill-down links."""

    by_email: dict[str, Membership] = field(default_factory=dict)
    team_ids: dict[str, int] = field(default_factory=dict)
    team_members: dict[str, list[str]] = field(default_factory=dict)

    def owner_name(self, email: str) -> str:
        member = self.by_email.get(email)
        # An invited member's name is not shown (Membership.shown_name): their email stands for them.
        if member is None or member.status == MembershipStatus.INVITED:
            return email
        return member.user.display_name

    def owner_id(self, email: str) -> int | None:
        member = self.by_email.get(email)
        return member.user_id if member else None


def people(tenant: Tenant) -> People:
    result = People()
    # Every status: history imported for invited or deactivated owners counts like anyone's (issue 10).
    members = Membership.objects.filter(tenant=tenant)
    for member in members.select_related("user", "team"):
        result.by_email[member.user.email] = member
        if member.team is not None:
            result.team_ids[member.team.name] = member.team_id  # type: ignore[assignment]
            result.team_members.setdefault(member.team.name, []).append(member.user.email)
    return result


def visibility(request: TenantHttpRequest) -> Q | None:
    """The KPI API's rule (sales_ops.selectors.kpis.snapshot_visibility), computed once per request."""
    cached = getattr(request, "_kpi_visibility", False)
    if cached is False:
        cached = snapshot_visibility(request.membership)
        request._kpi_visibility = cached  # type: ignore[attr-defined]
    return cached if isinstance(cached, Q) else None


def can_see(request: TenantHttpRequest, dimension: str, value: str, people_: People) -> bool:
    """Whether the member reads rows of (dimension, value): the same rule as the rows themselves
    (sales_ops.selectors.kpis.snapshot_visibility: a manager's own team and its members, themselves)."""
    membership = request.membership
    if membership.role in (Role.ADMIN, Role.OPS) or dimension == Dimension.ALL:
        return True
    if membership.role == Role.SALES_MANAGER:
        if dimension == Dimension.TEAM:
            return membership.team is not None and membership.team.name == value
        if dimension != Dimension.OWNER:
            return False
        if value == membership.user.email:
            return True
        member = people_.by_email.get(value)
        return member is not None and membership.team_id is not None and member.team_id == membership.team_id
    if membership.role == Role.SALES_REP:
        return dimension == Dimension.OWNER and value == membership.user.email
    return False


@dataclass
class Pickers:
    grain: str
    period: Period
    today: datetime.date
    dimension: str
    dimension_value: str
    periods: list[Period]

    def period_options(self, fiscal_start: int) -> list[dict[str, Any]]:
        return [
            {"value": p.start.isoformat(), "label": p.label(fiscal_start), "selected": p == self.period}
            for p in self.periods
        ]


def pickers(
    request: TenantHttpRequest,
    *,
    grains: tuple[str, ...] = ("month", "quarter", "year"),
    dimensions: tuple[str, ...] = (Dimension.ALL,),
    ahead: int = 4,
) -> Pickers:
    """The grain, period and segment (dimension and value) asked for, each falling back to a default."""
    tenant = request.tenant
    today = tenant_today(tenant)
    grain = request.GET.get("grain") or grains[0]
    if grain not in grains:
        grain = grains[0]
    period = parse_period(tenant, grain, request.GET.get("period"), today)
    dimension = request.GET.get("dimension") or Dimension.ALL
    if dimension not in dimensions:
        dimension = Dimension.ALL
    value = (request.GET.get("value") or "").strip() if dimension != Dimension.ALL else ""
    return Pickers(
        grain=grain,
        period=period,
        today=today,
        dimension=dimension,
        dimension_value=value,
        periods=period_choices(tenant, grain, today, ahead=ahead),
    )


def dimension_label(dimension: str) -> str:
    return str(Dimension(dimension).label)


def query_string(request: TenantHttpRequest, **changes: str | None) -> str:
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()


# Drill-down links into the existing list pages (their own visibility applies: a person sees only their records).


def leads_link(
    tenant: Tenant, period: Period, *, statuses: Iterable[str] = (), extra: dict[str, Any] | None = None
) -> str:
    params: list[tuple[str, Any]] = [
        ("created_from", period.start.isoformat()),
        ("created_to", period.last_day.isoformat()),
    ]
    params += [("status", status) for status in statuses]
    params += list((extra or {}).items())
    return reverse("leads:lead-list", kwargs={"slug": tenant.slug}) + "?" + urlencode(params)


def deals_link(tenant: Tenant, period: Period | None, **filters: Any) -> str:
    params: dict[str, Any] = {}
    if period is not None:
        params.update(
            {
                "close": "custom",
                "close_from": period.start.isoformat(),
                "close_to": period.last_day.isoformat(),
            }
        )
    params.update({key: value for key, value in filters.items() if value not in (None, "")})
    return reverse("accounts:opportunity-list", kwargs={"slug": tenant.slug}) + "?" + urlencode(params)


def activities_link(tenant: Tenant, period: Period, kinds: Iterable[str], owner: int) -> str:
    """The activity list of an owner's done activities of `kinds` that occurred in the period (local midnights,
    as the engine counts them)."""
    zone = tenant.tzinfo
    params: list[tuple[str, Any]] = [("kind", kind) for kind in kinds]
    params += [
        ("owner", owner),
        ("done", "true"),
        ("occurred_after", datetime.datetime.combine(period.start, datetime.time.min, zone).isoformat()),
        ("occurred_before", datetime.datetime.combine(period.end, datetime.time.min, zone).isoformat()),
    ]
    return reverse("accounts:activity-list", kwargs={"slug": tenant.slug}) + "?" + urlencode(params)


def drill_link(
    tenant: Tenant, metric: str, period: Period, dimension: str = Dimension.ALL, value: str = ""
) -> str:
    """The drill-down of a dashboard number."""
    scope = f"{dimension}:{value}" if dimension != Dimension.ALL else Dimension.ALL
    query = urlencode({"grain": period.grain, "period": period.start.isoformat(), "scope": scope}, safe=":@")
    return reverse("sales_ops:drilldown", kwargs={"slug": tenant.slug, "metric": metric}) + "?" + query


def owner_team_filters(people_: People, dimension: str, value: str) -> dict[str, Any] | None:
    """The deals list's owner/team filter for a segment; None when the list cannot filter by it."""
    if dimension == Dimension.ALL:
        return {}
    if dimension == Dimension.OWNER:
        owner = people_.owner_id(value)
        return {"owner": owner} if owner else None
    if dimension == Dimension.TEAM:
        team = people_.team_ids.get(value)
        return {"team": team} if team else None
    return None


def base_context(request: TenantHttpRequest, page: str, state: SnapshotState) -> dict[str, Any]:
    return {
        "can_edit_quotas": request.membership.role in RECOMPUTE_ROLES,
        "page": page,
        "state": state,
        "can_recompute": request.membership.role in RECOMPUTE_ROLES,
        "is_manager": request.membership.role == Role.SALES_MANAGER,
        "grain_choices": GRAIN_CHOICES,
        "null_text": _("—"),
    }


def export(tables: list[Any], key: str, request: TenantHttpRequest, page: str, picked: Pickers | None) -> Any:
    """The CSV of the table `key` of a page (404 for an unknown table)."""
    from django.http import Http404

    from sales_ops.views.tables import csv_response

    for table in tables:
        if table.key == key:
            suffix = f"-{picked.grain}-{picked.period.start.isoformat()}" if picked else ""
            return csv_response(table, f"{request.tenant.slug}-{page}-{key}{suffix}.csv")
    raise Http404


def render_dashboard(request: TenantHttpRequest, template: str, page: str, data: dict[str, Any]) -> Any:
    """A dashboard page, or the CSV of one of its tables (`?export=<table key>`), from the same data."""
    import json

    from django.shortcuts import render

    export_key = request.GET.get("export")
    if export_key:
        return export(data.get("tables", []), export_key, request, page, data.get("picked"))
    state = snapshot_state(request.tenant)
    context = {**base_context(request, page, state), **data}
    context["charts_json"] = json.dumps(data.get("charts", {}), default=str)
    return render(request, template, context)
