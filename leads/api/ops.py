"""API of the ops area under /api/v1/t/<slug>/: lead-sources (+ quality), campaigns (+ funnel), territories
(with members, + match), scoring-rules. Reads go through leads.selectors.ops, writes through leads.services.ops.

Roles as on the pages: sources and campaigns are read by admin, ops, managers and reps; territories and scoring
rules by admin, ops and managers; only admin and ops write. Any other role gets 404, as if the route did not exist.
"""

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
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from crm.models import MembershipStatus, User
from crm.pagination import CursorPagination
from crm.schema import request_example, response_example
from crm.tenancy import schema_queryset
from leads import filters_ops
from leads.models import Campaign, LeadSource, ScoringRule, SizeBand, Territory
from leads.selectors import ops as selectors
from leads.services import ops as services

WRITE_ACTIONS = frozenset({"create", "update", "partial_update", "destroy"})


class OpsRolePermission(BasePermission):
    """Read roles per viewset, write roles admin/ops; anyone else gets 404 (the route does not exist for them)."""

    def has_permission(self, request, view) -> bool:  # type: ignore[no-untyped-def]
        membership = getattr(request, "membership", None)
        if not (request.user and request.user.is_authenticated and membership):
            return False
        roles = selectors.EDIT_ROLES if view.action in WRITE_ACTIONS else view.read_roles
        if membership.role not in roles:
            raise NotFound
        return True


# ------------------------------------------------------------------------------------------- serializers


LEAD_SOURCE_RESPONSE_EXAMPLE = response_example(
    "An inbound source",
    {
        "id": 3,
        "name": "Demo request",
        "kind": "inbound",
        "description": "Form on the pricing page",
        "is_active": True,
        "created_at": "2026-01-05T10:00:00+08:00",
        "updated_at": "2026-01-05T10:00:00+08:00",
    },
)
LEAD_SOURCE_UPDATE_EXAMPLE = request_example(
    "Describe and keep active",
    {
        "name": "Demo request",
        "kind": "inbound",
        "description": "Pricing page and product tour",
        "is_active": True,
    },
)


@extend_schema_serializer(examples=[LEAD_SOURCE_RESPONSE_EXAMPLE])
class LeadSourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = LeadSource
        fields = ["id", "name", "kind", "description", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The kind (inbound or incentive) is a first-class report dimension: the client must choose it.
        extra_kwargs = {"name": {"validators": []}, "kind": {"required": True}}
        validators: list = []


class _ActiveMemberField(serializers.PrimaryKeyRelatedField):
    """A user id that must belong to an active member of the request's tenant (else "does not exist")."""

    def get_queryset(self) -> QuerySet[User]:
        tenant = self.context["request"].tenant
        return User.objects.filter(memberships__tenant=tenant, memberships__status=MembershipStatus.ACTIVE)


class _SourceField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self) -> QuerySet[LeadSource]:
        return selectors.source_choices(tenant=self.context["request"].tenant)


CAMPAIGN_RESPONSE_EXAMPLE = response_example(
    "A trade show",
    {
        "id": 5,
        "external_id": "",
        "name": "Shanghai Industry Expo 2026",
        "channel": "event",
        "source": 3,
        "source_kind": "inbound",
        "cost": "48000.00",
        "currency": "CNY",
        "start_date": "2026-04-08",
        "end_date": "2026-04-11",
        "owner": 12,
        "n_leads": 86,
        "n_mql": 31,
        "n_won": 4,
        "created_at": "2026-02-20T15:00:00+08:00",
        "updated_at": "2026-04-12T09:30:00+08:00",
    },
)
CAMPAIGN_UPDATE_EXAMPLE = request_example("Final cost after the show", {"cost": "52500.00"})
CAMPAIGN_REPLACE_EXAMPLE = request_example(
    "Replace every field",
    {
        "name": "Shanghai Industry Expo 2026",
        "channel": "event",
        "source": 3,
        "cost": "52500.00",
        "currency": "CNY",
        "start_date": "2026-04-08",
        "end_date": "2026-04-11",
        "owner": 12,
    },
)


@extend_schema_serializer(examples=[CAMPAIGN_RESPONSE_EXAMPLE])
class CampaignSerializer(serializers.ModelSerializer):
    source = _SourceField(required=False, allow_null=True)
    owner = _ActiveMemberField(required=False, allow_null=True)
    currency = serializers.CharField(
        max_length=3, required=False, help_text=_("Default: the tenant's currency.")
    )
    n_leads = serializers.IntegerField(read_only=True, help_text=_("Leads of the campaign you can see."))
    n_mql = serializers.IntegerField(read_only=True)
    n_won = serializers.IntegerField(read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "external_id",
            "name",
            "channel",
            "source",
            "source_kind",
            "cost",
            "currency",
            "start_date",
            "end_date",
            "owner",
            "n_leads",
            "n_mql",
            "n_won",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The services check uniqueness and dates (one set of rules and messages for pages and API).
        validators: list = []
        extra_kwargs = {"external_id": {"validators": []}}


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
    size_bands = serializers.ListField(
        child=serializers.ChoiceField(choices=SizeBand.choices), required=False
    )
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
        extra_kwargs = {"name": {"validators": []}}
        validators: list = []

    def get_next_user(self, territory: Territory) -> int | None:
        user = selectors.territory_next_user(territory, self.context["active_ids"])
        return user.pk if user else None


SCORING_RULE_RESPONSE_EXAMPLE = response_example(
    "Fit: industry",
    {
        "id": 4,
        "category": "fit",
        "field": "industry",
        "value": "Manufacturing",
        "points": 20,
        "is_active": True,
        "created_at": "2026-01-05T10:00:00+08:00",
        "updated_at": "2026-01-05T10:00:00+08:00",
    },
)
SCORING_RULE_UPDATE_EXAMPLE = request_example(
    "Worth more", {"field": "industry", "value": "Manufacturing", "points": 25}
)


@extend_schema_serializer(examples=[SCORING_RULE_RESPONSE_EXAMPLE])
class ScoringRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScoringRule
        fields = ["id", "category", "field", "value", "points", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "category", "created_at", "updated_at"]


class FunnelSerializer(serializers.Serializer):
    leads = serializers.IntegerField()
    mql = serializers.IntegerField()
    sql = serializers.IntegerField()
    converted = serializers.IntegerField()
    won = serializers.IntegerField()
    lead_to_mql_rate = serializers.FloatField(allow_null=True)
    mql_to_sql_rate = serializers.FloatField(allow_null=True)
    lead_conversion_rate = serializers.FloatField(allow_null=True)
    lead_to_win_rate = serializers.FloatField(allow_null=True)


class SourceQualitySerializer(FunnelSerializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    kind = serializers.CharField(allow_blank=True)


class KindQualitySerializer(FunnelSerializer):
    kind = serializers.CharField()


@extend_schema_serializer(
    examples=[
        response_example(
            "Inbound converts better than incentive",
            {
                "sources": [
                    {
                        "id": 3,
                        "name": "Demo request",
                        "kind": "inbound",
                        "leads": 120,
                        "mql": 54,
                        "sql": 30,
                        "converted": 18,
                        "won": 9,
                        "lead_to_mql_rate": 0.45,
                        "mql_to_sql_rate": 0.5556,
                        "lead_conversion_rate": 0.15,
                        "lead_to_win_rate": 0.075,
                    },
                    {
                        "id": 4,
                        "name": "Giveaway",
                        "kind": "incentive",
                        "leads": 400,
                        "mql": 40,
                        "sql": 12,
                        "converted": 6,
                        "won": 2,
                        "lead_to_mql_rate": 0.1,
                        "mql_to_sql_rate": 0.3,
                        "lead_conversion_rate": 0.015,
                        "lead_to_win_rate": 0.005,
                    },
                ],
                "kinds": [
                    {
                        "kind": "inbound",
                        "leads": 120,
                        "mql": 54,
                        "sql": 30,
                        "converted": 18,
                        "won": 9,
                        "lead_to_mql_rate": 0.45,
                        "mql_to_sql_rate": 0.5556,
                        "lead_conversion_rate": 0.15,
                        "lead_to_win_rate": 0.075,
                    },
                    {
                        "kind": "incentive",
                        "leads": 400,
                        "mql": 40,
                        "sql": 12,
                        "converted": 6,
                        "won": 2,
                        "lead_to_mql_rate": 0.1,
                        "mql_to_sql_rate": 0.3,
                        "lead_conversion_rate": 0.015,
                        "lead_to_win_rate": 0.005,
                    },
                ],
                "total": {
                    "leads": 520,
                    "mql": 94,
                    "sql": 42,
                    "converted": 24,
                    "won": 11,
                    "lead_to_mql_rate": 0.1808,
                    "mql_to_sql_rate": 0.4468,
                    "lead_conversion_rate": 0.0462,
                    "lead_to_win_rate": 0.0212,
                },
            },
        )
    ]
)
class QualitySerializer(serializers.Serializer):
    sources = SourceQualitySerializer(many=True)
    kinds = KindQualitySerializer(many=True)
    total = FunnelSerializer()


@extend_schema_serializer(
    examples=[
        response_example(
            "The expo's funnel",
            {
                "leads": 86,
                "mql": 31,
                "sql": 14,
                "converted": 9,
                "won": 4,
                "lead_to_mql_rate": 0.3605,
                "mql_to_sql_rate": 0.4516,
                "lead_conversion_rate": 0.1047,
                "lead_to_win_rate": 0.0465,
                "cost": "52500.00",
                "currency": "CNY",
                "cost_per_lead": "610.47",
                "cost_per_mql": "1693.55",
                "cost_per_won": "13125.00",
            },
        )
    ]
)
class CampaignFunnelSerializer(FunnelSerializer):
    cost = serializers.DecimalField(max_digits=18, decimal_places=2)
    currency = serializers.CharField()
    cost_per_lead = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    cost_per_mql = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    cost_per_won = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)


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


class QualityQuerySerializer(serializers.Serializer):
    created_from = serializers.DateField(required=False)
    created_to = serializers.DateField(required=False)


# ---------------------------------------------------------------------------------------------- viewsets


class _OpsViewSet(viewsets.ModelViewSet):
    permission_classes = [OpsRolePermission]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    read_roles: frozenset = selectors.SOURCE_READ_ROLES
    model: type = LeadSource

    def _selector_list(self) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(self.model)
        return self._selector_list()

    def _fields(self, serializer: serializers.Serializer) -> dict[str, Any]:
        return dict(serializer.validated_data)

    def _reload(self, pk: int) -> Any:
        return self._selector_list().get(pk=pk)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = self._create(serializer)
        return Response(self.get_serializer(self._reload(obj.pk)).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        self._update(instance, serializer)
        return Response(self.get_serializer(self._reload(instance.pk)).data)

    def _create(self, serializer: serializers.Serializer) -> Any:
        raise NotImplementedError

    def _update(self, instance: Any, serializer: serializers.Serializer) -> Any:
        raise NotImplementedError


class LeadSourcePagination(CursorPagination):
    ordering = "name"


@extend_schema_view(
    create=extend_schema(
        examples=[
            OpenApiExample(
                "An inbound source",
                value={"name": "Demo request", "kind": "inbound", "description": "Form on the pricing page"},
                request_only=True,
            ),
            OpenApiExample(
                "An incentive source", value={"name": "Giveaway", "kind": "incentive"}, request_only=True
            ),
            LEAD_SOURCE_RESPONSE_EXAMPLE,
        ]
    ),
    update=extend_schema(examples=[LEAD_SOURCE_UPDATE_EXAMPLE, LEAD_SOURCE_RESPONSE_EXAMPLE]),
    partial_update=extend_schema(examples=[LEAD_SOURCE_UPDATE_EXAMPLE, LEAD_SOURCE_RESPONSE_EXAMPLE]),
    destroy=extend_schema(description="Soft delete: the source leaves lists and pickers; its leads keep it."),
)
@extend_schema(tags=["lead sources"])
class LeadSourceViewSet(_OpsViewSet):
    """Lead sources: `inbound` (the customer came by their own need) or `incentive` (left details for a reward or
    content)."""

    serializer_class = LeadSourceSerializer
    filterset_class = filters_ops.LeadSourceFilter
    pagination_class = LeadSourcePagination
    read_roles = selectors.SOURCE_READ_ROLES
    model = LeadSource

    def _selector_list(self) -> QuerySet:
        return selectors.source_list(tenant=self.request.tenant, membership=self.request.membership)

    def _create(self, serializer: serializers.Serializer) -> Any:
        return services.source_create(
            tenant=self.request.tenant, actor=self.request.user, **self._fields(serializer)
        )

    def _update(self, instance: Any, serializer: serializers.Serializer) -> Any:
        return services.source_update(
            tenant=self.request.tenant, actor=self.request.user, source=instance, **self._fields(serializer)
        )

    def perform_destroy(self, instance: LeadSource) -> None:
        services.source_delete(tenant=self.request.tenant, actor=self.request.user, source=instance)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "created_from", str, description="Leads created on or after this local date (YYYY-MM-DD)."
            ),
            OpenApiParameter("created_to", str, description="Leads created on or before this local date."),
        ],
        responses={200: QualitySerializer},
        filters=False,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def quality(self, request: Request, slug: str) -> Response:
        """Per source and per kind (inbound vs incentive): leads created in the period and the fractions that
        reached MQL, SQL (of MQL), converted, and a won deal (KPIS.md "Acquisition"). Rates are null when there
        are no leads. Counts cover the leads you can see."""
        query = QualityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        quality = selectors.source_quality(
            tenant=request.tenant,
            membership=request.membership,
            created_from=query.validated_data.get("created_from"),
            created_to=query.validated_data.get("created_to"),
        )
        sources = [
            {
                "id": row.extra["source"].pk if row.extra["source"] else None,
                "name": str(row.extra["name"]),
                "kind": row.extra["kind"],
                **row.as_dict(),
            }
            for row in quality.sources
        ]
        kinds = [{"kind": row.extra["kind"], **row.as_dict()} for row in quality.kinds]
        return Response({"sources": sources, "kinds": kinds, "total": quality.total.as_dict()})


class CampaignPagination(CursorPagination):
    ordering = ("-start_date", "-id")


@extend_schema_view(
    create=extend_schema(
        examples=[
            OpenApiExample(
                "A trade show",
                value={
                    "name": "Shanghai Industry Expo 2026",
                    "channel": "event",
                    "source": 3,
                    "cost": "48000.00",
                    "currency": "CNY",
                    "start_date": "2026-04-08",
                    "end_date": "2026-04-11",
                    "owner": 12,
                },
                request_only=True,
            ),
            CAMPAIGN_RESPONSE_EXAMPLE,
        ]
    ),
    update=extend_schema(examples=[CAMPAIGN_REPLACE_EXAMPLE, CAMPAIGN_RESPONSE_EXAMPLE]),
    partial_update=extend_schema(examples=[CAMPAIGN_UPDATE_EXAMPLE, CAMPAIGN_RESPONSE_EXAMPLE]),
    destroy=extend_schema(description="Soft delete: hidden from lists and pickers; its leads keep the link."),
)
@extend_schema(tags=["campaigns"])
class CampaignViewSet(_OpsViewSet):
    """Campaigns: channel, source (its kind is copied), cost and currency, period (end >= start), owner."""

    serializer_class = CampaignSerializer
    filterset_class = filters_ops.CampaignFilter
    pagination_class = CampaignPagination
    read_roles = selectors.SOURCE_READ_ROLES
    model = Campaign

    def _selector_list(self) -> QuerySet:
        return selectors.campaign_list(tenant=self.request.tenant, membership=self.request.membership)

    def _create(self, serializer: serializers.Serializer) -> Any:
        return services.campaign_create(
            tenant=self.request.tenant, actor=self.request.user, **self._fields(serializer)
        )

    def _update(self, instance: Any, serializer: serializers.Serializer) -> Any:
        return services.campaign_update(
            tenant=self.request.tenant, actor=self.request.user, campaign=instance, **self._fields(serializer)
        )

    def perform_destroy(self, instance: Campaign) -> None:
        services.campaign_delete(tenant=self.request.tenant, actor=self.request.user, campaign=instance)

    @extend_schema(responses={200: CampaignFunnelSerializer}, filters=False)
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def funnel(self, request: Request, slug: str, pk: str) -> Response:
        """The campaign's leads funnel (created → MQL → SQL → converted → won) and cost per lead / MQL / won deal
        (cost figures only for admin and ops, who see all of the campaign's leads; null otherwise)."""
        campaign = self.get_object()
        data = selectors.campaign_funnel(
            tenant=request.tenant, membership=request.membership, campaign=campaign
        )
        payload = {
            **data["funnel"].as_dict(),
            "cost": campaign.cost,
            "currency": campaign.currency,
            "cost_per_lead": data["cost_per_lead"],
            "cost_per_mql": data["cost_per_mql"],
            "cost_per_won": data["cost_per_won"],
        }
        return Response(CampaignFunnelSerializer(payload).data)


class TerritoryPagination(CursorPagination):
    ordering = ("priority", "id")


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
class TerritoryViewSet(_OpsViewSet):
    """Assignment territories: a new unowned lead goes to the first active territory by priority whose non-empty
    criteria all match, and round-robin to its active members."""

    serializer_class = TerritorySerializer
    filterset_class = filters_ops.TerritoryFilter
    pagination_class = TerritoryPagination
    read_roles = selectors.CONFIG_READ_ROLES
    model = Territory

    def _selector_list(self) -> QuerySet:
        return selectors.territory_list(
            tenant=self.request.tenant, membership=self.request.membership
        ).distinct()

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and getattr(self.request, "tenant", None):
            if not hasattr(self, "_active_ids"):
                self._active_ids = selectors.active_user_ids(tenant=self.request.tenant)
            context["active_ids"] = self._active_ids
        return context

    def _create(self, serializer: serializers.Serializer) -> Any:
        return services.territory_create(
            tenant=self.request.tenant, actor=self.request.user, **self._fields(serializer)
        )

    def _update(self, instance: Any, serializer: serializers.Serializer) -> Any:
        return services.territory_update(
            tenant=self.request.tenant,
            actor=self.request.user,
            territory=instance,
            **self._fields(serializer),
        )

    def perform_destroy(self, instance: Territory) -> None:
        services.territory_delete(tenant=self.request.tenant, actor=self.request.user, territory=instance)

    @extend_schema(
        parameters=[
            OpenApiParameter("region", str),
            OpenApiParameter("industry", str),
            OpenApiParameter("size_band", str, enum=SizeBand.values),
        ],
        responses={200: TerritoryMatchSerializer},
        filters=False,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def match(self, request: Request, slug: str) -> Response:
        """Which territory a lead with these attributes would get and who is next (nothing is assigned)."""
        preview = selectors.territory_preview(
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


class ScoringRulePagination(CursorPagination):
    ordering = "id"


@extend_schema_view(
    create=extend_schema(
        description="The category follows the field (fit: industry, size_band, region, title; engagement: "
        "recent_activities, source_kind). Every lead is rescored after the change.",
        examples=[
            OpenApiExample(
                "Fit: industry",
                value={"field": "industry", "value": "Software", "points": 20},
                request_only=True,
            ),
            OpenApiExample(
                "Fit: title contains",
                value={"field": "title", "value": "Director", "points": 15},
                request_only=True,
            ),
            OpenApiExample(
                "Engagement: 3+ activities in 30 days",
                value={"field": "recent_activities", "value": "3", "points": 20},
                request_only=True,
            ),
            OpenApiExample(
                "Engagement: inbound source",
                value={"field": "source_kind", "value": "inbound", "points": 25},
                request_only=True,
            ),
            SCORING_RULE_RESPONSE_EXAMPLE,
        ],
    ),
    update=extend_schema(examples=[SCORING_RULE_UPDATE_EXAMPLE, SCORING_RULE_RESPONSE_EXAMPLE]),
    partial_update=extend_schema(examples=[SCORING_RULE_UPDATE_EXAMPLE, SCORING_RULE_RESPONSE_EXAMPLE]),
)
@extend_schema(tags=["scoring rules"])
class ScoringRuleViewSet(_OpsViewSet):
    """Lead scoring rules. A lead's score is the sum of the points of the active rules it matches, 0..100."""

    serializer_class = ScoringRuleSerializer
    filterset_class = filters_ops.ScoringRuleFilter
    pagination_class = ScoringRulePagination
    read_roles = selectors.CONFIG_READ_ROLES
    model = ScoringRule

    def _selector_list(self) -> QuerySet:
        return selectors.scoring_rule_list(tenant=self.request.tenant, membership=self.request.membership)

    def _create(self, serializer: serializers.Serializer) -> Any:
        return services.scoring_rule_create(
            tenant=self.request.tenant, actor=self.request.user, **self._fields(serializer)
        )

    def _update(self, instance: Any, serializer: serializers.Serializer) -> Any:
        return services.scoring_rule_update(
            tenant=self.request.tenant, actor=self.request.user, rule=instance, **self._fields(serializer)
        )

    def perform_destroy(self, instance: ScoringRule) -> None:
        services.scoring_rule_delete(tenant=self.request.tenant, actor=self.request.user, rule=instance)
