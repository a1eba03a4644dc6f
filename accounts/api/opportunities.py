"""API of opportunities (deals): list (cursor pages), detail, create, update (version-checked), move, won,
lost, delete, restore, contacts, stage history."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.history import HistoryEntrySerializer
from accounts.api.opportunity_serializers import (
    HISTORY_EXAMPLE,
    OPPORTUNITY_CONTACT_RESPONSE_EXAMPLE,
    OPPORTUNITY_LOST_RESPONSE_EXAMPLE,
    OPPORTUNITY_RESPONSE_EXAMPLE,
    OPPORTUNITY_WON_RESPONSE_EXAMPLE,
    STAGE_HISTORY_EXAMPLE,
    ConflictSerializer,
    LostSerializer,
    MoveSerializer,
    OpportunityContactSerializer,
    OpportunityContactUpdateSerializer,
    OpportunityContactWriteSerializer,
    OpportunityCreateSerializer,
    OpportunitySerializer,
    OpportunityUpdateSerializer,
    StageChangeSerializer,
    WonSerializer,
)
from accounts.filters.opportunities import OpportunityFilter
from accounts.models import Opportunity, OpportunityContact
from accounts.selectors import opportunities as opportunities_selectors
from accounts.selectors.history import history_for
from accounts.selectors.visibility import contact_queryset
from accounts.services import opportunities as opportunities_services
from accounts.services import opportunity_contacts as opportunity_contacts_services
from crm.models import ValueListKey
from crm.pagination import CursorPagination
from crm.schema import request_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request
from crm.value_lists import list_value_clean


class OpportunityPagination(CursorPagination):
    ordering = ("-created_at", "-id")  # type: ignore[assignment]  # DRF takes a tuple of fields; the stubs say str


CREATE_EXAMPLE = OpenApiExample(
    "New deal",
    value={
        "account": 42,
        "name": "MES rollout phase 2",
        "amount": "250000.00",
        "currency": "CNY",
        "type": "new_business",
        "expected_close_date": "2026-12-20",
        "next_step": "Demo for the plant managers",
        "next_step_date": "2026-12-04",
    },
    request_only=True,
)


IMPORT_EXAMPLE = OpenApiExample(
    "Historical lost deal (import)",
    value={
        "account": 42,
        "name": "Legacy ERP",
        "amount": "80000",
        "currency": "USD",
        "stage": 6,
        "created_at": "2025-03-01T09:00:00+08:00",
        "closed_at": "2025-05-12T17:00:00+08:00",
        "lost_reason": "Competitor",
    },
    request_only=True,
)


@extend_schema_view(
    list=extend_schema(tags=["deals"], summary="Deals (the deal list's filters; cursor pagination)"),
    retrieve=extend_schema(tags=["deals"]),
)
class OpportunityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Deals visible to the caller's role. Writes need edit rights (owner/team/admin; cs: renewals)."""

    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilter
    pagination_class = OpportunityPagination

    def get_queryset(self) -> QuerySet[Opportunity]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(Opportunity)
        req = tenant_request(self.request)
        if self.action == "restore":
            return opportunities_selectors.opportunity_base(
                tenant=req.tenant, membership=req.membership, include_deleted=True
            ).select_related("account", "stage", "pipeline", "owner")
        return opportunities_selectors.opportunity_list(tenant=req.tenant, membership=req.membership)

    def _fresh(self, opportunity: Opportunity) -> dict[str, Any]:
        req = tenant_request(self.request)
        deal = opportunities_selectors.opportunity_get(
            tenant=req.tenant, membership=req.membership, pk=opportunity.pk, include_deleted=True
        )
        return OpportunitySerializer(deal).data

    @extend_schema(
        tags=["deals"],
        request=OpportunityCreateSerializer,
        responses={201: OpportunitySerializer},
        examples=[CREATE_EXAMPLE, IMPORT_EXAMPLE, OPPORTUNITY_RESPONSE_EXAMPLE],
    )
    def create(self, request: Request, slug: str) -> Response:
        payload = OpportunityCreateSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        req = tenant_request(request)
        stage = data.pop("stage", None)
        pipeline = data.pop("pipeline", None)
        if stage is not None and pipeline is None:
            pipeline = stage.pipeline
        opportunity = opportunities_services.opportunity_create(
            tenant=req.tenant, actor=req.user, pipeline=pipeline, stage=stage, **data
        )
        return Response(self._fresh(opportunity), status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["deals"],
        request=OpportunityUpdateSerializer,
        responses={200: OpportunitySerializer, 409: ConflictSerializer},
        examples=[
            OpenApiExample(
                "Raise the amount", value={"version": 3, "amount": "300000.00"}, request_only=True
            ),
            OPPORTUNITY_RESPONSE_EXAMPLE,
        ],
    )
    def partial_update(self, request: Request, slug: str, pk: str) -> Response:
        opportunity = self.get_object()
        payload = OpportunityUpdateSerializer(
            data=request.data, context={**self.get_serializer_context(), "record": opportunity}
        )
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        version = data.pop("version")
        req = tenant_request(request)
        opportunities_services.opportunity_update(
            tenant=req.tenant, actor=req.user, opportunity=opportunity, version=version, **data
        )
        return Response(self._fresh(opportunity))

    @extend_schema(tags=["deals"], responses={204: None})
    def destroy(self, request: Request, slug: str, pk: str) -> Response:
        """Soft delete (POST .../restore/ undoes it)."""
        opportunity = self.get_object()
        req = tenant_request(request)
        opportunities_services.opportunity_delete(tenant=req.tenant, actor=req.user, opportunity=opportunity)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(tags=["deals"], request=None, responses={200: OpportunitySerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, slug: str, pk: str) -> Response:
        opportunity = self.get_object()
        req = tenant_request(request)
        opportunities_services.opportunity_restore(tenant=req.tenant, actor=req.user, opportunity=opportunity)
        return Response(self._fresh(opportunity))

    @extend_schema(
        tags=["deals"], responses={200: HistoryEntrySerializer(many=True)}, examples=[HISTORY_EXAMPLE]
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request: Request, slug: str, pk: str) -> Response:
        """Every change of the deal, newest first: when, who, action and the changed fields (old -> new)."""
        opportunity = self.get_object()
        req = tenant_request(request)
        entries = history_for(tenant=req.tenant, obj=opportunity, membership=req.membership)
        return Response(HistoryEntrySerializer(list(reversed(entries)), many=True).data)

    @extend_schema(
        tags=["deals"], responses={200: StageChangeSerializer(many=True)}, examples=[STAGE_HISTORY_EXAMPLE]
    )
    @action(
        detail=True, methods=["get"], url_path="stage-history", pagination_class=None, filterset_class=None
    )
    def stage_history(self, request: Request, slug: str, pk: str) -> Response:
        """The deal's stage moves, newest first: when, from and to which stage, who, amount and probability."""
        opportunity = self.get_object()
        changes = opportunities_selectors.stage_history(
            tenant=tenant_request(request).tenant, opportunity=opportunity
        )
        return Response(StageChangeSerializer(changes, many=True).data)

    @extend_schema(
        tags=["deals"],
        request=MoveSerializer,
        responses={200: OpportunitySerializer, 409: ConflictSerializer},
        examples=[
            OpenApiExample("To Proposal", value={"stage": 3, "version": 2}, request_only=True),
            OpenApiExample("Lost", value={"stage": 6, "lost_reason": "No budget"}, request_only=True),
            OPPORTUNITY_RESPONSE_EXAMPLE,
        ],
    )
    @action(detail=True, methods=["post"])
    def move(self, request: Request, slug: str, pk: str) -> Response:
        """Move to a stage of the deal's pipeline. Won closes it; lost needs `lost_reason`."""
        opportunity = self.get_object()
        payload = MoveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        lost_reason = list_value_clean(
            tenant=req.tenant,
            list_key=ValueListKey.LOST_REASON,
            value=payload.validated_data.get("lost_reason", ""),
            field="lost_reason",
            current=opportunity.lost_reason,
        )
        opportunities_services.opportunity_move_stage(
            tenant=req.tenant,
            actor=req.user,
            opportunity=opportunity,
            stage=payload.validated_data["stage"],
            version=payload.validated_data.get("version"),
            lost_reason=lost_reason,
        )
        return Response(self._fresh(opportunity))

    @extend_schema(
        tags=["deals"],
        request=WonSerializer,
        responses={200: OpportunitySerializer, 409: ConflictSerializer},
        examples=[request_example("Won (version checked)", {"version": 4}), OPPORTUNITY_WON_RESPONSE_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def won(self, request: Request, slug: str, pk: str) -> Response:
        opportunity = self.get_object()
        payload = WonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        opportunities_services.opportunity_mark_won(
            tenant=req.tenant,
            actor=req.user,
            opportunity=opportunity,
            version=payload.validated_data.get("version"),
        )
        return Response(self._fresh(opportunity))

    @extend_schema(
        tags=["deals"],
        request=LostSerializer,
        responses={200: OpportunitySerializer, 409: ConflictSerializer},
        examples=[
            OpenApiExample("Lost to a competitor", value={"reason": "Competitor"}, request_only=True),
            OPPORTUNITY_LOST_RESPONSE_EXAMPLE,
        ],
    )
    @action(detail=True, methods=["post"])
    def lost(self, request: Request, slug: str, pk: str) -> Response:
        opportunity = self.get_object()
        payload = LostSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        reason = list_value_clean(
            tenant=req.tenant,
            list_key=ValueListKey.LOST_REASON,
            value=payload.validated_data["reason"],
            field="reason",
            current=opportunity.lost_reason,
        )
        opportunities_services.opportunity_mark_lost(
            tenant=req.tenant,
            actor=req.user,
            opportunity=opportunity,
            reason=reason,
            version=payload.validated_data.get("version"),
        )
        return Response(self._fresh(opportunity))

    @extend_schema(methods=["GET"], tags=["deals"], responses={200: OpportunityContactSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        tags=["deals"],
        request=OpportunityContactWriteSerializer,
        responses={201: OpportunityContactSerializer},
        examples=[
            OpenApiExample(
                "Add the buyer",
                value={"contact": 118, "role": "Economic buyer", "is_primary": True},
                request_only=True,
            ),
            OPPORTUNITY_CONTACT_RESPONSE_EXAMPLE,
        ],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def contacts(self, request: Request, slug: str, pk: str) -> Response:
        """GET: the contacts on the deal; POST: add a contact of the deal's account with a role."""
        opportunity = self.get_object()
        req = tenant_request(request)
        if request.method == "GET":
            links = opportunities_selectors.opportunity_contact_links(
                tenant=req.tenant, membership=req.membership, opportunity=opportunity
            )
            return Response(OpportunityContactSerializer(links, many=True).data)
        payload = OpportunityContactWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        # Only a contact the member may see: any other id is "does not exist" (the one message for both).
        contact = (
            contact_queryset(tenant=req.tenant, membership=req.membership)
            .filter(pk=payload.validated_data["contact"], account_id=opportunity.account_id)
            .first()
        )
        if contact is None:
            raise serializers.ValidationError({"contact": [_("Choose a contact of the deal's account.")]})
        link = opportunity_contacts_services.opportunity_contact_add(
            tenant=req.tenant,
            actor=req.user,
            opportunity=opportunity,
            contact=contact,
            role=payload.validated_data.get("role", ""),
            is_primary=payload.validated_data.get("is_primary", False),
        )
        return Response(OpportunityContactSerializer(link).data, status=status.HTTP_201_CREATED)

    def _link(self, link_pk: str) -> tuple[Opportunity, OpportunityContact]:
        opportunity = self.get_object()
        req = tenant_request(self.request)
        try:
            link = opportunities_selectors.opportunity_contact_get(
                tenant=req.tenant, opportunity=opportunity, pk=int(link_pk)
            )
        except (ValueError, OpportunityContact.DoesNotExist):
            raise Http404 from None
        link.opportunity = opportunity
        return opportunity, link

    @extend_schema(
        methods=["PATCH"],
        tags=["deals"],
        request=OpportunityContactUpdateSerializer,
        responses={200: OpportunityContactSerializer},
        examples=[
            request_example("Make primary", {"role": "Economic buyer", "is_primary": True}),
            OPPORTUNITY_CONTACT_RESPONSE_EXAMPLE,
        ],
    )
    @extend_schema(methods=["DELETE"], tags=["deals"], responses={204: None})
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"contacts/(?P<link_pk>\d+)",
        pagination_class=None,
        filterset_class=None,
    )
    def contact_link(self, request: Request, slug: str, pk: str, link_pk: str) -> Response:
        """PATCH: change the role or make primary; DELETE: take the contact off the deal."""
        _opportunity, link = self._link(link_pk)
        req = tenant_request(request)
        if request.method == "DELETE":
            opportunity_contacts_services.opportunity_contact_remove(
                tenant=req.tenant, actor=req.user, link=link
            )
            return Response(status=status.HTTP_204_NO_CONTENT)
        payload = OpportunityContactUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        link = opportunity_contacts_services.opportunity_contact_update(
            tenant=req.tenant,
            actor=req.user,
            link=link,
            role=payload.validated_data.get("role"),
            is_primary=payload.validated_data.get("is_primary"),
        )
        return Response(OpportunityContactSerializer(link).data)
