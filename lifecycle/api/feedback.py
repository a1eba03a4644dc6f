"""API of customer feedback (NPS/CSAT, CRUD) under /api/v1/t/<slug>/. Reads come from the selectors (an invisible
account's feedback is a 404, an invisible account id in a body or filter "does not exist"); writes call the
services. Lists use keyset pagination.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Account, Contact
from accounts.selectors.visibility import account_queryset, contact_queryset
from crm.api_fields import SaneDateTimeField
from crm.permissions import IsTenantMember
from crm.schema import request_example, response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request
from lifecycle.filters.feedback import FeedbackCursorPagination, FeedbackFilterSet
from lifecycle.models import Feedback, FeedbackChannel, FeedbackKind
from lifecycle.selectors.feedback import can_edit_feedback, feedback_list
from lifecycle.services.feedback import feedback_create, feedback_delete, feedback_update

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
    received_at = SaneDateTimeField(required=False)

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
