"""API of the deals area: pipelines (nested stages), stages, opportunities with move/won/lost/restore actions
and the contacts on a deal. Reads come from accounts.selectors.deals (role visibility), writes from
accounts.services.deals (rules, optimistic locking: a stale `version` is a 409 with the current values)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.fields import LeadField
from accounts.api.records import HistoryEntrySerializer
from accounts.filters_deals import OpportunityFilter
from accounts.links import lead_link
from accounts.models import (
    Account,
    ForecastCategory,
    Opportunity,
    OpportunityContact,
    OpportunityType,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
)
from accounts.selectors import deals as selectors
from accounts.selectors.records import history_for
from accounts.services import deals as services
from crm.models import User
from crm.pagination import CursorPagination
from crm.permissions import IsTenantAdmin, IsTenantMember
from crm.schema import request_example, response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request

# --- serializers ------------------------------------------------------------------------------------------------


# The default pipeline every tenant starts with (DESIGN.md), as the API shows it.
DEFAULT_STAGES_VALUE: list[dict[str, Any]] = [
    {"id": stage_id, "pipeline": 1, "name": name, "order": order, "probability": probability, "kind": kind}
    for order, (stage_id, name, probability, kind) in enumerate(
        [
            (1, "Qualification", "0.100", "open"),
            (2, "Needs analysis", "0.250", "open"),
            (3, "Proposal", "0.500", "open"),
            (4, "Negotiation", "0.750", "open"),
            (5, "Closed won", "1.000", "won"),
            (6, "Closed lost", "0.000", "lost"),
        ]
    )
]
STAGE_RESPONSE_EXAMPLE = response_example("Proposal", DEFAULT_STAGES_VALUE[2])
STAGE_UPDATE_EXAMPLE = request_example(
    "Rename and re-weigh", {"name": "Solution proposal", "probability": "0.45"}
)
PIPELINE_RESPONSE_EXAMPLE = response_example(
    "The default Sales pipeline",
    {"id": 1, "name": "Sales", "is_default": True, "order": 0, "stages": DEFAULT_STAGES_VALUE},
)


@extend_schema_serializer(examples=[STAGE_RESPONSE_EXAMPLE])
class StageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Stage
        fields = ["id", "pipeline", "name", "order", "probability", "kind"]
        read_only_fields = ["id", "pipeline", "order"]


class StageWriteSerializer(serializers.Serializer):
    pipeline = serializers.IntegerField(help_text="Pipeline id (create only).", required=False)
    name = serializers.CharField(max_length=100, required=False)
    probability = serializers.DecimalField(
        max_digits=4, decimal_places=3, min_value=0, max_value=1, required=False
    )
    kind = serializers.ChoiceField(choices=StageKind.choices, required=False)
    order = serializers.IntegerField(min_value=0, required=False, help_text="Position (create only).")


class StageDeleteSerializer(serializers.Serializer):
    move_to = serializers.IntegerField(
        required=False, help_text="Stage (same pipeline and kind) that takes this stage's deals."
    )


@extend_schema_serializer(examples=[PIPELINE_RESPONSE_EXAMPLE])
class PipelineSerializer(serializers.ModelSerializer):
    stages = StageSerializer(many=True, read_only=True)

    class Meta:
        model = Pipeline
        fields = ["id", "name", "is_default", "order", "stages"]
        read_only_fields = ["id", "order", "stages"]


class NestedStageSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    probability = serializers.DecimalField(max_digits=4, decimal_places=3, min_value=0, max_value=1)
    kind = serializers.ChoiceField(choices=StageKind.choices, default=StageKind.OPEN)


class PipelineWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    is_default = serializers.BooleanField(required=False)
    stages = NestedStageSerializer(
        many=True, required=False, help_text="Create only; default: a copy of the default stage set."
    )


class ReorderSerializer(serializers.Serializer):
    stages = serializers.ListField(
        child=serializers.IntegerField(), help_text="Every stage id in the new order."
    )


OPPORTUNITY_VALUE: dict[str, Any] = {
    "id": 9,
    "external_id": "",
    "name": "MES rollout phase 2",
    "account": 17,
    "account_name": "Shanghai Huaxin Technology Co., Ltd.",
    "lead": None,
    "type": "new_business",
    "amount": "300000.00",
    "currency": "CNY",
    "amount_reporting": "300000.00",
    "pipeline": 1,
    "pipeline_name": "Sales",
    "stage": 3,
    "stage_name": "Proposal",
    "stage_kind": "open",
    "probability": "0.500",
    "forecast_category": "best_case",
    "expected_close_date": "2026-12-20",
    "created_at": "2026-11-02T09:00:00+08:00",
    "updated_at": "2026-11-20T10:15:00+08:00",
    "closed_at": None,
    "lost_reason": "",
    "owner": 7,
    "owner_email": "rep@acme.test",
    "version": 4,
    "deleted_at": None,
}
OPPORTUNITY_RESPONSE_EXAMPLE = response_example("A deal in Proposal", OPPORTUNITY_VALUE)
OPPORTUNITY_WON_RESPONSE_EXAMPLE = response_example(
    "Won",
    {
        **OPPORTUNITY_VALUE,
        "stage": 5,
        "stage_name": "Closed won",
        "stage_kind": "won",
        "probability": "1.000",
        "forecast_category": "closed",
        "closed_at": "2026-11-28T16:40:00+08:00",
        "updated_at": "2026-11-28T16:40:00+08:00",
        "version": 5,
    },
)
OPPORTUNITY_LOST_RESPONSE_EXAMPLE = response_example(
    "Lost",
    {
        **OPPORTUNITY_VALUE,
        "stage": 6,
        "stage_name": "Closed lost",
        "stage_kind": "lost",
        "probability": "0.000",
        "forecast_category": "omitted",
        "closed_at": "2026-11-28T16:40:00+08:00",
        "updated_at": "2026-11-28T16:40:00+08:00",
        "lost_reason": "Competitor was cheaper",
        "version": 5,
    },
)


@extend_schema_serializer(examples=[OPPORTUNITY_RESPONSE_EXAMPLE])
class OpportunitySerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    stage_name = serializers.CharField(source="stage.name", read_only=True)
    stage_kind = serializers.CharField(source="stage.kind", read_only=True)
    pipeline_name = serializers.CharField(source="pipeline.name", read_only=True)
    owner_email = serializers.EmailField(source="owner.email", read_only=True, allow_null=True)

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "external_id",
            "name",
            "account",
            "account_name",
            "lead",
            "type",
            "amount",
            "currency",
            "amount_reporting",
            "pipeline",
            "pipeline_name",
            "stage",
            "stage_name",
            "stage_kind",
            "probability",
            "forecast_category",
            "expected_close_date",
            "created_at",
            "updated_at",
            "closed_at",
            "lost_reason",
            "owner",
            "owner_email",
            "version",
            "deleted_at",
        ]
        read_only_fields = fields


class _TenantChoicesMixin:
    """Relation fields limited to what the member may see: anything else is 'does not exist'."""

    def _limit_choices(self) -> None:
        request = self.context.get("request")  # type: ignore[attr-defined]
        tenant = getattr(request, "tenant", None)
        membership = getattr(request, "membership", None)
        fields = self.fields  # type: ignore[attr-defined]
        if tenant is None or membership is None:
            return
        if "account" in fields:
            fields["account"].queryset = selectors.deal_account_choices(tenant=tenant, membership=membership)
        if "pipeline" in fields:
            fields["pipeline"].queryset = Pipeline.objects.filter(tenant=tenant)
        if "stage" in fields:
            fields["stage"].queryset = Stage.objects.filter(tenant=tenant).select_related("pipeline")
        if "owner" in fields:
            owners = selectors.deal_owner_choices(tenant=tenant, membership=membership).values("user_id")
            fields["owner"].queryset = User.objects.filter(pk__in=owners)
        if "lead" in fields:
            fields["lead"].queryset = lead_link().queryset(tenant=tenant, membership=membership)


class OpportunityCreateSerializer(_TenantChoicesMixin, serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none())
    name = serializers.CharField(max_length=200)
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=0)
    currency = serializers.CharField(
        max_length=3, required=False, help_text="Default: the reporting currency."
    )
    type = serializers.ChoiceField(choices=OpportunityType.choices, default=OpportunityType.NEW_BUSINESS)
    pipeline = serializers.PrimaryKeyRelatedField(
        queryset=Pipeline.objects.none(), required=False, help_text="Default: the default pipeline."
    )
    stage = serializers.PrimaryKeyRelatedField(
        queryset=Stage.objects.none(), required=False, help_text="Default: the pipeline's first open stage."
    )
    probability = serializers.DecimalField(
        max_digits=4, decimal_places=3, min_value=0, max_value=1, required=False, allow_null=True
    )
    forecast_category = serializers.ChoiceField(choices=ForecastCategory.choices, required=False)
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), required=False, help_text="User id; default: you."
    )
    lead = LeadField(required=False, allow_null=True)
    created_at = serializers.DateTimeField(required=False, help_text="Historical creation time (imports).")
    closed_at = serializers.DateTimeField(required=False, allow_null=True)
    lost_reason = serializers.CharField(max_length=200, required=False, allow_blank=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit_choices()


class OpportunityUpdateSerializer(_TenantChoicesMixin, serializers.Serializer):
    version = serializers.IntegerField(help_text="The version you loaded; a stale one answers 409.")
    name = serializers.CharField(max_length=200, required=False)
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none(), required=False)
    type = serializers.ChoiceField(choices=OpportunityType.choices, required=False)
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=0, required=False)
    currency = serializers.CharField(max_length=3, required=False)
    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.none(), required=False)
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.none(), required=False)
    probability = serializers.DecimalField(
        max_digits=4, decimal_places=3, min_value=0, max_value=1, required=False, allow_null=True
    )
    forecast_category = serializers.ChoiceField(choices=ForecastCategory.choices, required=False)
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.none(), required=False, allow_null=True)
    lost_reason = serializers.CharField(max_length=200, required=False, allow_blank=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit_choices()


class MoveSerializer(serializers.Serializer):
    stage = serializers.IntegerField(help_text="A stage id of the deal's pipeline.")
    version = serializers.IntegerField(required=False, allow_null=True)
    lost_reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Required for a lost stage."
    )


class WonSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, allow_null=True)


class LostSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)
    version = serializers.IntegerField(required=False, allow_null=True)


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = serializers.DictField(help_text="The deal's current values, version included.")


OPPORTUNITY_CONTACT_RESPONSE_EXAMPLE = response_example(
    "The economic buyer",
    {
        "id": 21,
        "contact": 118,
        "contact_name": "Wei Zhang",
        "contact_email": "wei.zhang@huaxin.example.cn",
        "role": "Economic buyer",
        "is_primary": True,
    },
)


@extend_schema_serializer(examples=[OPPORTUNITY_CONTACT_RESPONSE_EXAMPLE])
class OpportunityContactSerializer(serializers.ModelSerializer):
    contact_name = serializers.CharField(source="contact.full_name", read_only=True)
    contact_email = serializers.CharField(source="contact.email", read_only=True)

    class Meta:
        model = OpportunityContact
        fields = ["id", "contact", "contact_name", "contact_email", "role", "is_primary"]
        read_only_fields = ["id", "contact_name", "contact_email"]


class OpportunityContactWriteSerializer(serializers.Serializer):
    contact = serializers.IntegerField(help_text="A contact of the deal's account.")
    role = serializers.CharField(max_length=100, required=False, allow_blank=True)
    is_primary = serializers.BooleanField(required=False, default=False)


class StageChangeSerializer(serializers.ModelSerializer):
    from_stage_name = serializers.CharField(source="from_stage.name", read_only=True, allow_null=True)
    to_stage_name = serializers.CharField(source="to_stage.name", read_only=True, allow_null=True)
    actor = serializers.SerializerMethodField()

    class Meta:
        model = StageChange
        fields = [
            "id",
            "changed_at",
            "from_stage",
            "from_stage_name",
            "to_stage",
            "to_stage_name",
            "actor",
            "amount",
            "probability",
        ]
        read_only_fields = fields

    def get_actor(self, change: StageChange) -> dict | None:
        if change.actor is None:
            return None
        return {"id": change.actor.pk, "name": change.actor.display_name}


HISTORY_EXAMPLE = OpenApiExample(
    "Amount raised and moved to Proposal",
    # One entry: drf-spectacular wraps a many=True example in the list itself.
    value={
        "when": "2026-11-20T10:15:00+08:00",
        "who": {"id": 7, "name": "Li Wei"},
        "action": "updated",
        "changes": [
            {"field": "Amount", "old": "250000.00", "new": "300000.00"},
            {"field": "Stage", "old": "Needs analysis", "new": "Proposal"},
        ],
    },
    response_only=True,
)
STAGE_HISTORY_EXAMPLE = OpenApiExample(
    "Moved to Proposal",
    # One entry: drf-spectacular wraps a many=True example in the list itself.
    value={
        "id": 31,
        "changed_at": "2026-11-20T10:15:00+08:00",
        "from_stage": 2,
        "from_stage_name": "Needs analysis",
        "to_stage": 3,
        "to_stage_name": "Proposal",
        "actor": {"id": 7, "name": "Li Wei"},
        "amount": "300000.00",
        "probability": "0.500",
    },
    response_only=True,
)


class OpportunityContactUpdateSerializer(serializers.Serializer):
    role = serializers.CharField(max_length=100, required=False, allow_blank=True)
    is_primary = serializers.BooleanField(required=False)


# --- viewsets ---------------------------------------------------------------------------------------------------


class _AdminWrites:
    def get_permissions(self):  # type: ignore[no-untyped-def]
        if self.action in {"list", "retrieve"}:  # type: ignore[attr-defined]
            return [IsTenantMember()]
        return [IsTenantAdmin()]


@extend_schema_view(
    list=extend_schema(tags=["deals"], summary="Pipelines with their stages"),
    retrieve=extend_schema(tags=["deals"]),
)
class PipelineViewSet(
    _AdminWrites, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Pipelines of the tenant with nested stages. Admins create, rename, make default, reorder, delete."""

    serializer_class = PipelineSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Pipeline]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(Pipeline)
        return selectors.pipeline_list(tenant=tenant_request(self.request).tenant)

    @extend_schema(
        tags=["deals"],
        request=PipelineWriteSerializer,
        responses={201: PipelineSerializer},
        examples=[
            OpenApiExample(
                "Channel pipeline",
                value={
                    "name": "Channel",
                    "stages": [
                        {"name": "Partner sourced", "probability": "0.2", "kind": "open"},
                        {"name": "Joint proposal", "probability": "0.6", "kind": "open"},
                        {"name": "Won", "probability": "1", "kind": "won"},
                        {"name": "Lost", "probability": "0", "kind": "lost"},
                    ],
                },
                request_only=True,
            ),
            PIPELINE_RESPONSE_EXAMPLE,
        ],
    )
    def create(self, request: Request, slug: str) -> Response:
        payload = PipelineWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        data = payload.validated_data
        pipeline = services.pipeline_create(
            tenant=req.tenant,
            actor=req.user,
            name=data.get("name", ""),
            is_default=data.get("is_default", False),
            stages=data.get("stages"),
        )
        pipeline = selectors.pipeline_get(tenant=req.tenant, pk=pipeline.pk)
        return Response(PipelineSerializer(pipeline).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["deals"],
        request=PipelineWriteSerializer,
        responses={200: PipelineSerializer},
        examples=[
            request_example("Rename and make default", {"name": "Sales (China)", "is_default": True}),
            PIPELINE_RESPONSE_EXAMPLE,
        ],
    )
    def partial_update(self, request: Request, slug: str, pk: str) -> Response:
        pipeline = self.get_object()
        payload = PipelineWriteSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        services.pipeline_update(
            tenant=req.tenant,
            actor=req.user,
            pipeline=pipeline,
            name=payload.validated_data.get("name"),
            is_default=payload.validated_data.get("is_default"),
        )
        return Response(PipelineSerializer(selectors.pipeline_get(tenant=req.tenant, pk=pipeline.pk)).data)

    @extend_schema(tags=["deals"], responses={204: None})
    def destroy(self, request: Request, slug: str, pk: str) -> Response:
        pipeline = self.get_object()
        req = tenant_request(request)
        services.pipeline_delete(tenant=req.tenant, actor=req.user, pipeline=pipeline)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=["deals"],
        request=ReorderSerializer,
        responses={200: PipelineSerializer},
        examples=[
            request_example("Needs analysis first", {"stages": [2, 1, 3, 4, 5, 6]}),
            response_example(
                "Needs analysis first",
                {
                    "id": 1,
                    "name": "Sales",
                    "is_default": True,
                    "order": 0,
                    "stages": [
                        {**stage, "order": order}
                        for order, stage in enumerate(
                            [DEFAULT_STAGES_VALUE[1], DEFAULT_STAGES_VALUE[0], *DEFAULT_STAGES_VALUE[2:]]
                        )
                    ],
                },
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def reorder(self, request: Request, slug: str, pk: str) -> Response:
        pipeline = self.get_object()
        payload = ReorderSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        services.stages_reorder(
            tenant=req.tenant, actor=req.user, pipeline=pipeline, stage_ids=payload.validated_data["stages"]
        )
        return Response(PipelineSerializer(selectors.pipeline_get(tenant=req.tenant, pk=pipeline.pk)).data)


@extend_schema_view(
    list=extend_schema(
        tags=["deals"],
        parameters=[OpenApiParameter("pipeline", int, description="Only this pipeline's stages")],
    ),
    retrieve=extend_schema(tags=["deals"]),
)
class StageViewSet(_AdminWrites, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Stages of the tenant's pipelines. Admins add, rename, re-weight, change kind and delete (moving deals)."""

    serializer_class = StageSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Stage]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(Stage)
        stages = Stage.objects.filter(tenant=tenant_request(self.request).tenant).order_by(
            "pipeline_id", "order"
        )
        pipeline = self.request.query_params.get("pipeline")
        if pipeline:
            stages = stages.filter(pipeline_id=pipeline) if pipeline.isdecimal() else stages.none()
        return stages

    @extend_schema(
        tags=["deals"],
        request=StageWriteSerializer,
        responses={201: StageSerializer},
        examples=[
            OpenApiExample(
                "Add a demo stage",
                value={"pipeline": 1, "name": "Demo", "probability": "0.4", "kind": "open"},
                request_only=True,
            ),
            response_example(
                "Demo stage added",
                {"id": 7, "pipeline": 1, "name": "Demo", "order": 6, "probability": "0.400", "kind": "open"},
            ),
        ],
    )
    def create(self, request: Request, slug: str) -> Response:
        payload = StageWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        req = tenant_request(request)
        try:
            pipeline = selectors.pipeline_get(tenant=req.tenant, pk=data.get("pipeline") or 0)
        except Pipeline.DoesNotExist:
            raise serializers.ValidationError({"pipeline": [_("Unknown pipeline.")]}) from None
        stage = services.stage_create(
            tenant=req.tenant,
            actor=req.user,
            pipeline=pipeline,
            name=data.get("name", ""),
            probability=data.get("probability", 0),
            kind=data.get("kind", StageKind.OPEN),
            order=data.get("order"),
        )
        return Response(StageSerializer(stage).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["deals"],
        request=StageWriteSerializer,
        responses={200: StageSerializer},
        examples=[
            STAGE_UPDATE_EXAMPLE,
            response_example(
                "Renamed", {**DEFAULT_STAGES_VALUE[2], "name": "Solution proposal", "probability": "0.450"}
            ),
        ],
    )
    def partial_update(self, request: Request, slug: str, pk: str) -> Response:
        stage = self.get_object()
        payload = StageWriteSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        req = tenant_request(request)
        stage = services.stage_update(
            tenant=req.tenant,
            actor=req.user,
            stage=stage,
            name=data.get("name"),
            probability=data.get("probability"),
            kind=data.get("kind"),
        )
        return Response(StageSerializer(stage).data)

    @extend_schema(
        tags=["deals"],
        parameters=[OpenApiParameter("move_to", int, description="Stage that takes this stage's deals")],
        responses={204: None},
    )
    def destroy(self, request: Request, slug: str, pk: str) -> Response:
        stage = self.get_object()
        req = tenant_request(request)
        move_to = None
        raw = request.query_params.get("move_to") or (request.data or {}).get("move_to")
        if raw:
            try:
                move_to = selectors.stage_get(tenant=req.tenant, pk=int(raw), pipeline=stage.pipeline)
            except (ValueError, Stage.DoesNotExist):
                raise serializers.ValidationError({"move_to": [_("Unknown stage.")]}) from None
        services.stage_delete(tenant=req.tenant, actor=req.user, stage=stage, move_to=move_to)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OpportunityPagination(CursorPagination):
    ordering = ("-created_at", "-id")


CREATE_EXAMPLE = OpenApiExample(
    "New deal",
    value={
        "account": 42,
        "name": "MES rollout phase 2",
        "amount": "250000.00",
        "currency": "CNY",
        "type": "new_business",
        "expected_close_date": "2026-12-20",
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
        "lost_reason": "Chose a competitor",
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
            return selectors.opportunity_base(
                tenant=req.tenant, membership=req.membership, include_deleted=True
            ).select_related("account", "stage", "pipeline", "owner")
        return selectors.opportunity_list(tenant=req.tenant, membership=req.membership)

    def _fresh(self, opportunity: Opportunity) -> dict[str, Any]:
        req = tenant_request(self.request)
        deal = selectors.opportunity_get(
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
        opportunity = services.opportunity_create(
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
        payload = OpportunityUpdateSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        version = data.pop("version")
        req = tenant_request(request)
        services.opportunity_update(
            tenant=req.tenant, actor=req.user, opportunity=opportunity, version=version, **data
        )
        return Response(self._fresh(opportunity))

    @extend_schema(tags=["deals"], responses={204: None})
    def destroy(self, request: Request, slug: str, pk: str) -> Response:
        """Soft delete (POST .../restore/ undoes it)."""
        opportunity = self.get_object()
        req = tenant_request(request)
        services.opportunity_delete(tenant=req.tenant, actor=req.user, opportunity=opportunity)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(tags=["deals"], request=None, responses={200: OpportunitySerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, slug: str, pk: str) -> Response:
        opportunity = self.get_object()
        req = tenant_request(request)
        services.opportunity_restore(tenant=req.tenant, actor=req.user, opportunity=opportunity)
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
        changes = selectors.stage_history(tenant=tenant_request(request).tenant, opportunity=opportunity)
        return Response(StageChangeSerializer(changes, many=True).data)

    @extend_schema(
        tags=["deals"],
        request=MoveSerializer,
        responses={200: OpportunitySerializer, 409: ConflictSerializer},
        examples=[
            OpenApiExample("To Proposal", value={"stage": 3, "version": 2}, request_only=True),
            OpenApiExample("Lost", value={"stage": 6, "lost_reason": "Budget frozen"}, request_only=True),
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
        services.opportunity_move_stage(
            tenant=req.tenant,
            actor=req.user,
            opportunity=opportunity,
            stage=payload.validated_data["stage"],
            version=payload.validated_data.get("version"),
            lost_reason=payload.validated_data.get("lost_reason", ""),
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
        services.opportunity_mark_won(
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
            OpenApiExample(
                "Lost to a competitor", value={"reason": "Competitor was cheaper"}, request_only=True
            ),
            OPPORTUNITY_LOST_RESPONSE_EXAMPLE,
        ],
    )
    @action(detail=True, methods=["post"])
    def lost(self, request: Request, slug: str, pk: str) -> Response:
        opportunity = self.get_object()
        payload = LostSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        services.opportunity_mark_lost(
            tenant=req.tenant,
            actor=req.user,
            opportunity=opportunity,
            reason=payload.validated_data["reason"],
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
            links = selectors.opportunity_contact_links(
                tenant=req.tenant, membership=req.membership, opportunity=opportunity
            )
            return Response(OpportunityContactSerializer(links, many=True).data)
        payload = OpportunityContactWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        from accounts.selectors.records import contact_queryset

        # Only a contact the member may see: any other id is "does not exist" (the one message for both).
        contact = (
            contact_queryset(tenant=req.tenant, membership=req.membership)
            .filter(pk=payload.validated_data["contact"], account_id=opportunity.account_id)
            .first()
        )
        if contact is None:
            raise serializers.ValidationError({"contact": [_("Choose a contact of the deal's account.")]})
        link = services.opportunity_contact_add(
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
            link = selectors.opportunity_contact_get(
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
            services.opportunity_contact_remove(tenant=req.tenant, actor=req.user, link=link)
            return Response(status=status.HTTP_204_NO_CONTENT)
        payload = OpportunityContactUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        link = services.opportunity_contact_update(
            tenant=req.tenant,
            actor=req.user,
            link=link,
            role=payload.validated_data.get("role"),
            is_primary=payload.validated_data.get("is_primary"),
        )
        return Response(OpportunityContactSerializer(link).data)
