"""API of the lifecycle page's numbers: accounts per stage now (with MRR) and the flows between stages in each of
the last 12 months, within the member's visibility (cs, ops, admins and sales managers; reps get a 404)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api_fields import SaneDateField
from crm.navigation import CS
from crm.permissions import IsTenantMember
from crm.schema import response_example
from crm.types import tenant_request
from lifecycle.selectors.overview import lifecycle_summary, parse_month

SUMMARY_VALUE = {
    "as_of": "2026-06-15",
    "stages": [
        {"stage": "acquisition", "count": 120, "mrr": None},
        {"stage": "conversion", "count": 14, "mrr": "8400.00"},
        {"stage": "retention", "count": 63, "mrr": "51230.50"},
        {"stage": "churn", "count": 9, "mrr": None},
    ],
    "flows": [
        {
            "month": "2026-06-01",
            "new_accounts": 11,
            "new_customers": 3,
            "onboarded": 2,
            "churned": 1,
            "came_back": 0,
        }
    ],
}


class StageCountSerializer(serializers.Serializer):
    stage = serializers.CharField(help_text="acquisition | conversion | retention | churn")
    count = serializers.IntegerField()
    mrr = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        allow_null=True,
        help_text="MRR of the stage's accounts today (conversion and retention; null for the others).",
    )


class MonthlyFlowSerializer(serializers.Serializer):
    month = SaneDateField(help_text="First day of the month (tenant time zone).")
    new_accounts = serializers.IntegerField()
    new_customers = serializers.IntegerField(
        help_text="Into conversion from acquisition (or as a new account)."
    )
    onboarded = serializers.IntegerField(help_text="conversion -> retention")
    churned = serializers.IntegerField(help_text="into churn")
    came_back = serializers.IntegerField(help_text="churn -> conversion or retention")


@extend_schema_serializer(examples=[response_example("Stages and flows", SUMMARY_VALUE)])
class LifecycleSummarySerializer(serializers.Serializer):
    as_of = SaneDateField()
    stages = StageCountSerializer(many=True)
    flows = MonthlyFlowSerializer(many=True, help_text="The last 12 months, oldest first.")


class LifecycleSummaryView(APIView):
    """Accounts per lifecycle stage today and the moves between stages per month (the last 12), counted over the
    accounts you can see. For cs, ops, admins and sales managers."""

    permission_classes = [IsTenantMember]
    serializer_class = LifecycleSummarySerializer

    @extend_schema(
        tags=["lifecycle"],
        parameters=[
            OpenApiParameter(
                "until",
                str,
                description="The last month of the 12 (YYYY-MM, tenant calendar); default and at most this month.",
                required=False,
            )
        ],
        responses={200: LifecycleSummarySerializer},
    )
    def get(self, request: Request, slug: str) -> Response:
        req = tenant_request(request)
        if req.membership.role not in CS:
            raise Http404
        until = request.query_params.get("until")
        last_month = parse_month(until)
        if until and last_month is None:
            raise ValidationError({"until": ["Send a month as YYYY-MM."]})
        summary = lifecycle_summary(tenant=req.tenant, membership=req.membership, last_month=last_month)
        data = {
            "as_of": summary["as_of"],
            "stages": [
                {"stage": row["key"], "count": row["count"], "mrr": row["mrr"]} for row in summary["stages"]
            ],
            "flows": summary["flows"],
        }
        return Response(LifecycleSummarySerializer(data).data)
