"""API of customer success: health scores (read, with components), feedback (CRUD), health settings (GET/PUT) and
playbook templates (CRUD, admin and cs).

Reads come from the selectors (role visibility: an invisible account's score or feedback is a 404, an invisible
account id in a body or filter "does not exist"); writes call the services. Lists use keyset pagination.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Account, Contact
from accounts.selectors.visibility import account_queryset, contact_queryset
from crm.models import Role
from crm.pagination import CursorPagination
from crm.permissions import IsTenantMember
from crm.schema import request_example, response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request
from lifecycle.feedback_filters import FeedbackCursorPagination, FeedbackFilterSet
from lifecycle.feedback_selectors import can_edit_feedback, feedback_list
from lifecycle.health_selectors import health_list, health_reasons
from lifecycle.models import (
    Feedback,
    FeedbackChannel,
    FeedbackKind,
    HealthScore,
    PlaybookAssignee,
    PlaybookTemplate,
    PlaybookTrigger,
)
from lifecycle.services.feedback import feedback_create, feedback_delete, feedback_update
from lifecycle.services.health import HEALTH_SETTING_FIELDS, health_settings_get, health_settings_update
from lifecycle.services.playbooks import (
    playbook_template_create,
    playbook_template_delete,
    playbook_template_update,
    playbook_templates_ensure_defaults,
)
from lifecycle.services.settings import lifecycle_settings_get

CS_EDITORS = {Role.ADMIN, Role.CS}


def _require_cs_editor(request: Request) -> None:
    if tenant_request(request).membership.role not in CS_EDITORS:
        raise PermissionDenied("Only admins and customer success change this.")


# --- health -----------------------------------------------------------------------------------------------------

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
                qs = qs.filter(account_id=int(account))
            except ValueError:
                return Response({"account": ["Enter a whole number."]}, status=status.HTTP_400_BAD_REQUEST)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, slug: str, account: str) -> Response:
        return Response(self.get_serializer(self.get_object()).data)


# --- health settings --------------------------------------------------------------------------------------------

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


# --- feedback ---------------------------------------------------------------------------------------------------

FEEDBACK_VALUE: dict[str, Any] = {
    "id": 41,
    "external_id": "",
    "account": 17,
    "account_name": "Shanghai Huaxin Technology Co., Ltd.",
    "contact": 23,
    "kind": "nps",
    "score": 9,
    "comment": "Onboarding went smoothly.",
    "channel": "call",
    "received_at": "2026-11-20T02:15:00Z",
    "created_at": "2026-11-20T02:16:00Z",
}


@extend_schema_serializer(examples=[response_example("An NPS answer from a call", FEEDBACK_VALUE)])
class FeedbackSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = Feedback
        fields = [
            "id",
            "external_id",
            "account",
            "account_name",
            "contact",
            "kind",
            "score",
            "comment",
            "channel",
            "received_at",
            "created_at",
        ]
        read_only_fields = fields


class FeedbackWriteSerializer(serializers.Serializer):
    external_id = serializers.CharField(required=False, allow_blank=True, max_length=100)
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none(), required=False)
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.none(), required=False, allow_null=True
    )
    kind = serializers.ChoiceField(choices=FeedbackKind.choices, required=False)
    score = serializers.IntegerField(required=False)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    channel = serializers.ChoiceField(choices=FeedbackChannel.choices, required=False)
    received_at = serializers.DateTimeField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        tenant = getattr(request, "tenant", None)
        membership = getattr(request, "membership", None)
        if tenant is not None and membership is not None:
            # Both are PrimaryKeyRelatedFields; the stubs type self.fields as plain Fields, and narrowing does not
            # help (RelatedField.queryset includes Manager, which mypy then reads as a descriptor).
            self.fields["account"].queryset = account_queryset(tenant=tenant, membership=membership)  # type: ignore[attr-defined]
            self.fields["contact"].queryset = contact_queryset(tenant=tenant, membership=membership)  # type: ignore[attr-defined]


FEEDBACK_WRITE_EXAMPLE = request_example(
    "Log an NPS answer",
    {
        "account": 17,
        "contact": 23,
        "kind": "nps",
        "score": 9,
        "comment": "Onboarding went smoothly.",
        "channel": "call",
    },
)


@extend_schema_view(
    list=extend_schema(tags=["feedback"]),
    retrieve=extend_schema(tags=["feedback"]),
    destroy=extend_schema(tags=["feedback"]),
)
class FeedbackViewSet(viewsets.GenericViewSet):
    """NPS (0-10) and CSAT (1-5) answers of the customer accounts you may see. Admins and customer success write."""

    serializer_class = FeedbackSerializer
    filterset_class = FeedbackFilterSet
    pagination_class = FeedbackCursorPagination
    permission_classes = [IsTenantMember]

    def get_queryset(self) -> QuerySet[Feedback]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(Feedback)
        req = tenant_request(self.request)
        return feedback_list(tenant=req.tenant, membership=req.membership)

    def _check_editor(self, request: Request) -> None:
        if not can_edit_feedback(tenant_request(request).membership):
            raise PermissionDenied("Only admins and customer success change feedback.")

    def list(self, request: Request, slug: str) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(FeedbackSerializer(page, many=True).data)

    def retrieve(self, request: Request, slug: str, pk: str) -> Response:
        return Response(FeedbackSerializer(self.get_object()).data)

    @extend_schema(
        tags=["feedback"],
        request=FeedbackWriteSerializer,
        responses={201: FeedbackSerializer},
        examples=[FEEDBACK_WRITE_EXAMPLE, response_example("Logged", FEEDBACK_VALUE)],
    )
    def create(self, request: Request, slug: str) -> Response:
        self._check_editor(request)
        payload = FeedbackWriteSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        missing = {
            name: ["This field is required."] for name in ("account", "kind", "score") if name not in data
        }
        if missing:
            raise serializers.ValidationError(missing)
        req = tenant_request(request)
        data.setdefault("channel", FeedbackChannel.API)
        feedback = feedback_create(tenant=req.tenant, actor=req.user, **data)
        feedback = self.get_queryset().get(pk=feedback.pk)
        return Response(FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["feedback"],
        request=FeedbackWriteSerializer,
        responses={200: FeedbackSerializer},
        examples=[
            request_example("Correct the score", {"score": 8}),
            response_example("Corrected", {**FEEDBACK_VALUE, "score": 8}),
        ],
    )
    def partial_update(self, request: Request, slug: str, pk: str) -> Response:
        self._check_editor(request)
        feedback = self.get_object()
        payload = FeedbackWriteSerializer(data=request.data, context={"request": request}, partial=True)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        feedback_update(tenant=req.tenant, actor=req.user, feedback=feedback, **payload.validated_data)
        return Response(FeedbackSerializer(self.get_queryset().get(pk=feedback.pk)).data)

    def destroy(self, request: Request, slug: str, pk: str) -> Response:
        self._check_editor(request)
        feedback = self.get_object()
        req = tenant_request(request)
        feedback_delete(tenant=req.tenant, actor=req.user, feedback=feedback)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- playbook templates -----------------------------------------------------------------------------------------

PLAYBOOK_VALUE = {
    "id": 5,
    "trigger": "at_risk",
    "subject": "Call the customer: their health dropped",
    "due_in_days": 2,
    "assignee": "cs",
    "is_active": True,
    "order": 2,
}


@extend_schema_serializer(examples=[response_example("An at-risk playbook task", PLAYBOOK_VALUE)])
class PlaybookTemplateSerializer(serializers.ModelSerializer):
    trigger = serializers.ChoiceField(choices=PlaybookTrigger.choices)
    assignee = serializers.ChoiceField(choices=PlaybookAssignee.choices, required=False)

    class Meta:
        model = PlaybookTemplate
        fields = ["id", "trigger", "subject", "due_in_days", "assignee", "is_active", "order"]
        read_only_fields = ["id"]


@extend_schema_view(
    list=extend_schema(tags=["playbooks"]),
    retrieve=extend_schema(tags=["playbooks"]),
    destroy=extend_schema(tags=["playbooks"]),
)
class PlaybookTemplateViewSet(viewsets.GenericViewSet):
    """Tasks opened when an account enters onboarding or becomes at risk (admins and customer success)."""

    serializer_class = PlaybookTemplateSerializer
    pagination_class = CursorPagination
    permission_classes = [IsTenantMember]

    def get_queryset(self) -> QuerySet[PlaybookTemplate]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(PlaybookTemplate)
        req = tenant_request(self.request)
        if req.membership.role not in CS_EDITORS:
            return PlaybookTemplate.objects.none()
        playbook_templates_ensure_defaults(tenant=req.tenant)
        return PlaybookTemplate.objects.filter(tenant=req.tenant)

    def list(self, request: Request, slug: str) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(PlaybookTemplateSerializer(page, many=True).data)

    def retrieve(self, request: Request, slug: str, pk: str) -> Response:
        return Response(PlaybookTemplateSerializer(self.get_object()).data)

    @extend_schema(
        tags=["playbooks"],
        request=PlaybookTemplateSerializer,
        responses={201: PlaybookTemplateSerializer},
        examples=[
            request_example(
                "Add an onboarding task",
                {
                    "trigger": "onboarding",
                    "subject": "Send the welcome pack",
                    "due_in_days": 1,
                    "assignee": "owner",
                },
            ),
            response_example(
                "Added",
                {
                    **PLAYBOOK_VALUE,
                    "id": 9,
                    "trigger": "onboarding",
                    "subject": "Send the welcome pack",
                    "due_in_days": 1,
                    "assignee": "owner",
                    "order": 0,
                },
            ),
        ],
    )
    def create(self, request: Request, slug: str) -> Response:
        _require_cs_editor(request)
        payload = PlaybookTemplateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        template = playbook_template_create(tenant=req.tenant, actor=req.user, **payload.validated_data)
        return Response(PlaybookTemplateSerializer(template).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["playbooks"],
        request=PlaybookTemplateSerializer,
        responses={200: PlaybookTemplateSerializer},
        examples=[
            request_example("Due a day later", {"due_in_days": 3}),
            response_example("Saved", {**PLAYBOOK_VALUE, "due_in_days": 3}),
        ],
    )
    def partial_update(self, request: Request, slug: str, pk: str) -> Response:
        _require_cs_editor(request)
        template = self.get_object()
        payload = PlaybookTemplateSerializer(template, data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        template = playbook_template_update(
            tenant=req.tenant, actor=req.user, template=template, **payload.validated_data
        )
        return Response(PlaybookTemplateSerializer(template).data)

    def destroy(self, request: Request, slug: str, pk: str) -> Response:
        _require_cs_editor(request)
        template = self.get_object()
        req = tenant_request(request)
        playbook_template_delete(tenant=req.tenant, actor=req.user, template=template)
        return Response(status=status.HTTP_204_NO_CONTENT)
