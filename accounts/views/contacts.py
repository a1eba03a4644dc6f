"""Pages of contacts: the list, the detail, create and edit (with the duplicate check and the conflict panel),
delete and restore."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import panels
from accounts.filters.contacts import ContactFilterSet
from accounts.filters.sorting import ContactCursorPagination
from accounts.forms.contacts import ContactForm
from accounts.models import Contact, MergeEntity
from accounts.selectors import common as common_selectors
from accounts.selectors import contacts as contacts_selectors
from accounts.selectors import duplicates as duplicates_selectors
from accounts.selectors import merges as merges_selectors
from accounts.selectors import timeline as timeline_selectors
from accounts.services import contacts as contacts_services
from accounts.views.common import (
    MERGERS,
    WRITERS,
    _account_for,
    _conflict_display,
    _contact_for,
    _paginate,
    _service_error,
)
from crm.decorators import tenant_member_required, tenant_roles_required
from crm.errors import AppError, ConflictError
from crm.types import TenantHttpRequest
from crm.viewutils import (
    conflict_context,
    conflict_rows,
    data_with_version,
    delete_with_undo,
    restore_deleted,
)


@tenant_member_required
@require_GET
def contact_list(request: TenantHttpRequest, slug: str) -> HttpResponse:
    base = contacts_selectors.contact_list(tenant=request.tenant, membership=request.membership)
    filterset = ContactFilterSet(request.GET or None, queryset=base, request=request)
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else base
    if filterset.is_bound and not filterset.is_valid():
        qs = base.none()
    rows, next_link, prev_link = _paginate(request, qs, ContactCursorPagination())
    count, more = common_selectors.capped_count(qs)
    deleted = None
    if request.GET.get("deleted"):
        deleted = contacts_selectors.contact_deleted_get(
            tenant=request.tenant, membership=request.membership, pk=request.GET["deleted"]
        )
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "contacts": rows,
        "next_link": next_link,
        "prev_link": prev_link,
        "count": count,
        "more": more,
        "deleted": deleted,
        "can_create": request.membership.role in WRITERS,
    }
    template = "accounts/partials/_contact_results.html" if request.htmx else "accounts/contact_list.html"
    return render(request, template, context)


@tenant_member_required
@require_GET
def contact_detail(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    contact = _contact_for(request, pk)
    merge = None
    if request.GET.get("merged"):
        merge = merges_selectors.merge_record_for_banner(
            tenant=request.tenant, pk=request.GET["merged"], entity=MergeEntity.CONTACT, survivor_id=pk
        )
    context = {
        "contact": contact,
        "timeline": timeline_selectors.timeline_for(
            tenant=request.tenant, membership=request.membership, contact=contact
        ),
        "merge": merge,
        "can_merge": request.membership.role in MERGERS and contact.can_edit,
        "deals": contacts_selectors.contact_opportunities(
            tenant=request.tenant, membership=request.membership, contact=contact
        ),
        "panels": panels.panels_for(panels.CONTACT, request=request, record=contact),
    }
    return render(request, "accounts/contact_detail.html", context)


def _contact_duplicates_for_form(
    request: TenantHttpRequest, form: ContactForm, exclude_id: int | None
) -> list[Contact]:
    return duplicates_selectors.contact_duplicates(
        tenant=request.tenant,
        email=form.cleaned_data.get("email") or "",
        phone=form.cleaned_data.get("phone") or "",
        exclude_id=exclude_id,
        membership=request.membership,
    )


@tenant_roles_required(WRITERS)
def contact_create(request: TenantHttpRequest, slug: str) -> HttpResponse:
    initial: dict[str, Any] = {}
    account_id = request.GET.get("account")
    if account_id and account_id.isdecimal():
        initial["account"] = _account_for(request, int(account_id))
    form = ContactForm(
        request.POST or None, tenant=request.tenant, membership=request.membership, initial=initial
    )
    duplicates: list[Contact] = []
    if request.method == "POST" and form.is_valid():
        duplicates = _contact_duplicates_for_form(request, form, None)
        if not duplicates or form.cleaned_data.get("confirm_duplicates"):
            fields = form.service_fields()
            if fields.get("owner") is None:
                fields.pop("owner")
            try:
                contact = contacts_services.contact_create(
                    tenant=request.tenant, actor=request.user, **fields
                )
            except (ValidationError, AppError) as exc:
                _service_error(form, exc)
            else:
                messages.success(request, _("Contact created."))
                return redirect("accounts:contact-detail", slug=slug, pk=contact.pk)
    context = {"form": form, "duplicates": duplicates, "confirm_needed": bool(duplicates)}
    return render(request, "accounts/contact_form.html", context)


@tenant_roles_required(WRITERS)
def contact_edit(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    contact = _contact_for(request, pk, for_edit=True)
    form = ContactForm(
        request.POST or None, instance=contact, tenant=request.tenant, membership=request.membership
    )
    duplicates: list[Contact] = []
    conflict = None
    if request.method == "POST" and form.is_valid():
        if {"email", "phone"} & set(form.changed_data) and not form.cleaned_data.get("confirm_duplicates"):
            duplicates = _contact_duplicates_for_form(request, form, contact.pk)
        if not duplicates:
            contact.refresh_from_db()
            try:
                contacts_services.contact_update(
                    tenant=request.tenant,
                    actor=request.user,
                    contact=contact,
                    version=form.cleaned_data.get("version"),
                    **form.service_fields(),
                )
            except ConflictError as exc:
                rows = conflict_rows(form, exc.extra["current"], display=_conflict_display(request))
                conflict = conflict_context(exc, rows)
                form = ContactForm(
                    data_with_version(request.POST, exc.extra["current_version"]),
                    instance=contact,
                    tenant=request.tenant,
                    membership=request.membership,
                )
                form.is_valid()
            except (ValidationError, AppError) as exc:
                _service_error(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("accounts:contact-detail", slug=slug, pk=contact.pk)
    context = {
        "form": form,
        "contact": contact,
        "duplicates": duplicates,
        "confirm_needed": bool(duplicates),
        "conflict": conflict,
    }
    return render(request, "accounts/contact_form.html", context)


@tenant_roles_required(WRITERS)
@require_POST
def contact_delete(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    contact = _contact_for(request, pk, for_edit=True)
    return delete_with_undo(
        request,
        delete=lambda: contacts_services.contact_delete(
            tenant=request.tenant, actor=request.user, contact=contact
        ),
        done_url=reverse("accounts:contact-list", kwargs={"slug": slug}) + f"?deleted={contact.pk}",
        error_url=reverse("accounts:contact-detail", kwargs={"slug": slug, "pk": contact.pk}),
    )


@tenant_roles_required(WRITERS)
@require_POST
def contact_restore(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    contact = contacts_selectors.contact_deleted_get(
        tenant=request.tenant, membership=request.membership, pk=pk
    )
    if contact is None:
        raise Http404
    return restore_deleted(
        request,
        restore=lambda: contacts_services.contact_restore(
            tenant=request.tenant, actor=request.user, contact=contact
        ),
        done_url=reverse("accounts:contact-detail", kwargs={"slug": slug, "pk": contact.pk}),
        error_url=reverse("accounts:contact-list", kwargs={"slug": slug}),
        message=_("Contact restored."),
    )


@tenant_member_required
@require_GET
def contact_duplicates(request: TenantHttpRequest, slug: str) -> HttpResponse:
    exclude = request.GET.get("exclude") or None
    duplicates = duplicates_selectors.contact_duplicates(
        tenant=request.tenant,
        email=request.GET.get("email", ""),
        phone=request.GET.get("phone", ""),
        exclude_id=int(exclude) if exclude and exclude.isdecimal() else None,
        membership=request.membership,
    )
    return render(request, "accounts/partials/_duplicates_contacts.html", {"duplicates": duplicates})
