"""The registry of importable and exportable kinds. Each kind names its CSV columns (KPIS.md), who may import and
export it, how a chunk of rows is written (through the owning app's services) and how its export is read
(through the owning app's list selector, which applies role visibility and the list page's filters).

Apps register their kinds in their AppConfig.ready():

    from imports.registry import ImportKind, register
    register(ImportKind(key="subscriptions", ...))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import QueryDict
from django.utils.functional import Promise

from crm.bulk import refuse_deferred
from crm.errors import AppError
from crm.models import Membership, Tenant
from imports.rows import ImportContext, Row, RowError, RowErrors

CREATED = "created"
UPDATED = "updated"

# What a row breaking a rule raises (reported as the row's error; the other rows go on). The runner also takes a
# DatabaseError of a row's own savepoint as the row's error.
RULE_ERRORS = (RowError, RowErrors, ValidationError, PermissionDenied, ObjectDoesNotExist, AppError)


@dataclass
class SetRows:
    """RowImporter.split_rows: the rows of a chunk a kind writes as sets. `new`: (row index, parsed) for rows that
    create a record; `known`: (row index, the record, parsed) for rows that update one; `outcomes`: the errors
    of rows with bad cells."""

    new: list[tuple[int, Any]] = field(default_factory=list)
    known: list[tuple[int, Any, Any]] = field(default_factory=list)
    outcomes: dict[int, str | Exception] = field(default_factory=dict)


class RowImporter:
    """Writes the rows of one kind. `prepare` runs once per chunk before its rows (bulk lookups: one query per
    referenced model, not one per row); `import_row` writes one row through the owning app's services and
    returns CREATED or UPDATED. Raise imports.rows.RowError or django's ValidationError for a bad row."""

    # Service field names that a ValidationError may name, mapped to the CSV column to report.
    field_columns: dict[str, str] = {}

    def __init__(self, context: ImportContext) -> None:
        self.context = context

    def prepare(self, rows: Sequence[Row]) -> None:  # pragma: no cover - every kind overrides it
        return None

    def import_row(self, row: Row) -> str:  # pragma: no cover
        raise NotImplementedError

    def import_many(self, rows: Sequence[Row]) -> dict[int, str | Exception]:
        """Write the rows it can as a set (after `prepare`, in one savepoint): {index in `rows`: CREATED, UPDATED
        or the row's error (RowError, ValidationError, ...)}; rows it leaves out are written by `import_row`,
        one by one, after it. The same rules as `import_row`. A kind without it writes every row one by one. If
        the database refuses the set (DatabaseError), the runner rolls it back and writes every row one by one."""
        return {}

    def split_rows(
        self,
        rows: Sequence[Row],
        model: type[Model],
        parse: Callable[[Row], Any],
        wait: Callable[[Row], bool] | None = None,
    ) -> SetRows:
        """import_many's first step for a kind written as sets: each row parsed (`parse(row)`, raising its cell
        errors) next to the record its external id names (prepare() read them). Left to import_row, after the
        sets: a row that repeats an external id of the chunk, names a deleted record (its error), or that
        `wait(row)` (called for every row in order) keeps for after the sets."""
        split = SetRows()
        seen: set[str] = set()
        for index, row in enumerate(rows):
            waits = wait is not None and wait(row)
            external_id = (row.values.get("external_id") or "").strip()
            if waits or (external_id and external_id in seen):
                refuse_deferred(
                    "a row written one by one"
                )  # a chunk checked ahead is all sets (imports.services)
                continue
            record = self.context.lookup(model, external_id) if external_id else None
            if record is not None:
                refuse_deferred("a row that updates a record")  # its update is checked where it is written
            if record is not None and getattr(record, "deleted_at", None) is not None:
                continue
            seen.add(external_id)
            try:
                parsed = parse(row)
            except RULE_ERRORS as exc:
                split.outcomes[index] = exc
                continue
            if record is None:
                split.new.append((index, parsed))
            else:
                split.known.append((index, record, parsed))
        return split

    def set_outcomes(
        self, split: SetRows, created: Sequence[Any], updated: Sequence[Any]
    ) -> dict[int, str | Exception]:
        """import_many's outcomes: the set services' results for `split`'s new rows (`created`, in order) and for
        its known ones (`updated`), with the rows' cell errors."""
        self.created_outcomes([index for index, _parsed in split.new], created, split.outcomes)
        return self.created_outcomes(
            [index for index, _record, _parsed in split.known], updated, split.outcomes, outcome=UPDATED
        )

    def created_outcomes(
        self,
        indexes: Sequence[int],
        written: Sequence[Any],
        outcomes: dict[int, str | Exception],
        outcome: str = CREATED,
    ) -> dict[int, str | Exception]:
        """import_many's outcomes of a set service's results (`written[i]` for row `indexes[i]`): a record is
        `outcome` (CREATED, or UPDATED for a set update) and remembered for the chunk's later rows, an exception is
        the row's error."""
        for index, record in zip(indexes, written, strict=True):
            if isinstance(record, Exception):
                outcomes[index] = record
            else:
                self.context.remember(record)
                outcomes[index] = outcome
        return outcomes

    def finish(self) -> None:
        """Runs once after the last chunk, in the transaction that marks the job done: work a kind does once per
        job instead of once per row (the lifecycle recompute of the accounts the subscriptions touched)."""
        return None

    @classmethod
    def settle(cls, *, tenant: Tenant, job: Any) -> None:
        """Runs once when the job stops for good, in the transaction that says so: done, failed after some chunks
        or given up after its worker died MAX_RUNS times (not for a dry run, which kept nothing). For the work a
        kind leaves to the job's end for every row it committed, in whichever run (the leads' activity clocks of
        the activities it logged, found by id above `job.id_floor`). Must be idempotent."""
        return None


@dataclass(frozen=True)
class ImportKind:
    key: str
    label: str | Promise
    columns: tuple[str, ...]
    import_roles: frozenset[str]
    export_roles: frozenset[str]
    importer: type[RowImporter]
    # (tenant, membership, query params) -> the visible, filtered rows to export (a list selector)
    export_queryset: Callable[[Tenant, Membership, QueryDict], QuerySet[Any]]
    # record -> {column: value}; values are str, numbers, dates or None
    export_row: Callable[[Any], dict[str, Any]]
    # Roles that import only rows they own (the importer enforces it), e.g. reps and their own leads.
    own_rows_roles: frozenset[str] = frozenset()
    model: type[Model] | None = None

    def can_import(self, membership: Membership) -> bool:
        return membership.role in self.import_roles

    def can_export(self, membership: Membership) -> bool:
        return membership.role in self.export_roles


_KINDS: dict[str, ImportKind] = {}


def register(kind: ImportKind) -> ImportKind:
    _KINDS[kind.key] = kind
    return kind


def get_kind(key: str) -> ImportKind | None:
    return _KINDS.get(key)


def all_kinds() -> list[ImportKind]:
    return list(_KINDS.values())


def importable_kinds(membership: Membership) -> list[ImportKind]:
    return [kind for kind in _KINDS.values() if kind.can_import(membership)]


def kind_keys() -> Iterable[str]:
    return _KINDS.keys()
