""" "Recompute now" on every dashboard: start a recompute (the API's service) and poll its progress (htmx)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from crm.decorators import tenant_member_required, tenant_roles_required
from crm.types import tenant_request
from sales_ops.selectors.kpis import kpi_recompute_queryset
from sales_ops.services.jobs import kpi_recompute_request
from sales_ops.views.common import RECOMPUTE_ROLES


def _next_url(request: HttpRequest, raw: str | None, slug: str) -> str:
    if raw and url_has_allowed_host_and_scheme(raw, allowed_hosts={request.get_host()}):
        return raw
    return reverse("sales_ops:dashboard-funnel", kwargs={"slug": slug})


@tenant_roles_required(RECOMPUTE_ROLES)
@require_POST
def recompute_start(request: HttpRequest, slug: str) -> HttpResponse:
    req = tenant_request(request)
    job = kpi_recompute_request(tenant=req.tenant, actor=req.user)
    next_url = _next_url(request, request.POST.get("next"), slug)
    if not req.htmx:
        return redirect(next_url)
    job.refresh_from_db(fields=["status", "progress"])
    return render(request, "sales_ops/partials/_recompute_progress.html", {"job": job, "next_url": next_url})


@tenant_member_required
@require_GET
def recompute_progress(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    req = tenant_request(request)
    if req.membership.role not in RECOMPUTE_ROLES:
        raise Http404
    job = get_object_or_404(kpi_recompute_queryset(tenant=req.tenant).only("status", "progress"), pk=pk)
    next_url = _next_url(request, request.GET.get("next"), slug)
    return render(request, "sales_ops/partials/_recompute_progress.html", {"job": job, "next_url": next_url})
