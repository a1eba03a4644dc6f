"""API of renewals (subscriptions ending, by window, with MRR at stake) under /api/v1/t/<slug>/: the same
selector and FilterSet as the renewals page, keyset pagination.
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
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api_fields import SaneDateField, SaneDateTimeField
from crm.permissions import IsTenantMember
from crm.schema import response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request
from lifecycle.api.subscriptions import SORT_PARAM
from lifecycle.filters.subscriptions import RenewalCursorPagination, RenewalFilterSet
from lifecycle.models import Subscription
from lifecycle.selectors.renewals import DEFAULT_WINDOW, WINDOWS, renewal_list

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
    end_date = SaneDateField()
    mrr = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="MRR at stake.")
    currency = serializers.CharField()
    health = serializers.IntegerField(allow_null=True)
    last_touch = SaneDateTimeField(allow_null=True, help_text="The latest done activity on the account.")
    renewal_opportunity = serializers.IntegerField(source="renewal_opportunity_id", allow_null=True)
    deal_stage = serializers.CharField(source="renewal_opportunity.stage.name", allow_null=True, default=None)
    deal_owner = serializers.IntegerField(
        source="renewal_opportunity.owner_id", allow_null=True, default=None
    )
    deal_owner_name = serializers.CharField(
        source="renewal_opportunity.owner.display_name", allow_null=True, default=None
    )


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
