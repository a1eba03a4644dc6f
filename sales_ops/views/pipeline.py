"""The pipeline: open pipeline by close period, the period's numbers against the previous period, and the trends
of win rate, cycle length (mean and median), deal size and sales velocity over the last 12 periods."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounts.models import DEFAULT_STAGE_LABELS, OpportunityType, Pipeline, Stage, StageKind
from crm.decorators import tenant_member_required
from crm.models import Role
from crm.types import TenantHttpRequest, tenant_request
from sales_ops.models import Dimension, KpiSnapshot
from sales_ops.views import common
from sales_ops.views.periods import Period
from sales_ops.views.tables import Cell, Column, Table, delta, delta_kind

SEGMENT_DIMENSIONS = (Dimension.ALL, Dimension.OWNER, Dimension.TEAM, Dimension.PIPELINE, Dimension.TYPE)
TREND_PERIODS = 12
AHEAD_PERIODS = 6

# (metric, label, kind, drill-down: deal status or "" for none)
SUMMARY = [
    ("open_pipeline", gettext_lazy("Open pipeline"), "money", "open"),
    ("weighted_pipeline", gettext_lazy("Weighted pipeline"), "money", "open"),
    ("opps_won", gettext_lazy("Deals won"), "count", "won"),
    ("won_amount", gettext_lazy("Won amount"), "money", "won"),
    ("opps_lost", gettext_lazy("Deals lost"), "count", "lost"),
    ("win_rate", gettext_lazy("Win rate"), "rate", "won"),
    ("avg_deal_size", gettext_lazy("Average deal size"), "money", "won"),
    ("avg_sales_cycle_days", gettext_lazy("Sales cycle, mean (days)"), "days", "won"),
    ("median_sales_cycle_days", gettext_lazy("Sales cycle, median (days)"), "days", "won"),
    ("sales_velocity", gettext_lazy("Sales velocity (per day)"), "money", "won"),
]
CLOSE_PERIOD = [
    ("open_pipeline", gettext_lazy("Open pipeline"), "money", {"status": "open"}),
    ("weighted_pipeline", gettext_lazy("Weighted pipeline"), "money", {"status": "open"}),
    ("forecast_commit", gettext_lazy("Commit"), "money", None),
    ("forecast_best_case", gettext_lazy("Best case"), "money", None),
]
TRENDS = [
    ("win_rate", gettext_lazy("Win rate"), "rate"),
    ("avg_sales_cycle_days", gettext_lazy("Cycle, mean (days)"), "days"),
    ("median_sales_cycle_days", gettext_lazy("Cycle, median (days)"), "days"),
    ("avg_deal_size", gettext_lazy("Average deal size"), "money"),
    ("sales_velocity", gettext_lazy("Sales velocity (per day)"), "money"),
]
STAGE_METRICS = ("open_pipeline", "weighted_pipeline")
METRICS = {m for m, *_rest in SUMMARY} | {m for m, *_rest in CLOSE_PERIOD} | {m for m, *_rest in TRENDS}


def segment_deal_filters(
    tenant: Any, dimension: str, value: str, people: common.People
) -> dict[str, Any] | None:
    """The deals list's filters for a segment; None when it cannot filter by it (then numbers do not link)."""
    if dimension == Dimension.PIPELINE:
        pipeline = Pipeline.objects.filter(tenant=tenant, name=value).values_list("pk", flat=True).first()
        return {"pipeline": pipeline} if pipeline else None
    if dimension == Dimension.TYPE:
        return {"type": value} if value in OpportunityType.values else None
    return common.owner_team_filters(people, dimension, value)


def segment_value_options(
    req: TenantHttpRequest, dimension: str, grain: str, metric: str = "opps_created"
) -> list[str]:
    if dimension == Dimension.ALL:
        return []
    rows = KpiSnapshot.objects.filter(
        tenant=req.tenant, snapshot_set__is_current=True, grain=grain, dimension=dimension, metric=metric
    )
    visible = common.visibility(req)
    if visible is not None:
        rows = rows.filter(visible)
    return sorted(set(rows.values_list("dimension_value", flat=True)))


def open_stages(tenant: Any) -> list[tuple[str, int | None]]:
    """The open stages' names in board order (default pipeline first) with the stage id for the deals list's
    filter, or None when several pipelines have a stage of that name (the row sums them; one query)."""
    names: dict[str, int | None] = {}
    rows = (
        Stage.objects.filter(tenant=tenant, kind=StageKind.OPEN)
        .order_by("-pipeline__is_default", "pipeline__order", "pipeline__name", "order")
        .values_list("name", "pk")
    )
    for name, pk in rows:
        names[name] = None if name in names else pk
    return list(names.items())


def sees_stages(req: TenantHttpRequest) -> bool:
    """The `stage` rows are a breakdown of the whole tenant: admin and ops read them (the KPI API's rule)."""
    return req.membership.role in (Role.ADMIN, Role.OPS)


def option_label(dimension: str, value: str, people: common.People) -> str:
    if dimension == Dimension.OWNER:
        return people.owner_name(value)
    if dimension == Dimension.TYPE and value in OpportunityType.values:
        return str(OpportunityType(value).label)
    return value


def build(request: HttpRequest) -> dict[str, Any]:
    req = tenant_request(request)
    tenant = req.tenant
    picked = common.pickers(req, dimensions=SEGMENT_DIMENSIONS, ahead=AHEAD_PERIODS)
    period = picked.period
    dimension, value = picked.dimension, picked.dimension_value
    if dimension != Dimension.ALL and not value:
        dimension = Dimension.ALL  # a breakdown needs one value here; "all" until one is picked
    by_stage = dimension == Dimension.ALL and sees_stages(req)
    values = common.read_values(
        tenant=tenant,
        visibility=common.visibility(req),
        metrics=METRICS,
        grain=picked.grain,
        first=period.shifted(-(TREND_PERIODS - 1)).start,
        last=period.shifted(AHEAD_PERIODS - 1).start,
        dimensions=(
            ([Dimension.ALL, Dimension.STAGE] if by_stage else [Dimension.ALL])
            if dimension == Dimension.ALL
            else [dimension]
        ),
        dimension_value=value if dimension != Dimension.ALL else None,
    )
    people = common.people(tenant)
    filters = segment_deal_filters(tenant, dimension, value, people)
    fiscal = tenant.fiscal_year_start_month
    options = segment_value_options(req, picked.dimension, picked.grain)

    def link(p: Period, status: str, metric: str = "") -> str:
        if metric == "win_rate" and dimension in (Dimension.ALL, Dimension.OWNER, Dimension.TEAM):
            # Win rate's records are the won and the lost deals: its drill-down page lists both.
            return common.drill_link(tenant, metric, p, dimension, value)
        if filters is None or not status:
            return ""
        return common.deals_link(tenant, p, status=status, **filters)

    def forecast_link(p: Period) -> str:
        """Commit and best case drill into the forecast page of the period (its deals behind each number)."""
        if p.grain not in ("month", "quarter") or dimension not in (
            Dimension.ALL,
            Dimension.OWNER,
            Dimension.TEAM,
        ):
            return ""
        query = {"grain": p.grain, "period": p.start.isoformat(), "scope": f"{dimension}:{value}"}
        return reverse("sales_ops:forecast", kwargs={"slug": tenant.slug}) + "?" + urlencode(query)

    summary = Table(
        "summary",
        _("This period"),
        [
            Column("metric", _("Metric")),
            Column("current", period.label(fiscal)),
            Column("previous", period.previous.label(fiscal)),
            Column("change", _("Change")),
        ],
    )
    for metric, label, kind, status in SUMMARY:
        now = values.get(metric, period.start, dimension, value)
        before = values.get(metric, period.previous.start, dimension, value)
        summary.rows.append(
            [
                Cell(str(label)),
                Cell(now, kind, link=link(period, status, metric), testid=f"pipeline-{metric}"),
                Cell(before, kind, link=link(period.previous, status, metric)),
                Cell(delta(now, before), delta_kind(kind)),
            ]
        )
    ahead = [period.shifted(offset) for offset in range(AHEAD_PERIODS)]
    by_close = Table(
        "close",
        _("Open pipeline by close period"),
        [Column("period", _("Close period"))] + [Column(m, str(label)) for m, label, _k, _f in CLOSE_PERIOD],
    )
    for p in ahead:
        row = [Cell(p.label(fiscal))]
        for metric, _label, kind, extra in CLOSE_PERIOD:
            row.append(
                Cell(
                    values.get(metric, p.start, dimension, value),
                    kind,
                    link=link(p, extra["status"]) if extra else forecast_link(p),
                )
            )
        by_close.rows.append(row)
    stage_table = Table(
        "stage",
        _("Open pipeline by stage and close period"),
        [Column("stage", _("Stage"), nowrap=True)]
        + [Column(p.start.isoformat(), p.label(fiscal), nowrap=True) for p in ahead]
        + [Column("weighted", _("Weighted, %(period)s") % {"period": period.label(fiscal)})],
        empty_text=_("No open stages."),
    )
    stage_names: list[str] = []
    if by_stage:
        for name, stage_id in open_stages(tenant):
            stage_names.append(name)
            stage_filter = {"stage": stage_id} if stage_id else {}
            row = [Cell(str(DEFAULT_STAGE_LABELS.get(name, name)))]
            for index, p in enumerate(ahead):
                # A period without the tenant's row (beyond the last open deal's close) is "—" here too.
                known = values.get("open_pipeline", p.start) is not None
                row.append(
                    Cell(
                        values.get("open_pipeline", p.start, Dimension.STAGE, name) if known else None,
                        "money",
                        link=common.deals_link(tenant, p, status="open", **stage_filter),
                        testid=f"stage-{name}" if index == 0 else "",
                    )
                )
            row.append(
                Cell(
                    values.get("weighted_pipeline", period.start, Dimension.STAGE, name),
                    "money",
                    link=common.deals_link(tenant, period, status="open", **stage_filter),
                )
            )
            stage_table.rows.append(row)
    trend_periods = [period.shifted(offset) for offset in range(-(TREND_PERIODS - 1), 1)]
    trends = Table(
        "trends",
        _("Trends"),
        [Column("period", _("Period"))] + [Column(m, str(label)) for m, label, _k in TRENDS],
    )
    for p in trend_periods:
        trends.rows.append(
            [Cell(p.label(fiscal))]
            + [
                Cell(values.get(m, p.start, dimension, value), kind, link=link(p, "won", m))
                for m, _l, kind in TRENDS
            ]
        )
    tables = [summary, by_close, trends] + ([stage_table] if by_stage else [])
    for table in tables:
        table.export_url = "?" + common.query_string(req, export=table.key)

    def series(metric: str, periods: list[Period], scale: float = 1.0) -> list[float | None]:
        result = []
        for p in periods:
            number = values.get(metric, p.start, dimension, value)
            result.append(None if number is None else round(float(number) * scale, 4))
        return result

    trend_labels = [p.label(fiscal) for p in trend_periods]
    charts = {
        "stage": {
            "labels": [str(DEFAULT_STAGE_LABELS.get(n, n)) for n in stage_names],
            "datasets": [
                {
                    "label": str(CLOSE_PERIOD[0][1]),
                    "data": [
                        _number(values.get("open_pipeline", period.start, Dimension.STAGE, n))
                        for n in stage_names
                    ],
                },
                {
                    "label": str(CLOSE_PERIOD[1][1]),
                    "data": [
                        _number(values.get("weighted_pipeline", period.start, Dimension.STAGE, n))
                        for n in stage_names
                    ],
                },
            ],
        },
        "close": {
            "labels": [p.label(fiscal) for p in ahead],
            "datasets": [
                {"label": str(CLOSE_PERIOD[0][1]), "data": series("open_pipeline", ahead)},
                {"label": str(CLOSE_PERIOD[1][1]), "data": series("weighted_pipeline", ahead)},
            ],
        },
        "win_rate": {
            "labels": trend_labels,
            "percent": True,
            "datasets": [{"label": _("Win rate"), "data": series("win_rate", trend_periods, 100)}],
        },
        "cycle": {
            "labels": trend_labels,
            "datasets": [
                {"label": _("Mean"), "data": series("avg_sales_cycle_days", trend_periods)},
                {"label": _("Median"), "data": series("median_sales_cycle_days", trend_periods)},
            ],
        },
        "deal_size": {
            "labels": trend_labels,
            "datasets": [{"label": _("Average deal size"), "data": series("avg_deal_size", trend_periods)}],
        },
        "velocity": {
            "labels": trend_labels,
            "datasets": [{"label": _("Sales velocity"), "data": series("sales_velocity", trend_periods)}],
        },
    }
    return {
        "picked": picked,
        "period_options": picked.period_options(fiscal),
        "dimension_choices": [(d, common.dimension_label(d)) for d in SEGMENT_DIMENSIONS],
        "value_options": [
            {"value": v, "label": option_label(picked.dimension, v, people), "selected": v == value}
            for v in options
        ],
        "board_url": reverse("accounts:opportunity-board", kwargs={"slug": tenant.slug}),
        "charts": charts,
        "tables": tables,
        "summary": summary,
        "by_close": by_close,
        "trends": trends,
        "by_stage": by_stage,
        "period_label": period.label(fiscal),
        "stage_table": stage_table,
    }


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)


@tenant_member_required
@require_GET
def pipeline(request: HttpRequest, slug: str) -> HttpResponse:
    req = tenant_request(request)
    return common.render_dashboard(req, "sales_ops/dashboard_pipeline.html", "pipeline", build(request))  # type: ignore[no-any-return]
