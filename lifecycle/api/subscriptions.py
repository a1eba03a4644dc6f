"""API of subscriptions, renewals, the lifecycle settings and the lifecycle stage history, under
/api/v1/t/<slug>/. Reads come from the lifecycle selectors (role visibility: an invisible record is a 404, an
invisible id in a body or filter "does not exist"), writes from the lifecycle services. Updates of subscriptions
need the `version` the client loaded; a stale one answers 409 with the current values. Deletes are soft and have
a `restore` action. Lists use keyset (cursor) pagination and the same FilterSets as the pages.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
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

from accounts.models import Account
from crm.api_fields import SaneDateField
from crm.api_records import VersionedRecordMixin
from crm.permissions import IsTenantMember
from crm.schema import request_example, response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request
from lifecycle.filters.subscriptions import SubscriptionCursorPagination, SubscriptionFilterSet
from lifecycle.models import Subscription
from lifecycle.selectors.subscriptions import (
    can_edit_subscriptions,
    subscription_accounts,
    subscription_deleted_get,
    subscription_get,
    subscription_list,
    subscription_queryset,
)
from lifecycle.services import subscriptions as services

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
    start_date = SaneDateField(required=False, help_text="Required on create.")
    end_date = SaneDateField(required=False, allow_null=True, help_text="Empty: open-ended.")
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


SORT_PARAM = OpenApiParameter(
    "sort", str, description="-start | start | end | -end (keyset pagination follows it)", required=False
)


def _require_editor(request: Request) -> None:
    if not can_edit_subscriptions(tenant_request(request).membership):
        raise PermissionDenied(_("Your role can read subscriptions but not change them."))


@extend_schema_view(
    list=extend_schema(tags=["subscriptions"], summary="Subscriptions you may see", parameters=[SORT_PARAM]),
    retrieve=extend_schema(tags=["subscriptions"]),
)
class SubscriptionViewSet(VersionedRecordMixin, viewsets.GenericViewSet):
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
        version, fields = self.versioned_fields(payload.validated_data)
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
        return self.soft_destroy(
            lambda: services.subscription_delete(tenant=req.tenant, actor=req.user, subscription=subscription)
        )

    @extend_schema(tags=["subscriptions"], request=None, responses={200: SubscriptionSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, slug: str, pk: str) -> Response:
        """Undo a delete."""
        req = tenant_request(request)
        return self.restore_deleted(
            find=lambda: subscription_deleted_get(tenant=req.tenant, membership=req.membership, pk=pk),
            restore=lambda subscription: services.subscription_restore(
                tenant=req.tenant, actor=req.user, subscription=subscription
            ),
            represent=lambda subscription: SubscriptionSerializer(self._fresh(subscription.pk)).data,
        )
