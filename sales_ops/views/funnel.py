"""The funnel: leads -> MQL -> SQL -> converted -> won for a period, per segment (source, source kind, campaign,
owner, team, region), with the previous period and the change. Inbound and incentive side by side when the
segment is "source kind" with no value: quality against quantity."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from crm.decorators import tenant_member_required
from crm.types import tenant_request
from leads.models import Campaign, LeadSource, SourceKind
from sales_ops.metrics import LEAD_METRICS
from sales_ops.models import Dimension, KpiSnapshot
from sales_ops.views import common
from sales_ops.views.common import Values
from sales_ops.views.periods import Period
from sales_ops.views.tables import Cell, Column, Table, delta

SEGMENT_DIMENSIONS = (
    Dimension.ALL,
    Dimension.SOURCE,
    Dimension.SOURCE_KIND,
    Dimension.CAMPAIGN,
    Dimension.OWNER,
    Dimension.TEAM,
    Dimension.REGION,
)
MAX_SEGMENTS = 8

# (key, label, count: (metric, times metric or None), rate metric, rate basis, lead statuses of the drill-down)
STAGES: list[tuple[str, Any, tuple[str, str | None], str | None, Any, tuple[str, ...]]] = [
    ("leads", gettext_lazy("Leads"), ("leads_created", None), None, "", ()),
    (
        "mql",
        gettext_lazy("MQL"),
        ("leads_mql", None),
        "lead_to_mql_rate",
        gettext_lazy("of leads created"),
        ("mql", "sql", "converted"),
    ),
    (
        "sql",
        gettext_lazy("SQL"),
        ("leads_mql", "mql_to_sql_rate"),
        "mql_to_sql_rate",
        gettext_lazy("of MQLs"),
        ("sql", "converted"),
    ),
    (
        "converted",
        gettext_lazy("Converted"),
        ("leads_created", "lead_conversion_rate"),
        "lead_conversion_rate",
        gettext_lazy("of leads created"),
        ("converted",),
    ),
    (
        "won",
        gettext_lazy("Won"),
        ("leads_created", "lead_to_win_rate"),
        "lead_to_win_rate",
        gettext_lazy("of leads created"),
        ("converted",),
    ),
]


def stage_count(values: Values, period: Period, stage: tuple, dimension: str, value: str) -> Decimal | None:
    """A stage's count: a count metric, or a cohort times its rate (the rate is that cohort's fraction, so the
    product is a whole number up to the stored precision)."""
    base_metric, rate_metric = stage[2]
    base = values.get(base_metric, period.start, dimension, value)
    if rate_metric is None or base is None:
        return base
    rate = values.get(rate_metric, period.start, dimension, value)
    if rate is None:
        return Decimal(0) if base == 0 else None
    return (base * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def _segment_label(dimension: str, value: str, people: common.People) -> str:
    if dimension == Dimension.ALL:
        return _("All leads")
    if dimension == Dimension.OWNER:
        return people.owner_name(value)
    if dimension == Dimension.SOURCE_KIND and value in SourceKind.values:
        return str(SourceKind(value).label)
    return value


def _lead_filters(tenant: Any, dimension: str, values: list[str], people: common.People) -> dict[str, dict]:
    """The leads list's filter for each segment value; a value the list cannot filter by has none."""
    if dimension == Dimension.ALL:
        return {"": {}}
    if dimension in (Dimension.SOURCE_KIND, Dimension.REGION):
        return {value: {dimension: value} for value in values}
    if dimension == Dimension.OWNER:
        return {value: {"owner": people.owner_id(value)} for value in values if people.owner_id(value)}
    if dimension == Dimension.SOURCE:
        sources = LeadSource.objects.filter(tenant=tenant, name__in=values, deleted_at=None)
        return {name: {"source": pk} for pk, name in sources.values_list("pk", "name")}
    if dimension == Dimension.CAMPAIGN:
        campaigns = Campaign.objects.filter(tenant=tenant, name__in=values, deleted_at=None)
        return {name: {"campaign": pk} for pk, name in campaigns.values_list("pk", "name")}
    return {}


def build(request: HttpRequest) -> dict[str, Any]:
    req = tenant_request(request)
    tenant = req.tenant
    picked = common.pickers(req, dimensions=SEGMENT_DIMENSIONS, ahead=0)
    period, previous = picked.period, picked.period.previous
    dimension = picked.dimension
    visible = common.visibility(req)
    dims = [Dimension.ALL] if dimension == Dimension.ALL else [Dimension.ALL, dimension]
    values = common.read_values(
        tenant=tenant,
        visibility=visible,
        metrics=LEAD_METRICS,
        grain=picked.grain,
        first=previous.start,
        last=period.start,
        dimensions=dims,
        dimension_value=picked.dimension_value or None,
    )
    people = common.people(tenant) if dimension in (Dimension.OWNER, Dimension.TEAM) else common.People()
    value_options: list[str] = []
    if dimension != Dimension.ALL:
        options = KpiSnapshot.objects.filter(
            tenant=tenant,
            snapshot_set__is_current=True,
            metric="leads_created",
            grain=picked.grain,
            dimension=dimension,
        )
        if visible is not None:
            options = options.filter(visible)
        value_options = sorted(set(options.values_list("dimension_value", flat=True)))
    if dimension == Dimension.ALL:
        segment_values = [""]
    elif picked.dimension_value:
        segment_values = [picked.dimension_value]
    elif dimension == Dimension.SOURCE_KIND:
        segment_values = [kind for kind in SourceKind.values if kind in value_options] or list(
            SourceKind.values
        )
    else:
        segment_values = values.values_of(dimension)[:MAX_SEGMENTS]
    seg_dimension = dimension
    filters = _lead_filters(tenant, dimension, segment_values, people)
    segments: list[dict[str, Any]] = []
    for value in segment_values:
        stages = []
        for stage in STAGES:
            key, label, _count, rate_metric, basis, statuses = stage
            count = stage_count(values, period, stage, seg_dimension, value)
            before = stage_count(values, previous, stage, seg_dimension, value)
            rate = values.get(rate_metric, period.start, seg_dimension, value) if rate_metric else None
            rate_before = (
                values.get(rate_metric, previous.start, seg_dimension, value) if rate_metric else None
            )
            link = previous_link = ""
            if value in filters and count is not None:
                link = common.leads_link(tenant, period, statuses=statuses, extra=filters[value])
            if value in filters and before is not None:
                previous_link = common.leads_link(tenant, previous, statuses=statuses, extra=filters[value])
            stages.append(
                {
                    "key": key,
                    "label": str(label),
                    "basis": str(basis),
                    "count": count,
                    "previous": before,
                    "rate": rate,
                    "rate_previous": rate_before,
                    "link": link,
                    "previous_link": previous_link,
                    "has_rate": rate_metric is not None,
                }
            )
        segments.append(
            {"value": value, "label": _segment_label(seg_dimension, value, people), "stages": stages}
        )
    table = _table(segments)
    table.export_url = "?" + common.query_string(req, export="funnel")
    charts = [
        {
            "title": segment["label"],
            "labels": [stage["label"] for stage in segment["stages"]],
            "values": [None if s["count"] is None else float(s["count"]) for s in segment["stages"]],
            "previous": [None if s["previous"] is None else float(s["previous"]) for s in segment["stages"]],
        }
        for segment in segments
    ]
    return {
        "picked": picked,
        "period_options": picked.period_options(tenant.fiscal_year_start_month),
        "period_label": period.label(tenant.fiscal_year_start_month),
        "previous_label": previous.label(tenant.fiscal_year_start_month),
        "dimension_choices": [(d, common.dimension_label(d)) for d in SEGMENT_DIMENSIONS],
        "value_options": [
            {
                "value": v,
                "label": _segment_label(dimension, v, people),
                "selected": v == picked.dimension_value,
            }
            for v in value_options
        ],
        "segments": segments,
        "charts": {"funnels": charts},
        "tables": [table],
    }


def _table(segments: list[dict[str, Any]]) -> Table:
    if len(segments) == 1:
        columns = [
            Column("stage", _("Stage")),
            Column("count", _("Count")),
            Column("rate", _("Conversion rate")),
            Column("basis", _("Rate of")),
            Column("previous", _("Previous period")),
            Column("delta", _("Change")),
            Column("rate_previous", _("Previous rate")),
            Column("rate_delta", _("Rate change")),
        ]
        rows = []
        for stage in segments[0]["stages"]:
            rows.append(
                [
                    Cell(stage["label"]),
                    Cell(stage["count"], "count", link=stage["link"], testid=f"funnel-{stage['key']}"),
                    Cell(stage["rate"], "rate", link=stage["link"]) if stage["has_rate"] else Cell(""),
                    Cell(stage["basis"]),
                    Cell(stage["previous"], "count", link=stage["previous_link"]),
                    Cell(delta(stage["count"], stage["previous"]), "delta_count"),
                    Cell(stage["rate_previous"], "rate", link=stage["previous_link"])
                    if stage["has_rate"]
                    else Cell(""),
                    Cell(delta(stage["rate"], stage["rate_previous"]), "delta_rate")
                    if stage["has_rate"]
                    else Cell(""),
                ]
            )
        return Table("funnel", _("Funnel"), columns, rows)
    columns = [Column("stage", _("Stage"))]
    for segment in segments:
        columns += [
            Column(f"{segment['value']}-count", _("%(segment)s: count") % {"segment": segment["label"]}),
            Column(f"{segment['value']}-rate", _("%(segment)s: rate") % {"segment": segment["label"]}),
            Column(f"{segment['value']}-delta", _("%(segment)s: change") % {"segment": segment["label"]}),
        ]
    rows = []
    for index, stage in enumerate(STAGES):
        row = [Cell(str(stage[1]))]
        for segment in segments:
            s = segment["stages"][index]
            row += [
                Cell(s["count"], "count", link=s["link"], testid=f"funnel-{segment['value']}-{s['key']}"),
                Cell(s["rate"], "rate", link=s["link"]) if s["has_rate"] else Cell(""),
                Cell(delta(s["count"], s["previous"]), "delta_count"),
            ]
        rows.append(row)
    return Table("funnel", _("Funnel"), columns, rows)


@tenant_member_required
@require_GET
def funnel(request: HttpRequest, slug: str) -> HttpResponse:
    req = tenant_request(request)
    return common.render_dashboard(req, "sales_ops/dashboard_funnel.html", "funnel", build(request))  # type: ignore[no-any-return]
