"""API of the leads area: leads (list with the inbox filters and cursor pagination, retrieve, create with the
assignment rules and scoring, update with optimistic locking, soft delete + restore) and their actions (convert,
assign, claim from the pool, change status, merge + undo), and the pool list.

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

from crm.models import User
from crm.pagination import CursorPagination
from crm.tenancy import schema_queryset
from leads.filters_leads import LeadFilterSet
from leads.models import Campaign, Lead, LeadSource, LeadStatus, SizeBand
from leads.selectors import leads as selectors
from leads.services import leads as services

# --- serializers ------------------------------------------------------------------------------------------------


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
        if "source" in fields:
            fields["source"].queryset = LeadSource.objects.filter(tenant=tenant)
        if "campaign" in fields:
            fields["campaign"].queryset = Campaign.objects.filter(tenant=tenant)
        if "owner" in fields:
            fields["owner"].queryset = selectors.owner_choices(tenant=tenant, membership=membership)


class LeadWriteSerializer(_TenantChoicesMixin, serializers.Serializer):
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    title = serializers.CharField(max_length=120, required=False, allow_blank=True)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    size_band = serializers.ChoiceField(choices=SizeBand.choices, required=False, allow_blank=True)
    source = serializers.PrimaryKeyRelatedField(
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
    deal_amount = serializers.DecimalField(max_digits=18, decimal_places=2, required=False, default=0)
    deal_currency = serializers.CharField(max_length=3, required=False, allow_blank=True, default="")
    deal_close_date = serializers.DateField(required=False, allow_null=True, default=None)


class LeadMergeSerializer(serializers.Serializer):
    merged = serializers.IntegerField(help_text="The lead merged into this one (it is soft-deleted).")


class LeadMergeRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survivor_id = serializers.IntegerField()
    merged_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    undone_at = serializers.DateTimeField(allow_null=True)


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


class LeadCursorPagination(CursorPagination):
    ordering = ("-created_at", "-id")


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
            return selectors.pool_list(tenant=request.tenant, membership=request.membership)
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
        responses={201: LeadSerializer},
        examples=[CREATE_EXAMPLE],
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
        return Response(LeadSerializer(lead).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["leads"],
        request=LeadUpdateSerializer,
        responses={200: LeadSerializer, 409: LeadConflictSerializer},
        examples=[
            OpenApiExample(
                "Fix the phone", value={"version": 3, "phone": "+86 21 5555 0101"}, request_only=True
            )
        ],
    )
    def update(self, request: Request, slug: str, pk: str) -> Response:
        self._writer()
        lead = self._lead()
        payload = LeadUpdateSerializer(data=request.data, context={"request": request}, partial=True)
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
            )
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
            lambda: services.lead_change_status(
                tenant=request.tenant, actor=request.user, lead=lead, **payload.validated_data
            )
        )
        return self._fresh(lead)

    @extend_schema(
        tags=["leads"],
        request=LeadAssignSerializer,
        responses={200: LeadSerializer},
        examples=[OpenApiExample("Assign", value={"owner": 12}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, slug: str, pk: str) -> Response:
        """Give the lead to an active member (a manual assignment overrides the rules), or null: the pool."""
        self._writer()
        lead = self._lead()
        payload = LeadAssignSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        _service_errors(
            lambda: services.lead_assign(
                tenant=request.tenant, actor=request.user, lead=lead, owner=payload.validated_data["owner"]
            )
        )
        return self._fresh(lead)

    @extend_schema(tags=["leads"], request=None, responses={200: LeadSerializer})
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, slug: str, pk: str) -> Response:
        """Claim an open lead from the pool (up to the tenant's per-rep cap)."""
        lead = self.get_object()
        _service_errors(lambda: services.lead_claim(tenant=request.tenant, actor=request.user, lead=lead))
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
            lambda: services.lead_convert(
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
            OpenApiExample("Merge a duplicate into this lead", value={"merged": 1234}, request_only=True)
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
            lambda: services.lead_merge(
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
            lambda: services.lead_merge_undo(tenant=request.tenant, actor=request.user, record=record)
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
