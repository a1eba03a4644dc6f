"""The accounts app's cards on the tenant home (registered in AccountsConfig.ready()): the member's tasks, the
deal figures, the open pipeline by stage and the accounts by lifecycle stage."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce

from accounts.models import LifecycleStageName, StageKind
from accounts.selectors import activities as activities_selectors
from accounts.selectors import opportunities as opportunities_selectors
from accounts.selectors import pipelines as pipelines_selectors
from accounts.selectors import visibility as visibility_selectors
from accounts.selectors.opportunities import MONEY, weighted_expression
from crm.dates import tenant_month_bounds
from crm.home import FIGURES, MAIN, HomeCard, HomePage, register_home_card
from crm.navigation import CS, EVERYONE, SALES

UNIT = Decimal(1)


def _visible_deals(page: HomePage) -> QuerySet:
    # Figures and chart share one visibility computation (a manager's team is one query per page, not per card).
    return page.once(
        "accounts.deals",
        lambda: opportunities_selectors.opportunity_base(tenant=page.tenant, membership=page.membership),
    )


def tasks_card(page: HomePage) -> dict[str, Any]:
    return {
        "tasks": activities_selectors.task_buckets(tenant=page.tenant, membership=page.membership, limit=6)
    }


def deal_figures_card(page: HomePage) -> dict[str, Any]:
    first, next_first, start, end = tenant_month_bounds(page.tenant)
    deals = _visible_deals(page)
    open_deals = deals.filter(stage__kind=StageKind.OPEN)
    return {
        "open_deals": opportunities_selectors.opportunity_totals(open_deals),
        "closing_this_month": opportunities_selectors.opportunity_totals(
            open_deals.filter(expected_close_date__gte=first, expected_close_date__lt=next_first)
        ),
        "won_this_month": opportunities_selectors.opportunity_totals(
            deals.filter(stage__kind=StageKind.WON, closed_at__gte=start, closed_at__lt=end)
        ),
    }


def stage_chart_card(page: HomePage) -> dict[str, Any] | None:
    """The default pipeline's open stages with their amounts; hidden without a default pipeline or stages.

    The "Open pipeline" figure counts the open deals of every pipeline; so that the two agree, the chart names its
    pipeline and its footer gives its total and each other pipeline's (together: the figure). Three queries: the
    pipelines, the open deals' totals per pipeline and stage (one aggregate), the default pipeline's stages."""
    pipelines = list(pipelines_selectors.pipeline_choices(tenant=page.tenant))
    pipeline = next((p for p in pipelines if p.is_default), None)
    if pipeline is None:
        return None
    open_deals = _visible_deals(page).filter(stage__kind=StageKind.OPEN)
    rows = list(
        open_deals.order_by()
        .values("pipeline_id", "stage_id")
        .annotate(
            count=Count("id"),
            amount=Coalesce(Sum("amount_reporting"), Decimal(0), output_field=MONEY),
            weighted=Coalesce(Sum(weighted_expression()), Decimal(0), output_field=MONEY),
        )
    )
    totals = {row["stage_id"]: row for row in rows if row["pipeline_id"] == pipeline.pk}
    stages = pipelines_selectors.pipeline_stages(tenant=page.tenant, pipeline_id=pipeline.pk).filter(
        kind=StageKind.OPEN
    )
    chart = [
        {
            "label": stage.label,
            "amount": float(totals.get(stage.pk, {}).get("amount", Decimal(0))),
            "weighted": float(totals.get(stage.pk, {}).get("weighted", Decimal(0))),
            "count": totals.get(stage.pk, {}).get("count", 0),
        }
        for stage in stages
    ]
    if not chart:
        return None
    by_pipeline: dict[int, dict[str, Any]] = {}
    for row in rows:
        entry = by_pipeline.setdefault(row["pipeline_id"], {"count": 0, "amount": Decimal(0)})
        entry["count"] += row["count"]
        entry["amount"] += row["amount"]
    # Shown in whole units, the parts must add up to the figure as shown: each other pipeline rounded, the chart's
    # own part is the rounded whole minus them (as percentages are made to sum to 100).
    whole = sum((row["amount"] for row in rows), Decimal(0)).quantize(UNIT, rounding=ROUND_HALF_UP)
    others = [
        {
            "pipeline": other,
            "count": by_pipeline[other.pk]["count"],
            "amount": by_pipeline[other.pk]["amount"].quantize(UNIT, rounding=ROUND_HALF_UP),
        }
        for other in pipelines
        if other.pk != pipeline.pk and other.pk in by_pipeline
    ]
    own = by_pipeline.get(pipeline.pk, {"count": 0})
    return {
        "stage_chart": chart,
        "chart_pipeline": pipeline,
        "chart_total": {"count": own["count"], "amount": whole - sum(o["amount"] for o in others)},
        "other_pipelines": others,
    }


def lifecycle_card(page: HomePage) -> dict[str, Any]:
    accounts = visibility_selectors.account_queryset(tenant=page.tenant, membership=page.membership)
    rows = {
        row["lifecycle_stage"]: row["n"]
        for row in accounts.order_by().values("lifecycle_stage").annotate(n=Count("pk"))
    }
    return {
        "lifecycle_counts": [
            {"key": key, "label": label, "count": rows.get(key, 0)}
            for key, label in LifecycleStageName.choices
        ]
    }


def register() -> None:
    register_home_card(
        HomeCard("deal_figures", 10, SALES, "accounts/home/_deal_figures.html", deal_figures_card, FIGURES)
    )
    register_home_card(HomeCard("tasks", 10, EVERYONE, "accounts/home/_tasks.html", tasks_card, MAIN))
    register_home_card(
        HomeCard("stage_chart", 20, SALES, "accounts/home/_stage_chart.html", stage_chart_card, MAIN)
    )
    register_home_card(HomeCard("lifecycle", 30, CS, "accounts/home/_lifecycle.html", lifecycle_card, MAIN))
