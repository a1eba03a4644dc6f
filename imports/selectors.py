"""Reads of the imports app: the jobs a member may see, and CSV exports streamed from the kinds' list selectors."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from django.db.models import QuerySet
from django.http import QueryDict
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from crm.models import Membership, Role, Tenant
from crm.tenancy import tenant_context
from imports.models import ImportJob
from imports.registry import ImportKind
from imports.rows import cell_for_export

# Admins and ops see every import of the company; everyone else their own.
SEES_ALL_JOBS = frozenset({Role.ADMIN, Role.OPS})
RECENT_JOBS = 50
EXPORT_CHUNK = 2000
BOM = "\ufeff"


def import_job_queryset(*, tenant: Tenant, membership: Membership) -> QuerySet[ImportJob]:
    qs = ImportJob.objects.filter(tenant=tenant)
    if membership.role not in SEES_ALL_JOBS:
        qs = qs.filter(created_by_id=membership.user_id)
    return qs


def import_job_list(
    *, tenant: Tenant, membership: Membership, limit: int = RECENT_JOBS
) -> QuerySet[ImportJob]:
    """The most recent jobs the member may see, newest first, with who started them (one query)."""
    return (
        import_job_queryset(tenant=tenant, membership=membership)
        .select_related("created_by")
        .defer("row_errors")
        .order_by("-created_at", "-id")[:limit]
    )


def import_job_get(*, tenant: Tenant, membership: Membership, pk: int) -> ImportJob:
    """One visible job (ImportJob.DoesNotExist otherwise: another tenant's or another member's job is a 404)."""
    return import_job_queryset(tenant=tenant, membership=membership).select_related("created_by").get(pk=pk)


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_line(values: list[Any]) -> str:
    """One CSV line; cells a spreadsheet would run as a formula are defused (imports.rows.cell_for_export)."""
    return csv.writer(_Echo()).writerow([cell_for_export(value) for value in values])  # type: ignore[arg-type]


def template_csv(kind: ImportKind) -> str:
    return BOM + csv_line(list(kind.columns))


def _export_line(kind: ImportKind, obj: Any) -> str:
    values = kind.export_row(obj)
    return csv_line([values.get(column, "") for column in kind.columns])


def export_head(
    *, tenant: Tenant, membership: Membership, kind: ImportKind, params: QueryDict
) -> tuple[list[str], int | None]:
    """The header and the first EXPORT_CHUNK rows of an export, read in the caller's (the request's)
    transaction, so that an error here is the view's (a 500 or the API's error answer, never a short file);
    and the pk after which export_lines goes on, None when these were all the rows."""
    lines = [BOM + csv_line(list(kind.columns))]
    first = list(kind.export_queryset(tenant, membership, params).order_by("pk")[:EXPORT_CHUNK])
    lines.extend(_export_line(kind, obj) for obj in first)
    return lines, (first[-1].pk if len(first) == EXPORT_CHUNK else None)


def export_lines(
    *,
    tenant: Tenant,
    membership: Membership,
    kind: ImportKind,
    params: QueryDict,
    after_pk: int | None = None,
) -> Iterator[str]:
    """The CSV lines of an export, read in chunks from a server-side cursor (a million rows never sit in memory):
    the header and every row, or with `after_pk` (see export_head) only the rows after it.

    A streaming response is consumed after the view returned, outside the request's tenant transaction, so the
    generator opens its own tenant_context (the ORM scope, RLS and the transaction the cursor needs)."""
    with tenant_context(tenant):
        rows = kind.export_queryset(tenant, membership, params)
        if after_pk is None:
            yield BOM + csv_line(list(kind.columns))
        else:
            rows = rows.filter(pk__gt=after_pk)
        for obj in rows.order_by("pk").iterator(chunk_size=EXPORT_CHUNK):
            yield _export_line(kind, obj)


def export_file_name(*, tenant: Tenant, kind: ImportKind, now: Any, extension: str = "csv") -> str:
    return f"{tenant.slug}-{kind.key}-{now:%Y%m%d-%H%M}.{extension}"


def export_xlsx(*, tenant: Tenant, membership: Membership, kind: ImportKind, params: QueryDict) -> IO[bytes]:
    """The export as an XLSX workbook (one sheet, the import's columns), in a temporary file rewound to its start.

    Read in the caller's (the request's) transaction, so an error is an ordinary error answer, never a short file.
    openpyxl's write-only workbook writes each row to disk as it comes and the rows are read in chunks from a
    server-side cursor, so memory stays flat however many rows there are; the file is then streamed out. Every
    cell is a text cell (a spreadsheet never runs a text cell as a formula, so nothing needs an apostrophe, and
    the values are exactly the CSV's)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=kind.key[:31])

    def text_row(values: list[Any]) -> list[WriteOnlyCell]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=None if value in (None, "") else str(value))
            if cell.value is not None:
                cell.data_type = "s"  # openpyxl would take a leading "=" for a formula
            cells.append(cell)
        return cells

    sheet.append(text_row(list(kind.columns)))
    rows = kind.export_queryset(tenant, membership, params).order_by("pk")
    for obj in rows.iterator(chunk_size=EXPORT_CHUNK):
        values = kind.export_row(obj)
        sheet.append(text_row([values.get(column, "") for column in kind.columns]))
    output = tempfile.TemporaryFile()  # noqa: SIM115 - the streaming response closes it
    workbook.save(output)
    output.seek(0)
    return output


def errors_csv_lines(job: ImportJob) -> Iterator[str]:
    yield BOM + csv_line(["row", "column", "reason"])
    for error in job.row_errors:
        yield csv_line([error.get("row", ""), error.get("column", ""), error.get("reason", "")])
