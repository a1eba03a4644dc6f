"""Unit economics: CAC (by campaign too), LTV, LTV:CAC, NRR, GRR, logo churn and MRR over the last 12 periods.
The values come from the lifecycle family of the engine; until it has run they show as "—"."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from crm.decorators import tenant_member_required
from crm.navigation import CS
from crm.types import tenant_request
from leads.models import Campaign
from sales_ops.models import Dimension
from sales_ops.views import common
from sales_ops.views.periods import Period
from sales_ops.views.tables import Cell, Column, Table

# Who opens the lifecycle page's account lists (crm.navigation.CS: admin, cs, sales manager, ops).
LIFECYCLE_VIEWERS = CS
DRILL_FLOWS = {"new_customers": "new_customers", "churned_customers": "churned"}
# Numbers with a drill-down page of their own (sales_ops.views.drilldown), for every role (it lists their records).
DRILL_PAGES = frozenset({"mrr", "logo_churn_rate", "nrr", "grr", "cac", "ltv", "ltv_to_cac"})

TREND_PERIODS = 12
METRICS = [
    ("mrr", gettext_lazy("MRR"), "money"),
    ("new_customers", gettext_lazy("New customers"), "count"),
    ("churned_customers", gettext_lazy("Churned customers"), "count"),
    ("logo_churn_rate", gettext_lazy("Logo churn"), "rate"),
    ("nrr", gettext_lazy("NRR"), "rate"),
    ("grr", gettext_lazy("GRR"), "rate"),
    ("cac", gettext_lazy("CAC"), "money"),
    ("ltv", gettext_lazy("LTV"), "money"),
    ("ltv_to_cac", gettext_lazy("LTV:CAC"), "ratio"),
]


def build(request: HttpRequest) -> dict[str, Any]:
    req = tenant_request(request)
    tenant = req.tenant
    picked = common.pickers(req, ahead=0)
    period = picked.period
    fiscal = tenant.fiscal_year_start_month
    periods = [period.shifted(offset) for offset in range(-(TREND_PERIODS - 1), 1)]
    values = common.read_values(
        tenant=tenant,
        visibility=common.visibility(req),
        metrics=[metric for metric, *_rest in METRICS],
        grain=picked.grain,
        first=periods[0].start,
        last=period.start,
        dimensions=[Dimension.ALL, Dimension.CAMPAIGN],
    )
    trends = Table(
        "trends",
        _("Unit economics by period"),
        [Column("period", _("Period"))] + [Column(metric, str(label)) for metric, label, _kind in METRICS],
    )
    sees_lifecycle = req.membership.role in LIFECYCLE_VIEWERS

    def drill(metric: str, p: Period) -> str:
        """New and churned customers of a month drill into the lifecycle page's accounts of that flow (its
        visibility applies) for those who open it, else into their drill-down pages, like MRR, retention, churn,
        CAC, LTV and LTV:CAC."""
        if metric in DRILL_PAGES:
            return common.drill_link(tenant, metric, p)
        flow = DRILL_FLOWS.get(metric)
        if flow is None:
            return ""
        if p.grain != "month" or not sees_lifecycle:
            # Quarters and years, and whoever does not open the lifecycle page: the drill-down page.
            return common.drill_link(tenant, metric, p)
        query = urlencode({"flow": flow, "month": p.start.strftime("%Y-%m")})
        return reverse("lifecycle:overview-accounts", kwargs={"slug": tenant.slug}) + "?" + query

    for p in reversed(periods):
        trends.rows.append(
            [Cell(p.label(fiscal))]
            + [
                Cell(
                    values.get(metric, p.start),
                    kind,
                    link=drill(metric, p),
                    testid=f"economics-{metric}" if p == period else "",
                )
                for metric, _label, kind in METRICS
            ]
        )
    campaigns = values.values_of(Dimension.CAMPAIGN)
    campaign_ids = (
        dict(
            Campaign.objects.filter(tenant=tenant, name__in=campaigns, deleted_at=None).values_list(
                "name", "pk"
            )
        )
        if campaigns
        else {}
    )
    by_campaign = Table(
        "cac",
        _("CAC by campaign"),
        [Column("campaign", _("Campaign"))]
        + [Column(p.start.isoformat(), p.label(fiscal)) for p in periods[-4:]],
        empty_text=_("No campaign CAC yet."),
    )
    for name in campaigns:
        link = ""
        if name in campaign_ids:
            link = reverse("leads:campaign-detail", kwargs={"slug": tenant.slug, "pk": campaign_ids[name]})
        by_campaign.rows.append(
            [Cell(name, link=link)]
            + [
                Cell(values.get("cac", p.start, Dimension.CAMPAIGN, name), "money", link=link)
                for p in periods[-4:]
            ]
        )
    tables = [trends, by_campaign]
    for table in tables:
        table.export_url = "?" + common.query_string(req, export=table.key)

    def series(metric: str, scale: float = 1.0) -> list[float | None]:
        out = []
        for p in periods:
            number = values.get(metric, p.start)
            out.append(None if number is None else round(float(number) * scale, 4))
        return out

    labels = [p.label(fiscal) for p in periods]
    charts = {
        "mrr": {"labels": labels, "datasets": [{"label": _("MRR"), "data": series("mrr")}]},
        "retention": {
            "labels": labels,
            "percent": True,
            "datasets": [
                {"label": _("NRR"), "data": series("nrr", 100)},
                {"label": _("GRR"), "data": series("grr", 100)},
                {"label": _("Logo churn"), "data": series("logo_churn_rate", 100)},
            ],
        },
        "cac": {
            "labels": labels,
            "datasets": [
                {"label": _("CAC"), "data": series("cac")},
                {"label": _("LTV"), "data": series("ltv")},
            ],
        },
    }
    has_values = any(values.get(metric, p.start) is not None for metric, *_rest in METRICS for p in periods)
    return {
        "picked": picked,
        "period_options": picked.period_options(fiscal),
        "charts": charts,
        "tables": tables,
        "has_values": has_values,
    }


@tenant_member_required
@require_GET
def economics(request: HttpRequest, slug: str) -> HttpResponse:
    req = tenant_request(request)
    return common.render_dashboard(req, "sales_ops/dashboard_economics.html", "economics", build(request))  # type: ignore[no-any-return]
