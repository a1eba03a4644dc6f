"""Helpers shared by the kinds: formatting export cells and collecting the ids a chunk refers to."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.bulk import copy_update
from crm.history import history_actor
from crm.models import Role, ValueListKey
from crm.records import record_set_created_at
from crm.value_lists import MAX_VALUE, value_add, value_list, value_list_lookup
from imports.rows import Row, cell_problem

ALL_ROLES = frozenset(Role.values)
ADMIN_OPS = frozenset({Role.ADMIN, Role.OPS})
SELLING_ROLES = frozenset({Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP})


def column_values(rows: Sequence[Row], column: str) -> list[str]:
    """The non-empty values of a column in the rows, as Row.text reads them (each row read once)."""
    return [value for row in rows if (value := row.text(column))]


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


def keep_created_at_many(
    context: Any, model: type[Any], records: Sequence[tuple[Any, datetime.datetime | None]]
) -> None:
    """keep_created_at for a set's re-imported records ((the record as written, the file's created_at)): one
    UPDATE of those whose creation time the file moves (a history event each, booked to the importer, as
    keep_created_at's own UPDATE after the record's)."""
    moved = []
    for record, created_at in records:
        if created_at is not None and record.created_at != created_at:
            record.created_at = created_at
            moved.append(record)
    with history_actor(context.actor):
        copy_update(model, moved, ["created_at"])


def prepare_list_values(context: Any, rows: Sequence[Row], column: str, list_key: str) -> None:
    """Before a chunk's rows: load the company's list once per job and, when the job may add missing values
    (add_missing_values), add the chunk's unknown ones (at chunk level, so a row that fails for another reason
    does not take the value back with it) and report them on the job."""
    lookup: dict[str, str] = context.extras.get(("list", list_key)) or value_list_lookup(
        tenant=context.tenant, list_key=list_key
    )
    context.extras[("list", list_key)] = lookup
    if ("retired", list_key) not in context.extras:
        context.extras[("retired", list_key)] = {
            item.value.lower(): item.value
            for item in value_list(tenant=context.tenant, list_key=list_key)
            if item.retired
        }
    if not context.add_missing_values:
        return
    for row in rows:
        value = row.values.get(column, "").strip()
        if not value or value.lower() in lookup or len(value) > MAX_VALUE or cell_problem(value):
            continue
        try:
            value_add(tenant=context.tenant, actor=context.user, list_key=list_key, value=value)
        except ValidationError:
            continue  # a retired value: the row reports it
        lookup[value.lower()] = value
        context.added.setdefault("values", {}).setdefault(list_key, []).append(value)


def list_value(context: Any, row: Row, column: str, list_key: str, current: Any = None) -> str:
    """The row's value of a value-list column, as the list spells it; a row error naming the column and the value
    when the list has no such active value (prepare_list_values loaded the list). A retired value stays valid on
    the record that has it: `current` is that record's value (None: the owning service decides)."""
    value = row.text(column, MAX_VALUE)
    if not value:
        return ""
    if current and value.lower() == current.lower():
        return current  # the record's own value, whatever the list says now
    found: str | None = context.extras[("list", list_key)].get(value.lower())
    if found is None:
        found = context.extras[("retired", list_key)].get(value.lower())
        if found is not None and current is not None and found != current:
            row.fail(
                column,
                _(
                    "“%(value)s” is retired from this company's list; it stays only on the records that have it."
                )
                % {"value": value},
            )
            return ""
    if found is None:
        row.fail(
            column,
            _(
                "“%(value)s” is not a value of this company's list of %(list)s; add it to the list first or "
                "import with add_missing_values."
            )
            % {"value": value, "list": str(ValueListKey(list_key).label).lower()},
        )
        return ""
    return found
