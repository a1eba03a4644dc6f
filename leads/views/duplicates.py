"""htmx: the possible duplicates of what is being typed on the lead create and edit forms."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from crm.decorators import tenant_roles_required
from crm.types import TenantHttpRequest
from leads.selectors import duplicates as duplicates_selectors
from leads.views.helpers import LEAD_ROLES


@require_GET
@tenant_roles_required(LEAD_ROLES)
def lead_duplicates(request: TenantHttpRequest, slug: str) -> HttpResponse:
    """htmx: possible duplicates of what is being typed (create and edit forms)."""
    exclude = request.GET.get("exclude")
    found = duplicates_selectors.lead_duplicates(
        tenant=request.tenant,
        membership=request.membership,
        email=request.GET.get("email", ""),
        phone=request.GET.get("phone", ""),
        company=request.GET.get("company", ""),
        exclude_id=int(exclude) if exclude and exclude.isdecimal() else None,
    )
    return render(request, "leads/partials/_lead_duplicates.html", {"duplicates": found})
