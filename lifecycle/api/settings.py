"""API of the lifecycle settings (the windows of KPIS.md's rules and the renewal lead time): everyone reads,
admins change them.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.permissions import IsTenantAdmin
from crm.schema import request_example, response_example
from crm.types import tenant_request
from lifecycle.models import LifecycleSettings
from lifecycle.services.settings import lifecycle_settings_get, lifecycle_settings_update

SETTINGS_VALUE = {"onboarding_days": 90, "grace_days": 30, "lapse_days": 365, "renewal_lead_days": 90}


@extend_schema_serializer(
    examples=[
        response_example("The defaults", SETTINGS_VALUE),
        request_example("Create renewal deals 120 days ahead", {"renewal_lead_days": 120}),
    ]
)
class LifecycleSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = LifecycleSettings
        fields = ["onboarding_days", "grace_days", "lapse_days", "renewal_lead_days"]
        extra_kwargs = {name: {"required": False} for name in fields}


class LifecycleSettingsView(APIView):
    """The tenant's lifecycle windows (admins). A change of a stage window recomputes every account's stages."""

    permission_classes = [IsTenantAdmin]
    serializer_class = LifecycleSettingsSerializer

    @extend_schema(tags=["lifecycle"], responses={200: LifecycleSettingsSerializer})
    def get(self, request: Request, slug: str) -> Response:
        settings = lifecycle_settings_get(tenant=tenant_request(request).tenant)
        return Response(LifecycleSettingsSerializer(settings).data)

    @extend_schema(
        tags=["lifecycle"], request=LifecycleSettingsSerializer, responses={200: LifecycleSettingsSerializer}
    )
    def put(self, request: Request, slug: str) -> Response:
        req = tenant_request(request)
        payload = LifecycleSettingsSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        settings = lifecycle_settings_update(tenant=req.tenant, actor=req.user, **payload.validated_data)
        return Response(LifecycleSettingsSerializer(settings).data)
