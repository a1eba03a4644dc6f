"""API of scoring rules under /api/v1/t/<slug>/scoring-rules/."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import serializers

from crm.pagination import CursorPagination
from crm.schema import request_example, response_example
from leads.api.setup_base import SetupViewSet
from leads.filters.scoring import ScoringRuleFilter
from leads.models import ScoringRule
from leads.selectors import scoring as scoring_selectors
from leads.selectors import setup_roles as setup_roles_selectors
from leads.services import scoring as scoring_services

SCORING_RULE_RESPONSE_EXAMPLE = response_example(
    "Fit: industry",
    {
        "id": 4,
        "category": "fit",
        "field": "industry",
        "value": "Manufacturing",
        "points": 20,
        "is_active": True,
        "created_at": "2026-01-05T10:00:00+08:00",
        "updated_at": "2026-01-05T10:00:00+08:00",
    },
)


SCORING_RULE_UPDATE_EXAMPLE = request_example(
    "Worth more", {"field": "industry", "value": "Manufacturing", "points": 25}
)


@extend_schema_serializer(examples=[SCORING_RULE_RESPONSE_EXAMPLE])
class ScoringRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScoringRule
        fields = ["id", "category", "field", "value", "points", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "category", "created_at", "updated_at"]


class ScoringRulePagination(CursorPagination):
    ordering = "id"


@extend_schema_view(
    create=extend_schema(
        description="The category follows the field (fit: industry, size_band, region, title; engagement: "
        "recent_activities, source_kind). Every lead is rescored after the change.",
        examples=[
            OpenApiExample(
                "Fit: industry",
                value={"field": "industry", "value": "Software", "points": 20},
                request_only=True,
            ),
            OpenApiExample(
                "Fit: title contains",
                value={"field": "title", "value": "Director", "points": 15},
                request_only=True,
            ),
            OpenApiExample(
                "Engagement: 3+ activities in 30 days",
                value={"field": "recent_activities", "value": "3", "points": 20},
                request_only=True,
            ),
            OpenApiExample(
                "Engagement: inbound source",
                value={"field": "source_kind", "value": "inbound", "points": 25},
                request_only=True,
            ),
            SCORING_RULE_RESPONSE_EXAMPLE,
        ],
    ),
    update=extend_schema(examples=[SCORING_RULE_UPDATE_EXAMPLE, SCORING_RULE_RESPONSE_EXAMPLE]),
    partial_update=extend_schema(examples=[SCORING_RULE_UPDATE_EXAMPLE, SCORING_RULE_RESPONSE_EXAMPLE]),
)
@extend_schema(tags=["scoring rules"])
class ScoringRuleViewSet(SetupViewSet):
    """Lead scoring rules. A lead's score is the sum of the points of the active rules it matches, 0..100."""

    serializer_class = ScoringRuleSerializer
    filterset_class = ScoringRuleFilter
    pagination_class = ScoringRulePagination
    read_roles = setup_roles_selectors.CONFIG_READ_ROLES
    model = ScoringRule

    def _selector_list(self) -> QuerySet:
        return scoring_selectors.scoring_rule_list(
            tenant=self.request.tenant, membership=self.request.membership
        )

    def _create(self, serializer: serializers.BaseSerializer) -> Any:
        return scoring_services.scoring_rule_create(
            tenant=self.request.tenant, actor=self.request.user, **self._fields(serializer)
        )

    def _update(self, instance: Any, serializer: serializers.BaseSerializer) -> Any:
        return scoring_services.scoring_rule_update(
            tenant=self.request.tenant, actor=self.request.user, rule=instance, **self._fields(serializer)
        )

    def perform_destroy(self, instance: ScoringRule) -> None:
        scoring_services.scoring_rule_delete(
            tenant=self.request.tenant, actor=self.request.user, rule=instance
        )
