"""Serializers, OpenAPI examples and the keyset pagination of the lead endpoints (leads.api.leads holds the views;
pool and merge/duplicate serializers are in pool_serializers.py and merge_serializers.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from crm.api_fields import SaneDateField, ValueListsMixin, list_value_field
from crm.models import User
from crm.schema import response_example
from crm.value_lists import COMPANY_LIST_FIELDS
from leads.api.merge_serializers import LeadDuplicateSerializer
from leads.models import Campaign, Lead, LeadSource, LeadStatus
from leads.selectors import inbox as inbox_selectors
from leads.selectors import leads as selectors

LEAD_VALUE: dict[str, Any] = {
    "id": 1201,
    "external_id": "",
    "first_name": "Lei",
    "last_name": "Wang",
    "full_name": "Wang Lei",
    "email": "wang.lei@huaxin.example.cn",
    "phone": "+86 138 0013 8000",
    "company": "Shanghai Huaxin Technology Co., Ltd.",
    "title": "CTO",
    "region": "East China",
    "industry": "Manufacturing",
    "size_band": "201-1000",
    "source": 3,
    "source_name": "Website demo request",
    "source_kind": "inbound",
    "campaign": None,
    "campaign_name": None,
    "status": "working",
    "score": 72,
    "score_reasons": [
        {"rule": "Industry: Manufacturing", "points": 20},
        {"rule": "Company size: 201-1000", "points": 15},
        {"rule": "Title contains “CTO”", "points": 12},
        {"rule": "Source kind: Inbound", "points": 25},
    ],
    "owner": 12,
    "owner_email": "rep@acme.test",
    "territory": 2,
    "in_pool": False,
    "disqualify_reason": "",
    "created_at": "2026-11-18T09:12:00+08:00",
    "working_at": "2026-11-18T14:30:00+08:00",
    "mql_at": None,
    "sql_at": None,
    "converted_at": None,
    "disqualified_at": None,
    "last_activity_at": "2026-11-20T10:00:00+08:00",
    "assigned_at": "2026-11-18T09:12:00+08:00",
    "claimed_at": None,
    "pooled_at": None,
    "converted_account": None,
    "converted_contact": None,
    "converted_opportunity": None,
    "version": 3,
    "updated_at": "2026-11-20T10:05:00+08:00",
}


LEAD_RESPONSE_EXAMPLE = response_example("An inbound lead being worked", LEAD_VALUE)


@extend_schema_serializer(examples=[LEAD_RESPONSE_EXAMPLE])
class LeadSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(read_only=True)
    owner_email = serializers.EmailField(source="owner.email", read_only=True, allow_null=True, default=None)
    source_name = serializers.CharField(source="source.name", read_only=True, allow_null=True, default=None)
    source_kind = serializers.CharField(source="source.kind", read_only=True, allow_null=True, default=None)
    campaign_name = serializers.CharField(
        source="campaign.name", read_only=True, allow_null=True, default=None
    )
    in_pool = serializers.SerializerMethodField()

    class Meta:
        model = Lead
        fields = [
            "id",
            "external_id",
            "first_name",
            "last_name",
            "full_name",
            "email",
            "phone",
            "company",
            "title",
            "region",
            "industry",
            "size_band",
            "source",
            "source_name",
            "source_kind",
            "campaign",
            "campaign_name",
            "status",
            "score",
            "score_reasons",
            "owner",
            "owner_email",
            "territory",
            "in_pool",
            "disqualify_reason",
            "created_at",
            "working_at",
            "mql_at",
            "sql_at",
            "converted_at",
            "disqualified_at",
            "last_activity_at",
            "assigned_at",
            "claimed_at",
            "pooled_at",
            "converted_account",
            "converted_contact",
            "converted_opportunity",
            "version",
            "updated_at",
        ]
        read_only_fields = fields

    def get_in_pool(self, lead: Lead) -> bool:
        return lead.owner_id is None and lead.status in selectors.OPEN_STATUSES


class _TenantChoicesMixin:
    """Related-id fields read their choices in the request's tenant (and the member's visibility), so another
    tenant's or an invisible id is refused like one that does not exist."""

    def _limit(self) -> None:
        request = self.context.get("request")  # type: ignore[attr-defined]
        tenant = getattr(request, "tenant", None)
        membership = getattr(request, "membership", None)
        if tenant is None or membership is None:  # OpenAPI schema generation: no tenant, empty choices
            return
        fields = self.fields  # type: ignore[attr-defined]
        # Retired (soft-deleted or inactive) sources and deleted campaigns are refused like ids that do not
        # exist; the one a lead being edited already has stays acceptable (sending it back is no change).
        lead = self.context.get("lead")  # type: ignore[attr-defined]
        if "source" in fields:
            keep = Q(pk=lead.source_id) if lead is not None and lead.source_id else Q(pk__in=[])
            fields["source"].queryset = LeadSource.objects.filter(tenant=tenant).filter(
                Q(deleted_at=None, is_active=True) | keep
            )
        if "campaign" in fields:
            keep = Q(pk=lead.campaign_id) if lead is not None and lead.campaign_id else Q(pk__in=[])
            fields["campaign"].queryset = Campaign.objects.filter(tenant=tenant).filter(
                Q(deleted_at=None) | keep
            )
        if "owner" in fields:
            fields["owner"].queryset = selectors.owner_choices(tenant=tenant, membership=membership)


class LeadWriteSerializer(ValueListsMixin, _TenantChoicesMixin, serializers.Serializer):
    list_fields = COMPANY_LIST_FIELDS

    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    title = serializers.CharField(max_length=120, required=False, allow_blank=True)
    region = list_value_field("region", "region")
    industry = list_value_field("industry", "industry")
    size_band = list_value_field("size_band", "size band")
    source = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]  # named like Field.source in the stubs
        queryset=LeadSource.objects.none(), required=False, allow_null=True
    )
    campaign = serializers.PrimaryKeyRelatedField(
        queryset=Campaign.objects.none(), required=False, allow_null=True
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit()


class LeadCreateSerializer(LeadWriteSerializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(),
        required=False,
        allow_null=True,
        help_text="Leave out to apply the assignment rules (a manual owner overrides them).",
    )


class LeadUpdateSerializer(LeadWriteSerializer):
    version = serializers.IntegerField(help_text="The version you loaded (optimistic locking; stale -> 409).")


class LeadConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    your_version = serializers.IntegerField(allow_null=True)
    current_version = serializers.IntegerField()
    current = serializers.DictField()


class LeadStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[c for c in LeadStatus.choices if c[0] != LeadStatus.CONVERTED])
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class LeadAssignSerializer(_TenantChoicesMixin, serializers.Serializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), allow_null=True, help_text="null releases the lead to the pool."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit()


class LeadConvertSerializer(serializers.Serializer):
    account = serializers.IntegerField(
        required=False, allow_null=True, help_text="Link this account (else create)."
    )
    account_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    account_domain = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    contact = serializers.IntegerField(
        required=False, allow_null=True, help_text="Link this contact (else create)."
    )
    create_deal = serializers.BooleanField(default=True)
    deal_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    # The stubs want a Decimal default; DRF takes any number, and 0 is what the schema has always shown.
    deal_amount = serializers.DecimalField(max_digits=18, decimal_places=2, required=False, default=0)  # type: ignore[arg-type]
    deal_currency = serializers.CharField(max_length=3, required=False, allow_blank=True, default="")
    deal_close_date = SaneDateField(required=False, allow_null=True, default=None)


LEAD_CREATED_RESPONSE_EXAMPLE = response_example(
    "Created; a possible duplicate is listed",
    {
        **LEAD_VALUE,
        "status": "new",
        "working_at": None,
        "last_activity_at": None,
        "version": 1,
        "updated_at": "2026-11-18T09:12:00+08:00",
        "duplicates": [
            {
                "id": 981,
                "full_name": "Wang Lei",
                "company": "Shanghai Huaxin Technology Co., Ltd.",
                "email": "wang.lei@huaxin.example.cn",
                "phone": "",
                "status": "disqualified",
                "owner": 14,
                "owner_email": "rep2@acme.test",
                "same_email": True,
                "same_phone": False,
                "similarity": 1.0,
            }
        ],
    },
)


@extend_schema_serializer(examples=[LEAD_CREATED_RESPONSE_EXAMPLE])
class LeadCreatedSerializer(LeadSerializer):
    duplicates = serializers.SerializerMethodField(
        help_text="Leads you may see that look like this one (same email, phone or a similar company). The "
        "lead is created anyway: merge them with POST /leads/{id}/merge/ if they are the same."
    )

    class Meta(LeadSerializer.Meta):
        fields = [*LeadSerializer.Meta.fields, "duplicates"]
        read_only_fields = fields

    @extend_schema_field(LeadDuplicateSerializer(many=True))
    def get_duplicates(self, lead: Lead) -> list:
        # many=True gives a ReturnList; the stubs type every .data as ReturnDict
        return LeadDuplicateSerializer(self.context.get("duplicates", []), many=True).data  # type: ignore[return-value]


HISTORY_EXAMPLE = OpenApiExample(
    "A status change",
    # One entry: drf-spectacular wraps a many=True example in the list itself.
    value={
        "when": "2026-11-20T09:30:00+08:00",
        "who": {"id": 12, "name": "Li Na"},
        "action": "updated",
        "changes": [{"field": "Status", "old": "New", "new": "Working"}],
    },
    response_only=True,
)


class LeadCursorPagination(BasePagination):
    """Keyset pages in the `ordering` of the request (leads.selectors.inbox.API_SORTS), each cursor holding the
    sort value and the id of the row it stops at: equal scores or company names page correctly at any depth.
    `cursor` walks forward, `before` back; `next`/`previous` are full links."""

    page_size = 50
    max_page_size = 200

    # Only LeadViewSet uses it, always with a queryset (the base also allows a plain sequence).
    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list:  # type: ignore[override]
        self.request = request
        try:
            size = int(request.query_params.get("page_size", self.page_size))
        except ValueError:
            size = self.page_size
        self.size = max(1, min(size, self.max_page_size))
        ordering = request.query_params.get("ordering", "")
        self.ordering = (
            ordering if ordering in inbox_selectors.API_SORTS else inbox_selectors.API_DEFAULT_SORT
        )
        for param in ("cursor", "before"):
            raw = request.query_params.get(param)
            if raw and not inbox_selectors.cursor_valid(raw, sort=self.ordering):
                raise serializers.ValidationError(
                    {param: [_("Invalid cursor: follow the next or previous link of an earlier page.")]}
                )
        self.page = inbox_selectors.lead_inbox_page(
            queryset,
            sort=self.ordering,
            after=request.query_params.get("cursor"),
            before=request.query_params.get("before"),
            size=self.size,
            with_count=False,
        )
        return self.page.rows

    def _link(self, param: str, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        url = remove_query_param(url, "cursor" if param == "before" else "before")
        return replace_query_param(url, param, cursor)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "next": self._link("cursor", self.page.next_cursor),
                "previous": self._link("before", self.page.prev_cursor),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "example": "https://crm.example.com/api/v1/t/acme/leads/?cursor=eyJ2IjoiMjAyNi0xMS0xOCIsImkiOjEyMDF9",
                },
                "previous": {"type": "string", "nullable": True, "format": "uri", "example": None},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        return [
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "The `next` link's cursor (the next page).",
                "schema": {"type": "string"},
            },
            {
                "name": "before",
                "required": False,
                "in": "query",
                "description": "The `previous` link's cursor (the page before).",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": f"Rows per page (default {self.page_size}, at most {self.max_page_size}).",
                "schema": {"type": "integer"},
            },
        ]
