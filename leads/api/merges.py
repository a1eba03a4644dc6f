"""API actions of lead duplicates and merges on /leads/: duplicates of given details, merge, merge undo. Mixed
into leads.api.leads.LeadViewSet (which provides `_lead`, `_fresh` and `_writer`)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.types import TenantRequest
from leads.api.actions_base import LeadActionsBase
from leads.api.errors import service_errors
from leads.api.lead_serializers import LeadSerializer
from leads.api.merge_serializers import (
    DUPLICATE_PARAMS,
    DUPLICATES_EXAMPLE,
    LEAD_MERGE_RECORD_RESPONSE_EXAMPLE,
    LeadDuplicateSerializer,
    LeadMergeRecordSerializer,
    LeadMergeSerializer,
)
from leads.selectors import duplicates as duplicates_selectors
from leads.selectors import leads as selectors
from leads.services import merges as merges_services


class LeadMergeActions(LeadActionsBase):
    """Duplicate and merge actions of LeadViewSet."""

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
    def merge(self, request: TenantRequest, slug: str, pk: str) -> Response:
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
        record = service_errors(
            lambda: merges_services.lead_merge(
                tenant=request.tenant, actor=request.user, survivor=survivor, merged=merged
            )
        )
        return Response(LeadMergeRecordSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(tags=["leads"], request=None, responses={200: LeadSerializer})
    @action(detail=True, methods=["post"], url_path=r"merges/(?P<record_id>\d+)/undo")
    def merge_undo(self, request: TenantRequest, slug: str, pk: str, record_id: str) -> Response:
        """Undo a merge into this lead: the merged lead comes back with its activities and deals."""
        from accounts.models import MergeRecord
        from accounts.selectors.merges import merge_record_get

        self._writer()
        survivor = self._lead()
        try:
            record = merge_record_get(tenant=request.tenant, pk=int(record_id), entity="lead")
        except MergeRecord.DoesNotExist as exc:
            raise Http404 from exc
        if record.survivor_id != survivor.pk:
            raise Http404
        restored = service_errors(
            lambda: merges_services.lead_merge_undo(tenant=request.tenant, actor=request.user, record=record)
        )
        return self._fresh(restored)

    @extend_schema(
        tags=["leads"],
        summary="Possible duplicates of an email, phone or company (check before creating)",
        parameters=DUPLICATE_PARAMS,
        responses={200: LeadDuplicateSerializer(many=True)},
        examples=[DUPLICATES_EXAMPLE],
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def duplicates(self, request: TenantRequest, slug: str) -> Response:
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
