"""Serializers of the change history (GET .../history/ of accounts and contacts)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from crm.api_fields import SaneDateTimeField
from crm.schema import response_example


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
    when = SaneDateTimeField()
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
