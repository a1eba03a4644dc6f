"""API of health scores (read, with components and reasons) and the health settings (GET/PUT), under
/api/v1/t/<slug>/. Reads come from the selectors (an invisible account's score is a 404); writes call the services.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.forms.models import ModelChoiceField
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors.visibility import account_queryset
from crm.pagination import CursorPagination
from crm.permissions import IsTenantMember
from crm.schema import request_example, response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request
from lifecycle.api.common import _require_cs_editor
from lifecycle.models import HealthScore
from lifecycle.selectors.health import health_list, health_reasons
from lifecycle.services.health import HEALTH_SETTING_FIELDS, health_settings_get, health_settings_update
from lifecycle.services.settings import lifecycle_settings_get

HEALTH_VALUE: dict[str, Any] = {
    "account": 17,
    "account_name": "Shanghai Huaxin Technology Co., Ltd.",
    "score": 34,
    "at_risk": True,
    "at_risk_since": "2026-11-02T16:00:00Z",
    "mrr": "12000.00",
    "components": {
        "recency": {"value": 45, "points": 0, "weight": 20, "reason": "last_touch"},
        "volume": {"value": 1, "points": 5, "weight": 15, "reason": "low_activity"},
        "sentiment": {"value": 4, "nps": 4, "csat": None, "points": 8, "weight": 20, "reason": "low_nps"},
        "trend": {
            "value": -5,
            "kind": "nps",
            "from": 9,
            "to": 4,
            "points": 0,
            "weight": 10,
            "reason": "nps_fell",
        },
        "renewal": {
            "value": 0.1,
            "stage": "Qualification",
            "days_left": 20,
            "points": 2,
            "weight": 15,
            "reason": "renewal_early",
        },
        "overdue": {"value": 2, "points": 0, "weight": 10, "reason": "overdue_tasks"},
        "cadence": {
            "value": 45,
            "cadence": 14,
            "tier": "key",
            "points": 0,
            "weight": 10,
            "reason": "cadence_missed",
        },
    },
    "reasons": ["No touch for 45 days (key accounts: every 14)", "NPS fell from 9 to 4", "2 overdue tasks"],
    "computed_at": "2026-11-29T16:00:03Z",
}


@extend_schema_serializer(examples=[response_example("An at-risk key account", HEALTH_VALUE)])
class HealthScoreSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    at_risk = serializers.SerializerMethodField()
    mrr = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    reasons = serializers.SerializerMethodField()

    class Meta:
        model = HealthScore
        fields = [
            "account",
            "account_name",
            "score",
            "at_risk",
            "at_risk_since",
            "mrr",
            "components",
            "reasons",
            "computed_at",
        ]
        read_only_fields = fields

    def get_at_risk(self, obj: HealthScore) -> bool:
        return obj.score < self.context["threshold"]

    def get_reasons(self, obj: HealthScore) -> list[str]:
        return health_reasons(obj.components)


INVALID_CHOICE = ModelChoiceField.default_error_messages["invalid_choice"]


class HealthCursorPagination(CursorPagination):
    ordering = ("score", "account_id")  # type: ignore[assignment]  # DRF takes a tuple of fields; the stubs say str


@extend_schema_view(
    list=extend_schema(
        tags=["health"],
        parameters=[
            OpenApiParameter(
                "at_risk", OpenApiTypes.BOOL, description="Only scores under the at-risk threshold."
            ),
            OpenApiParameter("account", OpenApiTypes.INT, description="One account's score."),
        ],
    ),
    retrieve=extend_schema(tags=["health"]),
)
class HealthViewSet(viewsets.GenericViewSet):
    """Health scores of the customer accounts you may see, with their components and reasons (lowest first)."""

    serializer_class = HealthScoreSerializer
    pagination_class = HealthCursorPagination
    permission_classes = [IsTenantMember]
    lookup_field = "account"
    lookup_url_kwarg = "account"

    def get_queryset(self) -> QuerySet[HealthScore]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(HealthScore)
        req = tenant_request(self.request)
        return health_list(tenant=req.tenant, membership=req.membership)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not getattr(self, "swagger_fake_view", False):
            context["threshold"] = lifecycle_settings_get(
                tenant=tenant_request(self.request).tenant
            ).health_at_risk_threshold
        return context

    def list(self, request: Request, slug: str) -> Response:
        qs = self.get_queryset()
        threshold = self.get_serializer_context()["threshold"]
        at_risk = request.query_params.get("at_risk", "").lower()
        if at_risk in {"true", "1"}:
            qs = qs.filter(score__lt=threshold)
        elif at_risk in {"false", "0"}:
            qs = qs.filter(score__gte=threshold)
        account = request.query_params.get("account")
        if account:
            try:
                account_id = int(account)
            except ValueError:
                return Response({"account": [_("Enter a whole number.")]}, status=status.HTTP_400_BAD_REQUEST)
            req = tenant_request(request)
            if (
                not account_queryset(tenant=req.tenant, membership=req.membership)
                .filter(pk=account_id)
                .exists()
            ):
                # like every other list's account filter: an account of another tenant, or one the member may not
                # see, is not a valid choice (a 400, the same answer as for an id that does not exist)
                return Response({"account": [INVALID_CHOICE]}, status=status.HTTP_400_BAD_REQUEST)
            qs = qs.filter(account_id=account_id)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, slug: str, account: str) -> Response:
        return Response(self.get_serializer(self.get_object()).data)


SETTINGS_VALUE = {
    "weight_recency": 20,
    "weight_volume": 15,
    "weight_sentiment": 20,
    "weight_trend": 10,
    "weight_renewal": 15,
    "weight_overdue": 10,
    "weight_cadence": 10,
    "cadence_key": 14,
    "cadence_strategic": 21,
    "cadence_standard": 30,
    "cadence_long_tail": 60,
    "at_risk_threshold": 40,
}


@extend_schema_serializer(examples=[response_example("The defaults", SETTINGS_VALUE)])
class HealthSettingsSerializer(serializers.Serializer):
    weight_recency = serializers.IntegerField(min_value=0, max_value=100)
    weight_volume = serializers.IntegerField(min_value=0, max_value=100)
    weight_sentiment = serializers.IntegerField(min_value=0, max_value=100)
    weight_trend = serializers.IntegerField(min_value=0, max_value=100)
    weight_renewal = serializers.IntegerField(min_value=0, max_value=100)
    weight_overdue = serializers.IntegerField(min_value=0, max_value=100)
    weight_cadence = serializers.IntegerField(min_value=0, max_value=100)
    cadence_key = serializers.IntegerField(min_value=1, max_value=365)
    cadence_strategic = serializers.IntegerField(min_value=1, max_value=365)
    cadence_standard = serializers.IntegerField(min_value=1, max_value=365)
    cadence_long_tail = serializers.IntegerField(min_value=1, max_value=365)
    at_risk_threshold = serializers.IntegerField(min_value=0, max_value=100)


def _settings_data(tenant: Any) -> dict[str, int]:
    current = health_settings_get(tenant=tenant)
    data = {name: getattr(current, name) for name in HEALTH_SETTING_FIELDS if name != "at_risk_threshold"}
    data["at_risk_threshold"] = lifecycle_settings_get(tenant=tenant).health_at_risk_threshold
    return data


class HealthSettingsView(APIView):
    """The health weights (summing to 100), touch cadence per tier and at-risk threshold. Everyone reads; admins
    and customer success change them (PUT, partial values allowed)."""

    permission_classes = [IsTenantMember]

    @extend_schema(tags=["health"], responses={200: HealthSettingsSerializer})
    def get(self, request: Request, slug: str) -> Response:
        return Response(_settings_data(tenant_request(request).tenant))

    @extend_schema(
        tags=["health"],
        request=HealthSettingsSerializer,
        responses={200: HealthSettingsSerializer},
        examples=[
            request_example(
                "More weight on feedback, key accounts every 10 days",
                {**SETTINGS_VALUE, "weight_sentiment": 25, "weight_volume": 10, "cadence_key": 10},
            ),
            response_example(
                "Saved", {**SETTINGS_VALUE, "weight_sentiment": 25, "weight_volume": 10, "cadence_key": 10}
            ),
        ],
    )
    def put(self, request: Request, slug: str) -> Response:
        _require_cs_editor(request)
        payload = HealthSettingsSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        health_settings_update(tenant=req.tenant, actor=req.user, **payload.validated_data)
        return Response(_settings_data(req.tenant))
