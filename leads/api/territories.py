"""API of territories under /api/v1/t/<slug>/territories/ (with members, + match)."""

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
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.pagination import CursorPagination
from crm.schema import request_example, response_example
from crm.types import TenantRequest
from leads.api.setup_base import SetupViewSet
from leads.filters.territories import TerritoryFilter
from leads.models import Territory
from leads.selectors import setup_roles as setup_roles_selectors
from leads.selectors import territories as territories_selectors
from leads.services import territories as territories_services


class TerritoryMemberSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="user_id")
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.display_name")
    position = serializers.IntegerField()
    active = serializers.SerializerMethodField()

    def get_active(self, member: Any) -> bool:
        return member.user_id in self.context["active_ids"]


TERRITORY_RESPONSE_EXAMPLE = response_example(
    "East China, two reps in rotation",
    {
        "id": 2,
        "name": "East China",
        "priority": 10,
        "regions": ["Shanghai", "Jiangsu", "Zhejiang"],
        "industries": [],
        "size_bands": ["201-1000", "1001-5000"],
        "is_active": True,
        "members": [
            {"user": 12, "email": "rep@acme.test", "name": "Li Na", "position": 0, "active": True},
            {"user": 13, "email": "rep2@acme.test", "name": "Chen Jie", "position": 1, "active": True},
        ],
        "next_user": 13,
        "created_at": "2026-01-05T10:00:00+08:00",
        "updated_at": "2026-06-01T09:00:00+08:00",
    },
)


TERRITORY_UPDATE_EXAMPLE = request_example(
    "Add Anhui, rotate three reps",
    {"regions": ["Shanghai", "Jiangsu", "Zhejiang", "Anhui"], "member_ids": [12, 13, 15]},
)


TERRITORY_REPLACE_EXAMPLE = request_example(
    "Replace every field",
    {
        "name": "East China",
        "priority": 10,
        "regions": ["Shanghai", "Jiangsu", "Zhejiang", "Anhui"],
        "industries": [],
        "size_bands": ["201-1000", "1001-5000"],
        "member_ids": [12, 13, 15],
        "is_active": True,
    },
)


@extend_schema_serializer(examples=[TERRITORY_RESPONSE_EXAMPLE])
class TerritorySerializer(serializers.ModelSerializer):
    regions = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    industries = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    # Values of the company's size band list (the service checks them).
    size_bands = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    members = TerritoryMemberSerializer(source="territory_members", many=True, read_only=True)
    member_ids = serializers.ListField(
        child=serializers.IntegerField(),
        write_only=True,
        required=False,
        help_text=_("User ids of the members, in round-robin order (replaces the members)."),
    )
    next_user = serializers.SerializerMethodField(help_text=_("Who gets the next lead of this territory."))

    class Meta:
        model = Territory
        fields = [
            "id",
            "name",
            "priority",
            "regions",
            "industries",
            "size_bands",
            "is_active",
            "members",
            "member_ids",
            "next_user",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs: dict[str, dict[str, Any]] = {"name": {"validators": []}}
        validators: list = []

    def get_next_user(self, territory: Territory) -> int | None:
        user = territories_selectors.territory_next_user(territory, self.context["active_ids"])
        return user.pk if user else None


@extend_schema_serializer(
    examples=[
        response_example(
            "East China, Chen Jie is next",
            {
                "territory": 2,
                "territory_name": "East China",
                "next_user": 13,
                "next_user_email": "rep2@acme.test",
            },
        )
    ]
)
class TerritoryMatchSerializer(serializers.Serializer):
    territory = serializers.IntegerField(allow_null=True)
    territory_name = serializers.CharField(allow_null=True)
    next_user = serializers.IntegerField(allow_null=True)
    next_user_email = serializers.EmailField(allow_null=True)


class TerritoryPagination(CursorPagination):
    ordering = ("priority", "id")  # type: ignore[assignment]  # DRF takes a tuple of fields; the stubs say str


@extend_schema_view(
    create=extend_schema(
        examples=[
            OpenApiExample(
                "East China",
                value={
                    "name": "East China",
                    "priority": 10,
                    "regions": ["Shanghai", "Jiangsu", "Zhejiang"],
                    "industries": [],
                    "size_bands": ["201-1000", "1001-5000"],
                    "member_ids": [12, 13],
                    "is_active": True,
                },
                request_only=True,
            ),
            TERRITORY_RESPONSE_EXAMPLE,
        ]
    ),
    update=extend_schema(examples=[TERRITORY_REPLACE_EXAMPLE, TERRITORY_RESPONSE_EXAMPLE]),
    partial_update=extend_schema(examples=[TERRITORY_UPDATE_EXAMPLE, TERRITORY_RESPONSE_EXAMPLE]),
)
@extend_schema(tags=["territories"])
class TerritoryViewSet(SetupViewSet):
    """Assignment territories: a new unowned lead goes to the first active territory by priority whose non-empty
    criteria all match, and round-robin to its active members."""

    serializer_class = TerritorySerializer
    filterset_class = TerritoryFilter
    pagination_class = TerritoryPagination
    read_roles = setup_roles_selectors.CONFIG_READ_ROLES
    model = Territory

    def _selector_list(self) -> QuerySet:
        return territories_selectors.territory_list(
            tenant=self.request.tenant, membership=self.request.membership
        ).distinct()

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not getattr(self, "swagger_fake_view", False) and getattr(self.request, "tenant", None):
            if not hasattr(self, "_active_ids"):
                self._active_ids = territories_selectors.active_user_ids(tenant=self.request.tenant)
            context["active_ids"] = self._active_ids
        return context

    def _create(self, serializer: serializers.BaseSerializer) -> Any:
        return territories_services.territory_create(
            tenant=self.request.tenant, actor=self.request.user, **self._fields(serializer)
        )

    def _update(self, instance: Any, serializer: serializers.BaseSerializer) -> Any:
        return territories_services.territory_update(
            tenant=self.request.tenant,
            actor=self.request.user,
            territory=instance,
            **self._fields(serializer),
        )

    def perform_destroy(self, instance: Territory) -> None:
        territories_services.territory_delete(
            tenant=self.request.tenant, actor=self.request.user, territory=instance
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("region", str),
            OpenApiParameter("industry", str),
            OpenApiParameter("size_band", str, description="A value of the company's size band list."),
        ],
        responses={200: TerritoryMatchSerializer},
        filters=False,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def match(self, request: TenantRequest, slug: str) -> Response:
        """Which territory a lead with these attributes would get and who is next (nothing is assigned)."""
        preview = territories_selectors.territory_preview(
            tenant=request.tenant,
            region=request.query_params.get("region", ""),
            industry=request.query_params.get("industry", ""),
            size_band=request.query_params.get("size_band", ""),
        )
        return Response(
            {
                "territory": preview.territory.pk if preview.territory else None,
                "territory_name": preview.territory.name if preview.territory else None,
                "next_user": preview.next_user.pk if preview.next_user else None,
                "next_user_email": preview.next_user.email if preview.next_user else None,
            }
        )
