"""Pages of lead sources, with the source quality report."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.types import TenantHttpRequest
from crm.viewutils import apply_validation_error
from leads.forms.sources import PeriodForm, SourceForm
from leads.models import LeadSource, SourceKind
from leads.selectors import funnels as funnels_selectors
from leads.selectors import setup_roles as setup_roles_selectors
from leads.selectors import sources as sources_selectors
from leads.services import sources as sources_services
from leads.views.setup_helpers import edit_only, get_or_404, read_sources, setup_context


def quality_chart(quality: funnels_selectors.Quality) -> dict[str, Any]:
    """Chart.js data: rates of inbound vs incentive (quality) and leads per source (quantity)."""

    def pct(rate: float | None) -> float | None:
        return None if rate is None else round(rate * 100, 1)

    metrics = [
        ("lead_to_mql_rate", _("Lead → MQL")),
        ("mql_to_sql_rate", _("MQL → SQL")),
        ("lead_conversion_rate", _("Lead → converted")),
        ("lead_to_win_rate", _("Lead → won deal")),
    ]
    return {
        "quality": {
            "labels": [label for _key, label in metrics],
            "datasets": [
                {
                    "label": str(kind.extra["label"]),
                    "kind": kind.extra["kind"],
                    "data": [pct(getattr(kind, key)) for key, _label in metrics],
                }
                for kind in quality.kinds
            ],
            "unit": "%",
        },
        "volume": {
            "labels": [str(row.extra["name"]) for row in quality.sources],
            "kinds": [row.extra["kind"] for row in quality.sources],
            "datasets": [
                {"label": _("Leads"), "data": [row.leads for row in quality.sources]},
                {"label": _("Won deals"), "data": [row.won for row in quality.sources]},
            ],
        },
    }


@read_sources
def source_list(request: TenantHttpRequest, slug: str) -> HttpResponse:
    period = PeriodForm(request.GET or None)
    dates = period.cleaned_data if period.is_valid() else {}
    quality = funnels_selectors.source_quality(
        tenant=request.tenant,
        membership=request.membership,
        created_from=dates.get("created_from"),
        created_to=dates.get("created_to"),
    )
    deleted = None
    if request.GET.get("deleted", "").isdecimal() and setup_roles_selectors.can_edit(request.membership):
        deleted = LeadSource.objects.filter(
            tenant=request.tenant, pk=int(request.GET["deleted"]), deleted_at__isnull=False
        ).first()
    context = setup_context(
        request,
        quality=quality,
        chart_json=json.dumps(quality_chart(quality)),
        period=period,
        deleted=deleted,
        scoped=not setup_roles_selectors.sees_all_leads(request.membership),
        kinds=SourceKind,
    )
    template = "leads/partials/_source_quality.html" if request.htmx else "leads/source_list.html"
    return render(request, template, context)


def _source_fields(form: SourceForm) -> dict[str, Any]:
    return {k: form.cleaned_data[k] for k in ("name", "kind", "description", "is_active")}


@edit_only
def source_create(request: TenantHttpRequest, slug: str) -> HttpResponse:
    form = SourceForm(request.POST or None, initial={"kind": SourceKind.INBOUND, "is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            source = sources_services.source_create(
                tenant=request.tenant, actor=request.user, **_source_fields(form)
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Lead source “%(name)s” created.") % {"name": source.name})
            return redirect("leads:source-list", slug=slug)
    return render(request, "leads/source_form.html", setup_context(request, form=form, source=None))


@edit_only
def source_edit(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    source = get_or_404(
        sources_selectors.source_get, tenant=request.tenant, membership=request.membership, pk=pk
    )
    initial = {k: getattr(source, k) for k in ("name", "kind", "description", "is_active")}
    form = SourceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            sources_services.source_update(
                tenant=request.tenant, actor=request.user, source=source, **_source_fields(form)
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("leads:source-list", slug=slug)
    return render(request, "leads/source_form.html", setup_context(request, form=form, source=source))


@edit_only
@require_POST
def source_delete(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    source = get_or_404(
        sources_selectors.source_get, tenant=request.tenant, membership=request.membership, pk=pk
    )
    sources_services.source_delete(tenant=request.tenant, actor=request.user, source=source)
    return redirect(f"{reverse('leads:source-list', kwargs={'slug': slug})}?deleted={source.pk}")


@edit_only
@require_POST
def source_restore(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    source = get_or_404(
        sources_selectors.source_get,
        tenant=request.tenant,
        membership=request.membership,
        pk=pk,
        include_deleted=True,
    )
    sources_services.source_restore(tenant=request.tenant, actor=request.user, source=source)
    messages.success(request, _("Lead source “%(name)s” restored.") % {"name": source.name})
    return redirect("leads:source-list", slug=slug)
