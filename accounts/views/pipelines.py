"""Pages of pipelines and stages (admins): the list, a pipeline with its stages, and the stage edits."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms.pipelines import PipelineForm, StageDeleteForm, StageForm
from accounts.models import Pipeline, Stage, StageKind
from accounts.selectors import pipelines as pipelines_selectors
from accounts.services import pipelines as pipelines_services
from accounts.views.common import _wants_json
from crm.decorators import tenant_admin_required
from crm.types import TenantHttpRequest
from crm.viewutils import apply_validation_error


def _get_pipeline(request: TenantHttpRequest, pk: int) -> Pipeline:
    try:
        return pipelines_selectors.pipeline_get(tenant=request.tenant, pk=pk)
    except Pipeline.DoesNotExist as exc:
        raise Http404 from exc


def _get_stage(request: TenantHttpRequest, pipeline: Pipeline, stage_pk: int) -> Stage:
    try:
        return pipelines_selectors.stage_get(tenant=request.tenant, pk=stage_pk, pipeline=pipeline)
    except Stage.DoesNotExist as exc:
        raise Http404 from exc


def _pipeline_url(request: TenantHttpRequest, pipeline: Pipeline) -> str:
    return reverse("accounts:pipeline-detail", kwargs={"slug": request.tenant.slug, "pk": pipeline.pk})


@tenant_admin_required
def pipeline_list(request: TenantHttpRequest, slug: str) -> HttpResponse:
    form = PipelineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pipeline = pipelines_services.pipeline_create(
                tenant=request.tenant,
                actor=request.user,
                name=form.cleaned_data["name"],
                is_default=form.cleaned_data["is_default"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Pipeline “%(name)s” created.") % {"name": pipeline.name})
            return redirect(_pipeline_url(request, pipeline))
    context = {"pipelines": pipelines_selectors.pipeline_list(tenant=request.tenant), "form": form}
    return render(request, "accounts/pipeline_list.html", context)


def _pipeline_page(
    request: TenantHttpRequest,
    pipeline: Pipeline,
    *,
    form: PipelineForm | None = None,
    stage_form: StageForm | None = None,
    stage_errors: dict[int, StageForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    counts = pipelines_selectors.pipeline_stage_counts(tenant=request.tenant, pipeline=pipeline)
    stage_rows = []
    for stage in pipeline.stages.all():
        edit_form = (stage_errors or {}).get(stage.pk) or StageForm(
            initial={"name": stage.name, "probability": stage.probability, "kind": stage.kind},
            prefix=f"stage-{stage.pk}",
        )
        stage_rows.append({"stage": stage, "form": edit_form, "deals": counts.get(stage.pk, 0)})
    context = {
        "pipeline": pipeline,
        "form": form or PipelineForm(initial={"name": pipeline.name, "is_default": pipeline.is_default}),
        "stage_form": stage_form
        or StageForm(initial={"kind": StageKind.OPEN, "probability": "0.5"}, prefix="new"),
        "stage_rows": stage_rows,
        "deal_count": sum(counts.values()),
    }
    template = "accounts/partials/_stage_table.html" if request.htmx else "accounts/pipeline_detail.html"
    return render(request, template, context, status=status)


@tenant_admin_required
def pipeline_detail(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    pipeline = _get_pipeline(request, pk)
    if request.method == "POST":
        form = PipelineForm(request.POST)
        if form.is_valid():
            try:
                pipelines_services.pipeline_update(
                    tenant=request.tenant,
                    actor=request.user,
                    pipeline=pipeline,
                    name=form.cleaned_data["name"],
                    is_default=True if form.cleaned_data["is_default"] else None,
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Pipeline saved."))
                return redirect(_pipeline_url(request, pipeline))
        return _pipeline_page(request, pipeline, form=form, status=400)
    return _pipeline_page(request, pipeline)


@tenant_admin_required
@require_POST
def pipeline_delete(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    pipeline = _get_pipeline(request, pk)
    try:
        pipelines_services.pipeline_delete(tenant=request.tenant, actor=request.user, pipeline=pipeline)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(_pipeline_url(request, pipeline))
    messages.success(request, _("Pipeline “%(name)s” deleted.") % {"name": pipeline.name})
    return redirect("accounts:pipeline-list", slug=slug)


@tenant_admin_required
@require_POST
def stage_create(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    pipeline = _get_pipeline(request, pk)
    form = StageForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            stage = pipelines_services.stage_create(
                tenant=request.tenant, actor=request.user, pipeline=pipeline, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Stage “%(name)s” added.") % {"name": stage.name})
            return redirect(_pipeline_url(request, pipeline))
    return _pipeline_page(request, _get_pipeline(request, pk), stage_form=form, status=400)


@tenant_admin_required
@require_POST
def stage_update(request: TenantHttpRequest, slug: str, pk: int, stage_pk: int) -> HttpResponse:
    pipeline = _get_pipeline(request, pk)
    stage = _get_stage(request, pipeline, stage_pk)
    form = StageForm(request.POST, prefix=f"stage-{stage.pk}")
    if form.is_valid():
        try:
            pipelines_services.stage_update(
                tenant=request.tenant, actor=request.user, stage=stage, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Stage saved."))
            return redirect(_pipeline_url(request, pipeline))
    return _pipeline_page(request, _get_pipeline(request, pk), stage_errors={stage.pk: form}, status=400)


@tenant_admin_required
@require_POST
def stage_move(request: TenantHttpRequest, slug: str, pk: int, stage_pk: int) -> HttpResponse:
    pipeline = _get_pipeline(request, pk)
    stage = _get_stage(request, pipeline, stage_pk)
    direction = "up" if request.POST.get("direction") == "up" else "down"
    pipelines_services.stage_move(tenant=request.tenant, actor=request.user, stage=stage, direction=direction)
    if request.htmx:
        return _pipeline_page(request, _get_pipeline(request, pk))
    return redirect(_pipeline_url(request, pipeline))


@tenant_admin_required
@require_POST
def stage_reorder(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Drag and drop on the stage table: `stages` is the full list of ids in the new order."""
    pipeline = _get_pipeline(request, pk)
    raw = request.POST.getlist("stages")
    if len(raw) == 1 and raw[0].startswith("["):
        raw = json.loads(raw[0])
    try:
        ids = [int(value) for value in raw]
        pipelines_services.stages_reorder(
            tenant=request.tenant, actor=request.user, pipeline=pipeline, stage_ids=ids
        )
    except (ValueError, ValidationError) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else _("Unknown stage.")
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": message}, status=400)
        messages.error(request, message)
        return redirect(_pipeline_url(request, pipeline))
    if _wants_json(request):
        return JsonResponse({"ok": True})
    return redirect(_pipeline_url(request, pipeline))


@tenant_admin_required
def stage_delete(request: TenantHttpRequest, slug: str, pk: int, stage_pk: int) -> HttpResponse:
    """GET: confirm (and, when the stage has deals, ask where to move them); POST: delete."""
    pipeline = _get_pipeline(request, pk)
    stage = _get_stage(request, pipeline, stage_pk)
    deal_count = pipelines_selectors.pipeline_stage_counts(tenant=request.tenant, pipeline=pipeline).get(
        stage.pk, 0
    )
    form = StageDeleteForm(request.POST or None, stage=stage)
    if request.method == "POST" and form.is_valid():
        try:
            moved = pipelines_services.stage_delete(
                tenant=request.tenant, actor=request.user, stage=stage, move_to=form.cleaned_data["move_to"]
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            message = _("Stage “%(name)s” deleted.") % {"name": stage.name}
            if moved:
                message += " " + _("%(count)s deals moved.") % {"count": moved}
            messages.success(request, message)
            return redirect(_pipeline_url(request, pipeline))
    context = {"pipeline": pipeline, "stage": stage, "form": form, "deal_count": deal_count}
    template = "accounts/partials/_stage_delete_form.html" if request.htmx else "accounts/stage_delete.html"
    return render(request, template, context, status=400 if request.method == "POST" else 200)
