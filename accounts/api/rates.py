"""API of the exchange-rate table and the conversion into the reporting currency."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.filters.rates import ExchangeRateFilterSet
from accounts.models import ExchangeRate
from accounts.selectors import rates as rates_selectors
from accounts.services import rates as rates_services
from crm import api_fields
from crm.pagination import CursorPagination
from crm.permissions import IsTenantAdmin, IsTenantMember
from crm.schema import request_example, response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request
from crm.validators import date_in_range, out_of_range_message

MAX_CONVERTIBLE = 10**16  # a deal amount has 16 digits before the point

EXCHANGE_RATE_RESPONSE_EXAMPLE = response_example(
    "USD into CNY",
    {
        "id": 5,
        "currency": "USD",
        "valid_from": "2026-01-01",
        "rate": "7.12340000",
        "created_at": "2025-12-28T11:00:00+08:00",
        "updated_at": "2025-12-28T11:00:00+08:00",
    },
)


EXCHANGE_RATE_UPDATE_EXAMPLE = request_example(
    "Correct the rate", {"currency": "USD", "valid_from": "2026-01-01", "rate": "7.1350"}
)


@extend_schema_serializer(examples=[EXCHANGE_RATE_RESPONSE_EXAMPLE])
class ExchangeRateSerializer(api_fields.ModelSerializer):
    class Meta:
        model = ExchangeRate
        fields = ["id", "currency", "valid_from", "rate", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


@extend_schema_view(
    list=extend_schema(tags=["money"], summary="Exchange rates into the reporting currency"),
    retrieve=extend_schema(tags=["money"]),
)
class ExchangeRateViewSet(viewsets.GenericViewSet):
    """1 unit of `currency` = `rate` units of the tenant's reporting currency from `valid_from`. Everyone reads;
    admins write (deals in that currency are repriced after a change)."""

    serializer_class = ExchangeRateSerializer
    filterset_class = ExchangeRateFilterSet
    pagination_class = type(
        "RatePagination", (CursorPagination,), {"ordering": ("currency", "-valid_from", "id")}
    )

    def get_permissions(self):  # type: ignore[no-untyped-def]
        if self.action in {"list", "retrieve", "convert"}:
            return [IsTenantMember()]
        return [IsTenantAdmin()]

    def get_queryset(self) -> QuerySet[ExchangeRate]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(ExchangeRate)
        return rates_selectors.exchange_rate_list(tenant=tenant_request(self.request).tenant)

    def list(self, request: Request, slug: str) -> Response:
        qs = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ExchangeRateSerializer(page, many=True).data)

    def retrieve(self, request: Request, slug: str, pk: str) -> Response:
        return Response(ExchangeRateSerializer(self.get_object()).data)

    @extend_schema(
        tags=["money"],
        request=ExchangeRateSerializer,
        responses={201: ExchangeRateSerializer},
        examples=[
            OpenApiExample(
                "USD from January",
                value={"currency": "USD", "valid_from": "2026-01-01", "rate": "7.1234"},
                request_only=True,
            ),
            EXCHANGE_RATE_RESPONSE_EXAMPLE,
        ],
    )
    def create(self, request: Request, slug: str) -> Response:
        payload = ExchangeRateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        rate = rates_services.exchange_rate_create(
            tenant=req.tenant, actor=req.user, **payload.validated_data
        )
        return Response(ExchangeRateSerializer(rate).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["money"],
        request=ExchangeRateSerializer,
        responses={200: ExchangeRateSerializer},
        examples=[EXCHANGE_RATE_UPDATE_EXAMPLE, EXCHANGE_RATE_RESPONSE_EXAMPLE],
    )
    def update(self, request: Request, slug: str, pk: str) -> Response:
        rate = self.get_object()
        payload = ExchangeRateSerializer(rate, data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        rate = rates_services.exchange_rate_update(
            tenant=req.tenant, actor=req.user, exchange_rate=rate, **payload.validated_data
        )
        return Response(ExchangeRateSerializer(rate).data)

    @extend_schema(
        tags=["money"],
        request=ExchangeRateSerializer,
        responses={200: ExchangeRateSerializer},
        examples=[EXCHANGE_RATE_UPDATE_EXAMPLE, EXCHANGE_RATE_RESPONSE_EXAMPLE],
    )
    def partial_update(self, request: Request, slug: str, pk: str) -> Response:
        return self.update(request, slug, pk)

    @extend_schema(tags=["money"], responses={204: None})
    def destroy(self, request: Request, slug: str, pk: str) -> Response:
        rate = self.get_object()
        req = tenant_request(request)
        rates_services.exchange_rate_delete(tenant=req.tenant, actor=req.user, exchange_rate=rate)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=["money"],
        parameters=[
            OpenApiParameter("amount", OpenApiTypes.DECIMAL, required=True),
            OpenApiParameter("currency", str, required=True),
            OpenApiParameter("on_date", OpenApiTypes.DATE, required=False, description="Default: today."),
        ],
        responses={200: OpenApiTypes.OBJECT},
        examples=[
            response_example(
                "1,000 USD in CNY",
                {"amount": "1000", "currency": "USD", "reporting_currency": "CNY", "value": "7123.40"},
            )
        ],
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def convert(self, request: Request, slug: str) -> Response:
        """An amount in the reporting currency, by the rate table."""
        import datetime
        from decimal import Decimal, InvalidOperation

        req = tenant_request(request)
        try:
            amount = Decimal(request.query_params.get("amount", ""))
            raw_date = request.query_params.get("on_date")
            on_date = datetime.date.fromisoformat(raw_date) if raw_date else None
        except (InvalidOperation, ValueError) as exc:
            raise serializers.ValidationError(
                {"detail": [_("Send amount (a number) and on_date (YYYY-MM-DD).")]}
            ) from exc
        # NaN, Infinity and amounts beyond what a deal can hold (18 digits, 2 after the point) are refused, not
        # converted: the arithmetic would fail (InvalidOperation) or answer "NaN".
        if not amount.is_finite() or abs(amount) >= MAX_CONVERTIBLE:
            raise serializers.ValidationError(
                {"amount": [_("Send an amount below 10^16 (a finite number).")]}
            )
        if on_date is not None and not date_in_range(on_date):
            raise serializers.ValidationError({"on_date": [out_of_range_message()]})
        currency = request.query_params.get("currency", "").upper()
        value = rates_services.to_reporting(
            tenant=req.tenant, amount=amount, currency=currency, on_date=on_date
        )
        return Response(
            {
                "amount": str(amount),
                "currency": currency,
                "reporting_currency": req.tenant.currency,
                "value": str(value),
            }
        )
