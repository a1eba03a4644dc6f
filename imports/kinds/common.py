"""Helpers shared by the kinds: formatting export cells and collecting the ids a chunk refers to."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone

from crm.models import Role
from crm.records import record_set_created_at
from imports.rows import Row

ALL_ROLES = frozenset(Role.values)
ADMIN_OPS = frozenset({Role.ADMIN, Role.OPS})
SELLING_ROLES = frozenset({Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP})


def column_values(rows: Sequence[Row], column: str) -> list[str]:
    return [row.text(column) for row in rows if row.text(column)]


def iso(value: Any) -> str:
    """A cell of an export: timestamps ISO 8601 in UTC with the offset, dates YYYY-MM-DD, numbers plain."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value, datetime.UTC).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    return str(value)


def email_of(user: Any) -> str:
    return user.email if user is not None else ""


def keep_created_at(context: Any, obj: Any, created_at: datetime.datetime | None) -> None:
    """A re-imported row's created_at, as the file gives it (crm.records.record_set_created_at)."""
    record_set_created_at(
        queryset=type(obj)._default_manager.filter(tenant=context.tenant),
        instance=obj,
        created_at=created_at,
        actor=context.actor,
    )
