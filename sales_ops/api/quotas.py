"""Quota API under /api/v1/t/<slug>/quotas/: list (filters `year` = calendar year of the month, `period_start`,
`owner_email`, `team`), read, create, update, delete, and `POST quotas/bulk/` (the grid: many cells at once, all
or nothing). Fields are the CSV columns of KPIS.md (external_id, owner_email, team, period_start, amount) plus
`id`. Reads follow sales_ops.selectors.quotas (an invisible quota is a 404); writes sales_ops.services.quotas
(who may edit which quota: admin and ops all, a manager their team's; others get 403)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api_fields import SaneDateField
from crm.models import Team
from crm.pagination import CursorPagination
from crm.permissions import IsTenantMember
from crm.schema import request_example, response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request
from sales_ops.models import Quota
from sales_ops.selectors.quotas import quota_list
from sales_ops.services import quotas as services

QUOTA_VALUE: dict[str, Any] = {
    "id": 12,
    "external_id": "Q-2026-04-EAST",
    "owner_email": "",
    "team": "East",
    "period_start": "2026-04-01",
    "amount": "500000.00",
}


@extend_schema_serializer(examples=[response_example("A team's April quota", QUOTA_VALUE)])
class QuotaSerializer(serializers.ModelSerializer):
    owner_email = serializers.SerializerMethodField()
    team = serializers.SerializerMethodField()
    period_start = SaneDateField(source="month")

    class Meta:
        model = Quota
        fields = ["id", "external_id", "owner_email", "team", "period_start", "amount"]
        read_only_fields = fields

    def get_owner_email(self, quota: Quota) -> str:
        return quota.owner.email if quota.owner_id and quota.owner else ""

    def get_team(self, quota: Quota) -> str:
        return quota.team.name if quota.team_id and quota.team else ""


@extend_schema_serializer(
    examples=[
        request_example(
            "A rep's May quota",
            {"owner_email": "rep@acme.test", "period_start": "2026-05-01", "amount": "80000"},
        ),
        request_example("The whole tenant", {"period_start": "2026-05-01", "amount": "900000"}),
    ]
)
class QuotaWriteSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    owner_email = serializers.CharField(
        required=False, allow_blank=True, help_text="A member's email; empty with an empty team: the tenant."
    )
    team = serializers.CharField(required=False, allow_blank=True, help_text="A team's name.")
    period_start = SaneDateField(required=False, help_text="First day of a month. Required on create.")
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, required=False)


def _target(tenant: Any, data: dict[str, Any]) -> dict[str, Any]:
    """owner_email / team of a request body -> {"owner": User|None, "team": Team|None} for the given keys."""
    found: dict[str, Any] = {}
    if "owner_email" in data:
        email = (data["owner_email"] or "").strip()
        owner = (
            services.quota_owner_lookup(tenant=tenant, emails=[email]).get(email.lower()) if email else None
        )
        if email and owner is None:
            raise serializers.ValidationError({"owner_email": _("No member of this tenant has this email.")})
        found["owner"] = owner
    if "team" in data:
        name = (data["team"] or "").strip()
        team = Team.objects.filter(tenant=tenant, name=name).first() if name else None
        if name and team is None:
            raise serializers.ValidationError({"team": _("No team has this name.")})
        found["team"] = team
    return found


class QuotaCellSerializer(serializers.Serializer):
    owner_email = serializers.CharField(required=False, allow_blank=True)
    team = serializers.CharField(required=False, allow_blank=True)
    period_start = SaneDateField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)


@extend_schema_serializer(
    examples=[
        request_example(
            "Two months of a rep, and a cleared team cell",
            {
                "cells": [
                    {"owner_email": "rep@acme.test", "period_start": "2026-04-01", "amount": "80000"},
                    {"owner_email": "rep@acme.test", "period_start": "2026-05-01", "amount": "85000"},
                    {"team": "East", "period_start": "2026-04-01", "amount": None},
                ]
            },
        )
    ]
)
class QuotaBulkSerializer(serializers.Serializer):
    cells = serializers.ListField(child=QuotaCellSerializer(), allow_empty=False, max_length=5000)


@extend_schema_serializer(examples=[response_example("Four cells changed", {"changed": 4})])
class QuotaBulkResultSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text="Quotas created, changed or deleted.")


class QuotaPagination(CursorPagination):
    # By month, then id (unique, as a cursor needs); DRF accepts a tuple where the stubs say str.
    ordering = ("month", "id")  # type: ignore[assignment]


class QuotaFilterSerializer(serializers.Serializer):
    """The list's `year` and `period_start` filters: a bad value is a 400 naming the parameter (a year past 9999
    used to reach the database lookup and answer 500)."""

    year = serializers.IntegerField(required=False, allow_null=True, min_value=1900, max_value=2200)
    period_start = SaneDateField(required=False, allow_null=True)

    def to_internal_value(self, data: Any) -> Any:
        present = {name: data[name] for name in ("year", "period_start") if data.get(name, "") != ""}
        return super().to_internal_value(present)


@extend_schema(tags=["quotas"])
class QuotaViewSet(viewsets.ModelViewSet):
    serializer_class = QuotaSerializer
    permission_classes = [IsTenantMember]
    pagination_class = QuotaPagination
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Quota]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(Quota)
        request = tenant_request(self.request)
        rows = quota_list(tenant=request.tenant, membership=request.membership)
        query = QuotaFilterSerializer(data=self.request.GET)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        if filters.get("year") is not None:
            rows = rows.filter(month__year=filters["year"])
        if filters.get("period_start"):
            rows = rows.filter(month=filters["period_start"])
        params = self.request.GET
        if "owner_email" in params:
            rows = rows.filter(owner__email__iexact=params["owner_email"].strip())
        if "team" in params:
            rows = rows.filter(team__name=params["team"].strip())
        return rows

    @extend_schema(
        summary="Quotas you may read",
        parameters=[
            OpenApiParameter("year", int, description="Calendar year of the month."),
            OpenApiParameter("period_start", str, description="A month's first day, YYYY-MM-DD."),
            OpenApiParameter("owner_email", str),
            OpenApiParameter("team", str),
        ],
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Create a monthly quota", request=QuotaWriteSerializer, responses={201: QuotaSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        member = tenant_request(request)
        body = QuotaWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if "period_start" not in data or "amount" not in data:
            raise serializers.ValidationError(
                {
                    name: [_("This field is required.")]
                    for name in ("period_start", "amount")
                    if name not in data
                }
            )
        quota = services.quota_create(
            tenant=member.tenant,
            membership=member.membership,
            month=data["period_start"],
            amount=data["amount"],
            external_id=data.get("external_id", ""),
            **_target(member.tenant, data),
        )
        return Response(QuotaSerializer(quota).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a quota", request=QuotaWriteSerializer, responses=QuotaSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        member = tenant_request(request)
        quota = self.get_object()
        body = QuotaWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        fields: dict[str, Any] = _target(member.tenant, data)
        if "period_start" in data:
            fields["month"] = data["period_start"]
        for name in ("amount", "external_id"):
            if name in data:
                fields[name] = data[name]
        quota = services.quota_update(
            tenant=member.tenant, membership=member.membership, quota=quota, **fields
        )
        return Response(QuotaSerializer(quota).data)

    @extend_schema(
        summary="Change some fields of a quota", request=QuotaWriteSerializer, responses=QuotaSerializer
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, **kwargs)

    @extend_schema(summary="Delete a quota")
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        member = tenant_request(request)
        services.quota_delete(tenant=member.tenant, membership=member.membership, quota=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Set many quota cells at once (the grid; all or nothing)",
        request=QuotaBulkSerializer,
        responses=QuotaBulkResultSerializer,
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        member = tenant_request(request)
        body = QuotaBulkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        cells_in = body.validated_data["cells"]
        owners = services.quota_owner_lookup(
            tenant=member.tenant, emails=[cell.get("owner_email") or "" for cell in cells_in]
        )
        names = {(cell.get("team") or "").strip() for cell in cells_in} - {""}
        teams = {team.name: team for team in Team.objects.filter(tenant=member.tenant, name__in=names)}
        cells, errors = [], {}
        for index, cell in enumerate(cells_in):
            email = (cell.get("owner_email") or "").strip().lower()
            name = (cell.get("team") or "").strip()
            if email and email not in owners:
                errors[str(index)] = _("No member of this tenant has this email.")
            elif name and name not in teams:
                errors[str(index)] = _("No team has this name.")
            else:
                owner, team = owners.get(email), teams.get(name)
                cells.append(
                    services.QuotaCell(
                        month=cell["period_start"],
                        amount=cell["amount"],
                        owner_id=owner.pk if owner else None,
                        team_id=team.pk if team else None,
                    )
                )
        if errors:
            raise serializers.ValidationError({"cells": errors})
        changed = services.quota_bulk_set(
            tenant=member.tenant, actor=member.user, membership=member.membership, cells=cells
        )
        return Response({"changed": changed})
