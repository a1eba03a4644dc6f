"""API of campaigns under /api/v1/t/<slug>/campaigns/ (+ funnel)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from crm import api_fields
from crm.pagination import CursorPagination
from crm.schema import request_example, response_example
from crm.types import TenantRequest
from leads.api.setup_base import ActiveMemberField, FunnelSerializer, SetupViewSet
from leads.filters.campaigns import CampaignFilter
from leads.models import Campaign, LeadSource
from leads.selectors import campaigns as campaigns_selectors
from leads.selectors import funnels as funnels_selectors
from leads.selectors import setup_roles as setup_roles_selectors
from leads.selectors import sources as sources_selectors
from leads.services import campaigns as campaigns_services


class _SourceField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self) -> QuerySet[LeadSource]:
        return sources_selectors.source_choices(tenant=self.context["request"].tenant)


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
        "won_amount": "525000.00",
        "lead_to_win_rate": 0.0465,
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
class CampaignSerializer(api_fields.ModelSerializer):
    source = _SourceField(required=False, allow_null=True)  # type: ignore[assignment]  # a field named like an attribute of DRF's Field in the stubs
    owner = ActiveMemberField(required=False, allow_null=True)
    currency = serializers.CharField(
        max_length=3, required=False, help_text=_("Default: the tenant's currency.")
    )
    n_leads = serializers.IntegerField(read_only=True, help_text=_("Leads of the campaign you can see."))
    n_mql = serializers.IntegerField(read_only=True)
    n_won = serializers.IntegerField(
        read_only=True, help_text=_("Of those leads, the ones with a won deal originated from them.")
    )
    won_amount = serializers.DecimalField(
        max_digits=18,
        decimal_places=2,
        read_only=True,
        help_text=_("Amount of those won deals in the tenant's reporting currency."),
    )
    lead_to_win_rate = serializers.SerializerMethodField(
        help_text=_("n_won / n_leads (KPIS.md lead_to_win_rate); null without leads.")
    )

    channel = serializers.CharField(
        max_length=100,
        required=False,
        help_text=_(
            "A value of the company's channel list (value-lists/channel/); retired values stay on old campaigns."
        ),
    )

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
            "won_amount",
            "lead_to_win_rate",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The services check uniqueness and dates (one set of rules and messages for pages and API).
        validators: list = []
        extra_kwargs: dict[str, dict[str, Any]] = {"external_id": {"validators": []}}

    @extend_schema_field({"type": "number", "format": "float", "nullable": True})
    def get_lead_to_win_rate(self, campaign: Campaign) -> float | None:
        leads = getattr(campaign, "n_leads", None)
        return getattr(campaign, "n_won", 0) / leads if leads else None


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
                "won_amount": "525000.00",
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


class CampaignPagination(CursorPagination):
    ordering = ("-start_date", "-id")  # type: ignore[assignment]  # DRF takes a tuple of fields; the stubs say str


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
class CampaignViewSet(SetupViewSet):
    """Campaigns: channel, source (its kind is copied), cost and currency, period (end >= start), owner."""

    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    pagination_class = CampaignPagination
    read_roles = setup_roles_selectors.SOURCE_READ_ROLES
    model = Campaign

    def _selector_list(self) -> QuerySet:
        return campaigns_selectors.campaign_list(
            tenant=self.request.tenant, membership=self.request.membership
        )

    def _create(self, serializer: serializers.BaseSerializer) -> Any:
        return campaigns_services.campaign_create(
            tenant=self.request.tenant, actor=self.request.user, **self._fields(serializer)
        )

    def _update(self, instance: Any, serializer: serializers.BaseSerializer) -> Any:
        return campaigns_services.campaign_update(
            tenant=self.request.tenant, actor=self.request.user, campaign=instance, **self._fields(serializer)
        )

    def perform_destroy(self, instance: Campaign) -> None:
        campaigns_services.campaign_delete(
            tenant=self.request.tenant, actor=self.request.user, campaign=instance
        )

    @extend_schema(responses={200: CampaignFunnelSerializer}, filters=False)
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def funnel(self, request: TenantRequest, slug: str, pk: str) -> Response:
        """The campaign's leads funnel (created → MQL → SQL → converted → won) and cost per lead / MQL / won deal
        (cost figures only for admin and ops, who see all of the campaign's leads; null otherwise)."""
        campaign = self.get_object()
        data = funnels_selectors.campaign_funnel(
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
