"""API of merges: the merge request of accounts and contacts, merge records and their undo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.common import MERGERS
from accounts.models import Account, Contact, MergeEntity, MergeRecord
from accounts.selectors import accounts as accounts_selectors
from accounts.selectors import contacts as contacts_selectors
from accounts.selectors import merges as merges_selectors
from accounts.services import merges as merges_services
from crm.permissions import IsTenantMember
from crm.schema import response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request


class MergeRequestSerializer(serializers.Serializer):
    merged = serializers.IntegerField(help_text="Id of the record merged into this one (it is soft-deleted).")
    choices = serializers.DictField(
        child=serializers.ChoiceField(choices=["survivor", "merged"]),
        required=False,
        help_text='Per field, whose value to keep: {"name": "merged"}. Default: the survivor\'s, or the merged '
        "record's where the survivor's is empty.",
    )


MERGE_RECORD_RESPONSE_EXAMPLE = response_example(
    "Account #42 merged into #17",
    {
        "id": 12,
        "entity": "account",
        "survivor_id": 17,
        "merged_id": 42,
        "actor": 1,
        "created_at": "2026-11-21T14:05:00+08:00",
        "undone_at": None,
    },
)


@extend_schema_serializer(examples=[MERGE_RECORD_RESPONSE_EXAMPLE])
class MergeRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = MergeRecord
        fields = ["id", "entity", "survivor_id", "merged_id", "actor", "created_at", "undone_at"]
        read_only_fields = fields


def _merge(view: Any, request: Request, pk: str, *, entity: str) -> Response:
    req = tenant_request(request)
    if req.membership.role not in MERGERS:
        raise PermissionDenied(_("Merging needs an admin, a sales manager or customer success."))
    getter = (
        accounts_selectors.account_get if entity == MergeEntity.ACCOUNT else contacts_selectors.contact_get
    )
    model = Account if entity == MergeEntity.ACCOUNT else Contact
    # The record in the path first: an id that is not there (or not visible) is a 404 whatever the body says.
    try:
        survivor = getter(tenant=req.tenant, membership=req.membership, pk=int(pk), for_edit=True)
    except (model.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    payload = MergeRequestSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    try:
        merged = getter(
            tenant=req.tenant, membership=req.membership, pk=payload.validated_data["merged"], for_edit=True
        )
    except model.DoesNotExist as exc:
        raise serializers.ValidationError(
            {"merged": [_("No such record, or you cannot change it.")]}
        ) from exc
    merge_service: Callable[..., MergeRecord] = (
        merges_services.account_merge if entity == MergeEntity.ACCOUNT else merges_services.contact_merge
    )
    record = merge_service(
        tenant=req.tenant,
        actor=req.user,
        survivor=survivor,
        merged=merged,
        choices=payload.validated_data.get("choices") or {},
    )
    return Response(MergeRecordSerializer(record).data, status=status.HTTP_201_CREATED)


@extend_schema_view(retrieve=extend_schema(tags=["merges"]))
class MergeRecordViewSet(viewsets.GenericViewSet):
    """Merges of accounts and contacts, and their undo. Visible when you may change the surviving record."""

    serializer_class = MergeRecordSerializer
    permission_classes = [IsTenantMember]
    pagination_class = None
    filterset_class = None

    def get_queryset(self) -> QuerySet[MergeRecord]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(MergeRecord)
        return MergeRecord.objects.filter(tenant=tenant_request(self.request).tenant)

    def _visible(self, pk: str) -> MergeRecord:
        req = tenant_request(self.request)
        if req.membership.role not in MERGERS or not str(pk).isdecimal():
            raise Http404
        try:
            record = merges_selectors.merge_record_get(tenant=req.tenant, pk=int(pk))
        except MergeRecord.DoesNotExist as exc:
            raise Http404 from exc
        getter = (
            accounts_selectors.account_get
            if record.entity == MergeEntity.ACCOUNT
            else contacts_selectors.contact_get
        )
        try:
            getter(tenant=req.tenant, membership=req.membership, pk=record.survivor_id, for_edit=True)
        except (Account.DoesNotExist, Contact.DoesNotExist) as exc:
            raise Http404 from exc
        return record

    def retrieve(self, request: Request, slug: str, pk: str) -> Response:
        return Response(MergeRecordSerializer(self._visible(pk)).data)

    @extend_schema(tags=["merges"], request=None, responses={200: MergeRecordSerializer})
    @action(detail=True, methods=["post"])
    def undo(self, request: Request, slug: str, pk: str) -> Response:
        """Undo the merge exactly: the merged record is back with everything it had."""
        record = self._visible(pk)
        req = tenant_request(request)
        record = merges_services.merge_undo(tenant=req.tenant, actor=req.user, merge_record=record)
        return Response(MergeRecordSerializer(record).data)
