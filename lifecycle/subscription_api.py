"""API of subscriptions, renewals, the lifecycle settings and the lifecycle stage history, under
/api/v1/t/<slug>/. Reads come from the lifecycle selectors (role visibility: an invisible record is a 404, an
invisible id in a body or filter "does not exist"), writes from the lifecycle services. Updates of subscriptions
need the `version` the client loaded; a stale one answers 409 with the current values. Deletes are soft and have
a `restore` action. Lists use keyset (cursor) pagination and the same FilterSets as the pages.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
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
from rest_framework.views import APIView

from accounts.models import Account
from crm.permissions import IsTenantAdmin, IsTenantMember
from crm.schema import request_example, response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request
from lifecycle.models import LifecycleChange, LifecycleSettings, Subscription
from lifecycle.renewal_selectors import DEFAULT_WINDOW, WINDOWS, renewal_list
from lifecycle.services import subscriptions as services
from lifecycle.services.settings import lifecycle_settings_get, lifecycle_settings_update
from lifecycle.subscription_filters import (
    RenewalCursorPagination,
    RenewalFilterSet,
    SubscriptionCursorPagination,
    SubscriptionFilterSet,
)
from lifecycle.subscription_selectors import (
    can_edit_subscriptions,
    subscription_accounts,
    subscription_deleted_get,
    subscription_get,
    subscription_list,
    subscription_queryset,
)

# --- serializers ------------------------------------------------------------------------------------------------

SUBSCRIPTION_VALUE: dict[str, Any] = {
    "id": 31,
    "external_id": "SUB-2026-0031",
    "account": 17,
    "account_name": "Shanghai Huaxin Technology Co., Ltd.",
    "plan": "Enterprise",
    "mrr": "12000.00",
    "currency": "CNY",
    "start_date": "2026-01-01",
    "end_date": "2027-01-01",
    "renews_from": 12,
    "churn_reason": "",
    "renewal_opportunity": 204,
    "version": 2,
    "created_at": "2025-12-20T10:00:00+08:00",
    "updated_at": "2026-10-03T09:12:00+08:00",
    "deleted_at": None,
}
SUBSCRIPTION_RESPONSE_EXAMPLE = response_example("An annual enterprise term", SUBSCRIPTION_VALUE)
SUBSCRIPTION_CREATE_EXAMPLE = request_example(
    "Create a one-year term",
    {
        "account": 17,
        "plan": "Enterprise",
        "mrr": "12000.00",
        "currency": "CNY",
        "start_date": "2026-01-01",
        "end_date": "2027-01-01",
    },
)
SUBSCRIPTION_UPDATE_EXAMPLE = request_example("Raise the MRR", {"version": 2, "mrr": "13500.00"})


@extend_schema_serializer(examples=[SUBSCRIPTION_RESPONSE_EXAMPLE])
class SubscriptionSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = Subscription
        fields = [
            "id",
            "external_id",
            "account",
            "account_name",
            "plan",
            "mrr",
            "currency",
            "start_date",
            "end_date",
            "renews_from",
            "churn_reason",
            "renewal_opportunity",
            "version",
            "created_at",
            "updated_at",
            "deleted_at",
        ]
        read_only_fields = fields


class SubscriptionWriteSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, help_text="Required on update: the version you loaded; a stale one answers 409."
    )
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.none(), required=False, help_text="Required on create; cannot change."
    )
    plan = serializers.CharField(max_length=200, required=False, allow_blank=True)
    mrr = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    currency = serializers.CharField(max_length=3, required=False, help_text="Default: the tenant's.")
    start_date = serializers.DateField(required=False, help_text="Required on create.")
    end_date = serializers.DateField(required=False, allow_null=True, help_text="Empty: open-ended.")
    renews_from = serializers.PrimaryKeyRelatedField(
        queryset=Subscription.objects.none(), required=False, allow_null=True
    )
    churn_reason = serializers.CharField(required=False, allow_blank=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        tenant = getattr(request, "tenant", None)
        membership = getattr(request, "membership", None)
        if tenant is not None and membership is not None:
            # Relation fields see only the tenant and what the member may see: anything else "does not exist".
            self.fields["account"].queryset = subscription_accounts(tenant=tenant, membership=membership)  # type: ignore[attr-defined]
            self.fields["renews_from"].queryset = subscription_queryset(tenant=tenant, membership=membership)  # type: ignore[attr-defined]


class SubscriptionConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = serializers.DictField()


RENEWAL_VALUE: dict[str, Any] = {
    "id": 31,
    "window": "30",
    "account": 17,
    "account_name": "Shanghai Huaxin Technology Co., Ltd.",
    "plan": "Enterprise",
    "end_date": "2027-01-01",
    "mrr": "12000.00",
    "currency": "CNY",
    "health": 72,
    "last_touch": "2026-11-18T15:30:00+08:00",
    "renewal_opportunity": 204,
    "deal_stage": "Proposal",
    "deal_owner": 7,
    "deal_owner_name": "Li Wei",
}


@extend_schema_serializer(examples=[response_example("Due within 30 days", RENEWAL_VALUE)])
class RenewalSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The subscription.")
    window = serializers.ChoiceField(choices=list(WINDOWS))
    account = serializers.IntegerField(source="account_id")
    account_name = serializers.CharField(source="account.name")
    plan = serializers.CharField()
    end_date = serializers.DateField()
    mrr = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="MRR at stake.")
    currency = serializers.CharField()
    health = serializers.IntegerField(allow_null=True)
    last_touch = serializers.DateTimeField(
        allow_null=True, help_text="The latest done activity on the account."
    )
    renewal_opportunity = serializers.IntegerField(source="renewal_opportunity_id", allow_null=True)
    deal_stage = serializers.CharField(source="renewal_opportunity.stage.name", allow_null=True, default=None)
    deal_owner = serializers.IntegerField(
        source="renewal_opportunity.owner_id", allow_null=True, default=None
    )
    deal_owner_name = serializers.CharField(
        source="renewal_opportunity.owner.display_name", allow_null=True, default=None
    )


SETTINGS_VALUE = {"onboarding_days": 90, "grace_days": 30, "lapse_days": 365, "renewal_lead_days": 90}


@extend_schema_serializer(
    examples=[
        response_example("The defaults", SETTINGS_VALUE),
        request_example("Create renewal deals 120 days ahead", {"renewal_lead_days": 120}),
    ]
)
class LifecycleSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = LifecycleSettings
        fields = ["onboarding_days", "grace_days", "lapse_days", "renewal_lead_days"]
        extra_kwargs = {name: {"required": False} for name in fields}


HISTORY_VALUE = {
    "account": 17,
    "from_stage": "conversion",
    "to_stage": "retention",
    "date": "2026-04-01",
    "cause": "onboarding_done",
}


@extend_schema_serializer(examples=[response_example("Onboarding over", HISTORY_VALUE)])
class LifecycleChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = LifecycleChange
        fields = ["account", "from_stage", "to_stage", "date", "cause"]
        read_only_fields = fields


# --- subscriptions -----------------------------------------------------------------------------------------------

SORT_PARAM = OpenApiParameter(
    "sort", str, description="-start | start | end | -end (keyset pagination follows it)", required=False
)


def _require_editor(request: Request) -> None:
    if not can_edit_subscriptions(tenant_request(request).membership):
        raise PermissionDenied(_("Your role can read subscriptions but not change them."))


def _require_version(data: dict) -> int:
    version = data.get("version")
    if version is None:
        raise serializers.ValidationError(
            {"version": [_("Send the version you loaded (optimistic locking).")]}
        )
    return int(version)


@extend_schema_view(
    list=extend_schema(tags=["subscriptions"], summary="Subscriptions you may see", parameters=[SORT_PARAM]),
    retrieve=extend_schema(tags=["subscriptions"]),
)
class SubscriptionViewSet(viewsets.GenericViewSet):
    """Subscriptions (contract terms). cs and admins write; others read what they see. Deletes are soft."""

    serializer_class = SubscriptionSerializer
    filterset_class = SubscriptionFilterSet
    pagination_class = SubscriptionCursorPagination
    permission_classes = [IsTenantMember]

    def get_queryset(self) -> QuerySet[Subscription]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(Subscription)
        request = tenant_request(self.request)
        return subscription_list(tenant=request.tenant, membership=request.membership)

    def list(self, request: Request, slug: str) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(SubscriptionSerializer(page, many=True).data)

    def retrieve(self, request: Request, slug: str, pk: str) -> Response:
        return Response(SubscriptionSerializer(self.get_object()).data)

    def _fresh(self, pk: int) -> Subscription:
        req = tenant_request(self.request)
        return subscription_get(tenant=req.tenant, membership=req.membership, pk=pk)

    @extend_schema(
        tags=["subscriptions"],
        request=SubscriptionWriteSerializer,
        responses={201: SubscriptionSerializer},
        examples=[SUBSCRIPTION_CREATE_EXAMPLE, SUBSCRIPTION_RESPONSE_EXAMPLE],
    )
    def create(self, request: Request, slug: str) -> Response:
        _require_editor(request)
        payload = SubscriptionWriteSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = {key: value for key, value in payload.validated_data.items() if key != "version"}
        errors = {
            name: [_("This field is required.")] for name in ("account", "start_date") if not data.get(name)
        }
        if errors:
            raise serializers.ValidationError(errors)
        req = tenant_request(request)
        subscription = services.subscription_create(tenant=req.tenant, actor=req.user, **data)
        return Response(
            SubscriptionSerializer(self._fresh(subscription.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        tags=["subscriptions"],
        request=SubscriptionWriteSerializer,
        responses={200: SubscriptionSerializer, 409: SubscriptionConflictSerializer},
        examples=[SUBSCRIPTION_UPDATE_EXAMPLE, SUBSCRIPTION_RESPONSE_EXAMPLE],
    )
    def update(self, request: Request, slug: str, pk: str) -> Response:
        _require_editor(request)
        subscription = self.get_object()
        payload = SubscriptionWriteSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        version = _require_version(payload.validated_data)
        fields = {key: value for key, value in payload.validated_data.items() if key != "version"}
        account = fields.pop("account", None)
        if account is not None and account.pk != subscription.account_id:
            raise serializers.ValidationError(
                {"account": [_("A subscription cannot move to another account.")]}
            )
        req = tenant_request(request)
        services.subscription_update(
            tenant=req.tenant, actor=req.user, subscription=subscription, version=version, **fields
        )
        return Response(SubscriptionSerializer(self._fresh(subscription.pk)).data)

    @extend_schema(
        tags=["subscriptions"],
        request=SubscriptionWriteSerializer,
        responses={200: SubscriptionSerializer, 409: SubscriptionConflictSerializer},
        examples=[SUBSCRIPTION_UPDATE_EXAMPLE, SUBSCRIPTION_RESPONSE_EXAMPLE],
    )
    def partial_update(self, request: Request, slug: str, pk: str) -> Response:
        return self.update(request, slug, pk)

    @extend_schema(tags=["subscriptions"], responses={204: None})
    def destroy(self, request: Request, slug: str, pk: str) -> Response:
        _require_editor(request)
        subscription = self.get_object()
        req = tenant_request(request)
        services.subscription_delete(tenant=req.tenant, actor=req.user, subscription=subscription)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(tags=["subscriptions"], request=None, responses={200: SubscriptionSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, slug: str, pk: str) -> Response:
        """Undo a delete."""
        req = tenant_request(request)
        subscription = subscription_deleted_get(tenant=req.tenant, membership=req.membership, pk=pk)
        if subscription is None:
            raise Http404
        services.subscription_restore(tenant=req.tenant, actor=req.user, subscription=subscription)
        return Response(SubscriptionSerializer(self._fresh(subscription.pk)).data)


# --- renewals ------------------------------------------------------------------------------------------------------

WINDOW_PARAM = OpenApiParameter(
    "window",
    str,
    enum=list(WINDOWS),
    description="overdue | 30 | 60 | 90 (days until the end date) | won (next term to accept); default 30",
    required=False,
)


@extend_schema_view(
    list=extend_schema(
        tags=["renewals"], summary="Renewals due in a window", parameters=[WINDOW_PARAM, SORT_PARAM]
    ),
)
class RenewalViewSet(viewsets.GenericViewSet):
    """The renewals page's rows (read only): terms ending in the window without a successor."""

    serializer_class = RenewalSerializer
    filterset_class = RenewalFilterSet
    pagination_class = RenewalCursorPagination
    permission_classes = [IsTenantMember]

    def get_queryset(self) -> QuerySet[Subscription]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(Subscription)
        request = tenant_request(self.request)
        window = self.request.query_params.get("window") or DEFAULT_WINDOW
        if window not in WINDOWS:
            raise serializers.ValidationError({"window": [_("Choose overdue, 30, 60, 90 or won.")]})
        return renewal_list(tenant=request.tenant, membership=request.membership, window=window)

    def list(self, request: Request, slug: str) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(RenewalSerializer(page, many=True).data)


# --- settings and history --------------------------------------------------------------------------------------------


class LifecycleSettingsView(APIView):
    """The tenant's lifecycle windows (admins). A change of a stage window recomputes every account's stages."""

    permission_classes = [IsTenantAdmin]
    serializer_class = LifecycleSettingsSerializer

    @extend_schema(tags=["lifecycle"], responses={200: LifecycleSettingsSerializer})
    def get(self, request: Request, slug: str) -> Response:
        settings = lifecycle_settings_get(tenant=tenant_request(request).tenant)
        return Response(LifecycleSettingsSerializer(settings).data)

    @extend_schema(
        tags=["lifecycle"], request=LifecycleSettingsSerializer, responses={200: LifecycleSettingsSerializer}
    )
    def put(self, request: Request, slug: str) -> Response:
        req = tenant_request(request)
        payload = LifecycleSettingsSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        settings = lifecycle_settings_update(tenant=req.tenant, actor=req.user, **payload.validated_data)
        return Response(LifecycleSettingsSerializer(settings).data)


class LifecycleHistoryView(APIView):
    """An account's lifecycle stage changes, oldest first (the account must be one whose subscriptions you see)."""

    permission_classes = [IsTenantMember]
    serializer_class = LifecycleChangeSerializer

    @extend_schema(tags=["lifecycle"], responses={200: LifecycleChangeSerializer(many=True)})
    def get(self, request: Request, slug: str, pk: int) -> Response:
        req = tenant_request(request)
        if not subscription_accounts(tenant=req.tenant, membership=req.membership).filter(pk=pk).exists():
            raise Http404
        changes = LifecycleChange.objects.filter(tenant=req.tenant, account_id=pk).order_by("date")
        return Response(LifecycleChangeSerializer(changes, many=True).data)
