"""Insert or update many rows of one model fast (import chunks): what `bulk_create` or `save()` writes, by COPY.

`bulk_create` spends most of its time preparing every field of every row in Python for one long INSERT ... VALUES;
at thousands of rows per second that is the import's bottleneck. `copy_insert` takes the same unsaved instances
(already validated by the caller's rules), takes their ids from the table's own sequence in one query, streams
their values with COPY into a temporary twin of the table, and moves them into the table with one INSERT ...
SELECT. The INSERT is an ordinary statement: row-level security checks every row's tenant (PostgreSQL refuses
COPY FROM into a table under row-level security, which is why COPY does not write the table itself), constraints
and foreign keys hold as for any insert, and statement-level triggers (history events, search entries) see the set.
The history context (actor, import job) is the one the caller's `pghistory.context` stamps on the INSERT.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, cast

import pghistory
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, router
from django.db.models.base import ModelState
from django.db.models.expressions import DatabaseDefault
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import ModelSignal, post_init, post_save, pre_init
from django.utils import timezone
from pghistory import runtime

# Fields whose value is written as the instance holds it (psycopg adapts it); others go through the field's own
# preparation (auto_now stamps, JSON).
_PLAIN = (
    models.AutoField,
    models.BigAutoField,
    models.BooleanField,
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.ForeignKey,
)


def _prepared(field: models.Field, db: Any) -> Callable[[models.Model], Any]:
    """The value of a field that is not written as held: as the ORM prepares it for an insert on `db` (the
    connection itself: the thread's, looked up once per set rather than through the proxy for every value)."""
    attname = field.attname
    if _is_moment(field):

        def moment(obj: models.Model) -> Any:
            value = getattr(obj, attname)
            if value is None or (type(value) is datetime.datetime and value.utcoffset() is not None):
                return value  # what the ORM's preparation gives for these
            # Anything else as the ORM prepares it (a naive time made aware, with the ORM's warning).
            return field.get_db_prep_save(value, db)

        return moment
    return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), db)


def _is_moment(field: models.Field) -> bool:
    return isinstance(field, models.DateTimeField) and not (field.auto_now or field.auto_now_add)


def _is_stamp(field: models.Field) -> bool:
    return isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add)


def _row_maker(
    fields: Sequence[models.Field],
) -> tuple[list[models.Field], Callable[[models.Model], list[Any]]]:
    """(the fields in the order of the rows, obj -> its row): the plain fields and the times first, read at once
    (operator.attrgetter), then the others, prepared one by one. A time that is None or aware is written as held
    (what the ORM's preparation gives for it); any other is prepared as the ORM prepares it (`_prepared`). The
    auto_now and auto_now_add times are stamped as pre_save stamps them for an insert, with one moment for the
    set (read once here, as one statement's rows share PostgreSQL's now()), not a clock read per row."""
    plain = [field for field in fields if isinstance(field, _PLAIN)]
    moments = [field for field in fields if not isinstance(field, _PLAIN) and _is_moment(field)]
    stamps = [field for field in fields if not isinstance(field, _PLAIN) and _is_stamp(field)]
    others = [
        field
        for field in fields
        if not isinstance(field, _PLAIN) and not _is_moment(field) and not _is_stamp(field)
    ]
    names = [field.attname for field in plain + moments]
    read = attrgetter(*names) if len(names) > 1 else (lambda obj: (getattr(obj, names[0]),))
    db = connections[DEFAULT_DB_ALIAS]
    checked = [(len(plain) + offset, _prepared(field, db)) for offset, field in enumerate(moments)]
    now = timezone.now()
    stamped = [(field.attname, field.get_db_prep_save(now, db)) for field in stamps]
    prepared = [_prepared(field, db) for field in others]
    moment_type = datetime.datetime

    def row(obj: models.Model) -> list[Any]:
        values = list(read(obj))
        for position, prepare in checked:
            value = values[position]
            if value is not None and not (type(value) is moment_type and value.utcoffset() is not None):
                values[position] = prepare(obj)
        for attname, value in stamped:
            setattr(obj, attname, now)
            values.append(value)
        values.extend(prepare(obj) for prepare in prepared)
        return values

    return plain + moments + stamps + others, row


def _rows(
    model: type[models.Model], objs: Iterable[models.Model]
) -> tuple[list[models.Field], Iterator[list[Any]]]:
    """(every concrete field of the model in the order of the rows, the rows of `objs` as COPY takes them)."""
    fields, row_of = _row_maker(list(model._meta.concrete_fields))
    return fields, (row_of(obj) for obj in objs)


def _copy_to_twin(
    cursor: Any, model: type[models.Model], fields: Sequence[models.Field], rows: Iterable[Sequence[Any]]
) -> tuple[str, str]:
    """COPY `rows` (values of `fields`, every concrete field of the model) into the model's temporary twin (a table
    of the same columns, emptied when the transaction ends; one per session and table, made on first use).
    Returns (twin, its column list)."""
    table = model._meta.db_table
    qn = connection.ops.quote_name
    columns = ", ".join(qn(cast(str, field.column)) for field in fields)
    twin = qn(f"bulk_{table}")
    cursor.execute("SELECT to_regclass(%s)", [f"pg_temp.bulk_{table}"])
    if cursor.fetchone()[0] is None:
        cursor.execute(f"CREATE TEMPORARY TABLE {twin} (LIKE {qn(table)}) ON COMMIT DELETE ROWS")
    types = _binary_types(tuple(fields))
    binary = " (FORMAT BINARY)" if types is not None else ""
    with cursor.cursor.copy(f"COPY {twin} ({columns}) FROM STDIN{binary}") as copy:  # noqa: S608 -- own names
        if types is not None:
            copy.set_types(types)
        for row in rows:
            copy.write_row(row)
    return twin, columns


# The column types COPY's binary format is used for (the database's type as Django declares it -> psycopg's name of
# it). Each value then goes by the dumper of its column's type, not of its Python type: the values are those the
# fields' cleaning and preparation leave (str, int, bool, aware datetime, date, JSON wrapper), which these take.
_BINARY = {
    "bigint": "int8",
    "integer": "int4",
    "smallint": "int2",
    "boolean": "bool",
    "text": "text",
    "timestamp with time zone": "timestamptz",
    "date": "date",
    "jsonb": "jsonb",
}


@functools.lru_cache(maxsize=64)
def _binary_types(fields: tuple[models.Field, ...]) -> list[str] | None:
    """psycopg's type names of the fields' columns for a binary COPY, or None when one of them is of another type
    (the COPY is then in text, each value dumped by its Python type). Binary rows cost the import a seventh of the
    CPU of text rows (bench/README): no timestamp or number is written out as text and parsed back."""
    types = []
    for field in fields:
        declared = field.db_type(connection) or ""
        name = "varchar" if declared.startswith("varchar(") else _BINARY.get(declared)
        if name is None:
            return None
        types.append(name)
    return types


def copy_insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert `objs` (new instances of `model`, every field set as for save()) and give each its id, as
    `model.objects.bulk_create(objs)` would (pre_save of every field: auto_now stamps). One sequence query, one
    COPY, one INSERT ... SELECT. Raises the database's error for the whole set (a unique or check constraint).
    Inside `deferred_writes()` the ids are given at once and the rows are written later (`write_deferred`)."""
    if not objs:
        return
    with connection.cursor() as cursor:
        for obj, pk_value in zip(objs, _new_ids(cursor, model, len(objs)), strict=True):
            obj.pk = pk_value
        fields, rows = _rows(model, objs)
        deferred = _deferred.get()
        if deferred is not None:
            # Their rows made now (as the inserts to come will write them), booked later to the history context
            # in force now (the actor, the import job).
            history = getattr(runtime._tracker, "value", None)
            deferred.append(DeferredInsert(model, list(objs), fields, list(rows), history))
        else:
            _insert_rows(cursor, model, fields, rows)
    alias = connection.alias  # the proxy looks the connection up on each use
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias


def _new_ids(cursor: Any, model: type[models.Model], count: int) -> list[int]:
    """`count` new ids from the table's sequence; inside ids_in_blocks(), from the ids it keeps (taken a block at a
    time), so that a chunk of an import does not wait for the database for them."""
    table, column = model._meta.db_table, cast(str, model._meta.pk.column)
    kept = _kept_ids.get()
    if kept is None:
        return _ids_of_sequence(cursor, table, column, count)
    block = kept.setdefault(table, [])
    if len(block) < count:
        block.extend(_ids_of_sequence(cursor, table, column, max(count, IDS_BLOCK) - len(block)))
    taken = block[:count]
    del block[:count]
    return taken


def _ids_of_sequence(cursor: Any, table: str, column: str, count: int) -> list[int]:
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
    )
    return [pk_value for (pk_value,) in cursor.fetchall()]


# Ids taken from a sequence at once inside ids_in_blocks().
IDS_BLOCK = 10_000
_kept_ids: ContextVar[dict[str, list[int]] | None] = ContextVar("crm_bulk_kept_ids", default=None)


@contextmanager
def ids_in_blocks() -> Iterator[None]:
    """Inside (an import job's run, in its thread), copy_insert takes its new rows' ids from the sequence IDS_BLOCK
    at a time instead of once per set. The ids are handed out after the block begins, as any would be; those not
    used when the block ends are never used (a sequence's ids are not given back either: gaps are normal)."""
    token = _kept_ids.set({})
    try:
        yield
    finally:
        _kept_ids.reset(token)


def _insert_rows(
    cursor: Any, model: type[models.Model], fields: Sequence[models.Field], rows: Iterable[Sequence[Any]]
) -> None:
    """COPY the rows (ids included) into the twin and move them into the table in one INSERT ... SELECT."""
    twin, columns = _copy_to_twin(cursor, model, fields, rows)
    cursor.execute(
        f"WITH moved AS (DELETE FROM {twin} RETURNING {columns}) "  # noqa: S608 -- model's own names
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) SELECT {columns} FROM moved"
    )


# --- writes deferred to a later transaction (imports.services: a chunk checked while the one before is written) --


@dataclass
class DeferredInsert:
    """A copy_insert made inside deferred_writes(): its instances (with their ids), their rows as COPY will take
    them, and the history context (pghistory's id and metadata: actor, import job) its events are booked to."""

    model: type[models.Model]
    objs: list[models.Model]
    fields: list[models.Field]
    rows: list[list[Any]]
    history: Any


class NotDeferrable(Exception):
    """Inside deferred_writes(), a statement that writes (or locks rows) was about to run: the block's work cannot
    be split into reads now and inserts later."""


_deferred: ContextVar[list[DeferredInsert] | None] = ContextVar("crm_bulk_deferred", default=None)
# What a deferred block may run: reads (a sequence's nextval and set_config included) and savepoints.
_READS = ("SELECT ", "SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ")
_LOCKS = (" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE")
_PGHISTORY = "SELECT SET_CONFIG('PGHISTORY."


def _reads_only(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    statement = (sql.decode() if isinstance(sql, bytes) else sql).lstrip().upper()
    if statement.startswith(_PGHISTORY):
        # pghistory's context (set_config calls) put before the statement itself: what counts is the statement.
        statement = statement.split(";", 1)[-1].lstrip()
    if not statement.startswith(_READS) or any(lock in statement for lock in _LOCKS):
        raise NotDeferrable(statement[:120])
    return execute(sql, params, many, context)


@contextmanager
def deferred_writes() -> Iterator[list[DeferredInsert]]:
    """Inside the block copy_insert gives the instances their ids but leaves their rows to the caller, who writes
    them later in a transaction of its own (write_deferred); every other statement must be a read: one that writes
    or locks raises NotDeferrable (copy_update too), and the caller then does the block's work the ordinary way.
    Yields the deferred inserts, in their order."""
    inserts: list[DeferredInsert] = []
    token = _deferred.set(inserts)
    try:
        with connection.execute_wrapper(_reads_only):
            yield inserts
    finally:
        _deferred.reset(token)


def refuse_deferred(what: str) -> None:
    """A set service that writes more than inserts (updates: their reads and rules belong in the transaction that
    writes them) says so at once inside deferred_writes(), before doing work that would only be thrown away."""
    if _deferred.get() is not None:
        raise NotDeferrable(what)


def write_deferred(inserts: Sequence[DeferredInsert]) -> None:
    """Write what deferred_writes() left, in the caller's transaction, each booked to its history context."""
    with connection.cursor() as cursor:
        for insert in inserts:
            with _booked_to(insert.history):
                _insert_rows(cursor, insert.model, insert.fields, insert.rows)


@contextmanager
def _booked_to(history: Any) -> Iterator[None]:
    if history is None:
        yield
        return
    with pghistory.context():  # installs the context's statement hook on this thread's connection
        entered = runtime._tracker.value
        runtime._tracker.value = history  # the same context (id and metadata) as when the insert was made
        try:
            yield
        finally:
            runtime._tracker.value = entered


def copy_update(model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str]) -> int:
    """Write `fields` of `objs` (saved instances of `model`, as the caller's rules left them): what a
    `save(update_fields=fields)` of each would write (auto_now stamps included), in one statement. Their rows go
    by COPY into the temporary twin, then one UPDATE ... FROM it: row-level security, constraints and row triggers
    (history events, search entries) apply to every row as to a single save. Returns the number of rows updated
    (fewer than `objs` when some went meanwhile or are not the tenant's). Raises the database's error for the
    whole set."""
    if not objs:
        return 0
    refuse_deferred("copy_update")  # an update rests on its reads: it is written with them
    meta = model._meta
    table = meta.db_table
    pk = meta.pk
    chosen = set(fields)
    targets = [field for field in meta.concrete_fields if field.name in chosen or field.attname in chosen]
    if len(targets) != len(chosen):
        raise ValueError(f"copy_update: unknown fields of {model.__name__}: {sorted(chosen)}")
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(cast(str, f.column))} = s.{qn(cast(str, f.column))}" for f in targets)
    with connection.cursor() as cursor:
        # The twin has every column (and their NOT NULL): each row goes in whole, as the instance holds it.
        twin, columns = _copy_to_twin(cursor, model, *_rows(model, objs))
        cursor.execute(
            f"WITH moved AS (DELETE FROM {twin} RETURNING {columns}) "  # noqa: S608 -- model's own names
            f"UPDATE {qn(table)} AS t SET {assignments} FROM moved AS s "
            f"WHERE t.{qn(cast(str, pk.column))} = s.{qn(cast(str, pk.column))}"
        )
        return cursor.rowcount


def _class_attribute(model: type[models.Model], name: str) -> Any:
    """What the model's class holds under `name` (its descriptor), without calling the descriptor."""
    for klass in model.__mro__:
        if name in vars(klass):
            return vars(klass)[name]
    return None


@functools.cache
def _plain_attributes(model: type[models.Model]) -> bool:
    """Whether every concrete field of `model` is a plain attribute: Django's DeferredAttribute or its foreign-key
    form, whose setter only drops a cached related instance (a new instance has none)."""
    return all(
        isinstance(_class_attribute(model, field.attname), DeferredAttribute)
        for field in model._meta.concrete_fields
    )


def _direct(model: type[models.Model]) -> bool:
    """Whether an instance of `model` can be made without its constructor: every field a plain attribute and
    nobody listening to its pre_init and post_init signals (all the constructor would do is set the values)."""
    return _plain_attributes(model) and not (pre_init.has_listeners(model) or post_init.has_listeners(model))


def from_rows(
    model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]], db: str
) -> list[Any]:
    """`model.from_db(db, names, row)` for each row (the values of the fields whose attnames are `names`; the
    others deferred, read on first use as Django reads a deferred field), as a queryset's `only(*names)` gives
    them. Without the constructor when `_direct(model)`: the values go into the instance's __dict__."""
    if not _direct(model):
        return [model.from_db(db, list(names), row) for row in rows]
    made = []
    for row in rows:
        obj = model.__new__(model)
        state = ModelState()
        state.adding, state.db = False, db
        obj._state = state
        obj.__dict__.update(zip(names, row, strict=True))
        made.append(obj)
    return made


# Maker's plan of a call: ((position, relation field, its model, its id attribute) per keyword, defaults to call).
_Plan = tuple[list[tuple[int, Any, Any, str]], list[tuple[int, Callable[[], Any]]]]
# Maker._made_direct's plan: ((attribute, None or (cache name, model, id attribute)) per keyword, defaults to call).
_FastPlan = tuple[list[tuple[str, tuple[str, Any, str] | None]], list[tuple[str, Callable[[], Any]]]]


class Maker:
    """`Maker(Model)(**values)` is `Model(**values)` for the instances a set write builds by the thousand, in a
    third of the time: Django's constructor looks at every field for every keyword; this one fills the defaults of
    every concrete field (as the constructor does) and the values given, then takes Django's fast positional path
    (the one that builds instances read from the database). A related instance is set as the constructor's
    descriptor sets it (type checked, its id, its cache, the instance's database). Only concrete fields are taken
    (no properties): another keyword raises TypeError, as the constructor does.

    When every field is a plain attribute (Django's DeferredAttribute and its foreign-key form, whose setter only
    drops a cached related instance: a new instance has none) and nobody listens to the model's pre_init and
    post_init signals, that positional path is itself skipped: the values go into the instance's __dict__ at once,
    which is all the constructor's setattr calls do for such fields."""

    def __init__(self, model: type[models.Model], *, now: datetime.datetime | None = None) -> None:
        """`now`: the moment of the whole set, taken by every field whose default is the current time
        (`timezone.now`), as one statement's rows share PostgreSQL's now(), instead of a clock read per instance."""
        self.model = model
        fields = list(model._meta.concrete_fields)
        self.attnames = [field.attname for field in fields]
        self.direct = _direct(model)
        self.routed = bool(router.routers)
        # Each field's default as get_default() gives it: the same value every time unless the default is a
        # callable (a time, a fresh dict or list), which is called for each instance that is not given a value.
        called = [
            field.has_default()
            and callable(field.default)
            and not (now is not None and field.default is timezone.now)
            for field in fields
        ]
        self.template = [
            None if call else (now if field.default is timezone.now else field.get_default())
            for field, call in zip(fields, called, strict=True)
        ]
        self.fresh = [
            (position, fields[position].name, fields[position].attname, fields[position].get_default)
            for position, call in enumerate(called)
            if call
        ]
        self.index: dict[str, int] = {}
        self.relations: dict[str, tuple[int, Any]] = {}
        self.plans: dict[tuple[str, ...], _Plan] = {}
        # The instance's __dict__ as the template makes it, for the direct path without routers (_made_direct).
        self.fast = self.direct and not self.routed
        self.template_dict = dict(zip(self.attnames, self.template, strict=True))
        self.fast_plans: dict[tuple[str, ...], _FastPlan] = {}
        for position, field in enumerate(fields):
            self.index[field.attname] = position
            if field.is_relation and field.many_to_one:
                self.relations[field.name] = (position, field)
            elif not field.is_relation:
                self.index[field.name] = position  # a one-to-one is taken by its id (attname) only

    def _plan(self, names: tuple[str, ...]) -> _Plan:
        """What a call with these keywords, in this order, does: for each, (its position, and for a relation its
        field, the model its value must be and the attribute giving the id); and the callable defaults to call
        (those of the fields not given)."""
        steps: list[tuple[int, Any, Any, str]] = []
        for name in names:
            relation = self.relations.get(name)
            if relation is not None:
                position, field = relation
                steps.append(
                    (
                        position,
                        field,
                        field.remote_field.model._meta.concrete_model,
                        field.target_field.attname,
                    )
                )
            elif name in self.index:
                steps.append((self.index[name], None, None, ""))
            else:
                raise TypeError(f"{self.model.__name__}() got an unexpected keyword argument {name!r}")
        given = set(names)
        fresh = [
            (position, default)
            for position, name, attname, default in self.fresh
            if name not in given and attname not in given
        ]
        return steps, fresh

    def _fast_plan(self, names: tuple[str, ...]) -> _FastPlan:
        """_plan for _made_direct: the attribute each keyword fills and, for a relation, (its cache name, its
        model, the attribute giving the id); the callable defaults by attribute."""
        steps, fresh = self._plan(names)
        fast_steps = [
            (
                self.attnames[position],
                None if field is None else (field.cache_name, model, attname),
            )
            for position, field, model, attname in steps
        ]
        return fast_steps, [(self.attnames[position], default) for position, default in fresh]

    def _made_direct(self, values: dict[str, Any]) -> Any:
        """__call__ for a model of plain attributes and no router: the instance's __dict__ made from the template's
        at once, a related instance's id, cache and database set as the descriptor and the router would."""
        names = tuple(values)
        plan = self.fast_plans.get(names)
        if plan is None:
            plan = self._fast_plan(names)
            if len(self.fast_plans) < 64:
                self.fast_plans[names] = plan
        steps, fresh = plan
        made = self.template_dict.copy()
        for attname, default in fresh:
            made[attname] = default()
        state = ModelState()
        cache: dict[str, Any] | None = None
        for (attname, relation), value in zip(steps, values.values(), strict=True):
            if relation is None or value is None:
                made[attname] = value
                continue
            cache_name, model, id_attname = relation
            if not isinstance(value, model):
                raise ValueError(
                    f"Cannot assign {value!r}: {self.model.__name__}.{cache_name} must be a model instance"
                )
            made[attname] = getattr(value, id_attname)
            if cache is None:
                cache = state.fields_cache = {}
                state.db = value._state.db or DEFAULT_DB_ALIAS
            if value._state.db is None:
                value._state.db = state.db
            cache[cache_name] = value
        obj = self.model.__new__(self.model)
        made["_state"] = state
        obj.__dict__ = made
        return obj

    def __call__(self, **values: Any) -> Any:
        if self.fast:
            return self._made_direct(values)
        # A set's calls name the same keywords: their plan is made once (at most 64 kept).
        names = tuple(values)
        plan = self.plans.get(names)
        if plan is None:
            plan = self._plan(names)
            if len(self.plans) < 64:
                self.plans[names] = plan
        steps, fresh = plan
        args = self.template.copy()
        for position, default in fresh:
            args[position] = default()
        related: list[tuple[Any, models.Model]] = []
        for (position, field, model, attname), value in zip(steps, values.values(), strict=True):
            if field is None or value is None:
                args[position] = value
                continue
            if not isinstance(value, model):
                raise ValueError(
                    f"Cannot assign {value!r}: {self.model.__name__}.{field.name} must be a model instance"
                )
            args[position] = getattr(value, attname)
            related.append((field, value))
        if self.direct:
            obj = self.model.__new__(self.model)
            obj._state = ModelState()
            obj.__dict__.update(zip(self.attnames, args, strict=True))
        else:
            obj = self.model(*args)
        for field, value in related:
            # What router.db_for_write gives (the instance's database, else the default) when no router is set.
            if obj._state.db is None:
                obj._state.db = (
                    router.db_for_write(self.model, instance=value)
                    if self.routed
                    else value._state.db or DEFAULT_DB_ALIAS
                )
            if value._state.db is None:
                value._state.db = (
                    router.db_for_write(value.__class__, instance=obj)
                    if self.routed
                    else obj._state.db or DEFAULT_DB_ALIAS
                )
            field.set_cached_value(obj, value)
        return obj


_TEXT_VALIDATORS = (MaxLengthValidator, ProhibitNullCharactersValidator)


def _text_limit(field: models.Field) -> int | None:
    """For a plain CharField or TextField (no choices, no validators but its length and its NUL check): the most
    characters it takes (-1: any number). Its clean() gives a non-empty string within that length and without NUL
    back unchanged, with no error, so SetCleaner passes such a value as it is. None for any other field (and any
    subclass: an EmailField, a SlugField ... have validators of their own)."""
    if type(field) not in (models.CharField, models.TextField) or field.choices:
        return None
    limits = []
    for validator in field.validators:
        if type(validator) not in _TEXT_VALIDATORS:
            return None
        if isinstance(validator, MaxLengthValidator):
            if not isinstance(validator.limit_value, int):
                return None
            limits.append(validator.limit_value)
    return min(limits) if limits else -1


_BLANK = object()  # SetCleaner's answer for a blank value of a field that may be blank: nothing to clean


class SetCleaner:
    """`full_clean(exclude, validate_unique=False, validate_constraints=False)` for the many instances of one
    model a set write validates (import chunks), with each plain field's cleaning done once per distinct value:
    a field's own checks (length, choices, email, number range) depend on the value alone, and a chunk repeats
    most of its values (statuses, kinds, regions, owners' companies), so the second row with "working" reuses the
    first row's answer. Relations, unhashable values (JSON), times and decimals (equal values that are not the same:
    one instant in two time zones, 1.0 and 1.00 with their digits) are cleaned every time, as is the model's own
    clean(). A plain text field's value that its clean() would give back unchanged (non-empty, within the length,
    no NUL: _text_limit) is passed at once, without a memo entry: most of them are a row's own (names, emails of
    other fields aside, external ids). The errors are those full_clean raises, field by field."""

    _MEMO = (
        models.CharField,
        models.TextField,
        models.IntegerField,
        models.BooleanField,
        models.DurationField,
    )

    def __init__(self, model: type[models.Model], exclude: Sequence[str] = ()) -> None:
        skip = set(exclude)
        # (field, its attname and name, whether its answers are kept, whether it may be blank, whether a datetime
        # passes as it is: a DateTimeField's clean() gives a datetime back unchanged unless it has choices or
        # validators)
        self.fields = [
            (
                field,
                field.attname,
                field.name,
                isinstance(field, self._MEMO) and not field.is_relation,
                field.blank,
                isinstance(field, models.DateTimeField) and not field.choices and not field.validators,
                _text_limit(field),
            )
            for field in model._meta.fields
            if field.name not in skip and not field.generated
        ]
        # (attname, the value's type, the value) -> (cleaned value, None), (None, errors) or _BLANK (left alone)
        self.memo: dict[tuple[str, type, Any], Any] = {}

    def clean(self, obj: models.Model) -> None:
        """Clean `obj`'s fields (setting their cleaned values) and run its clean(); raise ValidationError with
        every field's errors, as full_clean does."""
        errors: dict[str, Any] = {}
        memo = self.memo
        moment_type = datetime.datetime
        for field, attname, name, memoize, blank, moment, limit in self.fields:
            raw = getattr(obj, attname)
            if moment and raw.__class__ is moment_type:
                continue
            if (
                limit is not None
                and raw.__class__ is str
                and raw
                and (limit < 0 or len(raw) <= limit)
                and "\x00" not in raw
            ):
                continue  # a plain text field's clean() would give it back as it is, with no error
            key = None
            if memoize:
                key = (attname, raw.__class__, raw)
                try:
                    known = memo.get(key)
                except TypeError:  # an unhashable value
                    key, known = None, None
                if known is not None:
                    if known is _BLANK:
                        continue
                    value, failed = known
                    if failed is not None:
                        errors[name] = list(failed)
                    elif value is not raw:
                        setattr(obj, attname, value)
                    continue
            if blank and raw in field.empty_values:
                if key is not None:
                    memo[key] = _BLANK
                continue
            if isinstance(raw, DatabaseDefault):
                continue
            try:
                value = field.clean(raw, obj)
            except ValidationError as exc:
                errors[name] = exc.error_list
                if key is not None:
                    memo[key] = (None, list(exc.error_list))
                continue
            setattr(obj, attname, value)
            if key is not None:
                memo[key] = (value, None)
        try:
            obj.clean()
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)


def send_saves(
    signal: ModelSignal, model: type[models.Model], objs: Sequence[models.Model], *, created: bool
) -> None:
    """Send `signal` (pre_save or post_save) for each of `objs` as its save() would: copy_insert and copy_update
    send none, and a set service whose model has receivers that must hear of each record (the KPI recompute of
    the apps above, lifecycle's recomputes of a moved deal) sends them itself, after writing the set."""
    if not objs or not signal.has_listeners(model):
        return
    for obj in objs:
        using = obj._state.db or DEFAULT_DB_ALIAS
        if signal is post_save:
            signal.send(
                sender=model, instance=obj, created=created, update_fields=None, raw=False, using=using
            )
        else:
            signal.send(sender=model, instance=obj, raw=False, using=using, update_fields=None)
