"""API of the records area: accounts, contacts, activities, exchange rates, merges, history.

Reads come from accounts.selectors.records (role visibility: an invisible record is a 404, an invisible id in a
body is "does not exist"), writes from accounts.services.records. Updates of accounts and contacts need the
`version` the client loaded; a stale one answers 409 with both versions and the current values. Deletes are soft
and have a `restore` action. Lists use keyset (cursor) pagination and the same FilterSets as the pages.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
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

from accounts.api.fields import LeadField
from accounts.filters_records import (
    AccountCursorPagination,
    AccountFilterSet,
    ActivityCursorPagination,
    ActivityFilterSet,
    ContactCursorPagination,
    ContactFilterSet,
    ExchangeRateFilterSet,
)
from accounts.links import lead_link
from accounts.models import (
    Account,
    Activity,
    ActivityKind,
    Contact,
    ExchangeRate,
    MergeEntity,
    MergeRecord,
    Opportunity,
    SizeBand,
    Tier,
)
from accounts.selectors import records as selectors
from accounts.selectors.deals import opportunity_base
from accounts.services import records as services
from crm.models import Role, User
from crm.pagination import CursorPagination
from crm.permissions import IsTenantAdmin, IsTenantMember
from crm.schema import request_example, response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request

WRITERS = {Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP, Role.CS}
MERGERS = {Role.ADMIN, Role.SALES_MANAGER, Role.CS}

# --- serializers ------------------------------------------------------------------------------------------------


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
        return account.parent.name


class _VisibleChoicesMixin:
    """Relation fields limited to the tenant and to what the member may see: anything else 'does not exist'."""

    def _limit_choices(self) -> None:
        request = self.context.get("request")  # type: ignore[attr-defined]
        tenant = getattr(request, "tenant", None)
        membership = getattr(request, "membership", None)
        if tenant is None or membership is None:
            return
        fields = self.fields  # type: ignore[attr-defined]
        if "owner" in fields:
            fields["owner"].queryset = selectors.members_for_choices(tenant=tenant)
        for name in ("parent", "account"):
            if name in fields:
                fields[name].queryset = selectors.account_queryset(tenant=tenant, membership=membership)
        if "contact" in fields:
            fields["contact"].queryset = selectors.contact_queryset(tenant=tenant, membership=membership)
        if "opportunity" in fields:
            fields["opportunity"].queryset = _visible_opportunities(tenant, membership)
        if "lead" in fields:
            fields["lead"].queryset = _visible_leads(tenant, membership)


def _visible_opportunities(tenant: Any, membership: Any) -> QuerySet:
    return opportunity_base(tenant=tenant, membership=membership)


def _visible_leads(tenant: Any, membership: Any) -> QuerySet:
    return lead_link().queryset(tenant=tenant, membership=membership)


class AccountWriteSerializer(_VisibleChoicesMixin, serializers.Serializer):
    version = serializers.IntegerField(
        required=False, help_text="Required on update: the version you loaded; a stale one answers 409."
    )
    name = serializers.CharField(max_length=200, required=False)
    domain = serializers.CharField(max_length=200, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    size_band = serializers.ChoiceField(choices=SizeBand.choices, required=False, allow_blank=True)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), required=False, allow_null=True, help_text="User id; default: you."
    )
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.none(), required=False, allow_null=True
    )
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit_choices()


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


ACTIVITY_RESPONSE_EXAMPLE = response_example(
    "A logged call",
    {
        "id": 901,
        "external_id": "",
        "kind": "call",
        "subject": "Discovery call",
        "body": "Budget confirmed for Q1; they want a 50-seat pilot first.",
        "owner": 7,
        "owner_name": "Li Wei",
        "occurred_at": "2026-11-20T10:00:00+08:00",
        "due_at": None,
        "done": True,
        "lead": None,
        "account": 17,
        "contact": 118,
        "opportunity": 9,
        "created_at": "2026-11-20T10:32:00+08:00",
        "updated_at": "2026-11-20T10:32:00+08:00",
        "deleted_at": None,
    },
)
ACTIVITY_UPDATE_EXAMPLE = request_example(
    "Reschedule a task", {"subject": "Send the revised proposal", "due_at": "2026-12-03T10:00:00+08:00"}
)


@extend_schema_serializer(examples=[ACTIVITY_RESPONSE_EXAMPLE])
class ActivitySerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(
        source="owner.display_name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Activity
        fields = [
            "id",
            "external_id",
            "kind",
            "subject",
            "body",
            "owner",
            "owner_name",
            "occurred_at",
            "due_at",
            "done",
            "lead",
            "account",
            "contact",
            "opportunity",
            "created_at",
            "updated_at",
            "deleted_at",
        ]
        read_only_fields = fields


class ActivityWriteSerializer(_VisibleChoicesMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=ActivityKind.choices, required=False)
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), required=False, allow_null=True, help_text="Default: you."
    )
    occurred_at = serializers.DateTimeField(required=False, allow_null=True)
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    done = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text="Default: true for call/email/meeting/note, false for task.",
    )
    lead = LeadField(required=False, allow_null=True)
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.none(), required=False, allow_null=True
    )
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.none(), required=False, allow_null=True
    )
    opportunity = serializers.PrimaryKeyRelatedField(
        queryset=Opportunity.objects.none(), required=False, allow_null=True
    )
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit_choices()


class SnoozeSerializer(serializers.Serializer):
    by = serializers.ChoiceField(choices=[("1d", _("one day")), ("1w", _("one week"))], default="1d")


EXCHANGE_RATE_RESPONSE_EXAMPLE = response_example(
    "USD into CNY",
    {
        "id": 5,
        "currency": "USD",
        "valid_from": "2026-01-01",
        "rate": "7.12340000",
        "created_at": "2025-12-28T11:00:00+08:00",
        "updated_at": "2025-12-28T11:00:00+08:00",
    },
)
EXCHANGE_RATE_UPDATE_EXAMPLE = request_example(
    "Correct the rate", {"currency": "USD", "valid_from": "2026-01-01", "rate": "7.1350"}
)


@extend_schema_serializer(examples=[EXCHANGE_RATE_RESPONSE_EXAMPLE])
class ExchangeRateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExchangeRate
        fields = ["id", "currency", "valid_from", "rate", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


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


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.CharField(allow_null=True)
    new = serializers.CharField(allow_null=True)


@extend_schema_serializer(
    examples=[
        response_example(
            "Tier raised",
            {
                "when": "2026-11-20T10:15:00+08:00",
                "who": {"id": 7, "name": "Li Wei"},
                "action": "updated",
                "changes": [{"field": "Tier", "old": "standard", "new": "strategic"}],
            },
        )
    ]
)
class HistoryEntrySerializer(serializers.Serializer):
    when = serializers.DateTimeField()
    who = serializers.SerializerMethodField()
    action = serializers.CharField()
    changes = serializers.SerializerMethodField()

    def get_who(self, entry: Any) -> dict | None:
        if entry.who is None:
            return None
        return {"id": entry.who.pk, "name": entry.who.display_name}

    def get_changes(self, entry: Any) -> list[dict]:
        return [
            {
                "field": label,
                "old": None if old is None else str(old),
                "new": None if new is None else str(new),
            }
            for label, old, new in entry.changes
        ]


class RecordConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    your_version = serializers.IntegerField(allow_null=True)
    current_version = serializers.IntegerField()
    current = serializers.DictField()


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


# --- helpers ----------------------------------------------------------------------------------------------------


def _require_writer(request: Request) -> None:
    if tenant_request(request).membership.role not in WRITERS:
        raise PermissionDenied(_("Your role cannot change these records."))


def _require_version(data: dict) -> int:
    version = data.get("version")
    if version is None:
        raise serializers.ValidationError(
            {"version": [_("Send the version you loaded (optimistic locking).")]}
        )
    return int(version)


def _service_fields(data: dict) -> dict:
    return {key: value for key, value in data.items() if key != "version"}


CONFLICT_RESPONSE = {409: RecordConflictSerializer}


# --- accounts ---------------------------------------------------------------------------------------------------

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
SORT_PARAM = OpenApiParameter(
    "sort",
    str,
    description="name | -name | -created | created (keyset pagination follows it)",
    required=False,
)


@extend_schema_view(
    list=extend_schema(tags=["accounts"], summary="Accounts you may see", parameters=[SORT_PARAM]),
    retrieve=extend_schema(tags=["accounts"]),
)
class AccountViewSet(viewsets.GenericViewSet):
    """Accounts (customer companies). Role visibility as on the pages; deletes are soft (`restore` undoes)."""

    serializer_class = AccountSerializer
    filterset_class = AccountFilterSet
    pagination_class = AccountCursorPagination
    permission_classes = [IsTenantMember]

    def get_queryset(self) -> QuerySet[Account]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(Account)
        request = tenant_request(self.request)
        return selectors.account_list(tenant=request.tenant, membership=request.membership)

    def _editable(self, pk: str) -> Account:
        request = tenant_request(self.request)
        _require_writer(self.request)
        account = self.get_object()
        if not selectors.can_edit_account(
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
        account = services.account_create(tenant=req.tenant, actor=req.user, **fields)
        account = selectors.account_get(tenant=req.tenant, membership=req.membership, pk=account.pk)
        return Response(AccountSerializer(account).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["accounts"],
        request=AccountWriteSerializer,
        responses={200: AccountSerializer, **CONFLICT_RESPONSE},
        examples=[ACCOUNT_UPDATE_EXAMPLE, ACCOUNT_RESPONSE_EXAMPLE],
    )
    def update(self, request: Request, slug: str, pk: str) -> Response:
        account = self._editable(pk)
        payload = AccountWriteSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        version = _require_version(payload.validated_data)
        req = tenant_request(request)
        services.account_update(
            tenant=req.tenant,
            actor=req.user,
            account=account,
            version=version,
            **_service_fields(payload.validated_data),
        )
        account = selectors.account_get(tenant=req.tenant, membership=req.membership, pk=account.pk)
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
        services.account_delete(tenant=req.tenant, actor=req.user, account=account)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(tags=["accounts"], request=None, responses={200: AccountSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, slug: str, pk: str) -> Response:
        """Undo a delete."""
        _require_writer(request)
        req = tenant_request(request)
        account = selectors.account_deleted_get(tenant=req.tenant, membership=req.membership, pk=pk)
        if account is None:
            raise Http404
        services.account_restore(tenant=req.tenant, actor=req.user, account=account)
        return Response(
            AccountSerializer(
                selectors.account_get(tenant=req.tenant, membership=req.membership, pk=account.pk)
            ).data
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
        entries = selectors.history_for(tenant=req.tenant, obj=account, membership=req.membership)
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
        found = selectors.account_duplicates(
            tenant=req.tenant,
            name=request.query_params.get("name", ""),
            domain=request.query_params.get("domain", ""),
            exclude_id=int(exclude) if exclude.isdecimal() else None,
            membership=req.membership,
        )
        return Response(DuplicateAccountSerializer(found, many=True).data)


def _merge(view: Any, request: Request, pk: str, *, entity: str) -> Response:
    req = tenant_request(request)
    if req.membership.role not in MERGERS:
        raise PermissionDenied(_("Merging needs an admin, a sales manager or customer success."))
    getter = selectors.account_get if entity == MergeEntity.ACCOUNT else selectors.contact_get
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
    merge_service = services.account_merge if entity == MergeEntity.ACCOUNT else services.contact_merge
    record = merge_service(
        tenant=req.tenant,
        actor=req.user,
        survivor=survivor,
        merged=merged,
        choices=payload.validated_data.get("choices") or {},
    )
    return Response(MergeRecordSerializer(record).data, status=status.HTTP_201_CREATED)


# --- contacts ---------------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(tags=["contacts"], summary="Contacts you may see", parameters=[SORT_PARAM]),
    retrieve=extend_schema(tags=["contacts"]),
)
class ContactViewSet(viewsets.GenericViewSet):
    """People at accounts. A contact follows its account's visibility (without an account: its owner's)."""

    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    pagination_class = ContactCursorPagination
    permission_classes = [IsTenantMember]

    def get_queryset(self) -> QuerySet[Contact]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(Contact)
        request = tenant_request(self.request)
        return selectors.contact_list(tenant=request.tenant, membership=request.membership)

    def _editable(self) -> Contact:
        request = tenant_request(self.request)
        _require_writer(self.request)
        contact = self.get_object()
        if not selectors.can_edit_contact(
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
        contact = services.contact_create(tenant=req.tenant, actor=req.user, **fields)
        contact = selectors.contact_get(tenant=req.tenant, membership=req.membership, pk=contact.pk)
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
        version = _require_version(payload.validated_data)
        req = tenant_request(request)
        services.contact_update(
            tenant=req.tenant,
            actor=req.user,
            contact=contact,
            version=version,
            **_service_fields(payload.validated_data),
        )
        contact = selectors.contact_get(tenant=req.tenant, membership=req.membership, pk=contact.pk)
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
        services.contact_delete(tenant=req.tenant, actor=req.user, contact=contact)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(tags=["contacts"], request=None, responses={200: ContactSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, slug: str, pk: str) -> Response:
        _require_writer(request)
        req = tenant_request(request)
        contact = selectors.contact_deleted_get(tenant=req.tenant, membership=req.membership, pk=pk)
        if contact is None:
            raise Http404
        services.contact_restore(tenant=req.tenant, actor=req.user, contact=contact)
        return Response(
            ContactSerializer(
                selectors.contact_get(tenant=req.tenant, membership=req.membership, pk=contact.pk)
            ).data
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
        entries = selectors.history_for(tenant=req.tenant, obj=contact, membership=req.membership)
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
        found = selectors.contact_duplicates(
            tenant=req.tenant,
            email=request.query_params.get("email", ""),
            phone=request.query_params.get("phone", ""),
            exclude_id=int(exclude) if exclude.isdecimal() else None,
            membership=req.membership,
        )
        return Response(DuplicateContactSerializer(found, many=True).data)


# --- merges -----------------------------------------------------------------------------------------------------


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
            record = selectors.merge_record_get(tenant=req.tenant, pk=int(pk))
        except MergeRecord.DoesNotExist as exc:
            raise Http404 from exc
        getter = selectors.account_get if record.entity == MergeEntity.ACCOUNT else selectors.contact_get
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
        record = services.merge_undo(tenant=req.tenant, actor=req.user, merge_record=record)
        return Response(MergeRecordSerializer(record).data)


# --- activities -------------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        tags=["activities"],
        summary="Activities and tasks you may see",
        parameters=[
            OpenApiParameter(
                "sort", str, description="-occurred | occurred | due | -due | -id", required=False
            )
        ],
    ),
    retrieve=extend_schema(tags=["activities"]),
)
class ActivityViewSet(viewsets.GenericViewSet):
    """Calls, emails, meetings, notes (done, counted at occurred_at) and tasks (open until completed)."""

    serializer_class = ActivitySerializer
    filterset_class = ActivityFilterSet
    pagination_class = ActivityCursorPagination
    permission_classes = [IsTenantMember]

    def get_queryset(self) -> QuerySet[Activity]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(Activity)
        request = tenant_request(self.request)
        return selectors.activity_list(tenant=request.tenant, membership=request.membership)

    def _own(self) -> Activity:
        """Activities are changed by their owner; admins and managers may change what they see."""
        req = tenant_request(self.request)
        _require_writer(self.request)
        activity = self.get_object()
        if activity.owner_id != req.user.pk and req.membership.role not in (Role.ADMIN, Role.SALES_MANAGER):
            raise PermissionDenied(_("Only the owner changes this activity."))
        return activity

    def list(self, request: Request, slug: str) -> Response:
        qs = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ActivitySerializer(page, many=True).data)

    def retrieve(self, request: Request, slug: str, pk: str) -> Response:
        return Response(ActivitySerializer(self.get_object()).data)

    @extend_schema(
        tags=["activities"],
        request=ActivityWriteSerializer,
        responses={201: ActivitySerializer},
        examples=[
            OpenApiExample(
                "Log a call on an account",
                value={
                    "kind": "call",
                    "subject": "Discovery call",
                    "body": "Budget confirmed",
                    "account": 17,
                },
                request_only=True,
            ),
            OpenApiExample(
                "Open a task on a deal",
                value={
                    "kind": "task",
                    "subject": "Send the proposal",
                    "due_at": "2026-12-01T10:00:00+08:00",
                    "opportunity": 9,
                },
                request_only=True,
            ),
            ACTIVITY_RESPONSE_EXAMPLE,
        ],
    )
    def create(self, request: Request, slug: str) -> Response:
        _require_writer(request)
        payload = ActivityWriteSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if not data.get("kind"):
            raise serializers.ValidationError({"kind": [_("This field is required.")]})
        req = tenant_request(request)
        activity = services.activity_log(
            tenant=req.tenant,
            actor=req.user,
            kind=data.pop("kind"),
            subject=data.pop("subject", ""),
            **data,
        )
        return Response(ActivitySerializer(activity).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["activities"],
        request=ActivityWriteSerializer,
        responses={200: ActivitySerializer},
        examples=[ACTIVITY_UPDATE_EXAMPLE, ACTIVITY_RESPONSE_EXAMPLE],
    )
    def partial_update(self, request: Request, slug: str, pk: str) -> Response:
        activity = self._own()
        payload = ActivityWriteSerializer(data=request.data, context={"request": request}, partial=True)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        activity = services.activity_update(
            tenant=req.tenant, actor=req.user, activity=activity, **payload.validated_data
        )
        return Response(ActivitySerializer(activity).data)

    @extend_schema(
        tags=["activities"],
        request=ActivityWriteSerializer,
        responses={200: ActivitySerializer},
        examples=[ACTIVITY_UPDATE_EXAMPLE, ACTIVITY_RESPONSE_EXAMPLE],
    )
    def update(self, request: Request, slug: str, pk: str) -> Response:
        return self.partial_update(request, slug, pk)

    @extend_schema(tags=["activities"], responses={204: None})
    def destroy(self, request: Request, slug: str, pk: str) -> Response:
        activity = self._own()
        req = tenant_request(request)
        services.activity_delete(tenant=req.tenant, actor=req.user, activity=activity)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(tags=["activities"], request=None, responses={200: ActivitySerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, slug: str, pk: str) -> Response:
        req = tenant_request(request)
        _require_writer(request)
        activity = (
            Activity.objects.filter(tenant=req.tenant, pk=pk if str(pk).isdecimal() else None)
            .exclude(deleted_at=None)
            .first()
        )
        visible = selectors.activity_visibility_q(req.membership)
        if activity is not None and visible is not None:
            if not Activity.objects.filter(tenant=req.tenant, pk=activity.pk).filter(visible).exists():
                activity = None
        if activity is None or (
            activity.owner_id != req.user.pk and req.membership.role not in (Role.ADMIN, Role.SALES_MANAGER)
        ):
            raise Http404
        activity = services.activity_restore(tenant=req.tenant, actor=req.user, activity=activity)
        return Response(ActivitySerializer(activity).data)

    @extend_schema(tags=["activities"], request=None, responses={200: ActivitySerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, slug: str, pk: str) -> Response:
        """Mark a task done (it counts as an activity from now)."""
        activity = self._own()
        req = tenant_request(request)
        activity = services.activity_complete(tenant=req.tenant, actor=req.user, activity=activity)
        return Response(ActivitySerializer(activity).data)

    @extend_schema(
        tags=["activities"],
        request=SnoozeSerializer,
        responses={200: ActivitySerializer},
        examples=[
            OpenApiExample("Snooze a week", value={"by": "1w"}, request_only=True),
            ACTIVITY_RESPONSE_EXAMPLE,
        ],
    )
    @action(detail=True, methods=["post"])
    def snooze(self, request: Request, slug: str, pk: str) -> Response:
        """Push an open task's due date by one day (1d) or one week (1w)."""
        activity = self._own()
        payload = SnoozeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        activity = services.activity_snooze(
            tenant=req.tenant, actor=req.user, activity=activity, delta=payload.validated_data["by"]
        )
        return Response(ActivitySerializer(activity).data)


# --- exchange rates ---------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(tags=["money"], summary="Exchange rates into the reporting currency"),
    retrieve=extend_schema(tags=["money"]),
)
class ExchangeRateViewSet(viewsets.GenericViewSet):
    """1 unit of `currency` = `rate` units of the tenant's reporting currency from `valid_from`. Everyone reads;
    admins write (deals in that currency are repriced after a change)."""

    serializer_class = ExchangeRateSerializer
    filterset_class = ExchangeRateFilterSet
    pagination_class = type(
        "RatePagination", (CursorPagination,), {"ordering": ("currency", "-valid_from", "id")}
    )

    def get_permissions(self):  # type: ignore[no-untyped-def]
        if self.action in {"list", "retrieve", "convert"}:
            return [IsTenantMember()]
        return [IsTenantAdmin()]

    def get_queryset(self) -> QuerySet[ExchangeRate]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(ExchangeRate)
        return selectors.exchange_rate_list(tenant=tenant_request(self.request).tenant)

    def list(self, request: Request, slug: str) -> Response:
        qs = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ExchangeRateSerializer(page, many=True).data)

    def retrieve(self, request: Request, slug: str, pk: str) -> Response:
        return Response(ExchangeRateSerializer(self.get_object()).data)

    @extend_schema(
        tags=["money"],
        request=ExchangeRateSerializer,
        responses={201: ExchangeRateSerializer},
        examples=[
            OpenApiExample(
                "USD from January",
                value={"currency": "USD", "valid_from": "2026-01-01", "rate": "7.1234"},
                request_only=True,
            ),
            EXCHANGE_RATE_RESPONSE_EXAMPLE,
        ],
    )
    def create(self, request: Request, slug: str) -> Response:
        payload = ExchangeRateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        rate = services.exchange_rate_create(tenant=req.tenant, actor=req.user, **payload.validated_data)
        return Response(ExchangeRateSerializer(rate).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["money"],
        request=ExchangeRateSerializer,
        responses={200: ExchangeRateSerializer},
        examples=[EXCHANGE_RATE_UPDATE_EXAMPLE, EXCHANGE_RATE_RESPONSE_EXAMPLE],
    )
    def update(self, request: Request, slug: str, pk: str) -> Response:
        rate = self.get_object()
        payload = ExchangeRateSerializer(rate, data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        rate = services.exchange_rate_update(
            tenant=req.tenant, actor=req.user, exchange_rate=rate, **payload.validated_data
        )
        return Response(ExchangeRateSerializer(rate).data)

    @extend_schema(
        tags=["money"],
        request=ExchangeRateSerializer,
        responses={200: ExchangeRateSerializer},
        examples=[EXCHANGE_RATE_UPDATE_EXAMPLE, EXCHANGE_RATE_RESPONSE_EXAMPLE],
    )
    def partial_update(self, request: Request, slug: str, pk: str) -> Response:
        return self.update(request, slug, pk)

    @extend_schema(tags=["money"], responses={204: None})
    def destroy(self, request: Request, slug: str, pk: str) -> Response:
        rate = self.get_object()
        req = tenant_request(request)
        services.exchange_rate_delete(tenant=req.tenant, actor=req.user, exchange_rate=rate)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=["money"],
        parameters=[
            OpenApiParameter("amount", OpenApiTypes.DECIMAL, required=True),
            OpenApiParameter("currency", str, required=True),
            OpenApiParameter("on_date", OpenApiTypes.DATE, required=False, description="Default: today."),
        ],
        responses={200: OpenApiTypes.OBJECT},
        examples=[
            response_example(
                "1,000 USD in CNY",
                {"amount": "1000", "currency": "USD", "reporting_currency": "CNY", "value": "7123.40"},
            )
        ],
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def convert(self, request: Request, slug: str) -> Response:
        """An amount in the reporting currency, by the rate table."""
        import datetime
        from decimal import Decimal, InvalidOperation

        req = tenant_request(request)
        try:
            amount = Decimal(request.query_params.get("amount", ""))
            raw_date = request.query_params.get("on_date")
            on_date = datetime.date.fromisoformat(raw_date) if raw_date else None
        except (InvalidOperation, ValueError) as exc:
            raise serializers.ValidationError(
                {"detail": [_("Send amount (a number) and on_date (YYYY-MM-DD).")]}
            ) from exc
        currency = request.query_params.get("currency", "").upper()
        value = services.to_reporting(tenant=req.tenant, amount=amount, currency=currency, on_date=on_date)
        return Response(
            {
                "amount": str(amount),
                "currency": currency,
                "reporting_currency": req.tenant.currency,
                "value": str(value),
            }
        )
