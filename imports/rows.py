"""Reading CSV rows: typed cell values with the contract's rules (KPIS.md "CSV import formats"), and the context
of one import that resolves members by email and records by external id, a chunk at a time.

A cell that cannot be read raises RowError(column, reason); the runner reports it with the row number and skips
the row. Columns missing from the header are "not given" (an update leaves the field alone); an empty cell is
"no value" (an update clears the field).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Membership, MembershipStatus, Tenant, User

TRUE_VALUES = {"true", "1", "yes", "y", "t"}
# Exports name a record that has no external id by "crm-<id>", so re-importing an export updates the same
# records; such a name is looked up by id only among the tenant's records without an external id.
SYNTHETIC_ID = re.compile(r"^crm-(\d{1,18})$")


# Spreadsheets run a cell that starts with one of these as a formula (CSV injection): exports put an apostrophe in
# front, which spreadsheets show as text, and imports take it off again, so an export re-imports unchanged.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def cell_for_export(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def cell_from_import(cell: str) -> str:
    if len(cell) > 1 and cell[0] == "'" and cell[1:].startswith(FORMULA_START):
        return cell[1:]
    return cell


def export_id(obj: Any) -> str:
    """The external id a CSV export writes for `obj` (its own, else "crm-<id>"); "" for no record."""
    if obj is None:
        return ""
    return obj.external_id or f"crm-{obj.pk}"


FALSE_VALUES = {"false", "0", "no", "n", "f"}


class RowError(Exception):
    """A cell of a row that cannot be imported."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason


@dataclass
class Row:
    """One data row: `number` is its line in a spreadsheet (the header is row 1)."""

    number: int
    values: dict[str, str]
    context: ImportContext

    def given(self, column: str) -> bool:
        return column in self.values

    def text(self, column: str, max_length: int | None = None) -> str:
        value = (self.values.get(column) or "").strip()
        if max_length is not None and len(value) > max_length:
            raise RowError(column, _("Use at most %(n)d characters.") % {"n": max_length})
        return value

    def choice(self, column: str, choices: type[models.TextChoices], default: str = "") -> str:
        value = self.text(column)
        if not value:
            return default
        lowered = value.lower()
        for choice_value, label in choices.choices:
            if lowered in (str(choice_value).lower(), str(label).lower()):
                return str(choice_value)
        raise RowError(
            column,
            _("Unknown value “%(value)s”; use one of: %(choices)s.")
            % {"value": value, "choices": ", ".join(str(v) for v in choices.values)},
        )

    def timestamp(self, column: str) -> datetime.datetime | None:
        """ISO 8601; without an offset the time is in the tenant's time zone."""
        value = self.text(column)
        if not value:
            return None
        try:
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise RowError(
                column, _("Not an ISO 8601 timestamp such as 2024-03-01T09:30:00+08:00.")
            ) from None
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, self.context.tenant.tzinfo)
        return parsed

    def date(self, column: str) -> datetime.date | None:
        value = self.text(column)
        if not value:
            return None
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise RowError(column, _("Not a date in the form YYYY-MM-DD.")) from None

    def decimal(self, column: str) -> Decimal | None:
        value = self.text(column).replace(",", "")
        if not value:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise RowError(column, _("Not a number.")) from None
        if not number.is_finite():
            raise RowError(column, _("Not a number."))
        return number

    def boolean(self, column: str) -> bool | None:
        value = self.text(column).lower()
        if not value:
            return None
        if value in TRUE_VALUES:
            return True
        if value in FALSE_VALUES:
            return False
        raise RowError(column, _("Use true or false."))

    def member(self, column: str) -> User | None:
        """The active member with this email (another company's people behave like unknown emails)."""
        email = self.text(column).lower()
        if not email:
            return None
        user = self.context.members.get(email)
        if user is None:
            raise RowError(
                column, _("No active member of this company has the email “%(email)s”.") % {"email": email}
            )
        return user

    def record(self, column: str, model: type[models.Model]) -> Any:
        """The live record of `model` with this external id (another company's ids behave like unknown ones)."""
        external_id = self.text(column)
        if not external_id:
            return None
        obj = self.context.lookup(model, external_id)
        if obj is None or getattr(obj, "deleted_at", None) is not None:
            raise RowError(column, _("No record has the external id “%(id)s”.") % {"id": external_id})
        return obj


@dataclass
class ImportContext:
    """What one import knows across rows: the tenant, who imports, and caches filled a chunk at a time."""

    tenant: Tenant
    user: User
    membership: Membership
    # The actor passed to the services: the importing user, or None (a system write) for roles that import on
    # behalf of the sales team (ops), whose own role could not write these records by hand.
    actor: User | None
    members: dict[str, User] = field(default_factory=dict)
    records: dict[type[models.Model], dict[str, Any]] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

    def load_members(self, emails: Iterable[str]) -> None:
        wanted = {e.strip().lower() for e in emails if e and e.strip()} - set(self.members)
        if not wanted:
            return
        found = Membership.objects.filter(
            tenant=self.tenant, status=MembershipStatus.ACTIVE, user__email__in=wanted
        ).select_related("user")
        for membership in found:
            self.members[membership.user.email.lower()] = membership.user

    def load_records(
        self, model: type[models.Model], external_ids: Iterable[str], select_related: tuple[str, ...] = ()
    ) -> None:
        """One query for every external id of `model` a chunk refers to (including deleted records, which the
        unique constraint still counts)."""
        cache = self.records.setdefault(model, {})
        wanted = {value.strip() for value in external_ids if value and value.strip()} - set(cache)
        if not wanted:
            return
        qs = model._default_manager.filter(tenant=self.tenant, external_id__in=wanted)
        if select_related:
            qs = qs.select_related(*select_related)
        for obj in qs:
            cache[getattr(obj, "external_id", "")] = obj
        synthetic = {
            int(m.group(1)): value for value in wanted - set(cache) if (m := SYNTHETIC_ID.match(value))
        }
        if synthetic:
            unnamed = model._default_manager.filter(
                tenant=self.tenant, external_id="", pk__in=list(synthetic)
            )
            if select_related:
                unnamed = unnamed.select_related(*select_related)
            for obj in unnamed:
                cache[synthetic[obj.pk]] = obj

    def lookup(self, model: type[models.Model], external_id: str) -> Any:
        return self.records.get(model, {}).get(external_id)

    def remember(self, obj: models.Model) -> None:
        external_id = getattr(obj, "external_id", "")
        if external_id:
            self.records.setdefault(type(obj), {})[external_id] = obj

    def forget_chunk(self) -> None:
        """Drop the record caches between chunks (memory stays flat over a big file); members are few."""
        self.records.clear()
