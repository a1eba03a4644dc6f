"""Pages of the leads area: the inbox (my / team / all, filters, search, keyset pages, bulk actions), the lead
page (details, score, timeline, status, assignment, duplicates and merges), create and edit (optimistic locking),
conversion, and the public pool with its health and settings.

Views stay thin: parse input, call one selector or service, render (a partial when the request is htmx). A lead
the member may not see is a 404, exactly like a missing one; cs members get 404 on every lead page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.decorators import tenant_roles_required
from crm.errors import AppError, ConflictError
from crm.models import Role
from crm.viewutils import apply_validation_error
from leads.forms_leads import (
    AssignForm,
    BulkForm,
    ConvertForm,
    LeadForm,
    LeadSettingsForm,
    MergeForm,
    StatusForm,
)
from leads.models import Lead, LeadStatus
from leads.selectors import leads as selectors
from leads.services import leads as services

LEAD_ROLES = selectors.LEAD_ROLES
WRITERS = selectors.ASSIGNABLE_ROLES
SETTINGS_ROLES = (Role.ADMIN, Role.OPS)
HEALTH_ROLES = (Role.ADMIN, Role.OPS, Role.SALES_MANAGER)
STEPS = [LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.MQL, LeadStatus.SQL, LeadStatus.CONVERTED]


# --- helpers ----------------------------------------------------------------------------------------------------


def _lead_or_404(request: HttpRequest, pk: int) -> Lead:
    try:
        return selectors.lead_get(tenant=request.tenant, membership=request.membership, pk=pk)
    except Lead.DoesNotExist as exc:
        raise Http404 from exc


def _detail(lead: Lead, slug: str) -> HttpResponse:
    return redirect("leads:lead-detail", slug=slug, pk=lead.pk)


def _error_message(request: HttpRequest, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.error(request, str(exc))


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _int_list(values: list[str]) -> list[int]:
    ids = []
    for value in values:
        if not str(value).isdecimal():
            raise Http404
        ids.append(int(value))
    return ids


def _query_without(request: HttpRequest, *names: str) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


# --- inbox ------------------------------------------------------------------------------------------------------


@require_GET
@tenant_roles_required(LEAD_ROLES)
def lead_list(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, membership = request.tenant, request.membership
    scopes = selectors.lead_scopes(membership)
    scope = request.GET.get("scope")
    if scope not in {key for key, _label in scopes}:
        scope = scopes[0][0]
    filterset, qs = selectors.lead_inbox(
        tenant=tenant, membership=membership, params=request.GET, scope=scope
    )
    page = selectors.lead_inbox_page(
        qs,
        sort=request.GET.get("sort") or selectors.DEFAULT_SORT,
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
        "sorts": selectors.SORTS.values(),
        "base_query": _query_without(request, "after", "before"),
        "scope_query": _query_without(request, "after", "before", "scope"),
        "sort_query": _query_without(request, "after", "before", "sort"),
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
def lead_bulk(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, membership = request.tenant, request.membership
    back = _safe_next(request, reverse("leads:lead-list", kwargs={"slug": slug}))
    ids = _int_list(request.POST.getlist("ids"))
    form = BulkForm(request.POST, tenant=tenant, membership=membership)
    if not ids:
        messages.warning(request, _("Tick the leads first."))
        return redirect(back)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect(back)
    try:
        leads = selectors.leads_for_ids(tenant=tenant, membership=membership, ids=ids)
    except Lead.DoesNotExist as exc:
        raise Http404 from exc
    data = form.cleaned_data
    try:
        if data["action"] == "assign":
            count = services.leads_bulk_assign(
                tenant=tenant, actor=request.user, leads=leads, owner=data["owner"]
            )
        else:
            count = services.leads_bulk_change_status(
                tenant=tenant, actor=request.user, leads=leads, status=data["status"], reason=data["reason"]
            )
    except (ValidationError, AppError, PermissionDenied) as exc:
        _error_message(request, exc)
    else:
        messages.success(request, _("%(count)d leads updated.") % {"count": count})
    return redirect(back)


# --- create, edit, delete -------------------------------------------------------------------------------------


@require_GET
@tenant_roles_required(LEAD_ROLES)
def lead_duplicates(request: HttpRequest, slug: str) -> HttpResponse:
    """htmx: possible duplicates of what is being typed (create and edit forms)."""
    exclude = request.GET.get("exclude")
    found = selectors.lead_duplicates(
        tenant=request.tenant,
        membership=request.membership,
        email=request.GET.get("email", ""),
        phone=request.GET.get("phone", ""),
        company=request.GET.get("company", ""),
        exclude_id=int(exclude) if exclude and exclude.isdecimal() else None,
    )
    return render(request, "leads/partials/_lead_duplicates.html", {"duplicates": found})


@tenant_roles_required(WRITERS)
def lead_create(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, membership = request.tenant, request.membership
    form = LeadForm(request.POST or None, tenant=tenant, membership=membership)
    duplicates: list = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        duplicates = selectors.lead_duplicates(
            tenant=tenant,
            membership=membership,
            email=data["email"],
            phone=data["phone"],
            company=data["company"],
        )
        if duplicates and not data.get("confirm_duplicates"):
            form.data = form.data.copy()
            form.data["confirm_duplicates"] = "1"
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
                    return _detail(lead, slug)
                messages.success(
                    request,
                    _("Lead created and assigned to %(owner)s by the rules.")
                    % {"owner": lead.owner.display_name if lead.owner else _("the pool")},
                )
                return redirect("leads:lead-list", slug=slug)
    return render(request, "leads/lead_form.html", {"form": form, "duplicates": duplicates, "lead": None})


@tenant_roles_required(LEAD_ROLES)
def lead_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    tenant, membership = request.tenant, request.membership
    lead = _lead_or_404(request, pk)
    if not lead.can_edit:
        raise Http404
    form = LeadForm(request.POST or None, tenant=tenant, membership=membership, lead=lead)
    duplicates: list = []
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changed_dupe_fields = any(data[name] != getattr(lead, name) for name in LeadForm.DUPLICATE_FIELDS)
        if changed_dupe_fields:
            duplicates = selectors.lead_duplicates(
                tenant=tenant,
                membership=membership,
                email=data["email"],
                phone=data["phone"],
                company=data["company"],
                exclude_id=lead.pk,
            )
        if duplicates and not data.get("confirm_duplicates"):
            form.data = form.data.copy()
            form.data["confirm_duplicates"] = "1"
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
                form.data = form.data.copy()
                form.data["version"] = str(exc.extra["current_version"])
            except ValidationError as exc:
                apply_validation_error(form, exc)
            except (AppError, PermissionDenied) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Saved."))
                return _detail(lead, slug)
    return render(
        request,
        "leads/lead_form.html",
        {"form": form, "duplicates": duplicates, "lead": lead, "conflict": conflict},
    )


def _conflict_context(form: LeadForm, exc: ConflictError) -> dict[str, Any]:
    """Their values vs the values now saved, side by side; the form keeps the user's values and the new version,
    so "Save mine" overwrites knowingly and nothing typed is lost."""
    current = exc.extra["current"]
    rows = []
    lookups = {"source": form.fields["source"].queryset, "campaign": form.fields["campaign"].queryset}
    for name, field in form.fields.items():
        if name in ("version", "confirm_duplicates", "owner"):
            continue
        mine = form.cleaned_data.get(name)
        theirs = current.get(name)
        mine_key = getattr(mine, "pk", mine)
        if (mine_key or "") == (theirs or ""):
            continue
        if name in lookups and theirs:
            theirs = next((str(obj) for obj in lookups[name] if obj.pk == theirs), theirs)
        rows.append({"label": field.label, "mine": mine, "theirs": theirs})
    return {"rows": rows, "version": exc.extra["current_version"], "message": str(exc)}


@require_POST
@tenant_roles_required(WRITERS)
def lead_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    try:
        services.lead_delete(tenant=request.tenant, actor=request.user, lead=lead)
    except (AppError, PermissionDenied) as exc:
        _error_message(request, exc)
        return _detail(lead, slug)
    undo = reverse("leads:lead-restore", kwargs={"slug": slug, "pk": lead.pk})
    request.session["lead_undo"] = {"url": undo, "name": str(lead)}
    messages.success(request, _("Lead “%(name)s” deleted.") % {"name": lead})
    return redirect("leads:lead-list", slug=slug)


@require_POST
@tenant_roles_required(WRITERS)
def lead_restore(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    try:
        lead = selectors.lead_get_deleted(tenant=request.tenant, membership=request.membership, pk=pk)
    except Lead.DoesNotExist as exc:
        raise Http404 from exc
    request.session.pop("lead_undo", None)
    try:
        services.lead_restore(tenant=request.tenant, actor=request.user, lead=lead)
    except (AppError, PermissionDenied) as exc:
        _error_message(request, exc)
        return redirect("leads:lead-list", slug=slug)
    messages.success(request, _("Lead restored."))
    return _detail(lead, slug)


# --- the lead page ----------------------------------------------------------------------------------------------


@require_GET
@tenant_roles_required(LEAD_ROLES)
def lead_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    return render(request, "leads/lead_detail.html", _detail_context(request, lead))


def _detail_context(request: HttpRequest, lead: Lead, **extra: Any) -> dict[str, Any]:
    from accounts.selectors.records import merges_into, timeline_for

    tenant, membership = request.tenant, request.membership
    is_open = lead.status in selectors.OPEN_STATUSES
    in_pool = lead.owner_id is None and is_open
    context = {
        "lead": lead,
        "timeline": timeline_for(tenant=tenant, membership=membership, lead=lead),
        "duplicates": selectors.lead_duplicates(
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
        "steps": _steps(lead),
        "is_open": is_open,
        "in_pool": in_pool,
        "can_claim": in_pool and membership.role in selectors.CLAIM_ROLES,
        "status_form": extra.pop("status_form", None) or StatusForm(initial={"status": lead.status}),
        "assign_form": extra.pop("assign_form", None)
        or AssignForm(tenant=tenant, membership=membership, initial={"owner": lead.owner_id}),
    }
    context.update(extra)
    return context


def _steps(lead: Lead) -> list[dict[str, Any]]:
    """The status track: each step with its timestamp and whether it was reached (KPIS.md rule)."""
    rows = []
    for status in STEPS:
        stamp = services.STATUS_STAMP.get(status)
        rows.append(
            {
                "status": status,
                "label": LeadStatus(status).label,
                "at": lead.created_at if status == LeadStatus.NEW else getattr(lead, stamp),
                "reached": services.lead_status_reached(lead, status),
                "current": lead.status == status,
            }
        )
    return rows


@require_POST
@tenant_roles_required(WRITERS)
def lead_status(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.lead_change_status(
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
            return _detail(lead, slug)
    lead = _lead_or_404(request, pk)
    return render(
        request, "leads/lead_detail.html", _detail_context(request, lead, status_form=form), status=400
    )


@require_POST
@tenant_roles_required(WRITERS)
def lead_assign(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    form = AssignForm(request.POST, tenant=request.tenant, membership=request.membership)
    if form.is_valid():
        try:
            services.lead_assign(
                tenant=request.tenant, actor=request.user, lead=lead, owner=form.cleaned_data["owner"]
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        except (AppError, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            if lead.owner_id is None:
                messages.success(request, _("Lead released to the pool."))
            else:
                messages.success(
                    request, _("Lead assigned to %(owner)s.") % {"owner": lead.owner.display_name}
                )
            if (
                selectors.lead_queryset(tenant=request.tenant, membership=request.membership)
                .filter(pk=lead.pk)
                .exists()
            ):
                return _detail(lead, slug)
            return redirect("leads:lead-list", slug=slug)
    lead = _lead_or_404(request, pk)
    return render(
        request, "leads/lead_detail.html", _detail_context(request, lead, assign_form=form), status=400
    )


@require_POST
@tenant_roles_required(selectors.CLAIM_ROLES)
def lead_claim(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    try:
        services.lead_claim(tenant=request.tenant, actor=request.user, lead=lead)
    except (AppError, PermissionDenied) as exc:
        _error_message(request, exc)
        return redirect(_safe_next(request, reverse("leads:pool", kwargs={"slug": slug})))
    messages.success(request, _("You claimed “%(name)s” from the pool.") % {"name": lead})
    return _detail(lead, slug)


# --- conversion -------------------------------------------------------------------------------------------------


@tenant_roles_required(WRITERS)
def lead_convert(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    from accounts.selectors import records as account_selectors

    tenant, membership = request.tenant, request.membership
    lead = _lead_or_404(request, pk)
    if not lead.can_edit:
        raise Http404
    if lead.status == LeadStatus.CONVERTED:
        messages.info(request, _("This lead is already converted."))
        return _detail(lead, slug)
    initial = {
        "account_choice": "new",
        "contact_choice": "new",
        "account_name": lead.company or lead.full_name,
        "account_domain": services.email_domain(lead.email),
        "deal_name": _("%(company)s – new business") % {"company": lead.company or lead.full_name},
        "deal_currency": tenant.currency,
    }
    form = ConvertForm(request.POST or None, initial=initial)
    # Only records the member may see are suggested (DESIGN.md: an invisible record does not exist for them).
    account_suggestions = account_selectors.account_duplicates(
        tenant=tenant,
        name=lead.company or "",
        domain=services.email_domain(lead.email),
        membership=membership,
    )
    contact_suggestions = account_selectors.contact_duplicates(
        tenant=tenant, email=lead.email, phone=lead.phone, membership=membership
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        account = contact = None
        try:
            if data["account_choice"] != "new":
                account = account_selectors.account_queryset(tenant=tenant, membership=membership).get(
                    pk=int(data["account_choice"])
                )
            if data["contact_choice"] != "new":
                contact = account_selectors.contact_queryset(tenant=tenant, membership=membership).get(
                    pk=int(data["contact_choice"])
                )
        except (account_selectors.Account.DoesNotExist, account_selectors.Contact.DoesNotExist):
            form.add_error(None, _("Choose an account and a contact you can see."))
        if not form.errors:
            try:
                services.lead_convert(
                    tenant=tenant,
                    actor=request.user,
                    lead=lead,
                    account=account,
                    account_name=data["account_name"],
                    account_domain=data["account_domain"],
                    contact=contact,
                    create_deal=not data["no_deal"],
                    deal_name=data["deal_name"],
                    deal_amount=data["deal_amount"] or 0,
                    deal_currency=data["deal_currency"] or None,
                    deal_close_date=data["deal_close_date"],
                )
            except ValidationError as exc:
                _convert_errors(form, exc)
            except (AppError, PermissionDenied) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Lead converted."))
                return _detail(lead, slug)
    context = {
        "lead": lead,
        "form": form,
        "account_suggestions": account_suggestions,
        "contact_suggestions": contact_suggestions,
        "account_choice": form["account_choice"].value() or "new",
        "contact_choice": form["contact_choice"].value() or "new",
    }
    return render(request, "leads/lead_convert.html", context, status=400 if form.errors else 200)


def _convert_errors(form: ConvertForm, exc: ValidationError) -> None:
    """Map the account/contact/deal services' field errors onto the convert form's fields."""
    mapping = {
        "name": "deal_name",
        "amount": "deal_amount",
        "currency": "deal_currency",
        "expected_close_date": "deal_close_date",
        "domain": "account_domain",
    }
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = mapping.get(field, field)
            for message in errors:
                form.add_error(target if target in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


# --- merges ----------------------------------------------------------------------------------------------------


@tenant_roles_required(WRITERS)
def lead_merge(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Compare this lead with a duplicate (GET) and merge them (POST: which one stays)."""
    lead = _lead_or_404(request, pk)
    other_id = request.POST.get("other") or request.GET.get("other")
    if not other_id or not str(other_id).isdecimal():
        raise Http404
    other = _lead_or_404(request, int(other_id))
    if not (lead.can_edit and other.can_edit) or other.pk == lead.pk:
        raise Http404
    form = MergeForm(request.POST or None, initial={"other": other.pk, "keep": "this"})
    if request.method == "POST" and form.is_valid():
        survivor, merged = (lead, other) if form.cleaned_data["keep"] == "this" else (other, lead)
        try:
            record = services.lead_merge(
                tenant=request.tenant, actor=request.user, survivor=survivor, merged=merged
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        except (AppError, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Merged “%(merged)s” into this lead. You can undo it below.") % {"merged": merged}
            )
            return redirect("leads:lead-detail", slug=slug, pk=record.survivor_id)
    rows = []
    for name in ("first_name", "last_name", "email", "phone", "company", "title", "region", "industry"):
        rows.append(
            {
                "label": Lead._meta.get_field(name).verbose_name,
                "this": getattr(lead, name),
                "other": getattr(other, name),
            }
        )
    rows.append(
        {"label": _("status"), "this": lead.get_status_display(), "other": other.get_status_display()}
    )
    rows.append({"label": _("owner"), "this": lead.owner or "—", "other": other.owner or "—"})
    return render(
        request, "leads/lead_merge.html", {"lead": lead, "other": other, "form": form, "rows": rows}
    )


@require_POST
@tenant_roles_required(WRITERS)
def lead_merge_undo(request: HttpRequest, slug: str, pk: int, record_id: int) -> HttpResponse:
    from accounts.models import MergeRecord
    from accounts.selectors.records import merge_record_get

    lead = _lead_or_404(request, pk)
    try:
        record = merge_record_get(tenant=request.tenant, pk=record_id, entity="lead")
    except MergeRecord.DoesNotExist as exc:
        raise Http404 from exc
    if record.survivor_id != lead.pk or not lead.can_edit:
        raise Http404
    try:
        restored = services.lead_merge_undo(tenant=request.tenant, actor=request.user, record=record)
    except (ValidationError, AppError, PermissionDenied) as exc:
        _error_message(request, exc)
        return _detail(lead, slug)
    messages.success(request, _("Merge undone: “%(name)s” is back.") % {"name": restored})
    return _detail(restored, slug)


# --- the pool ----------------------------------------------------------------------------------------------------


@require_GET
@tenant_roles_required(LEAD_ROLES)
def pool(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, membership = request.tenant, request.membership
    filterset, qs = selectors.pool_inbox(tenant=tenant, membership=membership, params=request.GET)
    page = selectors.lead_inbox_page(
        qs,
        sort=request.GET.get("sort") or "created",
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    settings = selectors.lead_settings_get(tenant=tenant)
    context = {
        "filterset": filterset,
        "filter_form": filterset.form,
        "page": page,
        "sorts": selectors.SORTS.values(),
        "base_query": _query_without(request, "after", "before"),
        "sort_query": _query_without(request, "after", "before", "sort"),
        "settings": settings,
        "can_claim": membership.role in selectors.CLAIM_ROLES,
        "held": selectors.open_claims_count(tenant=tenant, user_id=membership.user_id)
        if membership.role in selectors.CLAIM_ROLES
        else 0,
        "health": selectors.pool_health(tenant=tenant, membership=membership)
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
def pool_settings(request: HttpRequest, slug: str) -> HttpResponse:
    form = LeadSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.lead_settings_update(tenant=request.tenant, actor=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            _error_message(request, exc)
        else:
            messages.success(request, _("Pool settings saved."))
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect("leads:pool", slug=slug)
