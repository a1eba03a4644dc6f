"""API of the leads area: leads (list with the inbox filters and cursor pagination, retrieve, create with the
assignment rules and scoring, update with optimistic locking, soft delete + restore) and their actions (convert,
assign, claim from the pool, change status, merge + undo, history), duplicates, and the pool (list, health,
settings). Lists page by keyset in the requested `ordering` (LeadCursorPagination).

Reads come from leads.selectors.leads (role visibility: an invisible lead is a 404; an invisible or foreign id in
a body is "does not exist", 400), writes from leads.services.leads. A stale `version` answers 409 with the
current values.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import filters, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.records import HistoryEntrySerializer
from crm.models import Role
from crm.schema import request_example, response_example
from crm.tenancy import schema_queryset
from leads.api.lead_serializers import (
    HISTORY_EXAMPLE,
    LEAD_CREATED_RESPONSE_EXAMPLE,
    LEAD_RESPONSE_EXAMPLE,
    LEAD_VALUE,
    LeadAssignSerializer,
    LeadConflictSerializer,
    LeadConvertSerializer,
    LeadCreatedSerializer,
    LeadCreateSerializer,
    LeadCursorPagination,
    LeadSerializer,
    LeadStatusSerializer,
    LeadUpdateSerializer,
)
from leads.api.merge_serializers import (
    DUPLICATE_PARAMS,
    DUPLICATES_EXAMPLE,
    LEAD_MERGE_RECORD_RESPONSE_EXAMPLE,
    LeadDuplicateSerializer,
    LeadMergeRecordSerializer,
    LeadMergeSerializer,
)
from leads.api.pool_serializers import (
    POOL_HEALTH_EXAMPLE,
    POOL_SETTINGS_EXAMPLE,
    PoolHealthSerializer,
    PoolSettingsSerializer,
)
from leads.filters.leads import LeadFilterSet
from leads.models import Lead
from leads.selectors import duplicates as duplicates_selectors
from leads.selectors import leads as selectors
from leads.selectors import pool as pool_selectors
from leads.services import conversion as conversion_services
from leads.services import leads as services
from leads.services import merges as merges_services
from leads.services import pool as pool_services
from leads.services import status as status_services

# --- the viewset ------------------------------------------------------------------------------------------------

HEALTH_ROLES = (Role.ADMIN, Role.OPS, Role.SALES_MANAGER)
SCOPE_PARAM = OpenApiParameter(
    "scope", str, description="my | team | all (default: every lead you may see)", required=False
)
CREATE_EXAMPLE = OpenApiExample(
    "Create a lead (assignment rules pick the owner)",
    value={
        "first_name": "Lei",
        "last_name": "Wang",
        "email": "wang.lei@huaxin.example.cn",
        "phone": "+86 138 0013 8000",
        "company": "Shanghai Huaxin Technology Co., Ltd.",
        "title": "CTO",
        "region": "East China",
        "industry": "Manufacturing",
        "size_band": "201-1000",
        "source": 3,
    },
    request_only=True,
)
LEAD_UPDATE_EXAMPLE = request_example("Fix the phone", {"version": 3, "phone": "+86 21 5555 0101"})


def _service_errors(call):  # type: ignore[no-untyped-def]
    """Run a service call; a visible-but-not-editable lead answers 403."""
    try:
        return call()
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc


@extend_schema_view(
    list=extend_schema(tags=["leads"], summary="Leads you may see", parameters=[SCOPE_PARAM]),
    retrieve=extend_schema(tags=["leads"]),
)
class LeadViewSet(viewsets.GenericViewSet):
    """Leads. Role visibility as on the pages (cs: none); deletes are soft (`restore` undoes)."""

    serializer_class = LeadSerializer
    filterset_class = LeadFilterSet
    pagination_class = LeadCursorPagination
    filter_backends = [
        *[backend for backend in viewsets.GenericViewSet.filter_backends],
        filters.OrderingFilter,
    ]
    # Documented for the schema; LeadCursorPagination applies the order as a keyset (value, id).
    ordering_fields = ["created_at", "score", "company"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.membership.role not in selectors.LEAD_ROLES:
            raise Http404  # cs: leads do not exist for them, as on the pages

    def get_queryset(self) -> QuerySet[Lead]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(Lead)
        request = self.request
        if self.action == "pool":
            return pool_selectors.pool_list(tenant=request.tenant, membership=request.membership)
        scope = request.query_params.get("scope") if self.action == "list" else None
        qs = selectors.lead_queryset(tenant=request.tenant, membership=request.membership)
        if scope in ("my", "team"):
            qs = selectors.lead_list(tenant=request.tenant, membership=request.membership, scope=scope)
        return qs.select_related("owner", "source", "campaign")

    def _lead(self) -> Lead:
        lead = self.get_object()
        lead.can_edit = selectors.lead_can_edit(membership=self.request.membership, lead=lead)
        return lead

    def _fresh(self, lead: Lead) -> Response:
        request = self.request
        try:
            lead = selectors.lead_list(tenant=request.tenant, membership=request.membership).get(pk=lead.pk)
        except Lead.DoesNotExist:
            lead = Lead.objects.select_related("owner", "source", "campaign").get(pk=lead.pk)
        return Response(LeadSerializer(lead).data)

    def _writer(self) -> None:
        if self.request.membership.role not in selectors.ASSIGNABLE_ROLES:
            raise PermissionDenied(_("Your role cannot change leads."))

    def list(self, request: Request, slug: str) -> Response:
        qs = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(LeadSerializer(page, many=True).data)

    def retrieve(self, request: Request, slug: str, pk: str) -> Response:
        return Response(LeadSerializer(self.get_object()).data)

    @extend_schema(
        tags=["leads"],
        request=LeadCreateSerializer,
        responses={201: LeadCreatedSerializer},
        examples=[CREATE_EXAMPLE, LEAD_CREATED_RESPONSE_EXAMPLE],
    )
    def create(self, request: Request, slug: str) -> Response:
        self._writer()
        payload = LeadCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        owner = data.pop("owner", None)
        lead = _service_errors(
            lambda: services.lead_create(tenant=request.tenant, actor=request.user, owner=owner, **data)
        )
        lead = Lead.objects.select_related("owner", "source", "campaign").get(pk=lead.pk)
        duplicates = duplicates_selectors.lead_duplicates(
            tenant=request.tenant,
            membership=request.membership,
            email=lead.email,
            phone=lead.phone,
            company=lead.company,
            exclude_id=lead.pk,
        )
        return Response(
            LeadCreatedSerializer(lead, context={"duplicates": duplicates}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        tags=["leads"],
        request=LeadUpdateSerializer,
        responses={200: LeadSerializer, 409: LeadConflictSerializer},
        examples=[LEAD_UPDATE_EXAMPLE, LEAD_RESPONSE_EXAMPLE],
    )
    def update(self, request: Request, slug: str, pk: str) -> Response:
        self._writer()
        lead = self._lead()
        payload = LeadUpdateSerializer(
            data=request.data, context={"request": request, "lead": lead}, partial=True
        )
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if "version" not in data:
            raise serializers.ValidationError(
                {"version": [_("Send the version you loaded (optimistic locking).")]}
            )
        version = data.pop("version")
        _service_errors(
            lambda: services.lead_update(
                tenant=request.tenant, actor=request.user, lead=lead, version=version, **data
            )
        )
        return self._fresh(lead)

    @extend_schema(
        tags=["leads"],
        request=LeadUpdateSerializer,
        responses={200: LeadSerializer, 409: LeadConflictSerializer},
        examples=[LEAD_UPDATE_EXAMPLE, LEAD_RESPONSE_EXAMPLE],
    )
    def partial_update(self, request: Request, slug: str, pk: str) -> Response:
        return self.update(request, slug, pk)

    @extend_schema(tags=["leads"], responses={204: None})
    def destroy(self, request: Request, slug: str, pk: str) -> Response:
        self._writer()
        lead = self._lead()
        _service_errors(lambda: services.lead_delete(tenant=request.tenant, actor=request.user, lead=lead))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(tags=["leads"], request=None, responses={200: LeadSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, slug: str, pk: str) -> Response:
        """Undo a delete."""
        self._writer()
        try:
            lead = selectors.lead_get_deleted(
                tenant=request.tenant, membership=request.membership, pk=int(pk)
            )
        except (Lead.DoesNotExist, ValueError) as exc:
            raise Http404 from exc
        _service_errors(lambda: services.lead_restore(tenant=request.tenant, actor=request.user, lead=lead))
        return self._fresh(lead)

    @extend_schema(
        tags=["leads"],
        request=LeadStatusSerializer,
        responses={200: LeadSerializer},
        examples=[
            OpenApiExample(
                "Disqualify", value={"status": "disqualified", "reason": "No budget"}, request_only=True
            ),
            response_example(
                "Disqualified",
                {
                    **LEAD_VALUE,
                    "status": "disqualified",
                    "disqualify_reason": "No budget",
                    "disqualified_at": "2026-11-21T09:00:00+08:00",
                    "version": 4,
                },
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def status(self, request: Request, slug: str, pk: str) -> Response:
        """Move along new → working → mql → sql, disqualify (reason required) or reopen."""
        self._writer()
        lead = self._lead()
        payload = LeadStatusSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        _service_errors(
            lambda: status_services.lead_change_status(
                tenant=request.tenant, actor=request.user, lead=lead, **payload.validated_data
            )
        )
        return self._fresh(lead)

    @extend_schema(
        tags=["leads"],
        request=LeadAssignSerializer,
        responses={200: LeadSerializer},
        examples=[OpenApiExample("Assign", value={"owner": 12}, request_only=True), LEAD_RESPONSE_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, slug: str, pk: str) -> Response:
        """Give the lead to an active member (a manual assignment overrides the rules), or null: the pool."""
        self._writer()
        lead = self._lead()
        payload = LeadAssignSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        _service_errors(
            lambda: pool_services.lead_assign(
                tenant=request.tenant, actor=request.user, lead=lead, owner=payload.validated_data["owner"]
            )
        )
        return self._fresh(lead)

    @extend_schema(tags=["leads"], request=None, responses={200: LeadSerializer})
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, slug: str, pk: str) -> Response:
        """Claim an open lead from the pool (up to the tenant's per-rep cap)."""
        lead = self.get_object()
        _service_errors(
            lambda: pool_services.lead_claim(tenant=request.tenant, actor=request.user, lead=lead)
        )
        return self._fresh(lead)

    @extend_schema(
        tags=["leads"],
        request=LeadConvertSerializer,
        responses={200: LeadSerializer},
        examples=[
            OpenApiExample(
                "Convert with a new account, contact and deal",
                value={
                    "deal_name": "Huaxin – pilot",
                    "deal_amount": "120000.00",
                    "deal_close_date": "2027-03-31",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Link an existing account, no deal",
                value={"account": 42, "create_deal": False},
                request_only=True,
            ),
            response_example(
                "Converted",
                {
                    **LEAD_VALUE,
                    "status": "converted",
                    "converted_at": "2026-11-25T15:20:00+08:00",
                    "converted_account": 17,
                    "converted_contact": 118,
                    "converted_opportunity": 9,
                    "version": 4,
                },
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def convert(self, request: Request, slug: str, pk: str) -> Response:
        """Convert in one transaction: account (link or create), contact (link or create), optional deal."""
        from accounts.selectors import records as account_selectors

        self._writer()
        lead = self._lead()
        payload = LeadConvertSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        account = contact = None
        if data.get("account"):
            account = (
                account_selectors.account_queryset(tenant=request.tenant, membership=request.membership)
                .filter(pk=data["account"])
                .first()
            )
            if account is None:
                raise serializers.ValidationError({"account": [_("No such account.")]})
        if data.get("contact"):
            contact = (
                account_selectors.contact_queryset(tenant=request.tenant, membership=request.membership)
                .filter(pk=data["contact"])
                .first()
            )
            if contact is None:
                raise serializers.ValidationError({"contact": [_("No such contact.")]})
        _service_errors(
            lambda: conversion_services.lead_convert(
                tenant=request.tenant,
                actor=request.user,
                lead=lead,
                account=account,
                account_name=data["account_name"],
                account_domain=data["account_domain"],
                contact=contact,
                create_deal=data["create_deal"],
                deal_name=data["deal_name"],
                deal_amount=data["deal_amount"],
                deal_currency=data["deal_currency"] or None,
                deal_close_date=data["deal_close_date"],
            )
        )
        return self._fresh(lead)

    @extend_schema(
        tags=["leads"],
        request=LeadMergeSerializer,
        responses={201: LeadMergeRecordSerializer},
        examples=[
            OpenApiExample("Merge a duplicate into this lead", value={"merged": 1234}, request_only=True),
            LEAD_MERGE_RECORD_RESPONSE_EXAMPLE,
        ],
    )
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, slug: str, pk: str) -> Response:
        """Merge another visible lead into this one; the answer is the merge record (undo with merge-undo)."""
        self._writer()
        survivor = self._lead()
        payload = LeadMergeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        merged = (
            selectors.lead_queryset(tenant=request.tenant, membership=request.membership)
            .filter(pk=payload.validated_data["merged"])
            .first()
        )
        if merged is None:
            raise serializers.ValidationError({"merged": [_("No such lead.")]})
        record = _service_errors(
            lambda: merges_services.lead_merge(
                tenant=request.tenant, actor=request.user, survivor=survivor, merged=merged
            )
        )
        return Response(LeadMergeRecordSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(tags=["leads"], request=None, responses={200: LeadSerializer})
    @action(detail=True, methods=["post"], url_path=r"merges/(?P<record_id>\d+)/undo")
    def merge_undo(self, request: Request, slug: str, pk: str, record_id: str) -> Response:
        """Undo a merge into this lead: the merged lead comes back with its activities and deals."""
        from accounts.models import MergeRecord
        from accounts.selectors.records import merge_record_get

        self._writer()
        survivor = self._lead()
        try:
            record = merge_record_get(tenant=request.tenant, pk=int(record_id), entity="lead")
        except MergeRecord.DoesNotExist as exc:
            raise Http404 from exc
        if record.survivor_id != survivor.pk:
            raise Http404
        restored = _service_errors(
            lambda: merges_services.lead_merge_undo(tenant=request.tenant, actor=request.user, record=record)
        )
        return self._fresh(restored)

    @extend_schema(
        tags=["leads"],
        summary="The public pool: open leads nobody owns",
        responses={200: LeadSerializer(many=True)},
    )
    @action(detail=False, methods=["get"])
    def pool(self, request: Request, slug: str) -> Response:
        qs = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(LeadSerializer(page, many=True).data)

    @extend_schema(
        tags=["leads"],
        summary="Pool health: size, age, returns and claims per week, claims per rep",
        responses={200: PoolHealthSerializer},
        examples=[POOL_HEALTH_EXAMPLE],
    )
    @action(
        detail=False, methods=["get"], url_path="pool/health", pagination_class=None, filterset_class=None
    )
    def pool_health(self, request: Request, slug: str) -> Response:
        """Admins, ops and sales managers (managers: their team's claims)."""
        if request.membership.role not in HEALTH_ROLES:
            raise PermissionDenied(_("Pool health is for admins, ops and sales managers."))
        health = pool_selectors.pool_health(tenant=request.tenant, membership=request.membership)
        return Response(PoolHealthSerializer(health).data)

    @extend_schema(
        tags=["leads"],
        summary="Pool settings: the idle window and the per-rep claim cap",
        request=PoolSettingsSerializer,
        responses={200: PoolSettingsSerializer},
        examples=[POOL_SETTINGS_EXAMPLE],
    )
    @action(
        detail=False,
        methods=["get", "put", "patch"],
        url_path="pool/settings",
        pagination_class=None,
        filterset_class=None,
    )
    def pool_settings(self, request: Request, slug: str) -> Response:
        """Everyone who works leads reads them; admins and ops change them."""
        current = pool_selectors.lead_settings_get(tenant=request.tenant)
        if request.method == "GET":
            return Response(PoolSettingsSerializer(current).data)
        payload = PoolSettingsSerializer(current, data=request.data, partial=request.method == "PATCH")
        payload.is_valid(raise_exception=True)
        values = {
            "pool_window_days": current.pool_window_days,
            "pool_claim_cap": current.pool_claim_cap,
            **payload.validated_data,
        }
        saved = _service_errors(
            lambda: pool_services.lead_settings_update(tenant=request.tenant, actor=request.user, **values)
        )
        return Response(PoolSettingsSerializer(saved).data)

    @extend_schema(
        tags=["leads"],
        summary="Possible duplicates of an email, phone or company (check before creating)",
        parameters=DUPLICATE_PARAMS,
        responses={200: LeadDuplicateSerializer(many=True)},
        examples=[DUPLICATES_EXAMPLE],
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def duplicates(self, request: Request, slug: str) -> Response:
        """Only leads you may see; the same email, the same phone (with or without the country code) or a
        similar company name."""
        exclude = request.query_params.get("exclude", "")
        found = duplicates_selectors.lead_duplicates(
            tenant=request.tenant,
            membership=request.membership,
            email=request.query_params.get("email", ""),
            phone=request.query_params.get("phone", ""),
            company=request.query_params.get("company", ""),
            exclude_id=int(exclude) if exclude.isdecimal() else None,
        )
        return Response(LeadDuplicateSerializer(found, many=True).data)

    @extend_schema(
        tags=["leads"],
        summary="Every change of the lead: when, who, old and new values",
        responses={200: HistoryEntrySerializer(many=True)},
        examples=[HISTORY_EXAMPLE],
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request: Request, slug: str, pk: str) -> Response:
        """Newest first, like the accounts' and contacts' history (leads merged into this one included)."""
        from accounts.selectors.records import history_for

        lead = self.get_object()
        entries = history_for(tenant=request.tenant, obj=lead, membership=request.membership)
        return Response(HistoryEntrySerializer(list(reversed(entries)), many=True).data)
