"""Lead pages: the inbox (keyset pages, filters, bulk actions), create, edit (with the conflict screen), delete,
restore, the lead page and status moves. Pool, conversion, merges and duplicates are their own modules."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.decorators import tenant_roles_required
from crm.errors import AppError, ConflictError
from crm.formstyle import field_queryset
from crm.types import TenantHttpRequest
from crm.viewutils import (
    apply_validation_error,
    conflict_context,
    conflict_rows,
    data_with_version,
    delete_with_undo,
    restore_deleted,
)
from leads.forms.leads import AssignForm, BulkForm, LeadForm, StatusForm
from leads.models import Lead, LeadStatus
from leads.selectors import duplicates as duplicates_selectors
from leads.selectors import inbox as inbox_selectors
from leads.selectors import leads as selectors
from leads.services import leads as services
from leads.services import pool as pool_services
from leads.services import status as status_services
from leads.views.helpers import (
    LEAD_ROLES,
    WRITERS,
    error_message,
    lead_detail_redirect,
    lead_or_404,
    query_without,
    safe_next,
)

STEPS = [LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.MQL, LeadStatus.SQL, LeadStatus.CONVERTED]


def _int_list(values: list[str]) -> list[int]:
    ids = []
    for value in values:
        if not str(value).isdecimal():
            raise Http404
        ids.append(int(value))
    return ids


@require_GET
@tenant_roles_required(LEAD_ROLES)
def lead_list(request: TenantHttpRequest, slug: str) -> HttpResponse:
    tenant, membership = request.tenant, request.membership
    scopes = selectors.lead_scopes(membership)
    scope = request.GET.get("scope")
    if scope not in {key for key, _label in scopes}:
        scope = scopes[0][0]
    filterset, qs = inbox_selectors.lead_inbox(
        tenant=tenant, membership=membership, params=request.GET, scope=scope
    )
    page = inbox_selectors.lead_inbox_page(
        qs,
        sort=request.GET.get("sort") or inbox_selectors.DEFAULT_SORT,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    can_write = membership.role in WRITERS
    context = {
        "filterset": filterset,
        "filter_form": filterset.form,
        "page": page,
        "scopes": scopes,
        "scope": scope,
        "sorts": inbox_selectors.SORTS.values(),
        "base_query": query_without(request, "after", "before"),
        "scope_query": query_without(request, "after", "before", "scope"),
        "sort_query": query_without(request, "after", "before", "sort"),
        "can_write": can_write,
        "bulk_form": BulkForm(tenant=tenant, membership=membership) if can_write else None,
        "show_owner": scope != "my",
        "undo": request.session.pop("lead_undo", None),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "leads/partials/_lead_results.html", context)
    return render(request, "leads/lead_list.html", context)


@require_POST
@tenant_roles_required(WRITERS)
def lead_bulk(request: TenantHttpRequest, slug: str) -> HttpResponse:
    tenant, membership = request.tenant, request.membership
    back = safe_next(request, reverse("leads:lead-list", kwargs={"slug": slug}))
    ids = _int_list(request.POST.getlist("ids"))
    form = BulkForm(request.POST, tenant=tenant, membership=membership)
    if not ids:
        messages.warning(request, _("Tick the leads first."))
        return redirect(back)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
        return redirect(back)
    try:
        leads = selectors.leads_for_ids(tenant=tenant, membership=membership, ids=ids)
    except Lead.DoesNotExist as exc:
        raise Http404 from exc
    data = form.cleaned_data
    try:
        if data["action"] == "assign":
            count = pool_services.leads_bulk_assign(
                tenant=tenant, actor=request.user, leads=leads, owner=data["owner"]
            )
        else:
            count = status_services.leads_bulk_change_status(
                tenant=tenant, actor=request.user, leads=leads, status=data["status"], reason=data["reason"]
            )
    except (ValidationError, AppError, PermissionDenied) as exc:
        error_message(request, exc)
    else:
        messages.success(request, _("%(count)d leads updated.") % {"count": count})
    return redirect(back)


@tenant_roles_required(WRITERS)
def lead_create(request: TenantHttpRequest, slug: str) -> HttpResponse:
    tenant, membership = request.tenant, request.membership
    form = LeadForm(request.POST or None, tenant=tenant, membership=membership)
    duplicates: list = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        duplicates = duplicates_selectors.lead_duplicates(
            tenant=tenant,
            membership=membership,
            email=data["email"],
            phone=data["phone"],
            company=data["company"],
        )
        if duplicates and not data.get("confirm_duplicates"):
            confirmed = request.POST.copy()  # the bound form's data (request.POST itself is immutable)
            confirmed["confirm_duplicates"] = "1"
            form.data = confirmed
        else:
            try:
                lead = services.lead_create(
                    tenant=tenant, actor=request.user, owner=data["owner"], **form.lead_fields()
                )
            except (ValidationError, PermissionDenied) as exc:
                if isinstance(exc, ValidationError):
                    apply_validation_error(form, exc)
                else:
                    form.add_error(None, str(exc))
            else:
                if selectors.lead_queryset(tenant=tenant, membership=membership).filter(pk=lead.pk).exists():
                    messages.success(request, _("Lead created."))
                    return lead_detail_redirect(lead, slug)
                messages.success(
                    request,
                    _("Lead created and assigned to %(owner)s by the rules.")
                    % {"owner": lead.owner.display_name if lead.owner else _("the pool")},
                )
                return redirect("leads:lead-list", slug=slug)
    return render(request, "leads/lead_form.html", {"form": form, "duplicates": duplicates, "lead": None})


@tenant_roles_required(LEAD_ROLES)
def lead_edit(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    tenant, membership = request.tenant, request.membership
    lead = lead_or_404(request, pk)
    if not lead.can_edit:
        raise Http404
    form = LeadForm(request.POST or None, tenant=tenant, membership=membership, lead=lead)
    duplicates: list = []
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changed_dupe_fields = any(data[name] != getattr(lead, name) for name in LeadForm.DUPLICATE_FIELDS)
        if changed_dupe_fields:
            duplicates = duplicates_selectors.lead_duplicates(
                tenant=tenant,
                membership=membership,
                email=data["email"],
                phone=data["phone"],
                company=data["company"],
                exclude_id=lead.pk,
            )
        if duplicates and not data.get("confirm_duplicates"):
            confirmed = request.POST.copy()  # the bound form's data (request.POST itself is immutable)
            confirmed["confirm_duplicates"] = "1"
            form.data = confirmed
        else:
            try:
                services.lead_update(
                    tenant=tenant,
                    actor=request.user,
                    lead=lead,
                    version=data["version"],
                    **form.lead_fields(),
                )
            except ConflictError as exc:
                conflict = _conflict_context(form, exc)
                form.data = data_with_version(request.POST, str(exc.extra["current_version"]))
            except ValidationError as exc:
                apply_validation_error(form, exc)
            except (AppError, PermissionDenied) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Saved."))
                return lead_detail_redirect(lead, slug)
    return render(
        request,
        "leads/lead_form.html",
        {"form": form, "duplicates": duplicates, "lead": lead, "conflict": conflict},
    )


def _conflict_context(form: LeadForm, exc: ConflictError) -> dict[str, Any]:
    """Their values vs the values now saved, side by side (a source or campaign by name); the form keeps the user's
    values and the new version, so "Save mine" overwrites knowingly and nothing typed is lost."""
    lookups = {
        "source": field_queryset(form.fields, "source"),
        "campaign": field_queryset(form.fields, "campaign"),
    }

    def display(name: str, value: Any) -> Any:
        if name in lookups:
            return next((str(obj) for obj in lookups[name] if obj.pk == value), value)
        return value

    rows = conflict_rows(form, exc.extra["current"], skip=("owner",), display=display)
    return conflict_context(exc, rows)


@require_POST
@tenant_roles_required(WRITERS)
def lead_delete(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    lead = lead_or_404(request, pk)
    undo = reverse("leads:lead-restore", kwargs={"slug": slug, "pk": lead.pk})
    return delete_with_undo(
        request,
        delete=lambda: services.lead_delete(tenant=request.tenant, actor=request.user, lead=lead),
        done_url=reverse("leads:lead-list", kwargs={"slug": slug}),
        error_url=reverse("leads:lead-detail", kwargs={"slug": slug, "pk": lead.pk}),
        message=_("Lead “%(name)s” deleted.") % {"name": lead},
        undo_session=("lead_undo", {"url": undo, "name": str(lead)}),
    )


@require_POST
@tenant_roles_required(WRITERS)
def lead_restore(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    try:
        lead = selectors.lead_get_deleted(tenant=request.tenant, membership=request.membership, pk=pk)
    except Lead.DoesNotExist as exc:
        raise Http404 from exc
    request.session.pop("lead_undo", None)
    return restore_deleted(
        request,
        restore=lambda: services.lead_restore(tenant=request.tenant, actor=request.user, lead=lead),
        done_url=reverse("leads:lead-detail", kwargs={"slug": slug, "pk": lead.pk}),
        error_url=reverse("leads:lead-list", kwargs={"slug": slug}),
        message=_("Lead restored."),
    )


@require_GET
@tenant_roles_required(LEAD_ROLES)
def lead_detail(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    lead = lead_or_404(request, pk)
    return render(request, "leads/lead_detail.html", lead_detail_context(request, lead))


@require_GET
@tenant_roles_required(LEAD_ROLES)
def lead_summary(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    """The parts of the lead page an activity changes (header, status track, status card, score, details), as
    out-of-band swaps: the lead page fetches them when the quick log says "activity-logged"."""
    lead = lead_or_404(request, pk)
    return render(request, "leads/partials/_lead_summary.html", _summary_context(request, lead))


def _summary_context(
    request: TenantHttpRequest,
    lead: Lead,
    status_form: StatusForm | None = None,
    assign_form: AssignForm | None = None,
) -> dict[str, Any]:
    tenant, membership = request.tenant, request.membership
    is_open = lead.status in selectors.OPEN_STATUSES
    in_pool = lead.owner_id is None and is_open
    return {
        "lead": lead,
        "steps": _steps(lead),
        "is_open": is_open,
        "in_pool": in_pool,
        "can_claim": in_pool and membership.role in selectors.CLAIM_ROLES,
        "status_form": status_form or StatusForm(initial={"status": lead.status}),
        "assign_form": assign_form
        or AssignForm(tenant=tenant, membership=membership, initial={"owner": lead.owner_id}),
    }


def lead_detail_context(request: TenantHttpRequest, lead: Lead, **extra: Any) -> dict[str, Any]:
    from accounts.selectors.merges import merges_into
    from accounts.selectors.timeline import timeline_for

    tenant, membership = request.tenant, request.membership
    context = {
        **_summary_context(
            request,
            lead,
            status_form=extra.pop("status_form", None),
            assign_form=extra.pop("assign_form", None),
        ),
        "timeline": timeline_for(tenant=tenant, membership=membership, lead=lead),
        "duplicates": duplicates_selectors.lead_duplicates(
            tenant=tenant,
            membership=membership,
            email=lead.email,
            phone=lead.phone,
            company=lead.company,
            exclude_id=lead.pk,
        )
        if lead.can_edit
        else [],
        "merges": merges_into(tenant=tenant, entity="lead", survivor_id=lead.pk) if lead.can_edit else [],
    }
    context.update(extra)
    return context


def _steps(lead: Lead) -> list[dict[str, Any]]:
    """The status track: each step with its timestamp and whether it was reached (KPIS.md rule)."""
    rows = []
    for status in STEPS:
        rows.append(
            {
                "status": status,
                "label": LeadStatus(status).label,
                "at": lead.created_at
                if status == LeadStatus.NEW
                else getattr(lead, status_services.STATUS_STAMP[status]),
                "reached": status_services.lead_status_reached(lead, status),
                "current": lead.status == status,
            }
        )
    return rows


@require_POST
@tenant_roles_required(WRITERS)
def lead_status(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    lead = lead_or_404(request, pk)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            status_services.lead_change_status(
                tenant=request.tenant,
                actor=request.user,
                lead=lead,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        except (AppError, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Status changed to %(status)s.") % {"status": lead.get_status_display()}
            )
            return lead_detail_redirect(lead, slug)
    lead = lead_or_404(request, pk)
    return render(
        request, "leads/lead_detail.html", lead_detail_context(request, lead, status_form=form), status=400
    )
