"""Pages of ownership and the pool: assign or release a lead, claim from the pool, the pool list (with its
health figures) and the pool settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.decorators import tenant_roles_required
from crm.errors import AppError
from crm.models import Role
from crm.types import TenantHttpRequest
from crm.viewutils import apply_validation_error
from leads.forms.leads import AssignForm, LeadSettingsForm
from leads.selectors import inbox as inbox_selectors
from leads.selectors import leads as selectors
from leads.selectors import pool as pool_selectors
from leads.services import pool as pool_services
from leads.views.helpers import (
    LEAD_ROLES,
    WRITERS,
    error_message,
    lead_detail_redirect,
    lead_or_404,
    query_without,
    safe_next,
)
from leads.views.leads import lead_detail_context

SETTINGS_ROLES = (Role.ADMIN, Role.OPS)


HEALTH_ROLES = (Role.ADMIN, Role.OPS, Role.SALES_MANAGER)


@require_POST
@tenant_roles_required(WRITERS)
def lead_assign(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    lead = lead_or_404(request, pk)
    form = AssignForm(request.POST, tenant=request.tenant, membership=request.membership)
    if form.is_valid():
        try:
            pool_services.lead_assign(
                tenant=request.tenant, actor=request.user, lead=lead, owner=form.cleaned_data["owner"]
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        except (AppError, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            owner = lead.owner
            if owner is None:
                messages.success(request, _("Lead released to the pool."))
            else:
                messages.success(request, _("Lead assigned to %(owner)s.") % {"owner": owner.display_name})
            if (
                selectors.lead_queryset(tenant=request.tenant, membership=request.membership)
                .filter(pk=lead.pk)
                .exists()
            ):
                return lead_detail_redirect(lead, slug)
            return redirect("leads:lead-list", slug=slug)
    lead = lead_or_404(request, pk)
    return render(
        request, "leads/lead_detail.html", lead_detail_context(request, lead, assign_form=form), status=400
    )


@require_POST
@tenant_roles_required(selectors.CLAIM_ROLES)
def lead_claim(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    lead = lead_or_404(request, pk)
    try:
        pool_services.lead_claim(tenant=request.tenant, actor=request.user, lead=lead)
    except (AppError, PermissionDenied) as exc:
        error_message(request, exc)
        return redirect(safe_next(request, reverse("leads:pool", kwargs={"slug": slug})))
    messages.success(request, _("You claimed “%(name)s” from the pool.") % {"name": lead})
    return lead_detail_redirect(lead, slug)


@require_GET
@tenant_roles_required(LEAD_ROLES)
def pool(request: TenantHttpRequest, slug: str) -> HttpResponse:
    tenant, membership = request.tenant, request.membership
    filterset, qs = pool_selectors.pool_inbox(tenant=tenant, membership=membership, params=request.GET)
    page = inbox_selectors.lead_inbox_page(
        qs,
        sort=request.GET.get("sort") or "created",
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    settings = pool_selectors.lead_settings_get(tenant=tenant)
    context = {
        "filterset": filterset,
        "filter_form": filterset.form,
        "page": page,
        "sorts": inbox_selectors.SORTS.values(),
        "base_query": query_without(request, "after", "before"),
        "sort_query": query_without(request, "after", "before", "sort"),
        "settings": settings,
        "can_claim": membership.role in selectors.CLAIM_ROLES,
        "held": pool_selectors.open_claims_count(tenant=tenant, user_id=membership.user_id)
        if membership.role in selectors.CLAIM_ROLES
        else 0,
        "health": pool_selectors.pool_health(tenant=tenant, membership=membership)
        if membership.role in HEALTH_ROLES
        else None,
        "settings_form": LeadSettingsForm(
            initial={"pool_window_days": settings.pool_window_days, "pool_claim_cap": settings.pool_claim_cap}
        )
        if membership.role in SETTINGS_ROLES
        else None,
    }
    if context["health"] is not None:
        context["week_max"] = max([1] + [max(w["returned"], w["claimed"]) for w in context["health"].weeks])
    if request.htmx and not request.htmx.boosted:
        return render(request, "leads/partials/_pool_results.html", context)
    return render(request, "leads/pool.html", context)


@require_POST
@tenant_roles_required(SETTINGS_ROLES)
def pool_settings(request: TenantHttpRequest, slug: str) -> HttpResponse:
    form = LeadSettingsForm(request.POST)
    if form.is_valid():
        try:
            pool_services.lead_settings_update(tenant=request.tenant, actor=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            error_message(request, exc)
        else:
            messages.success(request, _("Pool settings saved."))
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
    return redirect("leads:pool", slug=slug)
