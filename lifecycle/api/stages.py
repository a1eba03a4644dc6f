"""API of an account's lifecycle stage history (from, to, date, cause), within the member's visibility."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.permissions import IsTenantMember
from crm.schema import response_example
from crm.types import tenant_request
from lifecycle.models import LifecycleChange
from lifecycle.selectors.subscriptions import subscription_accounts

HISTORY_VALUE = {
    "account": 17,
    "from_stage": "conversion",
    "to_stage": "retention",
    "date": "2026-04-01",
    "cause": "onboarding_done",
}


@extend_schema_serializer(examples=[response_example("Onboarding over", HISTORY_VALUE)])
class LifecycleChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = LifecycleChange
        fields = ["account", "from_stage", "to_stage", "date", "cause"]
        read_only_fields = fields


class LifecycleHistoryView(APIView):
    """An account's lifecycle stage changes, oldest first (the account must be one whose subscriptions you see)."""

    permission_classes = [IsTenantMember]
    serializer_class = LifecycleChangeSerializer

    @extend_schema(tags=["lifecycle"], responses={200: LifecycleChangeSerializer(many=True)})
    def get(self, request: Request, slug: str, pk: int) -> Response:
        req = tenant_request(request)
        if not subscription_accounts(tenant=req.tenant, membership=req.membership).filter(pk=pk).exists():
            raise Http404
        changes = LifecycleChange.objects.filter(tenant=req.tenant, account_id=pk).order_by("date")
        return Response(LifecycleChangeSerializer(changes, many=True).data)
