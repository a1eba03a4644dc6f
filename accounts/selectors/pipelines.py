"""Reads of pipelines and stages."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import Opportunity, Pipeline, Stage
from crm.models import Tenant


def pipeline_list(*, tenant: Tenant) -> QuerySet[Pipeline]:
    stages = Stage.objects.filter(tenant=tenant).order_by("order", "id")
    return (
        Pipeline.objects.filter(tenant=tenant)
        .annotate(deal_count=Count("opportunities", filter=Q(opportunities__deleted_at__isnull=True)))
        .prefetch_related(Prefetch("stages", queryset=stages))
        .order_by("-is_default", "order", "name")
    )


def pipeline_choices(*, tenant: Tenant) -> QuerySet[Pipeline]:
    """Pipelines for selectors (the board's pipeline switch): default first."""
    return Pipeline.objects.filter(tenant=tenant).order_by("-is_default", "order", "name")


def pipeline_stages(*, tenant: Tenant, pipeline_id: int) -> QuerySet[Stage]:
    return Stage.objects.filter(tenant=tenant, pipeline_id=pipeline_id).order_by("order", "id")


def pipeline_get(*, tenant: Tenant, pk: int) -> Pipeline:
    stages = Stage.objects.filter(tenant=tenant).order_by("order", "id")
    return Pipeline.objects.prefetch_related(Prefetch("stages", queryset=stages)).get(tenant=tenant, pk=pk)


def pipeline_stage_counts(*, tenant: Tenant, pipeline: Pipeline) -> dict[int, int]:
    """Deals per stage (deleted ones included: they too must move when a stage goes)."""
    rows = (
        Opportunity.objects.filter(tenant=tenant, pipeline=pipeline)
        .values("stage_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["stage_id"]: row["n"] for row in rows}


def stage_get(*, tenant: Tenant, pk: int, pipeline: Pipeline | None = None) -> Stage:
    stages = Stage.objects.select_related("pipeline").filter(tenant=tenant)
    if pipeline is not None:
        stages = stages.filter(pipeline=pipeline)
    return stages.get(pk=pk)
