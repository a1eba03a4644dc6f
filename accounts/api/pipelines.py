"""API of pipelines (with nested stages) and stages; only admins write."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
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

from accounts.models import Pipeline, Stage, StageKind
from accounts.selectors import pipelines as pipelines_selectors
from accounts.services import pipelines as pipelines_services
from crm.permissions import IsTenantAdmin, IsTenantMember
from crm.schema import request_example, response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request

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
        return pipelines_selectors.pipeline_list(tenant=tenant_request(self.request).tenant)

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
        pipeline = pipelines_services.pipeline_create(
            tenant=req.tenant,
            actor=req.user,
            name=data.get("name", ""),
            is_default=data.get("is_default", False),
            stages=data.get("stages"),
        )
        pipeline = pipelines_selectors.pipeline_get(tenant=req.tenant, pk=pipeline.pk)
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
        pipelines_services.pipeline_update(
            tenant=req.tenant,
            actor=req.user,
            pipeline=pipeline,
            name=payload.validated_data.get("name"),
            is_default=payload.validated_data.get("is_default"),
        )
        return Response(
            PipelineSerializer(pipelines_selectors.pipeline_get(tenant=req.tenant, pk=pipeline.pk)).data
        )

    @extend_schema(tags=["deals"], responses={204: None})
    def destroy(self, request: Request, slug: str, pk: str) -> Response:
        pipeline = self.get_object()
        req = tenant_request(request)
        pipelines_services.pipeline_delete(tenant=req.tenant, actor=req.user, pipeline=pipeline)
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
        pipelines_services.stages_reorder(
            tenant=req.tenant, actor=req.user, pipeline=pipeline, stage_ids=payload.validated_data["stages"]
        )
        return Response(
            PipelineSerializer(pipelines_selectors.pipeline_get(tenant=req.tenant, pk=pipeline.pk)).data
        )


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
            pipeline = pipelines_selectors.pipeline_get(tenant=req.tenant, pk=data.get("pipeline") or 0)
        except Pipeline.DoesNotExist:
            raise serializers.ValidationError({"pipeline": [_("Unknown pipeline.")]}) from None
        stage = pipelines_services.stage_create(
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
        stage = pipelines_services.stage_update(
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
        body = request.data or {}  # this endpoint takes a JSON object or a form
        if not isinstance(body, Mapping):
            raise serializers.ValidationError(
                {"non_field_errors": [_('Send a JSON object such as {"move_to": 12}, or nothing.')]}
            )
        raw = request.query_params.get("move_to") or body.get("move_to")
        if raw:
            try:
                move_to = pipelines_selectors.stage_get(
                    tenant=req.tenant, pk=int(raw), pipeline=stage.pipeline
                )
            except (TypeError, ValueError, OverflowError, Stage.DoesNotExist):
                raise serializers.ValidationError({"move_to": [_("Unknown stage.")]}) from None
        pipelines_services.stage_delete(tenant=req.tenant, actor=req.user, stage=stage, move_to=move_to)
        return Response(status=status.HTTP_204_NO_CONTENT)
