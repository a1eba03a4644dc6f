"""What the lead pages share: the visible lead or 404, the redirect to its page, error messages, safe `next`, the
query string without some parameters; the roles that read and write leads."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from crm.types import TenantHttpRequest
from leads.models import Lead
from leads.selectors import leads as selectors

LEAD_ROLES = selectors.LEAD_ROLES
WRITERS = selectors.ASSIGNABLE_ROLES


def lead_or_404(request: TenantHttpRequest, pk: int) -> Lead:
    try:
        return selectors.lead_get(tenant=request.tenant, membership=request.membership, pk=pk)
    except Lead.DoesNotExist as exc:
        raise Http404 from exc


def lead_detail_redirect(lead: Lead, slug: str) -> HttpResponse:
    return redirect("leads:lead-detail", slug=slug, pk=lead.pk)


def error_message(request: TenantHttpRequest, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.error(request, str(exc))


def safe_next(request: TenantHttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def query_without(request: TenantHttpRequest, *names: str) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()
