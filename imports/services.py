"""Writes of the imports app: start an import job, and run it chunk by chunk.

A job's rows are written through the owning app's services (imports.kinds), so their rules apply (assignment
rules and scoring for leads, stage rules for deals). Each chunk of rows is one transaction that also moves the
job's counts forward, so progress is visible while the job runs and a re-delivered task resumes after the last
committed chunk instead of writing rows twice. A bad row is rolled back to its own savepoint and reported.

Nothing in a file stops a job half-way or leaves it queued: every bad cell is a row error (all the bad cells of a
row at once, imports.rows), a row that raises unexpectedly is a row error too (logged, its savepoint rolled back,
the other rows kept), so at the end created + updated + failed is the number of data rows; and an unexpected
error of the job itself marks it failed with a message (and is logged) instead of leaving it queued or running.

A worker killed mid-job (SIGKILL, out of memory, a lost machine) cannot mark anything: its chunk's transaction is
rolled back, and the job stays "running" with the cursor (`processed`) of its last committed chunk. The message is
delivered again (acks_late: at once when only the pool process died, after the broker's visibility timeout when
the whole worker did), and `import_jobs_resume_stalled` (beat, every few minutes) queues again a job that no
worker holds (its advisory lock is free) and that has not moved for STALLED_AFTER: both resume after the last
committed chunk. A run holds the job's lock, so two deliveries never run one job at once; a job whose runs were
cut short MAX_RUNS times (a file that kills the worker each time) fails with a message naming what was kept.
"""

from __future__ import annotations

import csv
import datetime
import gc
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pghistory
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.db import DatabaseError, InterfaceError, connection, connections, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.bulk import DeferredInsert, NotDeferrable, deferred_writes, ids_in_blocks, write_deferred
from crm.errors import AppError
from crm.imported import historical_import
from crm.locks import advisory_lock, advisory_lock_free
from crm.models import Membership, MembershipStatus, Role, Tenant, User
from crm.records import last_id
from crm.tenancy import tenant_context
from crm.value_lists import value_lists_can_edit
from imports import files
from imports.files import ImportFileError
from imports.models import MAX_ROW_ERRORS, FileFormat, ImportJob, ImportMapping, ImportStatus
from imports.registry import CREATED, RULE_ERRORS, ImportKind, RowImporter, get_kind
from imports.rows import ImportContext, Row, RowError, RowErrors, cell_from_import, rows_of
from imports.signals import import_job_context, import_job_finished

logger = logging.getLogger(__name__)

# Rows per transaction: small enough that a chunk's savepoints and the round-robin row it updates stay cheap,
# large enough that its bulk lookups (one query per referenced model) are shared by many rows.
CHUNK_SIZE = 1000
MAX_FILE_BYTES: int = settings.IMPORT_MAX_FILE_BYTES  # 1 GB by default, streamed to disk
# Roles whose own permissions the services check when they import; other importing roles (ops) write on behalf
# of the sales team as a system actor, the job and the history still naming them.
ACTING_ROLES = frozenset({Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP})
# First key of a job's advisory lock (the second is the job id): "IMP" in ASCII.
JOB_LOCK = 0x494D50
# A job started this many times without finishing (its worker died each time) fails instead of running again.
MAX_RUNS = 3
# While a job runs, the garbage collector's youngest generation is collected every this many new objects (700
# by default; _collector_set_for_a_job).
JOB_GC_THRESHOLD = 10_000
# A queued or running job that no worker holds and that has not moved for this long is queued again.
STALLED_AFTER = datetime.timedelta(minutes=5)

# Python's csv module refuses a field over 131,072 characters by raising csv.Error, which stopped the whole file.
# The limit is process-wide (the csv module has no per-reader one); raised to the largest file, an over-long cell
# is read and becomes a row error (imports.rows.MAX_CELL_CHARS) while the other rows import.
csv.field_size_limit(max(csv.field_size_limit(), MAX_FILE_BYTES + 1))


def _upload_size(upload: File) -> int:
    size = upload.size
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    upload.seek(0)
    return int(size or 0)


@transaction.atomic
def import_job_create(
    *,
    tenant: Tenant,
    actor: User,
    membership: Membership,
    kind: str,
    file_name: str,
    content: bytes | None = None,
    upload: File | None = None,
    encoding: str = "",
    mapping: dict[str, str] | None = None,
    dry_run: bool = False,
    preview: bool = False,
    use_saved_mapping: bool = False,
    create_missing_owners: bool = False,
    add_missing_values: bool = False,
) -> ImportJob:
    """Store the uploaded file (streamed to the media storage, never read whole) as a job. Queued, the import
    (or the dry run) runs in a Celery task after commit; with `preview` it waits for its mapping to be checked
    in the browser (import_job_start).

    `create_missing_owners` (admins only): unknown owner emails become deactivated members instead of row errors;
    `add_missing_values` (those who edit the value lists): unknown list values are added instead of refused."""
    import_kind = get_kind(kind)
    if import_kind is None or membership.tenant_id != tenant.pk or not import_kind.can_import(membership):
        raise ValidationError({"kind": _("Choose a kind of records you may import.")})
    check_import_options(
        membership=membership,
        create_missing_owners=create_missing_owners,
        add_missing_values=add_missing_values,
    )
    if upload is None:
        upload = ContentFile(content or b"", name=file_name or "import.csv")
    size = _upload_size(upload)
    if not size:
        raise ValidationError({"file": _("The file is empty.")})
    if size > MAX_FILE_BYTES:
        raise ValidationError(
            {
                "file": _("The file is larger than %(mb)d MB; split it.")
                % {"mb": MAX_FILE_BYTES // (1024 * 1024)}
            }
        )
    encoding = (encoding or "").strip().lower()
    if encoding not in ("", *files.ENCODINGS):
        raise ValidationError({"encoding": _("Choose UTF-8 or GB18030, or leave it to be detected.")})
    if mapping is None and use_saved_mapping:
        found = ImportMapping.objects.filter(tenant=tenant, kind=import_kind.key).first()
        mapping = dict(found.mapping) if found else None
    xlsx = files.is_xlsx(upload)
    name = (file_name or ("import.xlsx" if xlsx else "import.csv"))[-255:]
    job = ImportJob(
        tenant=tenant,
        kind=import_kind.key,
        file_name=name,
        file_format=FileFormat.XLSX if xlsx else FileFormat.CSV,
        encoding=encoding,
        mapping=_clean_mapping(import_kind, mapping),
        dry_run=dry_run,
        status=ImportStatus.PREVIEW if preview else ImportStatus.QUEUED,
        created_by=actor,
        options={"create_missing_owners": create_missing_owners, "add_missing_values": add_missing_values},
        language=(translation.get_language() or "")[:10],
    )
    # Streamed to disk chunk by chunk (Django's File.chunks); the storage name carries the tenant.
    job.file.save("upload.xlsx" if xlsx else "upload.csv", upload, save=False)
    job.save()
    if not preview:
        _deliver(tenant, job)
    return job


def check_import_options(
    *, membership: Membership, create_missing_owners: bool, add_missing_values: bool
) -> None:
    """Only admins add people (deactivated members) through an import; only those who edit the company's value
    lists add values to them."""
    errors = {}
    if create_missing_owners and membership.role != Role.ADMIN:
        errors["create_missing_owners"] = _("Only an admin can create missing owners.")
    if add_missing_values and not value_lists_can_edit(membership):
        errors["add_missing_values"] = _("Only an admin can add values to the company's lists.")
    if errors:
        raise ValidationError(errors)


def _deliver(tenant: Tenant, job: ImportJob) -> None:
    from imports.tasks import run_import_job

    run_import_job.delay_on_commit(tenant.pk, job.pk)


def _clean_mapping(kind: ImportKind, mapping: Any) -> dict[str, str]:
    if not mapping:
        return {}
    if not isinstance(mapping, dict):
        raise ValidationError({"mapping": _("The mapping must be an object of source column -> column.")})
    cleaned: dict[str, str] = {}
    for source, target in mapping.items():
        target = "" if target is None else str(target).strip().lower()
        if target and target not in kind.columns:
            raise ValidationError(
                {"mapping": _("“%(column)s” is not a column of this kind.") % {"column": target}}
            )
        cleaned[str(source).strip()[:255]] = target
    return cleaned


def import_job_start(
    *,
    tenant: Tenant,
    membership: Membership,
    job: ImportJob,
    mapping: dict[str, str] | None,
    dry_run: bool,
    encoding: str | None = None,
    save_mapping: bool = False,
    add_missing_values: bool | None = None,
) -> ImportJob:
    """Start a previewed (or dry-run) job with the mapping chosen in the browser: a dry run, or the import.
    Optionally saves the mapping as the tenant's mapping for the kind's next file. `add_missing_values` (None:
    as chosen at upload) is the preview's checkbox: unknown list values are added to the company's lists."""
    kind = get_kind(job.kind)
    if kind is None or not kind.can_import(membership):
        raise ValidationError({"kind": _("Choose a kind of records you may import.")})
    if add_missing_values:
        check_import_options(membership=membership, create_missing_owners=False, add_missing_values=True)
    with tenant_context(tenant):
        locked = ImportJob.objects.select_for_update().get(tenant=tenant, pk=job.pk)
        startable = locked.status == ImportStatus.PREVIEW or (
            locked.dry_run and locked.status == ImportStatus.DONE
        )
        if not startable:
            raise ValidationError(_("This import has already started."))
        if mapping is not None:
            locked.mapping = _clean_mapping(kind, mapping)
        if encoding is not None:
            encoding = encoding.strip().lower()
            if encoding not in ("", *files.ENCODINGS):
                raise ValidationError({"encoding": _("Choose UTF-8 or GB18030, or leave it to be detected.")})
            locked.encoding = encoding
        if add_missing_values is not None:
            locked.options = {**(locked.options or {}), "add_missing_values": add_missing_values}
        if save_mapping:
            ImportMapping.objects.update_or_create(
                tenant=tenant, kind=kind.key, defaults={"mapping": locked.mapping}
            )
        locked.status = ImportStatus.QUEUED
        locked.dry_run = dry_run
        locked.total = locked.processed = locked.created = locked.updated = locked.failed = 0
        locked.row_errors = []
        locked.message = ""
        locked.started_at = locked.finished_at = locked.heartbeat_at = None
        locked.save()
        _deliver(tenant, locked)
        return locked


def import_job_resume(*, tenant: Tenant, membership: Membership, job: ImportJob) -> ImportJob:
    """Deliver a job whose worker died again: it continues after its last committed chunk."""
    kind = get_kind(job.kind)
    if kind is None or not kind.can_import(membership):
        raise ValidationError({"kind": _("Choose a kind of records you may import.")})
    with tenant_context(tenant):
        locked = ImportJob.objects.select_for_update().get(tenant=tenant, pk=job.pk)
        if not locked.is_resumable:
            raise ValidationError(_("This import is not stalled; there is nothing to resume."))
        # A fresh heartbeat: a second press within STALE_AFTER does not deliver it twice.
        locked.heartbeat_at = timezone.now()
        locked.save(update_fields=["heartbeat_at", "updated_at"])
        _deliver(tenant, locked)
        return locked


def saved_mapping(*, tenant: Tenant, kind: ImportKind) -> dict[str, str]:
    with tenant_context(tenant):
        found = ImportMapping.objects.filter(tenant=tenant, kind=kind.key).first()
        return dict(found.mapping) if found else {}


# --- reading the file ---------------------------------------------------------------------------------------------


@contextmanager
def job_reader(
    kind: ImportKind, job: ImportJob, *, values: bool = True
) -> Iterator[tuple[list[str], list[str | None], Iterator[tuple[int, dict[str, str] | None]]]]:
    """(the header as the file spells it, the kind's column of each source column or None, the numbered data
    rows). Raises ImportFileError for a file that cannot be read or that has no column of the kind. `values`
    False: each data row's values are an empty dict (rows counted, not read)."""
    if not job.file:
        raise ImportFileError(_("The uploaded file is no longer there; upload it again."))
    try:
        stream = job.file.storage.open(str(job.file.name), "rb")
    except FileNotFoundError:
        raise ImportFileError(_("The uploaded file is no longer there; upload it again.")) from None
    with (
        stream,
        files.open_rows(stream, xlsx=job.file_format == FileFormat.XLSX, encoding=job.encoding) as rows,
    ):
        header = [name.strip() for name in next(rows, [])]
        targets = files.resolve_columns(kind.columns, header, job.mapping)
        if not any(targets):
            raise ImportFileError(
                _("The first row must be a header naming the columns: %(columns)s.")
                % {"columns": ", ".join(kind.columns)}
            )
        yield header, targets, _numbered_rows(rows, targets if values else [])


def _numbered_rows(
    rows: Iterator[list[str]], targets: list[str | None]
) -> Iterator[tuple[int, dict[str, str] | None]]:
    """(row number, values of the kind's columns) for each record after the header; blank lines give None so
    that row numbers stay those of a spreadsheet. Ignored columns are dropped here."""
    for number, cells in enumerate(rows, start=2):
        if not "".join(cells).strip():  # no cell holds anything but spaces
            yield number, None
            continue
        yield (
            number,
            {
                target: cell_from_import(cell) if cell.startswith("'") else cell
                for target, cell in zip(targets, cells, strict=False)
                if target
            },
        )


def count_rows(kind: ImportKind, job: ImportJob) -> int:
    """The file's data rows (one streamed pass; blank lines are not rows)."""
    with job_reader(kind, job, values=False) as (_header, _targets, rows):
        return sum(1 for _number, values in rows if values is not None)


def header_spelling(header: list[str], targets: list[str | None]) -> dict[str, str]:
    """The kind's columns the file fills -> the source column as the file's header spells it."""
    return {target: source for source, target in zip(header, targets, strict=False) if target}


def preview_rows(
    kind: ImportKind, job: ImportJob, limit: int = 10
) -> tuple[list[str], list[str | None], list[list[str]]]:
    """The header, its detected (or saved) mapping and the first `limit` data rows, as the file has them."""
    if not job.file:
        raise ImportFileError(_("The uploaded file is no longer there; upload it again."))
    with (
        job.file.storage.open(str(job.file.name), "rb") as stream,
        files.open_rows(stream, xlsx=job.file_format == FileFormat.XLSX, encoding=job.encoding) as rows,
    ):
        header = [name.strip() for name in next(rows, [])]
        targets = files.resolve_columns(kind.columns, header, job.mapping)
        first: list[list[str]] = []
        for cells in rows:
            if not any(cell.strip() for cell in cells):
                continue
            first.append(cells + [""] * (len(header) - len(cells)))
            if len(first) >= limit:
                break
        return header, targets, first


# --- running a job ------------------------------------------------------------------------------------------------


def _drop_file(job: ImportJob) -> None:
    if job.file:
        try:
            job.file.storage.delete(str(job.file.name))
        except OSError:
            logger.warning("import job %s: could not delete its file %s", job.pk, job.file.name)


def _settle(tenant: Tenant, job: ImportJob, kind: ImportKind | None) -> None:
    """The kind's work left to the end of a job that stops for good (RowImporter.settle), for what it kept."""
    if kind is not None and not job.dry_run and job.processed:
        kind.importer.settle(tenant=tenant, job=job)


def _fail(tenant: Tenant, job_id: int, message: str) -> None:
    with tenant_context(tenant), transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(tenant=tenant, pk=job_id).first()
        if job is None:
            return
        ImportJob.objects.filter(tenant=tenant, pk=job_id).update(
            status=ImportStatus.FAILED, message=message[:500], finished_at=timezone.now(), file=""
        )
        _settle(tenant, job, get_kind(job.kind))
        transaction.on_commit(lambda: _drop_file(job))


def _start(tenant: Tenant, job_id: int) -> tuple[ImportJob, ImportKind, Membership] | None:
    """Lock the job, check it can run, count its rows and mark it running; None when there is nothing to do."""
    with tenant_context(tenant):
        job = ImportJob.objects.select_for_update().filter(tenant=tenant, pk=job_id).first()
        if job is None or job.is_finished or job.status == ImportStatus.PREVIEW:
            return None
        kind = get_kind(job.kind)
        membership = (
            Membership.objects.select_related("user", "team")
            .filter(tenant=tenant, user_id=job.created_by_id, status=MembershipStatus.ACTIVE)
            .first()
        )
        if job.runs >= MAX_RUNS:
            job.status, job.finished_at = ImportStatus.FAILED, timezone.now()
            job.message = _(
                "The import stopped %(runs)d times without finishing (its worker was lost each time); the "
                "first %(processed)d rows were kept."
            ) % {"runs": job.runs, "processed": job.processed}
            job.save(update_fields=["status", "message", "finished_at", "updated_at"])
            logger.error("import job %s of tenant %s failed after %s runs", job.pk, tenant.pk, job.runs)
            _settle(tenant, job, kind)
            if not job.dry_run:
                transaction.on_commit(lambda: _drop_file(job))
            return None
        try:
            if kind is None:
                raise ImportFileError(_("This kind of records cannot be imported any more."))
            if membership is None or not kind.can_import(membership):
                raise ImportFileError(
                    _("The member who started this import may no longer import these records.")
                )
            if job.status == ImportStatus.QUEUED:
                total = count_rows(kind, job)
        except ImportFileError as exc:
            job.status, job.message, job.finished_at = ImportStatus.FAILED, str(exc), timezone.now()
            job.save(update_fields=["status", "message", "finished_at", "updated_at"])
            _settle(tenant, job, kind)
            if not job.dry_run:
                transaction.on_commit(lambda: _drop_file(job))
            return None
        job.runs += 1
        job.heartbeat_at = timezone.now()
        fields = ["runs", "heartbeat_at", "updated_at"]
        if job.status == ImportStatus.QUEUED:
            job.status = ImportStatus.RUNNING
            job.started_at = timezone.now()
            job.total = total
            job.id_floor = last_id(kind.model) if kind.model is not None else None
            fields += ["status", "started_at", "total", "id_floor"]
        else:
            logger.warning(
                "import job %s of tenant %s resumes after %s rows (run %s)",
                job.pk,
                tenant.pk,
                job.processed,
                job.runs,
            )
        job.save(update_fields=fields)
        return job, kind, membership


def _chunks(
    rows: Iterator[tuple[int, dict[str, str] | None]], skip: int
) -> Iterator[list[tuple[int, dict[str, str]]]]:
    """Chunks of data rows, after the first `skip` data rows (already committed by an earlier run)."""
    chunk: list[tuple[int, dict[str, str]]] = []
    seen = 0
    for number, values in rows:
        if values is None:
            continue
        seen += 1
        if seen <= skip:
            continue
        chunk.append((number, values))
        if len(chunk) >= CHUNK_SIZE:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _errors_of(exc: Exception, importer: RowImporter, kind: ImportKind) -> list[tuple[str, str]]:
    """(column, reason) pairs for one failed row."""
    if isinstance(exc, RowErrors):
        return [(error.column, error.reason) for error in exc.errors]
    if isinstance(exc, RowError):
        return [(exc.column, exc.reason)]
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            found = []
            for name, messages in exc.message_dict.items():
                column = importer.field_columns.get(name, name if name in kind.columns else "")
                found.append((column, " ".join(messages)))
            return found
        return [("", " ".join(exc.messages))]
    if isinstance(exc, PermissionDenied):
        return [("", str(exc) or _("You may not change this record."))]
    if isinstance(exc, ObjectDoesNotExist):
        return [("", _("A record this row refers to does not exist."))]
    if isinstance(exc, AppError):
        return [("", str(exc))]
    return [("", _("The database refused this row (a value is too long or out of range)."))]


ROW_ERRORS = (*RULE_ERRORS, DatabaseError)
# A closed connection is the job's problem, not the row's (every later row would fail the same way).
CONNECTION_ERRORS = (InterfaceError,)


def _row_report(row: Row, exc: Exception, importer: RowImporter, kind: ImportKind) -> list[dict[str, Any]]:
    """The row's error entries: every bad cell it collected, then what `exc` adds about other columns (a
    consequence of a bad cell, such as a deal without its unknown account, is not reported twice); each column
    named as the file's header spells it, or said to be missing from the file."""
    found = [(error.column, error.reason) for error in row.errors]
    named = {column for column, _reason in found}
    if not isinstance(exc, RowErrors):
        found += [
            (column, reason)
            for column, reason in _errors_of(exc, importer, kind)
            if not column or column not in named
        ]
    header = importer.context.header
    entries = []
    for column, reason in found:
        if column and column not in header:
            missing = _("(The file has no “%(column)s” column.)") % {"column": column}
            reason = f"{reason} {missing}"
        entries.append({"row": row.number, "column": header.get(column, column), "reason": reason})
    return entries


class JobMovedOn(Exception):
    """Another runner committed chunks of this job since this one read its cursor: this runner stops."""


def _tally(
    done: list[tuple[Row, str | Exception]],
    errors: list[dict[str, Any]],
    importer: RowImporter,
    kind: ImportKind,
) -> tuple[int, int, int]:
    """(created, updated, failed) of a set's outcomes; the failed rows' reports go to `errors`."""
    created = updated = failed = 0
    for row, outcome in done:
        if isinstance(outcome, Exception):
            failed += 1
            errors.extend(_row_report(row, outcome, importer, kind))
        elif outcome == CREATED:
            created += 1
        else:
            updated += 1
    return created, updated, failed


def _set_outcomes(
    importer: RowImporter, rows: list[Row]
) -> tuple[dict[int, str | Exception], list[tuple[Row, str | Exception]]]:
    """RowImporter.import_many's outcomes, by index and as (row, outcome) in the file's order. Raises if a row it
    wrote has bad cells: a kind that wrote such a row keeps none of the set."""
    outcomes = importer.import_many(rows)
    done = [(rows[index], outcome) for index, outcome in sorted(outcomes.items())]
    for row, outcome in done:
        if not isinstance(outcome, Exception):
            row.check()
    return outcomes, done


def _run_bulk(
    importer: RowImporter, rows: list[Row], chunk: list[tuple[int, dict[str, str]]], context: ImportContext
) -> tuple[list[tuple[Row, str | Exception]], list[Row]]:
    """The chunk's rows that the kind writes as a set (RowImporter.import_many, in one savepoint): their outcomes
    (CREATED, UPDATED or the row's error), and the rows left to write one by one. When the database refuses the
    set (a constraint another writer raced to, a value only it checks), the savepoint is rolled back and every
    row of the chunk is written one by one instead, so each row still succeeds or fails on its own."""
    if type(importer).import_many is RowImporter.import_many:
        return [], rows
    remembered = {model: dict(records) for model, records in context.records.items()}
    try:
        with transaction.atomic():
            outcomes, done = _set_outcomes(importer, rows)
    except CONNECTION_ERRORS:
        raise
    except Exception:
        # The database refused the set, or a bug: the rows one by one report (and log) what is wrong with each.
        logger.info("import: a chunk's set write was refused; its rows are written one by one", exc_info=True)
        context.records.clear()
        context.records.update(remembered)
        # Fresh rows: the set write's parsing left its cell errors on the old ones.
        return [], rows_of(chunk, context)
    left = [row for index, row in enumerate(rows) if index not in outcomes]
    return done, left


def _record_chunk(
    tenant: Tenant,
    job: ImportJob,
    locked: ImportJob,
    rows: int,
    counts: tuple[int, int, int],
    errors: list[dict[str, Any]],
    added: dict[str, Any],
) -> None:
    """Move the job's cursor and counts past a chunk, in the chunk's transaction (`locked`: the job's row, locked)."""
    created, updated, failed = counts
    errors.sort(key=lambda entry: entry["row"])  # the set's rows and the others, in the file's order
    room = MAX_ROW_ERRORS - len(locked.row_errors)
    now = timezone.now()
    ImportJob.objects.filter(tenant=tenant, pk=job.pk).update(
        processed=F("processed") + rows,
        created=F("created") + created,
        updated=F("updated") + updated,
        failed=F("failed") + failed,
        row_errors=locked.row_errors + errors[: max(room, 0)],
        added=added,
        heartbeat_at=now,
        updated_at=now,
    )


def _locked_job(tenant: Tenant, job: ImportJob, cursor: int) -> ImportJob:
    """The job's row, locked for the chunk's transaction; JobMovedOn unless its cursor is still `cursor`."""
    locked = (
        ImportJob.objects.select_for_update().only("processed", "row_errors").get(tenant=tenant, pk=job.pk)
    )
    if locked.processed != cursor:
        raise JobMovedOn
    return locked


def _run_chunk(
    *,
    tenant: Tenant,
    job: ImportJob,
    kind: ImportKind,
    importer: RowImporter,
    chunk: list[tuple[int, dict[str, str]]],
    cursor: int,
) -> None:
    """One transaction: the chunk's rows (each in a savepoint) and the job's cursor (`processed`, the data rows
    committed), counts, heartbeat and error report. The job's row is locked first and its cursor must be
    `cursor`, so two runners of one job (a resumed job whose first worker was only slow) never write a chunk
    twice. In a dry run the rows are written and rolled back (the same rules, nothing kept)."""
    context = importer.context
    errors: list[dict[str, Any]] = []
    with tenant_context(tenant), pghistory.context(user=context.user.pk, import_job=job.pk):
        locked = _locked_job(tenant, job, cursor)
        rows = rows_of(chunk, context)
        with transaction.atomic():
            importer.prepare(rows)
            done, rows = _run_bulk(importer, rows, chunk, context)
            created, updated, failed = _tally(done, errors, importer, kind)
            for row in rows:
                try:
                    with transaction.atomic():
                        outcome = importer.import_row(row)
                        # A kind that wrote without calling row.check() still does not keep a row with bad cells.
                        row.check()
                except CONNECTION_ERRORS:
                    raise
                except ROW_ERRORS as exc:
                    failed += 1
                    errors.extend(_row_report(row, exc, importer, kind))
                    continue
                except Exception:
                    # A bug or an unforeseen value: this row only (its savepoint is rolled back), logged for us.
                    logger.exception(
                        "import job %s of tenant %s: row %s raised unexpectedly",
                        job.pk,
                        tenant.pk,
                        row.number,
                    )
                    failed += 1
                    generic = RowError("", _("This row could not be imported (an unexpected error)."))
                    errors.extend(_row_report(row, generic, importer, kind))
                    continue
                if outcome == CREATED:
                    created += 1
                else:
                    updated += 1
            if job.dry_run:
                transaction.set_rollback(True)
        _record_chunk(tenant, job, locked, len(chunk), (created, updated, failed), errors, context.added)
    if job.dry_run:
        # the rolled-back rows must not be found by later chunks' lookups
        context.records.clear()
    context.forget_chunk()


# --- chunks checked ahead, written behind ---------------------------------------------------------------------------
#
# A chunk's work is two halves of about equal size: Python checks its rows by the services' rules (reading what
# they need), then the database writes them (COPY, the INSERT with its indexes and triggers, the commit's foreign-key
# checks). One after the other they keep one of the machine's cores busy. Written behind, chunk N+1 is checked on
# the job's connection while a writer thread inserts and commits chunk N on a connection of its own.
#
# The check of chunk N+1 runs in a transaction that only reads (crm.bulk.deferred_writes: copy_insert hands over
# its rows with their ids, any other write or row lock refuses): it is committed before the writer takes the rows,
# so it holds no lock the writer could wait for. The writer's transaction is the chunk's transaction of the
# ordinary path: the job's row locked and its cursor checked, the rows, the cursor and counts moved, one commit.
# Chunks are committed in the file's order, one at a time, so the cursor and a resume work as before.
#
# What the check of chunk N+1 cannot see is chunk N's rows, not committed yet. A chunk that names (in any cell) an
# external id chunk N is writing waits for that commit before it is checked (a repeated id still updates; a
# child's parent is found). A chunk that writes anything else while checked (assignment's round-robin, a lead
# rescored, a list value or member added), updates records (their reads lock them), or leaves rows to be written
# one by one is done the ordinary way after the writer's chunk, as is a chunk the database refuses in the writer.


# Chunks that go the ordinary way, at most, after one that could not be checked ahead (_run_chunks_behind).
MAX_BACKOFF = 64


@dataclass
class _Plan:
    """A chunk checked ahead: its rows' outcomes and the inserts its transaction will make."""

    chunk: list[tuple[int, dict[str, str]]]
    cursor: int
    inserts: list[DeferredInsert]
    counts: tuple[int, int, int]
    errors: list[dict[str, Any]]
    names: frozenset[str]


def _write_behind_possible(job: ImportJob, importer: RowImporter) -> bool:
    context = importer.context
    return (
        settings.IMPORT_WRITE_BEHIND
        and not job.dry_run
        and type(importer).import_many is not RowImporter.import_many
        # Its chunks add members or list values while they are checked: writes, done the ordinary way anyway.
        and not context.create_missing_owners
        and not context.add_missing_values
        # Inside a transaction (a test's) nothing commits, and a second connection would see none of it.
        and not connection.in_atomic_block
    )


def _check_ahead(
    *,
    tenant: Tenant,
    job: ImportJob,
    kind: ImportKind,
    importer: RowImporter,
    chunk: list[tuple[int, dict[str, str]]],
    cursor: int,
) -> _Plan | None:
    """Check a chunk's rows as _run_chunk would, in a transaction that only reads; None when the chunk cannot be
    split into these reads and later inserts (then _run_chunk does it)."""
    context = importer.context
    rows = rows_of(chunk, context)
    try:
        with (
            tenant_context(tenant),
            pghistory.context(user=context.user.pk, import_job=job.pk),
            deferred_writes() as inserts,
        ):
            importer.prepare(rows)
            outcomes, done = _set_outcomes(importer, rows)
            if len(outcomes) != len(rows):
                raise NotDeferrable("rows left to be written one by one")
    except CONNECTION_ERRORS:
        raise
    except Exception as exc:
        if not isinstance(exc, NotDeferrable):
            logger.info(
                "import: a chunk could not be checked ahead; it is written the ordinary way", exc_info=True
            )
        context.forget_chunk()
        return None
    errors: list[dict[str, Any]] = []
    counts = _tally(done, errors, importer, kind)
    names = frozenset(
        name for insert in inserts for obj in insert.objs if (name := getattr(obj, "external_id", ""))
    )
    context.forget_chunk()
    return _Plan(chunk=chunk, cursor=cursor, inserts=inserts, counts=counts, errors=errors, names=names)


def _names_any(chunk: list[tuple[int, dict[str, str]]], names: frozenset[str]) -> bool:
    return any(value.strip() in names for _number, values in chunk for value in values.values() if value)


def _write_plan(tenant: Tenant, job: ImportJob, plan: _Plan, added: dict[str, Any]) -> None:
    """The writer thread: a checked chunk's transaction (its inserts, the job's cursor and counts)."""
    with tenant_context(tenant):
        locked = _locked_job(tenant, job, plan.cursor)
        write_deferred(plan.inserts)
        _record_chunk(tenant, job, locked, len(plan.chunk), plan.counts, plan.errors, added)


class _Writer:
    """One thread with a connection of its own that commits checked chunks, one at a time, in order."""

    def __init__(self, *, tenant: Tenant, job: ImportJob, kind: ImportKind, importer: RowImporter) -> None:
        self.tenant, self.job, self.kind, self.importer = tenant, job, kind, importer
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")
        self.future: Future[None] | None = None
        self.plan: _Plan | None = None

    @property
    def names(self) -> frozenset[str]:
        return self.plan.names if self.plan is not None else frozenset()

    def submit(self, plan: _Plan) -> None:
        self.settle()
        self.plan = plan
        self.future = self.pool.submit(
            _write_plan, self.tenant, self.job, plan, dict(self.importer.context.added)
        )

    def settle(self) -> None:
        """Wait for the chunk in flight; one the database refused is written again the ordinary way (its rows one
        by one if the set is refused again), so each row still succeeds or fails on its own."""
        future, plan = self.future, self.plan
        self.future = self.plan = None
        if future is None or plan is None:
            return
        try:
            future.result()
        except (JobMovedOn, *CONNECTION_ERRORS):
            raise
        except Exception:
            logger.info(
                "import: a chunk written behind was refused; it is written the ordinary way", exc_info=True
            )
            _run_chunk(
                tenant=self.tenant,
                job=self.job,
                kind=self.kind,
                importer=self.importer,
                chunk=plan.chunk,
                cursor=plan.cursor,
            )

    def close(self) -> None:
        """After the last chunk, or when the job stops: the chunk in flight commits (or not) before anything else
        looks at the job; the thread's connection is closed."""
        try:
            if self.future is not None:
                self.future.exception()  # wait; what went wrong is the caller's to report, or settle()'s
        finally:
            self.pool.submit(connections.close_all).result()
            self.pool.shutdown()


def _run_chunks_behind(
    tenant: Tenant,
    job: ImportJob,
    kind: ImportKind,
    importer: RowImporter,
    chunks: Iterator[list],
    cursor: int,
) -> int:
    """Run the chunks, each checked while the writer commits the one before; returns the cursor after them."""
    writer = _Writer(tenant=tenant, job=job, kind=kind, importer=importer)
    # A file's chunks are alike (a first import creates, a file imported again updates): after a chunk that could
    # not be checked ahead, the next ones go the ordinary way at once, 1, 2, 4 ... up to 64 of them before the next
    # try, so a file of updates does not check each chunk twice.
    ordinary = backoff = 0
    try:
        for chunk in chunks:
            plan = None
            if ordinary:
                ordinary -= 1
            else:
                if writer.names and _names_any(chunk, writer.names):
                    writer.settle()  # it names a record the chunk in flight creates: checked once that commits
                plan = _check_ahead(
                    tenant=tenant, job=job, kind=kind, importer=importer, chunk=chunk, cursor=cursor
                )
                backoff = min(backoff * 2 or 1, MAX_BACKOFF) if plan is None else 0
                ordinary = backoff
            if plan is None:
                writer.settle()
                _run_chunk(tenant=tenant, job=job, kind=kind, importer=importer, chunk=chunk, cursor=cursor)
            else:
                writer.submit(plan)
            cursor += len(chunk)
        writer.settle()
    finally:
        writer.close()
    return cursor


def import_job_run(*, tenant: Tenant, job_id: int) -> None:
    """Run (or resume) a job: not one transaction on purpose, each chunk commits on its own (see the module's
    docstring). Side effects: the records of the file, through their apps' services. An unexpected error marks
    the job failed (rows of committed chunks are kept) and is logged; it never leaves the job queued or running,
    unless the database cannot even be told (then the error is raised for the task's log). Its messages and row
    errors are written in the job's language (_job_language), whatever language the worker runs in."""
    with translation.override(_job_language(tenant, job_id)):
        try:
            _run_job(tenant, job_id)
        except Exception:
            logger.exception("import job %s of tenant %s failed", job_id, tenant.pk)
            try:
                _fail(
                    tenant,
                    job_id,
                    _("The import stopped because of an unexpected error; the rows before it were kept."),
                )
            except Exception:
                logger.exception("import job %s of tenant %s could not be marked failed", job_id, tenant.pk)
                raise


def _job_language(tenant: Tenant, job_id: int) -> str:
    """The language a job's stored messages are written in (they are text, read by whoever opens the job): the
    one of the pages its upload came from; for a job stored before it was kept, the uploader's own language, else
    the company's, as crm.middleware chooses a page's."""
    with tenant_context(tenant):
        found = (
            ImportJob.objects.filter(tenant=tenant, pk=job_id)
            .values_list("language", "created_by__language")
            .first()
        )
    job_language, user_language = found if found is not None else ("", "")
    return job_language or user_language or tenant.default_locale


def _run_job(tenant: Tenant, job_id: int) -> None:
    with advisory_lock(JOB_LOCK, job_id) as acquired:
        if not acquired:
            logger.info("import job %s of tenant %s is already running elsewhere", job_id, tenant.pk)
            return
        with _collector_set_for_a_job():
            _run_locked_job(tenant, job_id)


@contextmanager
def _collector_set_for_a_job() -> Iterator[None]:
    """Python's garbage collector, set for a job. A job makes and drops thousands of instances a chunk, and the
    collector ran thousands of times an import (every 700 new objects), each of its rarer full runs going through
    every object of the worker again (Django's and the apps' modules, classes and caches: some 150,000); that was a
    seventh of an activities import's time (bench/README). While the job runs, the objects that were there before
    it are frozen (gc.freeze: a generation that is never collected) and the youngest generation is collected every
    10,000 new objects. Afterwards they go back to the oldest generation and the thresholds are as before; nothing
    is lost (garbage among the frozen objects is collected later, as before), and the job's own objects are
    collected as they would be. The collector is the process's: with jobs running at once in one process (the inline
    worker's threads), the first to start sets it and the last to end puts it back."""
    with _COLLECTOR_LOCK:
        if not _collector_jobs:
            _collector_jobs.append(gc.get_threshold())
            gc.freeze()
            gc.set_threshold(JOB_GC_THRESHOLD, *_collector_jobs[0][1:])
        _collector_jobs.append(None)
    try:
        yield
    finally:
        with _COLLECTOR_LOCK:
            _collector_jobs.pop()
            if len(_collector_jobs) == 1:
                gc.set_threshold(*_collector_jobs.pop())
                gc.unfreeze()


# The thresholds before the first running job (first item), then one item per job running in this process.
_collector_jobs: list[Any] = []
_COLLECTOR_LOCK = threading.Lock()


def _run_locked_job(tenant: Tenant, job_id: int) -> None:
    started = _start(tenant, job_id)
    if started is None:
        return
    job, kind, membership = started
    held: dict = {}
    try:
        with import_job_context(tenant.pk) as held, historical_import():
            _run_started_job(tenant, job_id, job, kind, membership)
    finally:
        # Once per job, after its last commit (also when it stopped after some chunks): the apps that held back
        # their per-record reactions while it ran (imports.signals) react now. A dry run kept nothing.
        if not job.dry_run:
            import_job_finished.send(sender=ImportJob, tenant=tenant, job_id=job_id, kind=kind.key, held=held)


def _run_started_job(
    tenant: Tenant, job_id: int, job: ImportJob, kind: ImportKind, membership: Membership
) -> None:
    user = membership.user
    context = ImportContext(
        tenant=tenant,
        user=user,
        membership=membership,
        actor=user if membership.role in ACTING_ROLES else None,
        create_missing_owners=bool(job.options.get("create_missing_owners")),
        add_missing_values=bool(job.options.get("add_missing_values")),
        added=dict(job.added or {}),
    )
    importer = kind.importer(context)
    cursor = job.processed
    try:
        # New rows' ids come from their sequences in blocks (taken after the job's id_floor, so every row the job
        # writes has an id above it).
        with ids_in_blocks(), job_reader(kind, job) as (header, targets, rows):
            context.header = header_spelling(header, targets)
            if _write_behind_possible(job, importer):
                cursor = _run_chunks_behind(tenant, job, kind, importer, _chunks(rows, skip=cursor), cursor)
            else:
                for chunk in _chunks(rows, skip=cursor):
                    _run_chunk(
                        tenant=tenant, job=job, kind=kind, importer=importer, chunk=chunk, cursor=cursor
                    )
                    cursor += len(chunk)
    except ImportFileError as exc:
        _fail(tenant, job_id, str(exc))
        return
    except JobMovedOn:
        logger.warning(
            "import job %s of tenant %s: another runner moved it on; this one stops", job_id, tenant.pk
        )
        return
    with tenant_context(tenant):
        locked = ImportJob.objects.select_for_update().only("processed").get(tenant=tenant, pk=job_id)
        if locked.processed != cursor:
            return  # another runner finishes it
        if not job.dry_run:
            importer.finish()
            kind.importer.settle(tenant=tenant, job=job)
        ImportJob.objects.filter(tenant=tenant, pk=job_id).update(
            status=ImportStatus.DONE,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
            **({} if job.dry_run else {"file": ""}),
        )
        if not job.dry_run:
            transaction.on_commit(lambda: _drop_file(job))


def import_jobs_resume_stalled(*, tenant: Tenant, now: datetime.datetime | None = None) -> list[int]:
    """Queue again the tenant's jobs that no worker runs: running ones whose worker died (their lock is free) and
    queued ones whose message was lost or never sent (the broker was down at upload), once they have not moved
    for STALLED_AFTER. Each resumes after its last committed chunk (or fails after MAX_RUNS). Returns their ids.
    Side effect: their `updated_at` is set to now, so one is queued again at most once per STALLED_AFTER."""
    from imports.tasks import run_import_job

    now = now or timezone.now()
    with tenant_context(tenant):
        stalled = list(
            ImportJob.objects.filter(
                tenant=tenant,
                status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING],
                updated_at__lt=now - STALLED_AFTER,
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    resumed = [pk for pk in stalled if advisory_lock_free(JOB_LOCK, pk)]
    if resumed:
        with tenant_context(tenant):
            ImportJob.objects.filter(tenant=tenant, pk__in=resumed).update(updated_at=now)
        for pk in resumed:
            logger.warning("import job %s of tenant %s stalled: queued again", pk, tenant.pk)
            run_import_job.delay(tenant.pk, pk)
    return resumed
