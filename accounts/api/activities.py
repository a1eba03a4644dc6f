"""API of activities and tasks: list, detail, log, update, complete, reopen, snooze, delete, restore."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.common import _require_writer, _VisibleChoicesMixin
from accounts.api.fields import LeadField
from accounts.filters.activities import ActivityFilterSet
from accounts.filters.sorting import ActivityCursorPagination
from accounts.models import (
    MAX_CALL_MINUTES,
    Account,
    Activity,
    ActivityKind,
    CallOutcome,
    Contact,
    Opportunity,
)
from accounts.selectors import activities as activities_selectors
from accounts.selectors import visibility as visibility_selectors
from accounts.services import activities as activities_services
from crm.api_fields import SaneDateTimeField
from crm.api_records import VersionedRecordMixin
from crm.models import Role, User
from crm.permissions import IsTenantMember
from crm.schema import request_example, response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request

ACTIVITY_RESPONSE_EXAMPLE = response_example(
    "A logged call",
    {
        "id": 901,
        "external_id": "",
        "kind": "call",
        "subject": "Discovery call",
        "body": "Budget confirmed for Q1; they want a 50-seat pilot first.",
        "owner": 7,
        "owner_name": "Li Wei",
        "occurred_at": "2026-11-20T10:00:00+08:00",
        "due_at": None,
        "done": True,
        "outcome": "connected",
        "duration_minutes": 12,
        "lead": None,
        "account": 17,
        "contact": 118,
        "opportunity": 9,
        "created_at": "2026-11-20T10:32:00+08:00",
        "updated_at": "2026-11-20T10:32:00+08:00",
        "deleted_at": None,
    },
)


ACTIVITY_UPDATE_EXAMPLE = request_example(
    "Reschedule a task", {"subject": "Send the revised proposal", "due_at": "2026-12-03T10:00:00+08:00"}
)


@extend_schema_serializer(examples=[ACTIVITY_RESPONSE_EXAMPLE])
class ActivitySerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(
        source="owner.display_name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Activity
        fields = [
            "id",
            "external_id",
            "kind",
            "subject",
            "body",
            "owner",
            "owner_name",
            "occurred_at",
            "due_at",
            "done",
            "outcome",
            "duration_minutes",
            "lead",
            "account",
            "contact",
            "opportunity",
            "created_at",
            "updated_at",
            "deleted_at",
        ]
        read_only_fields = fields


class ActivityWriteSerializer(_VisibleChoicesMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=ActivityKind.choices, required=False)
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), required=False, allow_null=True, help_text="Default: you."
    )
    occurred_at = SaneDateTimeField(required=False, allow_null=True)
    due_at = SaneDateTimeField(required=False, allow_null=True)
    done = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text="Default: true for call/email/meeting/note, false for task.",
    )
    outcome = serializers.ChoiceField(
        choices=CallOutcome.choices,
        required=False,
        allow_blank=True,
        help_text="Calls only: connected, no_answer, left_voicemail or wrong_number.",
    )
    duration_minutes = serializers.IntegerField(
        min_value=0,
        max_value=MAX_CALL_MINUTES,
        required=False,
        allow_null=True,
        help_text="Calls only: how long the call took, in whole minutes (0-1440).",
    )
    lead = LeadField(required=False, allow_null=True)
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.none(), required=False, allow_null=True
    )
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.none(), required=False, allow_null=True
    )
    opportunity = serializers.PrimaryKeyRelatedField(
        queryset=Opportunity.objects.none(), required=False, allow_null=True
    )
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit_choices()


class SnoozeSerializer(serializers.Serializer):
    by = serializers.ChoiceField(choices=[("1d", _("one day")), ("1w", _("one week"))], default="1d")


@extend_schema_view(
    list=extend_schema(
        tags=["activities"],
        summary="Activities and tasks you may see",
        parameters=[
            OpenApiParameter(
                "sort", str, description="-occurred | occurred | due | -due | -id", required=False
            )
        ],
    ),
    retrieve=extend_schema(tags=["activities"]),
)
class ActivityViewSet(VersionedRecordMixin, viewsets.GenericViewSet):
    """Calls, emails, meetings, notes (done, counted at occurred_at) and tasks (open until completed)."""

    serializer_class = ActivitySerializer
    filterset_class = ActivityFilterSet
    pagination_class = ActivityCursorPagination
    permission_classes = [IsTenantMember]

    def get_queryset(self) -> QuerySet[Activity]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(Activity)
        request = tenant_request(self.request)
        return activities_selectors.activity_list(tenant=request.tenant, membership=request.membership)

    def _own(self) -> Activity:
        """Activities are changed by their owner; admins and managers may change what they see."""
        req = tenant_request(self.request)
        _require_writer(self.request)
        activity = self.get_object()
        if activity.owner_id != req.user.pk and req.membership.role not in (Role.ADMIN, Role.SALES_MANAGER):
            raise PermissionDenied(_("Only the owner changes this activity."))
        return activity

    def list(self, request: Request, slug: str) -> Response:
        qs = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ActivitySerializer(page, many=True).data)

    def retrieve(self, request: Request, slug: str, pk: str) -> Response:
        return Response(ActivitySerializer(self.get_object()).data)

    @extend_schema(
        tags=["activities"],
        request=ActivityWriteSerializer,
        responses={201: ActivitySerializer},
        examples=[
            OpenApiExample(
                "Log a call on an account",
                value={
                    "kind": "call",
                    "subject": "Discovery call",
                    "body": "Budget confirmed",
                    "outcome": "connected",
                    "duration_minutes": 12,
                    "account": 17,
                },
                request_only=True,
            ),
            OpenApiExample(
                "Open a task on a deal",
                value={
                    "kind": "task",
                    "subject": "Send the proposal",
                    "due_at": "2026-12-01T10:00:00+08:00",
                    "opportunity": 9,
                },
                request_only=True,
            ),
            ACTIVITY_RESPONSE_EXAMPLE,
        ],
    )
    def create(self, request: Request, slug: str) -> Response:
        _require_writer(request)
        payload = ActivityWriteSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if not data.get("kind"):
            raise serializers.ValidationError({"kind": [_("This field is required.")]})
        req = tenant_request(request)
        activity = activities_services.activity_log(
            tenant=req.tenant,
            actor=req.user,
            kind=data.pop("kind"),
            subject=data.pop("subject", ""),
            **data,
        )
        return Response(ActivitySerializer(activity).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["activities"],
        request=ActivityWriteSerializer,
        responses={200: ActivitySerializer},
        examples=[ACTIVITY_UPDATE_EXAMPLE, ACTIVITY_RESPONSE_EXAMPLE],
    )
    def partial_update(self, request: Request, slug: str, pk: str) -> Response:
        activity = self._own()
        payload = ActivityWriteSerializer(data=request.data, context={"request": request}, partial=True)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        activity = activities_services.activity_update(
            tenant=req.tenant, actor=req.user, activity=activity, **payload.validated_data
        )
        return Response(ActivitySerializer(activity).data)

    @extend_schema(
        tags=["activities"],
        request=ActivityWriteSerializer,
        responses={200: ActivitySerializer},
        examples=[ACTIVITY_UPDATE_EXAMPLE, ACTIVITY_RESPONSE_EXAMPLE],
    )
    def update(self, request: Request, slug: str, pk: str) -> Response:
        return self.partial_update(request, slug, pk)

    @extend_schema(tags=["activities"], responses={204: None})
    def destroy(self, request: Request, slug: str, pk: str) -> Response:
        activity = self._own()
        req = tenant_request(request)
        return self.soft_destroy(
            lambda: activities_services.activity_delete(tenant=req.tenant, actor=req.user, activity=activity)
        )

    @extend_schema(tags=["activities"], request=None, responses={200: ActivitySerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, slug: str, pk: str) -> Response:
        req = tenant_request(request)
        _require_writer(request)
        return self.restore_deleted(
            find=lambda: self._own_deleted(pk),
            restore=lambda activity: activities_services.activity_restore(
                tenant=req.tenant, actor=req.user, activity=activity
            ),
            represent=lambda activity: ActivitySerializer(activity).data,
        )

    def _own_deleted(self, pk: str) -> Activity | None:
        """A deleted activity the member may see and restore (their own; admins and managers any visible one)."""
        req = tenant_request(self.request)
        activity = (
            Activity.objects.filter(tenant=req.tenant, pk=pk if str(pk).isdecimal() else None)
            .exclude(deleted_at=None)
            .first()
        )
        visible = visibility_selectors.activity_visibility_q(req.membership)
        if (
            activity is not None
            and visible is not None
            and not Activity.objects.filter(tenant=req.tenant, pk=activity.pk).filter(visible).exists()
        ):
            activity = None
        if activity is None or (
            activity.owner_id != req.user.pk and req.membership.role not in (Role.ADMIN, Role.SALES_MANAGER)
        ):
            return None
        return activity

    @extend_schema(tags=["activities"], request=None, responses={200: ActivitySerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, slug: str, pk: str) -> Response:
        """Mark a task done (it counts as an activity from now)."""
        activity = self._own()
        req = tenant_request(request)
        activity = activities_services.activity_complete(tenant=req.tenant, actor=req.user, activity=activity)
        return Response(ActivitySerializer(activity).data)

    @extend_schema(
        tags=["activities"],
        request=SnoozeSerializer,
        responses={200: ActivitySerializer},
        examples=[
            OpenApiExample("Snooze a week", value={"by": "1w"}, request_only=True),
            ACTIVITY_RESPONSE_EXAMPLE,
        ],
    )
    @action(detail=True, methods=["post"])
    def snooze(self, request: Request, slug: str, pk: str) -> Response:
        """Push an open task's due date by one day (1d) or one week (1w)."""
        activity = self._own()
        payload = SnoozeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        activity = activities_services.activity_snooze(
            tenant=req.tenant, actor=req.user, activity=activity, delta=payload.validated_data["by"]
        )
        return Response(ActivitySerializer(activity).data)
