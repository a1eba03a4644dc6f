"""API of accounts: list, detail, create, update (version-checked), delete, restore, duplicates, history, merge."""

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
from accounts.filters.accounts import AccountFilterSet
from accounts.filters.sorting import AccountCursorPagination
from accounts.models import Account, MergeEntity, Tier
from accounts.selectors import accounts as accounts_selectors
from accounts.selectors import duplicates as duplicates_selectors
from accounts.selectors import history as history_selectors
from accounts.selectors import visibility as visibility_selectors
from accounts.services import accounts as accounts_services
from crm.api_fields import ValueListsMixin, list_value_field
from crm.api_records import CONFLICT_RESPONSE, VersionedRecordMixin
from crm.models import User
from crm.permissions import IsTenantMember
from crm.schema import request_example, response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request
from crm.value_lists import COMPANY_LIST_FIELDS

ACCOUNT_VALUE: dict[str, Any] = {
    "id": 17,
    "external_id": "",
    "name": "Shanghai Huaxin Technology Co., Ltd.",
    "domain": "huaxin.example.cn",
    "industry": "Manufacturing",
    "size_band": "201-1000",
    "region": "East China",
    "tier": "strategic",
    "owner": 7,
    "owner_name": "Li Wei",
    "parent": None,
    "parent_name": None,
    "lifecycle_stage": "conversion",
    "version": 3,
    "created_at": "2026-03-12T09:30:00+08:00",
    "updated_at": "2026-11-20T10:15:00+08:00",
    "deleted_at": None,
}


ACCOUNT_RESPONSE_EXAMPLE = response_example("A strategic account in conversion", ACCOUNT_VALUE)


@extend_schema_serializer(examples=[ACCOUNT_RESPONSE_EXAMPLE])
class AccountSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(
        source="owner.display_name", read_only=True, allow_null=True, default=None
    )
    parent_name = serializers.SerializerMethodField(
        help_text="The parent account's name; null when you may not see it."
    )

    class Meta:
        model = Account
        fields = [
            "id",
            "external_id",
            "name",
            "domain",
            "industry",
            "size_band",
            "region",
            "tier",
            "owner",
            "owner_name",
            "parent",
            "parent_name",
            "lifecycle_stage",
            "version",
            "created_at",
            "updated_at",
            "deleted_at",
        ]
        read_only_fields = fields

    def get_parent_name(self, account: Account) -> str | None:
        # Only the selectors' rows carry `parent_visible`; anything else keeps the name back (fail closed).
        if account.parent_id is None or not getattr(account, "parent_visible", False):
            return None
        parent = account.parent
        return parent.name if parent is not None else None


class AccountWriteSerializer(ValueListsMixin, _VisibleChoicesMixin, serializers.Serializer):
    list_fields = COMPANY_LIST_FIELDS

    version = serializers.IntegerField(
        required=False, help_text="Required on update: the version you loaded; a stale one answers 409."
    )
    name = serializers.CharField(max_length=200, required=False)
    domain = serializers.CharField(max_length=200, required=False, allow_blank=True)
    industry = list_value_field("industry", "industry")
    size_band = list_value_field("size_band", "size band")
    region = list_value_field("region", "region")
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), required=False, allow_null=True, help_text="User id; default: you."
    )
    parent = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]  # named like Field.parent in the stubs
        queryset=Account.objects.none(), required=False, allow_null=True
    )
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit_choices()


@extend_schema_serializer(
    examples=[
        response_example(
            "A similar name",
            {
                **ACCOUNT_VALUE,
                "id": 42,
                "name": "Shanghai Huaxin Tech",
                "domain": "",
                "tier": "standard",
                "lifecycle_stage": "acquisition",
                "version": 1,
                "similarity": 0.82,
                "same_domain": False,
            },
        )
    ]
)
class DuplicateAccountSerializer(AccountSerializer):
    similarity = serializers.FloatField(read_only=True)
    same_domain = serializers.BooleanField(read_only=True)

    class Meta(AccountSerializer.Meta):
        fields = [*AccountSerializer.Meta.fields, "similarity", "same_domain"]
        read_only_fields = fields


ACCOUNT_EXAMPLE = OpenApiExample(
    "Create an account",
    value={
        "name": "Shanghai Huaxin Technology Co., Ltd.",
        "domain": "huaxin.example.cn",
        "industry": "Manufacturing",
        "size_band": "201-1000",
        "region": "East China",
        "tier": "strategic",
    },
    request_only=True,
)


ACCOUNT_UPDATE_EXAMPLE = request_example("Change the tier", {"version": 3, "tier": "key"})


@extend_schema_view(
    list=extend_schema(tags=["accounts"], summary="Accounts you may see", parameters=[SORT_PARAM]),
    retrieve=extend_schema(tags=["accounts"]),
)
class AccountViewSet(VersionedRecordMixin, viewsets.GenericViewSet):
    """Accounts (customer companies). Role visibility as on the pages; deletes are soft (`restore` undoes)."""

    serializer_class = AccountSerializer
    filterset_class = AccountFilterSet
    pagination_class = AccountCursorPagination
    permission_classes = [IsTenantMember]

    def get_queryset(self) -> QuerySet[Account]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(Account)
        request = tenant_request(self.request)
        return accounts_selectors.account_list(tenant=request.tenant, membership=request.membership)

    def _editable(self, pk: str) -> Account:
        request = tenant_request(self.request)
        _require_writer(self.request)
        account = self.get_object()
        if not visibility_selectors.can_edit_account(
            tenant=request.tenant, membership=request.membership, account=account
        ):
            raise PermissionDenied(_("This account is shared with you read-only."))
        return account

    def list(self, request: Request, slug: str) -> Response:
        qs = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(AccountSerializer(page, many=True).data)

    def retrieve(self, request: Request, slug: str, pk: str) -> Response:
        return Response(AccountSerializer(self.get_object()).data)

    @extend_schema(
        tags=["accounts"],
        request=AccountWriteSerializer,
        responses={201: AccountSerializer},
        examples=[ACCOUNT_EXAMPLE, ACCOUNT_RESPONSE_EXAMPLE],
    )
    def create(self, request: Request, slug: str) -> Response:
        _require_writer(request)
        payload = AccountWriteSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        fields = _service_fields(payload.validated_data)
        if not fields.get("name"):
            raise serializers.ValidationError({"name": [_("This field is required.")]})
        req = tenant_request(request)
        account = accounts_services.account_create(tenant=req.tenant, actor=req.user, **fields)
        account = accounts_selectors.account_get(tenant=req.tenant, membership=req.membership, pk=account.pk)
        return Response(AccountSerializer(account).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["accounts"],
        request=AccountWriteSerializer,
        responses={200: AccountSerializer, **CONFLICT_RESPONSE},
        examples=[ACCOUNT_UPDATE_EXAMPLE, ACCOUNT_RESPONSE_EXAMPLE],
    )
    def update(self, request: Request, slug: str, pk: str) -> Response:
        account = self._editable(pk)
        payload = AccountWriteSerializer(data=request.data, context={"request": request, "record": account})
        payload.is_valid(raise_exception=True)
        version, fields = self.versioned_fields(payload.validated_data)
        req = tenant_request(request)
        accounts_services.account_update(
            tenant=req.tenant, actor=req.user, account=account, version=version, **fields
        )
        account = accounts_selectors.account_get(tenant=req.tenant, membership=req.membership, pk=account.pk)
        return Response(AccountSerializer(account).data)

    @extend_schema(
        tags=["accounts"],
        request=AccountWriteSerializer,
        responses={200: AccountSerializer, **CONFLICT_RESPONSE},
        examples=[ACCOUNT_UPDATE_EXAMPLE, ACCOUNT_RESPONSE_EXAMPLE],
    )
    def partial_update(self, request: Request, slug: str, pk: str) -> Response:
        return self.update(request, slug, pk)

    @extend_schema(tags=["accounts"], responses={204: None})
    def destroy(self, request: Request, slug: str, pk: str) -> Response:
        account = self._editable(pk)
        req = tenant_request(request)
        return self.soft_destroy(
            lambda: accounts_services.account_delete(tenant=req.tenant, actor=req.user, account=account)
        )

    @extend_schema(tags=["accounts"], request=None, responses={200: AccountSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, slug: str, pk: str) -> Response:
        """Undo a delete."""
        _require_writer(request)
        req = tenant_request(request)
        return self.restore_deleted(
            find=lambda: accounts_selectors.account_deleted_get(
                tenant=req.tenant, membership=req.membership, pk=pk
            ),
            restore=lambda account: accounts_services.account_restore(
                tenant=req.tenant, actor=req.user, account=account
            ),
            represent=lambda account: (
                AccountSerializer(
                    accounts_selectors.account_get(
                        tenant=req.tenant, membership=req.membership, pk=account.pk
                    )
                ).data
            ),
        )

    @extend_schema(
        tags=["accounts"],
        request=MergeRequestSerializer,
        responses={201: MergeRecordSerializer},
        examples=[
            OpenApiExample(
                "Merge #42 into this account",
                value={"merged": 42, "choices": {"domain": "merged"}},
                request_only=True,
            ),
            MERGE_RECORD_RESPONSE_EXAMPLE,
        ],
    )
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, slug: str, pk: str) -> Response:
        """Merge another account into this one (the survivor); everything it had moves here. Undo with
        POST merges/{id}/undo/."""
        return _merge(self, request, pk, entity=MergeEntity.ACCOUNT)

    @extend_schema(tags=["accounts"], responses={200: HistoryEntrySerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request: Request, slug: str, pk: str) -> Response:
        """Every change: when, who, action and the changed fields (old -> new)."""
        account = self.get_object()
        req = tenant_request(request)
        entries = history_selectors.history_for(tenant=req.tenant, obj=account, membership=req.membership)
        return Response(HistoryEntrySerializer(list(reversed(entries)), many=True).data)

    @extend_schema(
        tags=["accounts"],
        parameters=[
            OpenApiParameter("name", str, required=False),
            OpenApiParameter("domain", str, required=False),
            OpenApiParameter(
                "exclude", int, required=False, description="An account id to leave out (editing)."
            ),
        ],
        responses={200: DuplicateAccountSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def duplicates(self, request: Request, slug: str) -> Response:
        """Possible duplicates of a company name / domain (check before creating)."""
        req = tenant_request(request)
        exclude = request.query_params.get("exclude", "")
        found = duplicates_selectors.account_duplicates(
            tenant=req.tenant,
            name=request.query_params.get("name", ""),
            domain=request.query_params.get("domain", ""),
            exclude_id=int(exclude) if exclude.isdecimal() else None,
            membership=req.membership,
        )
        return Response(DuplicateAccountSerializer(found, many=True).data)
