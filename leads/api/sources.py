"""API of lead sources under /api/v1/t/<slug>/lead-sources/ (+ quality)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api_fields import SaneDateField
from crm.pagination import CursorPagination
from crm.schema import request_example, response_example
from crm.types import TenantRequest
from leads.api.setup_base import FunnelSerializer, SetupViewSet
from leads.filters.sources import LeadSourceFilter
from leads.models import LeadSource
from leads.selectors import funnels as funnels_selectors
from leads.selectors import setup_roles as setup_roles_selectors
from leads.selectors import sources as sources_selectors
from leads.services import sources as sources_services

LEAD_SOURCE_RESPONSE_EXAMPLE = response_example(
    "An inbound source",
    {
        "id": 3,
        "name": "Demo request",
        "kind": "inbound",
        "description": "Form on the pricing page",
        "is_active": True,
        "created_at": "2026-01-05T10:00:00+08:00",
        "updated_at": "2026-01-05T10:00:00+08:00",
    },
)


LEAD_SOURCE_UPDATE_EXAMPLE = request_example(
    "Describe and keep active",
    {
        "name": "Demo request",
        "kind": "inbound",
        "description": "Pricing page and product tour",
        "is_active": True,
    },
)


@extend_schema_serializer(examples=[LEAD_SOURCE_RESPONSE_EXAMPLE])
class LeadSourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = LeadSource
        fields = ["id", "name", "kind", "description", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The kind (inbound or incentive) is a first-class report dimension: the client must choose it.
        extra_kwargs = {"name": {"validators": []}, "kind": {"required": True}}
        validators: list = []


class SourceQualitySerializer(FunnelSerializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    kind = serializers.CharField(allow_blank=True)


class KindQualitySerializer(FunnelSerializer):
    kind = serializers.CharField()


@extend_schema_serializer(
    examples=[
        response_example(
            "Inbound converts better than incentive",
            {
                "sources": [
                    {
                        "id": 3,
                        "name": "Demo request",
                        "kind": "inbound",
                        "leads": 120,
                        "mql": 54,
                        "sql": 30,
                        "converted": 18,
                        "won": 9,
                        "won_amount": "1260000.00",
                        "lead_to_mql_rate": 0.45,
                        "mql_to_sql_rate": 0.5556,
                        "lead_conversion_rate": 0.15,
                        "lead_to_win_rate": 0.075,
                    },
                    {
                        "id": 4,
                        "name": "Giveaway",
                        "kind": "incentive",
                        "leads": 400,
                        "mql": 40,
                        "sql": 12,
                        "converted": 6,
                        "won": 2,
                        "won_amount": "210000.00",
                        "lead_to_mql_rate": 0.1,
                        "mql_to_sql_rate": 0.3,
                        "lead_conversion_rate": 0.015,
                        "lead_to_win_rate": 0.005,
                    },
                ],
                "kinds": [
                    {
                        "kind": "inbound",
                        "leads": 120,
                        "mql": 54,
                        "sql": 30,
                        "converted": 18,
                        "won": 9,
                        "won_amount": "1260000.00",
                        "lead_to_mql_rate": 0.45,
                        "mql_to_sql_rate": 0.5556,
                        "lead_conversion_rate": 0.15,
                        "lead_to_win_rate": 0.075,
                    },
                    {
                        "kind": "incentive",
                        "leads": 400,
                        "mql": 40,
                        "sql": 12,
                        "converted": 6,
                        "won": 2,
                        "won_amount": "210000.00",
                        "lead_to_mql_rate": 0.1,
                        "mql_to_sql_rate": 0.3,
                        "lead_conversion_rate": 0.015,
                        "lead_to_win_rate": 0.005,
                    },
                ],
                "total": {
                    "leads": 520,
                    "mql": 94,
                    "sql": 42,
                    "converted": 24,
                    "won": 11,
                    "won_amount": "1470000.00",
                    "lead_to_mql_rate": 0.1808,
                    "mql_to_sql_rate": 0.4468,
                    "lead_conversion_rate": 0.0462,
                    "lead_to_win_rate": 0.0212,
                },
            },
        )
    ]
)
class QualitySerializer(serializers.Serializer):
    sources = SourceQualitySerializer(many=True)
    kinds = KindQualitySerializer(many=True)
    total = FunnelSerializer()


class QualityQuerySerializer(serializers.Serializer):
    created_from = SaneDateField(required=False)
    created_to = SaneDateField(required=False)


class LeadSourcePagination(CursorPagination):
    ordering = "name"


@extend_schema_view(
    create=extend_schema(
        examples=[
            OpenApiExample(
                "An inbound source",
                value={"name": "Demo request", "kind": "inbound", "description": "Form on the pricing page"},
                request_only=True,
            ),
            OpenApiExample(
                "An incentive source", value={"name": "Giveaway", "kind": "incentive"}, request_only=True
            ),
            LEAD_SOURCE_RESPONSE_EXAMPLE,
        ]
    ),
    update=extend_schema(examples=[LEAD_SOURCE_UPDATE_EXAMPLE, LEAD_SOURCE_RESPONSE_EXAMPLE]),
    partial_update=extend_schema(examples=[LEAD_SOURCE_UPDATE_EXAMPLE, LEAD_SOURCE_RESPONSE_EXAMPLE]),
    destroy=extend_schema(description="Soft delete: the source leaves lists and pickers; its leads keep it."),
)
@extend_schema(tags=["lead sources"])
class LeadSourceViewSet(SetupViewSet):
    """Lead sources: `inbound` (the customer came by their own need) or `incentive` (left details for a reward or
    content)."""

    serializer_class = LeadSourceSerializer
    filterset_class = LeadSourceFilter
    pagination_class = LeadSourcePagination
    read_roles = setup_roles_selectors.SOURCE_READ_ROLES
    model = LeadSource

    def _selector_list(self) -> QuerySet:
        return sources_selectors.source_list(tenant=self.request.tenant, membership=self.request.membership)

    def _create(self, serializer: serializers.BaseSerializer) -> Any:
        return sources_services.source_create(
            tenant=self.request.tenant, actor=self.request.user, **self._fields(serializer)
        )

    def _update(self, instance: Any, serializer: serializers.BaseSerializer) -> Any:
        return sources_services.source_update(
            tenant=self.request.tenant, actor=self.request.user, source=instance, **self._fields(serializer)
        )

    def perform_destroy(self, instance: LeadSource) -> None:
        sources_services.source_delete(tenant=self.request.tenant, actor=self.request.user, source=instance)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "created_from", str, description="Leads created on or after this local date (YYYY-MM-DD)."
            ),
            OpenApiParameter("created_to", str, description="Leads created on or before this local date."),
        ],
        responses={200: QualitySerializer},
        filters=False,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def quality(self, request: TenantRequest, slug: str) -> Response:
        """Per source and per kind (inbound vs incentive): leads created in the period and the fractions that
        reached MQL, SQL (of MQL), converted, and a won deal (KPIS.md "Acquisition": `won` / `leads` is
        `lead_to_win_rate`), with `won_amount`, the amount of those won deals in the reporting currency. Rates are
        null when there are no leads. Counts cover the leads you can see."""
        query = QualityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        quality = funnels_selectors.source_quality(
            tenant=request.tenant,
            membership=request.membership,
            created_from=query.validated_data.get("created_from"),
            created_to=query.validated_data.get("created_to"),
        )
        sources = [
            {
                "id": row.extra["source"].pk if row.extra["source"] else None,
                "name": str(row.extra["name"]),
                "kind": row.extra["kind"],
                **row.as_dict(),
            }
            for row in quality.sources
        ]
        kinds = [{"kind": row.extra["kind"], **row.as_dict()} for row in quality.kinds]
        # Through the serializer, so money reads as the schema says (a decimal string, "1350.50").
        return Response(
            QualitySerializer({"sources": sources, "kinds": kinds, "total": quality.total.as_dict()}).data
        )
