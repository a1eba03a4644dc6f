"""Pages of the imports app under /t/<slug>/: the upload page with the recent jobs, a job's page whose progress
polls by htmx until the job is done, its error report as CSV, the template CSVs and the exports."""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Iterator
from typing import cast

from django.core.exceptions import ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.decorators import tenant_member_required
from crm.types import TenantHttpRequest
from crm.value_lists import value_lists_can_edit
from crm.viewutils import apply_validation_error
from imports import selectors, services
from imports.files import ImportFileError
from imports.forms import ImportForm
from imports.models import ImportJob, ImportStatus
from imports.registry import ImportKind, get_kind, importable_kinds

logger = logging.getLogger(__name__)


def _csv_response(lines: Iterator[str], file_name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response["Cache-Control"] = "no-store"
    return response


def _importable(request: TenantHttpRequest) -> list[ImportKind]:
    kinds = importable_kinds(request.membership)
    if not kinds:
        raise Http404
    return kinds


@require_http_methods(["GET", "POST"])
@tenant_member_required
def import_list(request: TenantHttpRequest, slug: str) -> HttpResponse:
    """Upload a file (kind + CSV) and see the recent imports."""
    kinds = _importable(request)
    form = ImportForm(
        request.POST or None,
        request.FILES or None,
        membership=request.membership,
        initial={"kind": request.GET.get("kind")},
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        preview = request.POST.get("action") == "preview"
        try:
            job = services.import_job_create(
                tenant=request.tenant,
                actor=request.user,
                membership=request.membership,
                kind=form.cleaned_data["kind"],
                file_name=upload.name,
                create_missing_owners=form.cleaned_data.get("create_missing_owners") or False,
                add_missing_values=form.cleaned_data.get("add_missing_values") or False,
                upload=upload,
                encoding=form.cleaned_data.get("encoding") or "",
                preview=preview,
                use_saved_mapping=True,
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if preview:
                return redirect("imports:import-preview", slug=slug, pk=job.pk)
            return redirect("imports:import-detail", slug=slug, pk=job.pk)
    context = {
        "form": form,
        "kinds": kinds,
        "jobs": selectors.import_job_list(tenant=request.tenant, membership=request.membership),
    }
    return render(request, "imports/import_list.html", context, status=400 if form.errors else 200)


def _job(request: TenantHttpRequest, pk: int) -> ImportJob:
    try:
        return selectors.import_job_get(tenant=request.tenant, membership=request.membership, pk=pk)
    except ImportJob.DoesNotExist:
        raise Http404 from None


@require_GET
@tenant_member_required
def import_detail(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    """A job's progress, counts and row errors; the progress part re-polls itself (htmx) while the job runs."""
    job = _job(request, pk)
    if job.status == ImportStatus.PREVIEW and not request.htmx:
        return redirect("imports:import-preview", slug=slug, pk=job.pk)
    context = {"job": job, "kind": get_kind(job.kind)}
    if request.htmx:
        return render(request, "imports/partials/_import_progress.html", context)
    return render(request, "imports/import_detail.html", context)


@require_http_methods(["GET", "POST"])
@tenant_member_required
def import_preview(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    """The first rows of an uploaded file with the detected (or saved) column mapping; the member maps columns
    by hand (or ignores them), may save the mapping for the kind's next file, and starts a dry run or the
    import."""
    job = _job(request, pk)
    kind = get_kind(job.kind)
    if kind is None or not kind.can_import(request.membership):
        raise Http404
    startable = job.status == ImportStatus.PREVIEW or (job.dry_run and job.status == ImportStatus.DONE)
    if not startable:
        return redirect("imports:import-detail", slug=slug, pk=job.pk)
    error = ""
    can_add_values = value_lists_can_edit(request.membership)
    if request.method == "POST":
        try:
            header_count = int(request.POST.get("columns", "0") or 0)
        except ValueError:
            header_count = 0
        # No columns posted (the job page's "Import now" after a dry run): the job keeps its mapping.
        mapping = (
            {
                request.POST.get(f"source-{index}", ""): request.POST.get(f"target-{index}", "")
                for index in range(min(header_count, 1000))
                if request.POST.get(f"source-{index}", "")
            }
            if "columns" in request.POST
            else None
        )
        try:
            services.import_job_start(
                tenant=request.tenant,
                membership=request.membership,
                job=job,
                mapping=mapping,
                encoding=request.POST.get("encoding"),
                dry_run=request.POST.get("action") == "dry_run",
                save_mapping=request.POST.get("save_mapping") == "on",
                # The checkbox is only offered to those who edit the lists; the job keeps its option otherwise.
                add_missing_values=(
                    request.POST.get("add_missing_values") == "on"
                    if can_add_values and "columns" in request.POST
                    else None
                ),
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            return redirect("imports:import-detail", slug=slug, pk=job.pk)
    try:
        header, targets, rows = services.preview_rows(kind, job)
    except ImportFileError as exc:
        header, targets, rows, error = [], [], [], str(exc)
    columns = [
        {"index": index, "source": source, "target": target or ""}
        for index, (source, target) in enumerate(zip(header, targets, strict=False))
    ]
    context = {
        "job": job,
        "kind": kind,
        "columns": columns,
        "rows": rows,
        "error": error,
        "encodings": [("", _("Detect")), ("utf-8", "UTF-8"), ("gb18030", "GB18030 / GBK")],
        "missing": [column for column in kind.columns if column not in set(targets)],
        "can_add_values": can_add_values,
        "add_missing_values": bool((job.options or {}).get("add_missing_values")),
    }
    return render(request, "imports/import_preview.html", context, status=400 if error else 200)


@require_POST
@tenant_member_required
def import_resume(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Deliver a job whose worker died again; it continues after its last committed chunk."""
    job = _job(request, pk)
    # Not stalled (any more): the job page shows where it is.
    with contextlib.suppress(ValidationError):
        services.import_job_resume(tenant=request.tenant, membership=request.membership, job=job)
    return redirect("imports:import-detail", slug=slug, pk=job.pk)


@require_GET
@tenant_member_required
def import_errors(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    job = _job(request, pk)
    # The guards type views as returning HttpResponse; a streamed CSV is served the same way.
    lines = selectors.errors_csv_lines(job)
    return cast(HttpResponse, _csv_response(lines, f"{request.tenant.slug}-import-{job.pk}-errors.csv"))


@require_GET
@tenant_member_required
def import_template(request: TenantHttpRequest, slug: str, kind: str) -> HttpResponse:
    """An empty CSV with the kind's header row."""
    found = get_kind(kind)
    if found is None or not found.can_import(request.membership):
        raise Http404
    response = HttpResponse(selectors.template_csv(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{request.tenant.slug}-{found.key}-template.csv"'
    return response


def _aborting(lines: Iterator[str], *, tenant_id: int, kind: str) -> Iterator[str]:
    """The export's remaining lines; an error logs and re-raises, which aborts the transfer (see export_response)."""
    try:
        yield from lines
    except Exception:
        logger.exception(
            "export of %s for tenant %s failed while streaming; transfer aborted", kind, tenant_id
        )
        raise


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Query parameters that choose the file, not the rows (the list's filters get the others).
FORMAT_PARAMS = ("format",)


def export_params(request: TenantHttpRequest) -> QueryDict:
    params = request.GET.copy()
    for name in FORMAT_PARAMS:
        params.pop(name, None)
    return params


def export_xlsx_response(request: TenantHttpRequest, kind: str) -> FileResponse:
    """The XLSX of a kind for the request's member, with the list page's filters (imports.selectors.export_xlsx:
    built on disk in the request's transaction, then streamed)."""
    found = get_kind(kind)
    if found is None or not found.can_export(request.membership):
        raise Http404
    output = selectors.export_xlsx(
        tenant=request.tenant, membership=request.membership, kind=found, params=export_params(request)
    )
    name = selectors.export_file_name(
        tenant=request.tenant,
        kind=found,
        now=timezone.localtime(timezone.now(), request.tenant.tzinfo),
        extension="xlsx",
    )
    response = FileResponse(output, as_attachment=True, filename=name, content_type=XLSX_TYPE)
    response["Cache-Control"] = "no-store"
    return response


def export_response(request: TenantHttpRequest, kind: str) -> StreamingHttpResponse:
    """The streamed CSV of a kind for the request's member, with the list page's filters (the query string).

    An export never ends as a normal short file. The header and the first chunk of rows (EXPORT_CHUNK) are read
    here, before the 200 is sent, so an error in the filters, the query or those rows is an ordinary error
    answer (500, or the API's JSON error). Once the 200 is sent the status cannot change: an error while
    streaming the rest is logged and re-raised, so the server aborts the response (without a Content-Length
    it is sent chunked over HTTP/1.1, and the missing last chunk makes the client report a broken transfer, e.g.
    curl's "transfer closed with outstanding read data remaining"), instead of closing it as a complete file.
    Buffering the whole export first would turn every error into a 500 but would hold a million rows (or a
    temporary file of them) before the first byte; streaming with an aborted transfer is the honest middle."""
    found = get_kind(kind)
    if found is None or not found.can_export(request.membership):
        raise Http404
    params = export_params(request)
    head, after_pk = selectors.export_head(
        tenant=request.tenant, membership=request.membership, kind=found, params=params
    )
    lines: Iterator[str] = iter(head)
    if after_pk is not None:
        rest = selectors.export_lines(
            tenant=request.tenant,
            membership=request.membership,
            kind=found,
            params=params,
            after_pk=after_pk,
        )
        lines = itertools.chain(head, _aborting(rest, tenant_id=request.tenant.pk, kind=found.key))
    name = selectors.export_file_name(
        tenant=request.tenant, kind=found, now=timezone.localtime(timezone.now(), request.tenant.tzinfo)
    )
    return _csv_response(lines, name)


def _wants_xlsx(request: TenantHttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return request.GET.get("format") == "xlsx" or (XLSX_TYPE in accept and "text/csv" not in accept)


@require_GET
@tenant_member_required
def export(request: TenantHttpRequest, slug: str, kind: str) -> HttpResponse:
    """The CSV of a kind (XLSX with ?format=xlsx or when the client accepts XLSX and not CSV)."""
    return _export(request, kind, xlsx=_wants_xlsx(request))


@require_GET
@tenant_member_required
def export_xlsx(request: TenantHttpRequest, slug: str, kind: str) -> HttpResponse:
    return _export(request, kind, xlsx=True)


def _export(request: TenantHttpRequest, kind: str, *, xlsx: bool) -> HttpResponse:
    try:
        if xlsx:
            return cast(HttpResponse, export_xlsx_response(request, kind))
        return cast(HttpResponse, export_response(request, kind))
    except ValidationError as exc:
        # Filters the list would refuse (the API answers 400 with the same messages): no file, never all rows.
        reasons = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
        return HttpResponseBadRequest(
            _("The export's filters are not valid: %(reasons)s") % {"reasons": reasons},
            content_type="text/plain; charset=utf-8",
        )
