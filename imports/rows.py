"""Reading CSV rows: typed cell values with the contract's rules (KPIS.md "CSV import formats"), and the context
of one import that resolves members by email and records by external id, a chunk at a time.

A cell that cannot be read is recorded on its Row (column, reason) and the reading method returns "no value", so
that every bad cell of a row is reported at once (not one per re-import); the importer calls `row.check()` before
it writes, which raises RowErrors with all of them, and the runner reports each with the row number and skips the
row. Every cell is checked when the row is built (too long, a NUL or another control character), every date and
timestamp is bounded to crm.validators' range here, in one place, so every kind gets the same rules. Columns
missing from the header are "not given" (an update leaves the field alone); an empty cell is "no value" (an
update clears the field).
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import InitVar, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.bulk import from_rows
from crm.imported import ANY_STATUS
from crm.models import Membership, Tenant, User
from crm.money import AMOUNT_TOO_LARGE, amount_too_large
from crm.records import with_external_ids
from crm.services import member_add_deactivated
from crm.validators import CONTROL_CHARACTERS, date_in_range, out_of_range_message

TRUE_VALUES = {"true", "1", "yes", "y", "t"}
# Exports name a record that has no external id by "crm-<id>", so re-importing an export updates the same
# records; such a name is looked up by id only among the tenant's records without an external id.
SYNTHETIC_ID = re.compile(r"^crm-(\d{1,18})$")


# CSV injection: a spreadsheet runs a cell that starts with "=", "+", "-" or "@" as a formula, and a leading tab
# or carriage return hides such a start. Exports put an apostrophe in front of a cell it would run (spreadsheets
# show it as text) and imports take it off again, so an export re-imports unchanged. A "+" or "-" followed only by
# digits, spaces and the punctuation of numbers and phone numbers (. , ( ) / + -) is left as it is: a spreadsheet
# can at most do arithmetic on it, never call a function, open a link or reach another program (those need letters
# or characters such as | ! " & :), so "+86 138 0000 0000" and "-1500.50" are exported as they are.
ALWAYS_FORMULA = ("=", "@", "\t", "\r")
SIGNS = ("+", "-")
HARMLESS_AFTER_SIGN = re.compile(r"^[0-9 .,()/+\-]*$")


def runs_as_formula(value: str) -> bool:
    """Whether a spreadsheet opening the CSV would run `value` as a formula that can do harm."""
    if value.startswith(ALWAYS_FORMULA):
        return True
    return value.startswith(SIGNS) and not HARMLESS_AFTER_SIGN.match(value[1:])


def cell_for_export(value: Any) -> Any:
    if isinstance(value, str) and runs_as_formula(value):
        return "'" + value
    return value


def cell_from_import(cell: str) -> str:
    """Takes off the apostrophe an export put in front (only where cell_for_export would have put it)."""
    if len(cell) > 1 and cell[0] == "'" and runs_as_formula(cell[1:]):
        return cell[1:]
    return cell


def export_id(obj: Any) -> str:
    """The external id a CSV export writes for `obj` (its own, else "crm-<id>"); "" for no record."""
    if obj is None:
        return ""
    return obj.external_id or f"crm-{obj.pk}"


FALSE_VALUES = {"false", "0", "no", "n", "f"}
# The longest cell a row may have (Python's csv module refuses longer fields by default; the reader's limit is
# raised to the file size so that such a cell becomes this row error instead of stopping the whole file).
MAX_CELL_CHARS = 131_072
# The row error of a bad timestamp; the import page's help gives the same two examples (issue 12 item 9).
TIMESTAMP_HELP = gettext_lazy(
    "Not an ISO 8601 timestamp. Use 2024-03-01 09:30 (this company's time zone) "
    "or 2024-03-01T09:30:00+08:00 (with its offset)."
)


class RowError(Exception):
    """A cell of a row that cannot be imported."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason


class RowErrors(Exception):
    """Every bad cell of one row, as RowError instances (raised by Row.check)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


def cell_problem(value: str) -> str | None:
    """Why a cell cannot be imported whatever its column (too long, NUL, control character), or None."""
    if len(value) > MAX_CELL_CHARS:
        return _("The cell is too long (more than %(n)d characters).") % {"n": MAX_CELL_CHARS}
    if "\x00" in value:
        return _("The cell contains a NUL character; remove it and upload the file again.")
    if CONTROL_CHARACTERS.search(value):  # crm.validators' pattern, as forms and the API refuse them
        return _("The cell contains a control character; only tabs and line breaks are allowed.")
    return None


@dataclass
class Row:
    """One data row: `number` is its line in a spreadsheet (the header is row 1). `errors` collects the row's bad
    cells (one per column); a column with an error reads as "no value" afterwards."""

    number: int
    values: dict[str, str]
    context: ImportContext
    errors: list[RowError] = field(default_factory=list)
    # True when the caller found no cell problem in the row already (rows_of: a chunk's cells tested at once).
    clean: InitVar[bool] = False

    def __post_init__(self, clean: bool) -> None:
        if clean:
            return
        cells = self.values.values()
        joined = "".join(cells)
        if "\x00" not in joined and not CONTROL_CHARACTERS.search(joined) and len(joined) <= MAX_CELL_CHARS:
            return  # no cell has a problem (the usual row: one test of all its cells)
        for column, value in self.values.items():
            problem = cell_problem(value)
            if problem is not None:
                self.fail(column, problem)

    def fail(self, column: str, reason: str) -> None:
        """Record a bad cell (the first reason per column is kept: later reads of it are consequences)."""
        if not self.has_error(column):
            self.errors.append(RowError(column, reason))

    def has_error(self, column: str) -> bool:
        return bool(self.errors) and any(error.column == column for error in self.errors)

    def check(self) -> None:
        """Raise RowErrors with every bad cell found so far; importers call it before they write."""
        if self.errors:
            raise RowErrors(list(self.errors))

    def given(self, column: str) -> bool:
        return column in self.values

    def text(self, column: str, max_length: int | None = None) -> str:
        if self.errors and self.has_error(column):
            return ""
        value = (self.values.get(column) or "").strip()
        if max_length is not None and len(value) > max_length:
            self.fail(column, _("Use at most %(n)d characters.") % {"n": max_length})
            return ""
        return value

    def choice(self, column: str, choices: type[models.TextChoices], default: str = "") -> str:
        value = self.text(column)
        if not value:
            return default
        found = _choice_lookup(choices, self.context.language()).get(value.lower())
        if found is not None:
            return found
        self.fail(
            column,
            _("Unknown value “%(value)s”; use one of: %(choices)s.")
            % {"value": value, "choices": ", ".join(str(v) for v in choices.values)},
        )
        return default

    def timestamp(self, column: str) -> datetime.datetime | None:
        """ISO 8601; without an offset the time is in the tenant's time zone (TIMESTAMP_HELP says both, as the
        import page's help does). Within crm.validators' range."""
        value = self.text(column)
        if not value:
            return None
        try:
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            self.fail(column, str(TIMESTAMP_HELP))
            return None
        # Checked before any time zone arithmetic, which overflows at the edges of Python's years.
        if not date_in_range(parsed):
            self.fail(column, out_of_range_message())
            return None
        if parsed.tzinfo is None:
            # As timezone.make_aware does it (a zoneinfo zone: the wall time in the zone, fold 0).
            parsed = parsed.replace(tzinfo=self.context.tenant.tzinfo)
        return parsed

    def date(self, column: str) -> datetime.date | None:
        """YYYY-MM-DD within crm.validators' range."""
        value = self.text(column)
        if not value:
            return None
        try:
            parsed = datetime.date.fromisoformat(value)
        except ValueError:
            self.fail(column, _("Not a date in the form YYYY-MM-DD."))
            return None
        if not date_in_range(parsed):
            self.fail(column, out_of_range_message())
            return None
        return parsed

    def decimal(
        self, column: str, max_digits: int | None = None, decimal_places: int | None = None
    ) -> Decimal | None:
        """A finite number; with `max_digits`/`decimal_places` (those of the model field it is stored in, see
        `decimal_for`) also one the database column can hold, as a hand-made record must."""
        value = self.text(column).replace(",", "")
        if not value:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            self.fail(column, _("Not a number."))
            return None
        if not number.is_finite():
            self.fail(column, _("Not a number."))
            return None
        if decimal_places is not None:
            exponent = number.normalize().as_tuple().exponent
            # finite numbers have an int exponent (only "n", "N" and "F" have a str one)
            if not isinstance(exponent, int):
                raise TypeError("a finite decimal has an int exponent")
            if -exponent > decimal_places:
                self.fail(column, _("Use at most %(n)d decimal places.") % {"n": decimal_places})
                return None
        if max_digits is not None:
            whole_digits = max_digits - (decimal_places or 0)
            if abs(number) >= Decimal(10) ** whole_digits:
                self.fail(
                    column,
                    _("The number is too large; use at most %(n)d digits before the decimal point.")
                    % {"n": whole_digits},
                )
                return None
        return number

    def decimal_for(self, column: str, model: type[models.Model], field_name: str) -> Decimal | None:
        """`decimal` bounded by the precision of `model.field_name` (a DecimalField)."""
        model_field = model._meta.get_field(field_name)
        if not isinstance(model_field, models.DecimalField):
            raise TypeError(f"{model.__name__}.{field_name} is not a DecimalField")
        return self.decimal(
            column, max_digits=model_field.max_digits, decimal_places=model_field.decimal_places
        )

    def money(self, column: str) -> Decimal | None:
        """An amount of money: at most two decimals and within crm.money.MAX_AMOUNT (the bound forms, API and
        services share), with the same message."""
        number = self.decimal(column, decimal_places=2)
        if number is not None and amount_too_large(number):
            self.fail(column, str(AMOUNT_TOO_LARGE))
            return None
        return number

    def boolean(self, column: str) -> bool | None:
        value = self.text(column).lower()
        if not value:
            return None
        if value in TRUE_VALUES:
            return True
        if value in FALSE_VALUES:
            return False
        self.fail(column, _("Use true or false."))
        return None

    def member(self, column: str) -> User | None:
        """The member with this email, active, invited or deactivated (history keeps its owners; another
        company's people behave like unknown emails)."""
        email = self.text(column).lower()
        if not email:
            return None
        user = self.context.members.get(email)
        if user is None:
            self.fail(column, _("No member of this company has the email “%(email)s”.") % {"email": email})
        return user

    def record(self, column: str, model: type[models.Model]) -> Any:
        """The live record of `model` with this external id (another company's ids behave like unknown ones)."""
        external_id = self.text(column)
        if not external_id:
            return None
        obj = self.context.lookup(model, external_id)
        if obj is None or getattr(obj, "deleted_at", None) is not None:
            self.fail(column, _("No record has the external id “%(id)s”.") % {"id": external_id})
            return None
        return obj


def rows_of(chunk: Sequence[tuple[int, dict[str, str]]], context: ImportContext) -> list[Row]:
    """The Rows of a chunk's (row number, values). The cells of the whole chunk are tested at once for the
    problems any cell can have (cell_problem); only when one of them has one is each row tested on its own."""
    cells = [value for _number, values in chunk for value in values.values()]
    joined = "".join(cells)
    clean = (
        "\x00" not in joined
        and not CONTROL_CHARACTERS.search(joined)
        and (len(joined) <= MAX_CELL_CHARS or max(map(len, cells)) <= MAX_CELL_CHARS)
    )
    return [Row(number=number, values=values, context=context, clean=clean) for number, values in chunk]


@functools.lru_cache(maxsize=256)
def _choice_lookup(choices: type[models.TextChoices], language: str) -> dict[str, str]:
    """{value or label in lower case: value} of a choices class in a language (labels are translated): built once,
    not for every cell of a million-row file."""
    lookup: dict[str, str] = {}
    with translation.override(language or None):
        # Backwards, so that the first choice wins a clash, as a scan in order would.
        for choice_value, label in reversed(choices.choices):
            lookup[str(label).lower()] = str(choice_value)
            lookup[str(choice_value).lower()] = str(choice_value)
    return lookup


def _records(qs: QuerySet, select_related: tuple[str, ...], only: tuple[str, ...]) -> Iterable[Any]:
    """The records of `qs`: with their `select_related` relations, or only the columns `only` names besides the
    id, tenant, external id and deletion time (read as plain values and made into instances at once:
    crm.bulk.from_rows, the thousand records a chunk links to)."""
    names = ("id", "tenant_id", "external_id", "deleted_at", *only)
    if select_related:
        qs = qs.select_related(*select_related)
        return qs.only(*names) if only else qs
    if not only:
        return qs
    return from_rows(qs.model, names, qs.values_list(*names), qs.db)


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
    # The file's columns: the name the kind knows (lower-cased) -> as the file's header spells it (row errors
    # name a column the way the user sees it).
    header: dict[str, str] = field(default_factory=dict)
    # The job's options (imports.models.ImportJob.options) and what it added to the company because of them:
    # {"owners": [emails], "values": {list key: [values]}}.
    create_missing_owners: bool = False
    add_missing_values: bool = False
    added: dict[str, Any] = field(default_factory=dict)
    chunk_language: str | None = None

    def load_members(self, emails: Iterable[str]) -> None:
        wanted = {e.strip().lower() for e in emails if e and e.strip()} - set(self.members)
        if not wanted:
            return
        found = Membership.objects.filter(
            tenant=self.tenant, status__in=ANY_STATUS, user__email__in=wanted
        ).select_related("user")
        for membership in found:
            self.members[membership.user.email.lower()] = membership.user
        if self.create_missing_owners:
            self._add_missing_members(wanted - set(self.members))

    def _add_missing_members(self, emails: set[str]) -> None:
        """Unknown owner emails become deactivated members (the import's create_missing_owners option), so a
        departed rep's history keeps a name; a malformed email stays a row error."""
        for email in sorted(emails):
            try:
                validate_email(email)
            except ValidationError:
                continue
            membership = member_add_deactivated(tenant=self.tenant, actor=self.user, email=email)
            self.members[email] = membership.user
            self.added.setdefault("owners", []).append(email)

    def load_records(
        self,
        model: type[models.Model],
        external_ids: Iterable[str],
        select_related: tuple[str, ...] = (),
        only: tuple[str, ...] = (),
    ) -> None:
        """One query for every external id of `model` a chunk refers to (including deleted records, which the
        unique constraint still counts). `only`: the columns to read (records a row only links to), besides the
        id, tenant, external id and deletion time."""
        cache = self.records.setdefault(model, {})
        wanted = {value.strip() for value in external_ids if value and value.strip()} - set(cache)
        if not wanted:
            return
        qs = with_external_ids(model, tenant=self.tenant, external_ids=wanted)
        for obj in _records(qs, select_related, only):
            cache[getattr(obj, "external_id", "")] = obj
        synthetic = {
            int(m.group(1)): value for value in wanted - set(cache) if (m := SYNTHETIC_ID.match(value))
        }
        if synthetic:
            unnamed = model._default_manager.filter(
                tenant=self.tenant, external_id="", pk__in=list(synthetic)
            )
            for obj in _records(unnamed, select_related, only):
                cache[synthetic[obj.pk]] = obj

    def lookup(self, model: type[models.Model], external_id: str) -> Any:
        return self.records.get(model, {}).get(external_id)

    def remember(self, obj: models.Model) -> None:
        external_id = getattr(obj, "external_id", "")
        if external_id:
            self.records.setdefault(type(obj), {})[external_id] = obj

    def language(self) -> str:
        """The active language, read once a chunk: a choice's labels are matched in it (Row.choice), rather than asking
        Django for it (a context-local lookup) for every cell."""
        if self.chunk_language is None:
            self.chunk_language = translation.get_language() or ""
        return self.chunk_language

    def forget_chunk(self) -> None:
        """Drop the record caches between chunks (memory stays flat over a big file); members are few."""
        self.records.clear()
        self.chunk_language = None
