"""API of playbook templates (CRUD, admins and customer success) under /api/v1/t/<slug>/."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from crm.pagination import CursorPagination
from crm.permissions import IsTenantMember
from crm.schema import request_example, response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request
from lifecycle.api.common import CS_EDITORS, _require_cs_editor
from lifecycle.models import PlaybookAssignee, PlaybookTemplate, PlaybookTrigger
from lifecycle.services.playbooks import (
    playbook_template_create,
    playbook_template_delete,
    playbook_template_update,
    playbook_templates_ensure_defaults,
)

PLAYBOOK_VALUE = {
    "id": 5,
    "trigger": "at_risk",
    "subject": "Call the customer: their health dropped",
    "due_in_days": 2,
    "assignee": "cs",
    "is_active": True,
    "order": 2,
}


@extend_schema_serializer(examples=[response_example("An at-risk playbook task", PLAYBOOK_VALUE)])
class PlaybookTemplateSerializer(serializers.ModelSerializer):
    trigger = serializers.ChoiceField(choices=PlaybookTrigger.choices)
    assignee = serializers.ChoiceField(choices=PlaybookAssignee.choices, required=False)

    class Meta:
        model = PlaybookTemplate
        fields = ["id", "trigger", "subject", "due_in_days", "assignee", "is_active", "order"]
        read_only_fields = ["id"]


@extend_schema_view(
    list=extend_schema(tags=["playbooks"]),
    retrieve=extend_schema(tags=["playbooks"]),
    destroy=extend_schema(tags=["playbooks"]),
)
class PlaybookTemplateViewSet(viewsets.GenericViewSet):
    """Tasks opened when an account enters onboarding or becomes at risk (admins and customer success)."""

    serializer_class = PlaybookTemplateSerializer
    pagination_class = CursorPagination
    permission_classes = [IsTenantMember]

    def get_queryset(self) -> QuerySet[PlaybookTemplate]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(PlaybookTemplate)
        req = tenant_request(self.request)
        if req.membership.role not in CS_EDITORS:
            return PlaybookTemplate.objects.none()
        playbook_templates_ensure_defaults(tenant=req.tenant)
        return PlaybookTemplate.objects.filter(tenant=req.tenant)

    def list(self, request: Request, slug: str) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(PlaybookTemplateSerializer(page, many=True).data)

    def retrieve(self, request: Request, slug: str, pk: str) -> Response:
        return Response(PlaybookTemplateSerializer(self.get_object()).data)

    @extend_schema(
        tags=["playbooks"],
        request=PlaybookTemplateSerializer,
        responses={201: PlaybookTemplateSerializer},
        examples=[
            request_example(
                "Add an onboarding task",
                {
                    "trigger": "onboarding",
                    "subject": "Send the welcome pack",
                    "due_in_days": 1,
                    "assignee": "owner",
                },
            ),
            response_example(
                "Added",
                {
                    **PLAYBOOK_VALUE,
                    "id": 9,
                    "trigger": "onboarding",
                    "subject": "Send the welcome pack",
                    "due_in_days": 1,
                    "assignee": "owner",
                    "order": 0,
                },
            ),
        ],
    )
    def create(self, request: Request, slug: str) -> Response:
        _require_cs_editor(request)
        payload = PlaybookTemplateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        template = playbook_template_create(tenant=req.tenant, actor=req.user, **payload.validated_data)
        return Response(PlaybookTemplateSerializer(template).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["playbooks"],
        request=PlaybookTemplateSerializer,
        responses={200: PlaybookTemplateSerializer},
        examples=[
            request_example("Due a day later", {"due_in_days": 3}),
            response_example("Saved", {**PLAYBOOK_VALUE, "due_in_days": 3}),
        ],
    )
    def partial_update(self, request: Request, slug: str, pk: str) -> Response:
        _require_cs_editor(request)
        template = self.get_object()
        payload = PlaybookTemplateSerializer(template, data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        template = playbook_template_update(
            tenant=req.tenant, actor=req.user, template=template, **payload.validated_data
        )
        return Response(PlaybookTemplateSerializer(template).data)

    def destroy(self, request: Request, slug: str, pk: str) -> Response:
        _require_cs_editor(request)
        template = self.get_object()
        req = tenant_request(request)
        playbook_template_delete(tenant=req.tenant, actor=req.user, template=template)
        return Response(status=status.HTTP_204_NO_CONTENT)
