"""Serializer fields every API shares. Dates and timestamps from clients are kept within 1900–2200
(crm.validators): a year-1 timestamp accepted once makes every later read of the row fail ("timestamp too
small"), so it is a 400 on the field before it can reach the database.

- `SaneDateField` / `SaneDateTimeField`: DRF's fields with the bound, whatever validators a caller passes.
- `ModelSerializer`: the base for model serializers; the model's date and timestamp fields become the bounded
  ones. tests/crm/test_api_hardening.py walks every serializer of the project and fails on a writable DRF date
  or timestamp field without the bound, so a new serializer cannot forget it.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.db import models
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from crm.validators import date_in_range, out_of_range_message


class SaneDateField(serializers.DateField):
    def to_internal_value(self, value: Any) -> datetime.date:
        parsed = super().to_internal_value(value)
        if not date_in_range(parsed):
            raise serializers.ValidationError(out_of_range_message(), code="date_out_of_range")
        return parsed


class SaneDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value: Any) -> datetime.datetime:
        parsed = super().to_internal_value(value)
        # Judged by its date as the client wrote it, in the offset it was given with (crm.validators), not after
        # DRF moved it into the active zone: 1900-01-01T00:00+08:00 is in range.
        as_given = value if isinstance(value, datetime.datetime) else None
        if isinstance(value, str):
            try:
                as_given = parse_datetime(value.strip())
            except ValueError:
                as_given = None
        if not date_in_range(as_given or parsed):
            raise serializers.ValidationError(out_of_range_message(), code="date_out_of_range")
        return parsed


class ModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: SaneDateField,
        models.DateTimeField: SaneDateTimeField,
    }


class ValueListsMixin:
    """A write serializer's list-valued fields (`list_fields`: field -> list key) checked against the company's
    lists (crm.value_lists.value_lists_check, one query): an unknown or retired value is a 400 on its field. The
    edited record, when there is one, is `context["record"]`: its own (even retired) values stay valid."""

    list_fields: Mapping[str, str] = {}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        from django.core.exceptions import ValidationError as DjangoValidationError

        from crm.value_lists import value_lists_check

        attrs = super().validate(attrs)  # type: ignore[misc]
        context = self.context  # type: ignore[attr-defined]
        tenant = getattr(context.get("request"), "tenant", None)
        given = {name: attrs[name] for name in self.list_fields if name in attrs}
        if tenant is None or not given:
            return attrs
        record = context.get("record")
        try:
            cleaned = value_lists_check(
                tenant=tenant,
                values=given,
                fields=self.list_fields,
                current={name: getattr(record, name, "") or "" for name in given}
                if record is not None
                else None,
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return {**attrs, **cleaned}


def list_value_field(list_key: str, list_name: str) -> serializers.CharField:
    """An optional text field holding a value of one of the company's value lists (checked by ValueListsMixin)."""
    return serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text=f"A value of the company's {list_name} list (value-lists/{list_key}/).",
    )
