"""Pages of territories: list, the match test, create, edit, delete, reorder."""

from __future__ import annotations

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
from leads.forms.territories import TerritoryForm, TerritoryTestForm
from leads.selectors import territories as territories_selectors
from leads.services import territories as territories_services
from leads.views.setup_helpers import edit_only, get_or_404, read_config, setup_context


def _territory_preview(request: TenantHttpRequest) -> tuple[TerritoryTestForm, Any]:
    form = TerritoryTestForm(request.GET if request.GET else None, tenant=request.tenant)
    if not form.is_valid():
        return form, None
    preview = territories_selectors.territory_preview(
        tenant=request.tenant,
        region=form.cleaned_data["region"],
        industry=form.cleaned_data["industry"],
        size_band=form.cleaned_data["size_band"],
    )
    return form, preview


@read_config
def territory_list(request: TenantHttpRequest, slug: str) -> HttpResponse:
    territories = list(
        territories_selectors.territory_list(tenant=request.tenant, membership=request.membership)
    )
    active_ids = territories_selectors.active_user_ids(tenant=request.tenant)
    rows = [
        {
            "territory": t,
            "members": list(t.territory_members.all()),
            "next_user": territories_selectors.territory_next_user(t, active_ids),
        }
        for t in territories
    ]
    test_form, preview = _territory_preview(request)
    context = setup_context(request, rows=rows, active_ids=active_ids, test_form=test_form, preview=preview)
    return render(request, "leads/territory_list.html", context)


@read_config
def territory_test(request: TenantHttpRequest, slug: str) -> HttpResponse:
    """ "Test a lead": which territory a lead with these attributes gets, and who is next (nothing changes).
    Without htmx the territory page shows the answer."""
    if not request.htmx:
        query = request.GET.urlencode()
        return redirect(f"{reverse('leads:territory-list', kwargs={'slug': slug})}?{query}")
    test_form, preview = _territory_preview(request)
    return render(
        request,
        "leads/partials/_territory_test_result.html",
        setup_context(request, preview=preview, test_form=test_form),
    )


def _territory_fields(form: TerritoryForm) -> dict[str, Any]:
    keys = ("name", "priority", "regions", "industries", "size_bands", "is_active")
    return {**{k: form.cleaned_data[k] for k in keys}, "member_ids": form.cleaned_data["members"]}


@edit_only
def territory_create(request: TenantHttpRequest, slug: str) -> HttpResponse:
    form = TerritoryForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            territory = territories_services.territory_create(
                tenant=request.tenant, actor=request.user, **_territory_fields(form)
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Territory “%(name)s” created.") % {"name": territory.name})
            return redirect("leads:territory-list", slug=slug)
    return render(request, "leads/territory_form.html", setup_context(request, form=form, territory=None))


@edit_only
def territory_edit(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    territory = get_or_404(
        territories_selectors.territory_get, tenant=request.tenant, membership=request.membership, pk=pk
    )
    member_ids = [m.user_id for m in territory.territory_members.all()]
    initial = {
        "name": territory.name,
        "priority": territory.priority,
        "regions": ", ".join(territory.regions),
        "industries": ", ".join(territory.industries),
        "size_bands": territory.size_bands,
        "members": [str(pk) for pk in member_ids],
        "is_active": territory.is_active,
    }
    form = TerritoryForm(
        request.POST or None, tenant=request.tenant, current_member_ids=member_ids, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            territories_services.territory_update(
                tenant=request.tenant, actor=request.user, territory=territory, **_territory_fields(form)
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("leads:territory-list", slug=slug)
    return render(
        request, "leads/territory_form.html", setup_context(request, form=form, territory=territory)
    )


@edit_only
@require_POST
def territory_delete(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    territory = get_or_404(
        territories_selectors.territory_get, tenant=request.tenant, membership=request.membership, pk=pk
    )
    territories_services.territory_delete(tenant=request.tenant, actor=request.user, territory=territory)
    messages.success(request, _("Territory “%(name)s” deleted.") % {"name": territory.name})
    return redirect("leads:territory-list", slug=slug)


@edit_only
@require_POST
def territory_move(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    territory = get_or_404(
        territories_selectors.territory_get, tenant=request.tenant, membership=request.membership, pk=pk
    )
    direction = "up" if request.POST.get("direction") == "up" else "down"
    territories_services.territory_move(
        tenant=request.tenant, actor=request.user, territory=territory, direction=direction
    )
    return redirect("leads:territory-list", slug=slug)
