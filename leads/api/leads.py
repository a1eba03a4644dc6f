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

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import filters, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.history import HistoryEntrySerializer
from crm.api_records import VersionedRecordMixin
from crm.schema import request_example, response_example
from crm.tenancy import schema_queryset
from crm.types import TenantRequest, tenant_request
from leads.api.conversion import LeadConversionActions
from leads.api.errors import service_errors
from leads.api.lead_serializers import (
    HISTORY_EXAMPLE,
    LEAD_CREATED_RESPONSE_EXAMPLE,
    LEAD_RESPONSE_EXAMPLE,
    LEAD_VALUE,
    LeadAssignSerializer,
    LeadConflictSerializer,
    LeadCreatedSerializer,
    LeadCreateSerializer,
    LeadCursorPagination,
    LeadSerializer,
    LeadStatusSerializer,
    LeadUpdateSerializer,
)
from leads.api.merges import LeadMergeActions
from leads.api.pool import LeadPoolActions
from leads.filters.leads import LeadFilterSet
from leads.models import Lead
from leads.selectors import duplicates as duplicates_selectors
from leads.selectors import leads as selectors
from leads.selectors import pool as pool_selectors
from leads.services import leads as services
from leads.services import pool as pool_services
from leads.services import status as status_services

# --- the viewset ------------------------------------------------------------------------------------------------

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


@extend_schema_view(
    list=extend_schema(tags=["leads"], summary="Leads you may see", parameters=[SCOPE_PARAM]),
    retrieve=extend_schema(tags=["leads"]),
)
class LeadViewSet(
    VersionedRecordMixin, LeadConversionActions, LeadMergeActions, LeadPoolActions, viewsets.GenericViewSet
):
    """Leads. Role visibility as on the pages (cs: none); deletes are soft (`restore` undoes)."""

    serializer_class = LeadSerializer
    filterset_class = LeadFilterSet
    pagination_class = LeadCursorPagination
    filter_backends = [
        *[backend for backend in viewsets.GenericViewSet.filter_backends],  # type: ignore[misc]  # the class default
        filters.OrderingFilter,
    ]
    # Documented for the schema; LeadCursorPagination applies the order as a keyset (value, id).
    ordering_fields = ["created_at", "score", "company"]
    request: TenantRequest  # TenantMiddleware and the authentication leave a member's request

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if tenant_request(request).membership.role not in selectors.LEAD_ROLES:
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

    def list(self, request: TenantRequest, slug: str) -> Response:
        qs = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(LeadSerializer(page, many=True).data)

    def retrieve(self, request: TenantRequest, slug: str, pk: str) -> Response:
        return Response(LeadSerializer(self.get_object()).data)

    @extend_schema(
        tags=["leads"],
        request=LeadCreateSerializer,
        responses={201: LeadCreatedSerializer},
        examples=[CREATE_EXAMPLE, LEAD_CREATED_RESPONSE_EXAMPLE],
    )
    def create(self, request: TenantRequest, slug: str) -> Response:
        self._writer()
        payload = LeadCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        owner = data.pop("owner", None)
        lead = service_errors(
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
    def update(self, request: TenantRequest, slug: str, pk: str) -> Response:
        self._writer()
        lead = self._lead()
        payload = LeadUpdateSerializer(
            data=request.data, context={"request": request, "lead": lead, "record": lead}, partial=True
        )
        payload.is_valid(raise_exception=True)
        version, data = self.versioned_fields(payload.validated_data)
        service_errors(
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
    def partial_update(self, request: TenantRequest, slug: str, pk: str) -> Response:
        return self.update(request, slug, pk)

    @extend_schema(tags=["leads"], responses={204: None})
    def destroy(self, request: TenantRequest, slug: str, pk: str) -> Response:
        self._writer()
        lead = self._lead()
        return self.soft_destroy(
            lambda: service_errors(
                lambda: services.lead_delete(tenant=request.tenant, actor=request.user, lead=lead)
            )
        )

    @extend_schema(tags=["leads"], request=None, responses={200: LeadSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request: TenantRequest, slug: str, pk: str) -> Response:
        """Undo a delete."""
        self._writer()
        return self.restore_deleted(
            find=lambda: self._deleted(pk),
            restore=lambda lead: service_errors(
                lambda: services.lead_restore(tenant=request.tenant, actor=request.user, lead=lead)
            ),
            represent=lambda lead: self._fresh(lead).data,
        )

    def _deleted(self, pk: str) -> Lead | None:
        """A deleted lead the member may see (None: 404, like a missing one)."""
        request = tenant_request(self.request)
        try:
            return selectors.lead_get_deleted(
                tenant=request.tenant, membership=request.membership, pk=int(pk)
            )
        except (Lead.DoesNotExist, ValueError):
            return None

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
    def status(self, request: TenantRequest, slug: str, pk: str) -> Response:
        """Move along new → working → mql → sql, disqualify (reason required) or reopen."""
        self._writer()
        lead = self._lead()
        payload = LeadStatusSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        service_errors(
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
    def assign(self, request: TenantRequest, slug: str, pk: str) -> Response:
        """Give the lead to an active member (a manual assignment overrides the rules), or null: the pool."""
        self._writer()
        lead = self._lead()
        payload = LeadAssignSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        service_errors(
            lambda: pool_services.lead_assign(
                tenant=request.tenant, actor=request.user, lead=lead, owner=payload.validated_data["owner"]
            )
        )
        return self._fresh(lead)

    @extend_schema(
        tags=["leads"],
        summary="Every change of the lead: when, who, old and new values",
        responses={200: HistoryEntrySerializer(many=True)},
        examples=[HISTORY_EXAMPLE],
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request: TenantRequest, slug: str, pk: str) -> Response:
        """Newest first, like the accounts' and contacts' history (leads merged into this one included)."""
        from accounts.selectors.history import history_for

        lead = self.get_object()
        entries = history_for(tenant=request.tenant, obj=lead, membership=request.membership)
        return Response(HistoryEntrySerializer(list(reversed(entries)), many=True).data)
