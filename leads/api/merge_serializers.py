"""Serializers and examples of lead duplicates and merges."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema_serializer
from rest_framework import serializers

from crm.api_fields import SaneDateTimeField
from crm.schema import response_example


class LeadMergeSerializer(serializers.Serializer):
    merged = serializers.IntegerField(help_text="The lead merged into this one (it is soft-deleted).")


LEAD_MERGE_RECORD_RESPONSE_EXAMPLE = response_example(
    "Lead #1234 merged into #1201",
    {
        "id": 8,
        "survivor_id": 1201,
        "merged_id": 1234,
        "created_at": "2026-11-21T11:00:00+08:00",
        "undone_at": None,
    },
)


@extend_schema_serializer(examples=[LEAD_MERGE_RECORD_RESPONSE_EXAMPLE])
class LeadMergeRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survivor_id = serializers.IntegerField()
    merged_id = serializers.IntegerField()
    created_at = SaneDateTimeField()
    undone_at = SaneDateTimeField(allow_null=True)


class LeadDuplicateSerializer(serializers.Serializer):
    """A lead that looks like the same person or company (only leads the caller may see)."""

    id = serializers.IntegerField(source="lead.pk")
    full_name = serializers.CharField(source="lead.full_name")
    company = serializers.CharField(source="lead.company")
    email = serializers.CharField(source="lead.email")
    phone = serializers.CharField(source="lead.phone")
    status = serializers.CharField(source="lead.status")
    owner = serializers.IntegerField(source="lead.owner_id", allow_null=True)
    owner_email = serializers.EmailField(source="lead.owner.email", allow_null=True, default=None)
    same_email = serializers.BooleanField()
    same_phone = serializers.BooleanField()
    similarity = serializers.FloatField(
        help_text="Trigram similarity of the normalized company names (0..1)."
    )


DUPLICATE_PARAMS = [
    OpenApiParameter("email", str, required=False),
    OpenApiParameter("phone", str, required=False),
    OpenApiParameter("company", str, required=False),
    OpenApiParameter("exclude", int, required=False, description="A lead id to leave out (editing)."),
]


DUPLICATES_EXAMPLE = OpenApiExample(
    "The same email",
    # One entry: drf-spectacular wraps a many=True example in the list itself.
    value={
        "id": 981,
        "full_name": "Wang Lei",
        "company": "Shanghai Huaxin Technology Co., Ltd.",
        "email": "wang.lei@huaxin.example.cn",
        "phone": "+86 138 0013 8000",
        "status": "working",
        "owner": 12,
        "owner_email": "rep@acme.test",
        "same_email": True,
        "same_phone": True,
        "similarity": 1.0,
    },
    response_only=True,
)
