"""KPI API under /api/v1/t/<slug>/ (DESIGN.md "Contracts"; outside tools read it):

- `GET kpis/`: rows of the current snapshot set, filtered by metric, grain, period_start, dimension,
  dimension_value, paged with a `next` link; each row's `value` is a JSON number or null;
- `POST kpis/recompute/` starts a full recompute (202, `{"id", "status"}`);
- `GET kpis/recompute/<id>/`: `{"id", "status", "progress", "started_at", "finished_at"}`.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.models import Role
from crm.pagination import CursorPagination
from crm.permissions import IsTenantMember, role_in
from crm.schema import response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request
from sales_ops.filters import KpiSnapshotFilter
from sales_ops.models import KpiRecompute, KpiSnapshot
from sales_ops.selectors import kpis as selectors
from sales_ops.services.jobs import kpi_recompute_request

KPI_ROW_EXAMPLE = {
    "metric": "win_rate",
    "grain": "month",
    "period_start": "2026-04-01",
    "dimension": "team",
    "dimension_value": "East",
    "value": 0.4167,
    "computed_at": "2026-04-20T09:07:12+08:00",
}


@extend_schema_serializer(
    examples=[
        response_example("A team's monthly win rate", KPI_ROW_EXAMPLE),
        response_example(
            "No denominator: null",
            {**KPI_ROW_EXAMPLE, "dimension": "all", "dimension_value": "", "value": None},
        ),
    ]
)
class KpiSnapshotSerializer(serializers.ModelSerializer):
    value = serializers.FloatField(
        allow_null=True, help_text="A number, or null when undefined (no denominator)."
    )

    class Meta:
        model = KpiSnapshot
        fields = ["metric", "grain", "period_start", "dimension", "dimension_value", "value", "computed_at"]
        read_only_fields = fields


class KpiPagination(CursorPagination):
    ordering = "id"
    page_size = 500
    max_page_size = 5000


class KpiSnapshotList(generics.ListAPIView):
    """KPI rows of the tenant's current snapshot set that you may read (KPIS.md for every metric)."""

    serializer_class = KpiSnapshotSerializer
    filterset_class = KpiSnapshotFilter
    pagination_class = KpiPagination

    def get_queryset(self) -> QuerySet[KpiSnapshot]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(KpiSnapshot)
        request = tenant_request(self.request)
        return selectors.kpi_snapshot_list(tenant=request.tenant, membership=request.membership)

    @extend_schema(summary="KPI values (current snapshot)", tags=["kpis"])
    def get(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        return super().get(request, *args, **kwargs)


@extend_schema_serializer(
    examples=[
        response_example(
            "Running",
            {
                "id": 812,
                "status": "running",
                "progress": 35,
                "started_at": "2026-04-20T09:07:02+08:00",
                "finished_at": None,
            },
        )
    ]
)
class KpiRecomputeSerializer(serializers.ModelSerializer):
    class Meta:
        model = KpiRecompute
        fields = ["id", "status", "progress", "started_at", "finished_at"]
        read_only_fields = fields


@extend_schema_serializer(examples=[response_example("Queued", {"id": 812, "status": "queued"})])
class KpiRecomputeStartedSerializer(serializers.ModelSerializer):
    class Meta:
        model = KpiRecompute
        fields = ["id", "status"]
        read_only_fields = fields


class KpiRecomputeStart(APIView):
    permission_classes = [role_in(Role.ADMIN, Role.OPS, Role.SALES_MANAGER)]

    @extend_schema(
        summary="Start a full KPI recompute",
        tags=["kpis"],
        request=None,
        responses={202: KpiRecomputeStartedSerializer},
        examples=[
            OpenApiExample("No body", value={}, request_only=True),
            OpenApiExample(
                "Queued", value={"id": 812, "status": "queued"}, response_only=True, status_codes=["202"]
            ),
        ],
    )
    def post(self, request: Request, slug: str) -> Response:
        member_request = tenant_request(request)
        job = kpi_recompute_request(tenant=member_request.tenant, actor=member_request.user)
        job.refresh_from_db(fields=["status"])
        return Response(KpiRecomputeStartedSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class KpiRecomputeDetail(APIView):
    permission_classes = [IsTenantMember]

    @extend_schema(
        summary="A KPI recompute: status and progress", tags=["kpis"], responses=KpiRecomputeSerializer
    )
    def get(self, request: Request, slug: str, pk: int) -> Response:
        member_request = tenant_request(request)
        job = get_object_or_404(selectors.kpi_recompute_queryset(tenant=member_request.tenant), pk=pk)
        return Response(KpiRecomputeSerializer(job).data)
