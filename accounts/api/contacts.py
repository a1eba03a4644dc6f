"""API of contacts: list, detail, create, update (version-checked), delete, restore, duplicates, history, merge."""

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
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.common import (
    SORT_PARAM,
    _require_writer,
    _service_fields,
    _VisibleChoicesMixin,
)
from accounts.api.history import HistoryEntrySerializer
from accounts.api.merges import (
    MERGE_RECORD_RESPONSE_EXAMPLE,
    MergeRecordSerializer,
    MergeRequestSerializer,
    _merge,
)
from accounts.filters.contacts import ContactFilterSet
from accounts.filters.sorting import ContactCursorPagination
from accounts.models import Account, Contact, MergeEntity
from accounts.selectors import contacts as contacts_selectors
from accounts.selectors import duplicates as duplicates_selectors
from accounts.selectors import history as history_selectors
from accounts.selectors import visibility as visibility_selectors
from accounts.services import contacts as contacts_services
from crm.api_records import CONFLICT_RESPONSE, VersionedRecordMixin
from crm.models import User
from crm.permissions import IsTenantMember
from crm.schema import request_example, response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request

CONTACT_VALUE: dict[str, Any] = {
    "id": 118,
    "external_id": "",
    "first_name": "Wei",
    "last_name": "Zhang",
    "email": "wei.zhang@huaxin.example.cn",
    "phone": "+86 138 0013 8000",
    "title": "Head of Procurement",
    "account": 17,
    "account_name": "Shanghai Huaxin Technology Co., Ltd.",
    "owner": 7,
    "owner_name": "Li Wei",
    "version": 2,
    "created_at": "2026-03-12T09:45:00+08:00",
    "updated_at": "2026-10-08T16:20:00+08:00",
    "deleted_at": None,
}


CONTACT_RESPONSE_EXAMPLE = response_example("The buyer at Huaxin", CONTACT_VALUE)


CONTACT_UPDATE_EXAMPLE = request_example("New phone", {"version": 2, "phone": "+86 21 5555 0101"})


@extend_schema_serializer(examples=[CONTACT_RESPONSE_EXAMPLE])
class ContactSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True, allow_null=True, default=None)
    owner_name = serializers.CharField(
        source="owner.display_name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Contact
        fields = [
            "id",
            "external_id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "title",
            "account",
            "account_name",
            "owner",
            "owner_name",
            "version",
            "created_at",
            "updated_at",
            "deleted_at",
        ]
        read_only_fields = fields


class ContactWriteSerializer(_VisibleChoicesMixin, serializers.Serializer):
    version = serializers.IntegerField(
        required=False, help_text="Required on update: the version you loaded; a stale one answers 409."
    )
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    title = serializers.CharField(max_length=120, required=False, allow_blank=True)
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.none(), required=False, allow_null=True
    )
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.none(), required=False, allow_null=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit_choices()


@extend_schema_serializer(
    examples=[
        response_example(
            "Same email, another phone",
            {
                **CONTACT_VALUE,
                "id": 131,
                "phone": "+86 21 5555 0101",
                "same_email": True,
                "same_phone": False,
            },
        )
    ]
)
class DuplicateContactSerializer(ContactSerializer):
    same_email = serializers.BooleanField(read_only=True)
    same_phone = serializers.BooleanField(read_only=True)

    class Meta(ContactSerializer.Meta):
        fields = [*ContactSerializer.Meta.fields, "same_email", "same_phone"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(tags=["contacts"], summary="Contacts you may see", parameters=[SORT_PARAM]),
    retrieve=extend_schema(tags=["contacts"]),
)
class ContactViewSet(VersionedRecordMixin, viewsets.GenericViewSet):
    """People at accounts. A contact follows its account's visibility (without an account: its owner's)."""

    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    pagination_class = ContactCursorPagination
    permission_classes = [IsTenantMember]

    def get_queryset(self) -> QuerySet[Contact]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(Contact)
        request = tenant_request(self.request)
        return contacts_selectors.contact_list(tenant=request.tenant, membership=request.membership)

    def _editable(self) -> Contact:
        request = tenant_request(self.request)
        _require_writer(self.request)
        contact = self.get_object()
        if not visibility_selectors.can_edit_contact(
            tenant=request.tenant, membership=request.membership, contact=contact
        ):
            raise PermissionDenied(_("This contact is shared with you read-only."))
        return contact

    def list(self, request: Request, slug: str) -> Response:
        qs = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ContactSerializer(page, many=True).data)

    def retrieve(self, request: Request, slug: str, pk: str) -> Response:
        return Response(ContactSerializer(self.get_object()).data)

    @extend_schema(
        tags=["contacts"],
        request=ContactWriteSerializer,
        responses={201: ContactSerializer},
        examples=[
            OpenApiExample(
                "Create a contact",
                value={
                    "first_name": "Wei",
                    "last_name": "Zhang",
                    "email": "wei.zhang@huaxin.example.cn",
                    "phone": "+86 138 0013 8000",
                    "title": "Head of Procurement",
                    "account": 17,
                },
                request_only=True,
            ),
            CONTACT_RESPONSE_EXAMPLE,
        ],
    )
    def create(self, request: Request, slug: str) -> Response:
        _require_writer(request)
        payload = ContactWriteSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        fields = _service_fields(payload.validated_data)
        if "owner" in fields and fields["owner"] is None:
            fields.pop("owner")
        contact = contacts_services.contact_create(tenant=req.tenant, actor=req.user, **fields)
        contact = contacts_selectors.contact_get(tenant=req.tenant, membership=req.membership, pk=contact.pk)
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["contacts"],
        request=ContactWriteSerializer,
        responses={200: ContactSerializer, **CONFLICT_RESPONSE},
        examples=[CONTACT_UPDATE_EXAMPLE, CONTACT_RESPONSE_EXAMPLE],
    )
    def update(self, request: Request, slug: str, pk: str) -> Response:
        contact = self._editable()
        payload = ContactWriteSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        version, fields = self.versioned_fields(payload.validated_data)
        req = tenant_request(request)
        contacts_services.contact_update(
            tenant=req.tenant, actor=req.user, contact=contact, version=version, **fields
        )
        contact = contacts_selectors.contact_get(tenant=req.tenant, membership=req.membership, pk=contact.pk)
        return Response(ContactSerializer(contact).data)

    @extend_schema(
        tags=["contacts"],
        request=ContactWriteSerializer,
        responses={200: ContactSerializer, **CONFLICT_RESPONSE},
        examples=[CONTACT_UPDATE_EXAMPLE, CONTACT_RESPONSE_EXAMPLE],
    )
    def partial_update(self, request: Request, slug: str, pk: str) -> Response:
        return self.update(request, slug, pk)

    @extend_schema(tags=["contacts"], responses={204: None})
    def destroy(self, request: Request, slug: str, pk: str) -> Response:
        contact = self._editable()
        req = tenant_request(request)
        return self.soft_destroy(
            lambda: contacts_services.contact_delete(tenant=req.tenant, actor=req.user, contact=contact)
        )

    @extend_schema(tags=["contacts"], request=None, responses={200: ContactSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, slug: str, pk: str) -> Response:
        _require_writer(request)
        req = tenant_request(request)
        return self.restore_deleted(
            find=lambda: contacts_selectors.contact_deleted_get(
                tenant=req.tenant, membership=req.membership, pk=pk
            ),
            restore=lambda contact: contacts_services.contact_restore(
                tenant=req.tenant, actor=req.user, contact=contact
            ),
            represent=lambda contact: (
                ContactSerializer(
                    contacts_selectors.contact_get(
                        tenant=req.tenant, membership=req.membership, pk=contact.pk
                    )
                ).data
            ),
        )

    @extend_schema(
        tags=["contacts"],
        request=MergeRequestSerializer,
        responses={201: MergeRecordSerializer},
        examples=[
            request_example("Merge #131 into this contact", {"merged": 131}),
            response_example(
                "Contact #131 merged into #118",
                {
                    **MERGE_RECORD_RESPONSE_EXAMPLE.value,
                    "entity": "contact",
                    "survivor_id": 118,
                    "merged_id": 131,
                },
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, slug: str, pk: str) -> Response:
        return _merge(self, request, pk, entity=MergeEntity.CONTACT)

    @extend_schema(tags=["contacts"], responses={200: HistoryEntrySerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request: Request, slug: str, pk: str) -> Response:
        contact = self.get_object()
        req = tenant_request(request)
        entries = history_selectors.history_for(tenant=req.tenant, obj=contact, membership=req.membership)
        return Response(HistoryEntrySerializer(list(reversed(entries)), many=True).data)

    @extend_schema(
        tags=["contacts"],
        parameters=[
            OpenApiParameter("email", str, required=False),
            OpenApiParameter("phone", str, required=False),
            OpenApiParameter("exclude", int, required=False),
        ],
        responses={200: DuplicateContactSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def duplicates(self, request: Request, slug: str) -> Response:
        req = tenant_request(request)
        exclude = request.query_params.get("exclude", "")
        found = duplicates_selectors.contact_duplicates(
            tenant=req.tenant,
            email=request.query_params.get("email", ""),
            phone=request.query_params.get("phone", ""),
            exclude_id=int(exclude) if exclude.isdecimal() else None,
            membership=req.membership,
        )
        return Response(DuplicateContactSerializer(found, many=True).data)
