"""Serializers and examples of the pool endpoints: pool health figures and pool settings."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_field
from rest_framework import serializers

from crm.api_fields import SaneDateField, SaneDateTimeField


class PoolAgeBucketSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like an attribute of DRF's Field in the stubs
    count = serializers.IntegerField()


class PoolWeekSerializer(serializers.Serializer):
    week = SaneDateField(help_text="Monday of the week (tenant time zone).")
    returned = serializers.IntegerField()
    claimed = serializers.IntegerField()


class PoolRepSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="user.pk")
    name = serializers.CharField(source="user.display_name")
    claimed = serializers.IntegerField(help_text="Claims in the weeks shown.")
    held = serializers.IntegerField(help_text="Open leads claimed from the pool held now.")


class PoolHealthSerializer(serializers.Serializer):
    size = serializers.IntegerField()
    oldest = SaneDateTimeField(allow_null=True, help_text="Since when the longest-waiting lead is in it.")
    age_buckets = serializers.SerializerMethodField()
    weeks = PoolWeekSerializer(many=True)
    per_rep = PoolRepSerializer(many=True)

    @extend_schema_field(PoolAgeBucketSerializer(many=True))
    def get_age_buckets(self, health: Any) -> list[dict]:
        return [{"label": str(label), "count": count} for label, count in health.age_buckets]


class PoolSettingsSerializer(serializers.Serializer):
    pool_window_days = serializers.IntegerField(
        min_value=1, max_value=365, help_text="Days without activity before a lead returns to the pool."
    )
    pool_claim_cap = serializers.IntegerField(
        min_value=1, max_value=1000, help_text="Open leads claimed from the pool a rep may hold at once."
    )


POOL_HEALTH_EXAMPLE = OpenApiExample(
    "Pool health",
    value={
        "size": 120,
        "oldest": "2026-08-01T02:00:00Z",
        "age_buckets": [
            {"label": "under a week", "count": 30},
            {"label": "1–4 weeks", "count": 50},
            {"label": "1–3 months", "count": 35},
            {"label": "over 3 months", "count": 5},
        ],
        "weeks": [{"week": "2026-11-23", "returned": 14, "claimed": 9}],
        "per_rep": [{"user": 12, "name": "Li Na", "claimed": 6, "held": 4}],
    },
    response_only=True,
)


POOL_SETTINGS_EXAMPLE = OpenApiExample(
    "Return leads after 21 idle days; 15 open claims per rep",
    value={"pool_window_days": 21, "pool_claim_cap": 15},
)
