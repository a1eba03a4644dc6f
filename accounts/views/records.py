"""Pages of the records area: accounts, contacts, activities and tasks, exchange rates, merges.

Views stay thin: parse input, call one selector or service, render (a partial when the request is htmx).
A record the member may not see is a 404, exactly like a missing one.
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
from rest_framework.request import Request as DrfRequest

from accounts.filters_records import (
    AccountCursorPagination,
    AccountFilterSet,
    ContactCursorPagination,
    ContactFilterSet,
)
from accounts.forms_records import (
    AccountForm,
    AccountMemberForm,
    ActivityQuickForm,
    ContactForm,
    ExchangeRateForm,
    MergeForm,
)
from accounts.links import lead_link
from accounts.models import Account, Activity, Contact, ExchangeRate, MergeEntity, MergeRecord, Opportunity
from accounts.selectors import records as selectors
from accounts.selectors.deals import opportunity_get
from accounts.services import records as services
from crm.decorators import tenant_admin_required, tenant_member_required, tenant_roles_required
from crm.errors import AppError, ConflictError
from crm.models import Role
from crm.viewutils import apply_validation_error

WRITERS = [Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP, Role.CS]
MERGERS = [Role.ADMIN, Role.SALES_MANAGER, Role.CS]

# --- helpers ----------------------------------------------------------------------------------------------------


def _lead_for(request: HttpRequest, pk: int) -> Any:
    """A lead the member may see (the leads app's selector, through accounts.links)."""
    link = lead_link()
    try:
        return link.get(tenant=request.tenant, membership=request.membership, pk=pk)
    except link.model.DoesNotExist as exc:
        raise Http404 from exc


def _opportunity_for(request: HttpRequest, pk: int) -> Opportunity:
    try:
        return opportunity_get(tenant=request.tenant, membership=request.membership, pk=pk)
    except Opportunity.DoesNotExist as exc:
        raise Http404 from exc


def _account_for(request: HttpRequest, pk: int, *, for_edit: bool = False) -> Account:
    try:
        return selectors.account_get(
            tenant=request.tenant, membership=request.membership, pk=pk, for_edit=for_edit
        )
    except Account.DoesNotExist as exc:
        raise Http404 from exc


def _contact_for(request: HttpRequest, pk: int, *, for_edit: bool = False) -> Contact:
    try:
        return selectors.contact_get(
            tenant=request.tenant, membership=request.membership, pk=pk, for_edit=for_edit
        )
    except Contact.DoesNotExist as exc:
        raise Http404 from exc


def _task_for(request: HttpRequest, pk: int) -> Activity:
    """Tasks are completed and snoozed by their owner; admins and managers may do it for what they see."""
    try:
        task = selectors.activity_get(tenant=request.tenant, membership=request.membership, pk=pk)
    except Activity.DoesNotExist as exc:
        raise Http404 from exc
    if task.owner_id != request.user.pk and request.membership.role not in (Role.ADMIN, Role.SALES_MANAGER):
        raise Http404
    return task


def _paginate(request: HttpRequest, qs: Any, paginator: Any) -> tuple[list, str | None, str | None]:
    drf_request = DrfRequest(request)
    rows = paginator.paginate_queryset(qs, drf_request)
    return list(rows or []), paginator.get_next_link(), paginator.get_previous_link()


def _back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _service_error(form: Any, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        apply_validation_error(form, exc)
    else:
        form.add_error(None, str(exc))


def _conflict_rows(form: Any, current: dict[str, Any], fields: list[str]) -> list[dict[str, Any]]:
    """Their values vs the current values, side by side, for the conflict panel."""
    rows = []
    for name in fields:
        field = form.fields.get(name)
        if field is None:
            continue
        mine = form.cleaned_data.get(name) if hasattr(form, "cleaned_data") else None
        theirs = current.get(name)
        mine_label = getattr(mine, "pk", mine)
        if mine_label in (None, "") and theirs in (None, ""):
            continue
        if str(mine_label if mine_label is not None else "") == str(theirs if theirs is not None else ""):
            continue
        rows.append({"label": field.label, "mine": mine, "theirs": theirs, "name": name})
    return rows


# --- accounts ---------------------------------------------------------------------------------------------------


@tenant_member_required
@require_GET
def account_list(request: HttpRequest, slug: str) -> HttpResponse:
    base = selectors.account_list(tenant=request.tenant, membership=request.membership)
    filterset = AccountFilterSet(request.GET or None, queryset=base, request=request)
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else base
    if filterset.is_bound and not filterset.is_valid():
        qs = base.none()
    rows, next_link, prev_link = _paginate(request, qs, AccountCursorPagination())
    count, more = selectors.capped_count(qs)
    deleted = None
    if request.GET.get("deleted"):
        deleted = selectors.account_deleted_get(
            tenant=request.tenant, membership=request.membership, pk=request.GET["deleted"]
        )
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "accounts": rows,
        "next_link": next_link,
        "prev_link": prev_link,
        "count": count,
        "more": more,
        "deleted": deleted,
        "can_create": request.membership.role in WRITERS,
    }
    template = "accounts/partials/_account_results.html" if request.htmx else "accounts/account_list.html"
    return render(request, template, context)


@tenant_member_required
@require_GET
def account_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    try:
        profile = selectors.account_profile(tenant=request.tenant, membership=request.membership, pk=pk)
    except Account.DoesNotExist as exc:
        raise Http404 from exc
    merge = None
    if request.GET.get("merged"):
        merge = selectors.merge_record_for_banner(
            tenant=request.tenant, pk=request.GET["merged"], entity=MergeEntity.ACCOUNT, survivor_id=pk
        )
    context = {
        "profile": profile,
        "account": profile.account,
        "timeline": profile.timeline,
        "merge": merge,
        "member_form": AccountMemberForm(tenant=request.tenant) if profile.account.can_edit else None,
        "can_merge": request.membership.role in MERGERS and profile.account.can_edit,
    }
    return render(request, "accounts/account_detail.html", context)


def _duplicates_for_form(request: HttpRequest, form: AccountForm, exclude_id: int | None) -> list[Account]:
    return selectors.account_duplicates(
        tenant=request.tenant,
        name=form.cleaned_data.get("name") or "",
        domain=form.cleaned_data.get("domain") or "",
        exclude_id=exclude_id,
        membership=request.membership,
    )


@tenant_roles_required(WRITERS)
def account_create(request: HttpRequest, slug: str) -> HttpResponse:
    form = AccountForm(
        request.POST or None,
        tenant=request.tenant,
        membership=request.membership,
        initial={"owner": request.user.pk},
    )
    duplicates: list[Account] = []
    if request.method == "POST" and form.is_valid():
        duplicates = _duplicates_for_form(request, form, None)
        if not duplicates or form.cleaned_data.get("confirm_duplicates"):
            try:
                account = services.account_create(
                    tenant=request.tenant, actor=request.user, **form.service_fields()
                )
            except (ValidationError, AppError) as exc:
                _service_error(form, exc)
            else:
                messages.success(request, _("Account created."))
                return redirect("accounts:account-detail", slug=slug, pk=account.pk)
    context = {"form": form, "duplicates": duplicates, "confirm_needed": bool(duplicates)}
    return render(request, "accounts/account_form.html", context)


@tenant_roles_required(WRITERS)
def account_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    account = _account_for(request, pk, for_edit=True)
    form = AccountForm(
        request.POST or None, instance=account, tenant=request.tenant, membership=request.membership
    )
    duplicates: list[Account] = []
    conflict = None
    if request.method == "POST" and form.is_valid():
        # The form bound itself to a fresh copy; name/domain changes are checked for duplicates first.
        changed_identity = {"name", "domain"} & set(form.changed_data)
        if changed_identity and not form.cleaned_data.get("confirm_duplicates"):
            duplicates = _duplicates_for_form(request, form, account.pk)
        if not duplicates:
            account.refresh_from_db()
            try:
                services.account_update(
                    tenant=request.tenant,
                    actor=request.user,
                    account=account,
                    version=form.cleaned_data.get("version"),
                    **form.service_fields(),
                )
            except ConflictError as exc:
                conflict = {
                    "message": str(exc),
                    "rows": _conflict_rows(
                        form, _conflict_display(request, exc.extra["current"]), list(form.fields)
                    ),
                    "current_version": exc.extra["current_version"],
                }
                # Saving again overwrites: the form now carries the current version, and keeps what they typed.
                data = request.POST.copy()
                data["version"] = exc.extra["current_version"]
                form = AccountForm(
                    data, instance=account, tenant=request.tenant, membership=request.membership
                )
                form.is_valid()
            except (ValidationError, AppError) as exc:
                _service_error(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("accounts:account-detail", slug=slug, pk=account.pk)
    context = {
        "form": form,
        "account": account,
        "duplicates": duplicates,
        "confirm_needed": bool(duplicates),
        "conflict": conflict,
    }
    return render(request, "accounts/account_form.html", context)


def _conflict_display(request: HttpRequest, current: dict[str, Any]) -> dict[str, Any]:
    """Current values of a conflicting account or contact, readable: the owner by name, a parent or contact's
    account by name when the member may see it, else by its id (a hidden account reads like a missing one)."""
    from crm.models import User

    values = dict(current)
    if current.get("owner"):
        owner = User.objects.filter(pk=current["owner"]).first()
        values["owner"] = owner.display_name if owner else current["owner"]
    for key in ("parent", "account"):
        if current.get(key):
            visible = selectors.account_queryset(tenant=request.tenant, membership=request.membership)
            account = visible.filter(pk=current[key]).only("name").first()
            values[key] = account.name if account else f"#{current[key]}"
    return values


@tenant_roles_required(WRITERS)
@require_POST
def account_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    account = _account_for(request, pk, for_edit=True)
    services.account_delete(tenant=request.tenant, actor=request.user, account=account)
    return redirect(reverse("accounts:account-list", kwargs={"slug": slug}) + f"?deleted={account.pk}")


@tenant_roles_required(WRITERS)
@require_POST
def account_restore(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    account = selectors.account_deleted_get(tenant=request.tenant, membership=request.membership, pk=pk)
    if account is None:
        raise Http404
    try:
        services.account_restore(tenant=request.tenant, actor=request.user, account=account)
    except AppError as exc:
        messages.error(request, str(exc))
        return redirect("accounts:account-list", slug=slug)
    messages.success(request, _("Account restored."))
    return redirect("accounts:account-detail", slug=slug, pk=account.pk)


@tenant_member_required
@require_GET
def account_duplicates(request: HttpRequest, slug: str) -> HttpResponse:
    """htmx: possible duplicates while the user types a company name or domain."""
    exclude = request.GET.get("exclude") or None
    duplicates = selectors.account_duplicates(
        tenant=request.tenant,
        name=request.GET.get("name", ""),
        domain=request.GET.get("domain", ""),
        exclude_id=int(exclude) if exclude and exclude.isdecimal() else None,
        membership=request.membership,
    )
    return render(request, "accounts/partials/_duplicates_accounts.html", {"duplicates": duplicates})


@tenant_member_required
@require_GET
def account_picker(request: HttpRequest, slug: str) -> HttpResponse:
    """htmx: the accounts matching a search, for the account picker widget (parent, a contact's account)."""
    q = request.GET.get("q", "").strip().lower()
    accounts = []
    if q:
        accounts = list(
            selectors.account_queryset(tenant=request.tenant, membership=request.membership)
            .filter(search_text__contains=q)
            .exclude(
                pk=request.GET.get("exclude") if (request.GET.get("exclude") or "").isdecimal() else None
            )
            .only("pk", "name", "domain")
            .order_by("name", "pk")[:10]
        )
    return render(
        request,
        "accounts/partials/_account_picker_results.html",
        {"accounts": accounts, "target": request.GET.get("target", ""), "q": q},
    )


@tenant_roles_required(WRITERS)
@require_POST
def account_member_add(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    account = _account_for(request, pk, for_edit=True)
    form = AccountMemberForm(request.POST, tenant=request.tenant)
    if form.is_valid():
        try:
            services.account_member_set(
                tenant=request.tenant,
                actor=request.user,
                account=account,
                user=form.cleaned_data["user"],
                access=form.cleaned_data["access"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Account team updated."))
    else:
        messages.error(request, _("Choose a member and an access level."))
    return redirect("accounts:account-detail", slug=slug, pk=account.pk)


@tenant_roles_required(WRITERS)
@require_POST
def account_member_remove(request: HttpRequest, slug: str, pk: int, user_id: int) -> HttpResponse:
    account = _account_for(request, pk, for_edit=True)
    services.account_member_remove(
        tenant=request.tenant, actor=request.user, account=account, user_id=user_id
    )
    messages.success(request, _("Account team updated."))
    return redirect("accounts:account-detail", slug=slug, pk=account.pk)


def _merge_page(request: HttpRequest, slug: str, pk: int, *, entity: str) -> HttpResponse:
    is_account = entity == MergeEntity.ACCOUNT
    getter = _account_for if is_account else _contact_for
    record = getter(request, pk, for_edit=True)
    other = None
    other_id = request.POST.get("other") or request.GET.get("other")
    if other_id:
        if not str(other_id).isdecimal() or int(other_id) == record.pk:
            raise Http404
        other = getter(request, int(other_id), for_edit=True)
    fields = services.MERGE_FIELDS[Account if is_account else Contact]
    form = MergeForm(request.POST or None, left=record, right=other, fields=fields) if other else None
    if request.method == "POST" and form is not None and form.is_valid():
        survivor, merged, choices = form.merge_arguments()
        try:
            if is_account:
                merge = services.account_merge(
                    tenant=request.tenant,
                    actor=request.user,
                    survivor=survivor,
                    merged=merged,
                    choices=choices,
                )
            else:
                merge = services.contact_merge(
                    tenant=request.tenant,
                    actor=request.user,
                    survivor=survivor,
                    merged=merged,
                    choices=choices,
                )
        except (ValidationError, AppError) as exc:
            _service_error(form, exc)
        else:
            name = "accounts:account-detail" if is_account else "accounts:contact-detail"
            return redirect(reverse(name, kwargs={"slug": slug, "pk": survivor.pk}) + f"?merged={merge.pk}")
    candidates: list = []
    q = request.GET.get("q", "").strip()
    if other is None:
        if q:
            base = (
                selectors.account_queryset(
                    tenant=request.tenant, membership=request.membership, for_edit=True
                )
                if is_account
                else selectors.contact_queryset(
                    tenant=request.tenant, membership=request.membership, for_edit=True
                )
            )
            candidates = list(
                base.filter(search_text__contains=q.lower()).exclude(pk=record.pk).order_by("pk")[:20]
            )
        elif is_account:
            candidates = selectors.account_duplicates(
                tenant=request.tenant,
                name=record.name,
                domain=record.domain,
                exclude_id=record.pk,
                membership=request.membership,
            )
        else:
            candidates = selectors.contact_duplicates(
                tenant=request.tenant,
                email=record.email,
                phone=record.phone,
                exclude_id=record.pk,
                membership=request.membership,
            )
    context = {
        "record": record,
        "other": other,
        "form": form,
        "candidates": candidates,
        "q": q,
        "is_account": is_account,
        "entity": entity,
    }
    return render(request, "accounts/merge_form.html", context)


@tenant_roles_required(MERGERS)
def account_merge(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    return _merge_page(request, slug, pk, entity=MergeEntity.ACCOUNT)


@tenant_roles_required(MERGERS)
def contact_merge(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    return _merge_page(request, slug, pk, entity=MergeEntity.CONTACT)


@tenant_roles_required(MERGERS)
@require_POST
def merge_undo(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    try:
        record = selectors.merge_record_get(tenant=request.tenant, pk=pk)
    except MergeRecord.DoesNotExist as exc:
        raise Http404 from exc
    is_account = record.entity == MergeEntity.ACCOUNT
    getter = _account_for if is_account else _contact_for
    getter(request, record.survivor_id, for_edit=True)  # the survivor must be the member's to change
    try:
        services.merge_undo(tenant=request.tenant, actor=request.user, merge_record=record)
    except AppError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Merge undone: both records are back as they were."))
    name = "accounts:account-detail" if is_account else "accounts:contact-detail"
    return redirect(name, slug=slug, pk=record.survivor_id)


# --- contacts ---------------------------------------------------------------------------------------------------


@tenant_member_required
@require_GET
def contact_list(request: HttpRequest, slug: str) -> HttpResponse:
    base = selectors.contact_list(tenant=request.tenant, membership=request.membership)
    filterset = ContactFilterSet(request.GET or None, queryset=base, request=request)
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else base
    if filterset.is_bound and not filterset.is_valid():
        qs = base.none()
    rows, next_link, prev_link = _paginate(request, qs, ContactCursorPagination())
    count, more = selectors.capped_count(qs)
    deleted = None
    if request.GET.get("deleted"):
        deleted = selectors.contact_deleted_get(
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
def contact_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    contact = _contact_for(request, pk)
    merge = None
    if request.GET.get("merged"):
        merge = selectors.merge_record_for_banner(
            tenant=request.tenant, pk=request.GET["merged"], entity=MergeEntity.CONTACT, survivor_id=pk
        )
    context = {
        "contact": contact,
        "timeline": selectors.timeline_for(
            tenant=request.tenant, membership=request.membership, contact=contact
        ),
        "merge": merge,
        "can_merge": request.membership.role in MERGERS and contact.can_edit,
        "deals": selectors.contact_opportunities(
            tenant=request.tenant, membership=request.membership, contact=contact
        ),
    }
    return render(request, "accounts/contact_detail.html", context)


def _contact_duplicates_for_form(
    request: HttpRequest, form: ContactForm, exclude_id: int | None
) -> list[Contact]:
    return selectors.contact_duplicates(
        tenant=request.tenant,
        email=form.cleaned_data.get("email") or "",
        phone=form.cleaned_data.get("phone") or "",
        exclude_id=exclude_id,
        membership=request.membership,
    )


@tenant_roles_required(WRITERS)
def contact_create(request: HttpRequest, slug: str) -> HttpResponse:
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
                contact = services.contact_create(tenant=request.tenant, actor=request.user, **fields)
            except (ValidationError, AppError) as exc:
                _service_error(form, exc)
            else:
                messages.success(request, _("Contact created."))
                return redirect("accounts:contact-detail", slug=slug, pk=contact.pk)
    context = {"form": form, "duplicates": duplicates, "confirm_needed": bool(duplicates)}
    return render(request, "accounts/contact_form.html", context)


@tenant_roles_required(WRITERS)
def contact_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
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
                services.contact_update(
                    tenant=request.tenant,
                    actor=request.user,
                    contact=contact,
                    version=form.cleaned_data.get("version"),
                    **form.service_fields(),
                )
            except ConflictError as exc:
                conflict = {
                    "message": str(exc),
                    "rows": _conflict_rows(
                        form, _conflict_display(request, exc.extra["current"]), list(form.fields)
                    ),
                    "current_version": exc.extra["current_version"],
                }
                data = request.POST.copy()
                data["version"] = exc.extra["current_version"]
                form = ContactForm(
                    data, instance=contact, tenant=request.tenant, membership=request.membership
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
def contact_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    contact = _contact_for(request, pk, for_edit=True)
    services.contact_delete(tenant=request.tenant, actor=request.user, contact=contact)
    return redirect(reverse("accounts:contact-list", kwargs={"slug": slug}) + f"?deleted={contact.pk}")


@tenant_roles_required(WRITERS)
@require_POST
def contact_restore(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    contact = selectors.contact_deleted_get(tenant=request.tenant, membership=request.membership, pk=pk)
    if contact is None:
        raise Http404
    try:
        services.contact_restore(tenant=request.tenant, actor=request.user, contact=contact)
    except AppError as exc:
        messages.error(request, str(exc))
        return redirect("accounts:contact-list", slug=slug)
    messages.success(request, _("Contact restored."))
    return redirect("accounts:contact-detail", slug=slug, pk=contact.pk)


@tenant_member_required
@require_GET
def contact_duplicates(request: HttpRequest, slug: str) -> HttpResponse:
    exclude = request.GET.get("exclude") or None
    duplicates = selectors.contact_duplicates(
        tenant=request.tenant,
        email=request.GET.get("email", ""),
        phone=request.GET.get("phone", ""),
        exclude_id=int(exclude) if exclude and exclude.isdecimal() else None,
        membership=request.membership,
    )
    return render(request, "accounts/partials/_duplicates_contacts.html", {"duplicates": duplicates})


# --- activities and tasks ---------------------------------------------------------------------------------------


@tenant_member_required
@require_POST
def activity_create(request: HttpRequest, slug: str) -> HttpResponse:
    """The quick-log form: log an activity on the posted record(s) and answer with the refreshed timeline
    (plus a fresh form out of band); with an error, answer with the form and its errors."""
    form = ActivityQuickForm(request.POST)
    valid = form.is_valid()
    data = form.cleaned_data if valid else {}
    targets: dict[str, Any] = {"lead": None, "account": None, "contact": None, "opportunity": None}
    for name in targets:
        value = request.POST.get(name)
        if not value:
            continue
        if not value.isdecimal():
            raise Http404
        pk = int(value)
        if name == "lead":
            targets[name] = _lead_for(request, pk)
        elif name == "account":
            targets[name] = _account_for(request, pk)
        elif name == "contact":
            targets[name] = _contact_for(request, pk)
        else:
            targets[name] = _opportunity_for(request, pk)
    timeline_id = (data.get("timeline_id") if valid else None) or "timeline"
    context = {**targets, "timeline_id": timeline_id}
    if valid:
        try:
            services.activity_log(
                tenant=request.tenant,
                actor=request.user,
                kind=data["kind"],
                subject=data["subject"],
                body=data["body"],
                due_at=data["due_at"],
                **targets,
            )
        except (ValidationError, AppError, PermissionDenied) as exc:
            _service_error(form, exc)
            valid = False
    if not valid:
        response = render(
            request, "accounts/partials/_activity_quick_form.html", {**context, "quick_form": form}
        )
        if request.htmx:
            response["HX-Retarget"] = f"#quick-log-{timeline_id}"
            response["HX-Reswap"] = "outerHTML"
        else:
            response.status_code = 400
        return response
    if not request.htmx:
        messages.success(request, _("Logged."))
        return redirect(_back(request, reverse("accounts:task-list", kwargs={"slug": slug})))
    context["timeline"] = selectors.timeline_for(
        tenant=request.tenant, membership=request.membership, **targets
    )
    return render(request, "accounts/partials/_activity_logged.html", context)


TIMELINE_TARGETS = ("opportunity", "contact", "lead", "account")


@tenant_member_required
@require_GET
def timeline_more(request: HttpRequest, slug: str) -> HttpResponse:
    """The timeline's "Show more" (htmx): the next page of items after `cursor`, for the one record named in
    the query (`account`, `contact`, `opportunity` or `lead` = id). A record the member may not see is a 404."""
    name = next((n for n in TIMELINE_TARGETS if request.GET.get(n)), None)
    value = request.GET.get(name, "") if name else ""
    if name is None or not value.isdecimal():
        raise Http404
    pk = int(value)
    getters = {"lead": _lead_for, "account": _account_for, "contact": _contact_for}
    if name == "opportunity":
        from accounts.selectors.deals import opportunity_get

        try:
            # A deleted deal's page still shows its timeline (for those who may restore it).
            record = opportunity_get(
                tenant=request.tenant, membership=request.membership, pk=pk, include_deleted=True
            )
        except Opportunity.DoesNotExist as exc:
            raise Http404 from exc
    else:
        record = getters[name](request, pk)
    timeline = selectors.timeline_for(
        tenant=request.tenant,
        membership=request.membership,
        cursor=request.GET.get("cursor"),
        **{name: record},
    )
    return render(request, "accounts/partials/_timeline_items.html", {"timeline": timeline})


@tenant_member_required
@require_GET
def task_list(request: HttpRequest, slug: str) -> HttpResponse:
    buckets = selectors.task_buckets(tenant=request.tenant, membership=request.membership)
    return render(request, "accounts/task_list.html", {"buckets": buckets})


def _task_response(request: HttpRequest, slug: str, task: Activity, message: str) -> HttpResponse:
    if request.htmx:
        return render(
            request, "accounts/partials/_activity_task_row.html", {"task": task, "message": message}
        )
    messages.success(request, message)
    return redirect(_back(request, reverse("accounts:task-list", kwargs={"slug": slug})))


@tenant_member_required
@require_POST
def task_complete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    task = _task_for(request, pk)
    task = services.activity_complete(tenant=request.tenant, actor=request.user, activity=task)
    return _task_response(request, slug, task, _("Done."))


@tenant_member_required
@require_POST
def task_snooze(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    task = _task_for(request, pk)
    try:
        task = services.activity_snooze(
            tenant=request.tenant, actor=request.user, activity=task, delta=request.POST.get("by", "1d")
        )
    except (ValidationError, AppError) as exc:
        message = " ".join(getattr(exc, "messages", [str(exc)]))
        return _task_response(request, slug, task, message)
    return _task_response(request, slug, task, _("Snoozed."))


# --- exchange rates ---------------------------------------------------------------------------------------------


@tenant_admin_required
def rate_list(request: HttpRequest, slug: str) -> HttpResponse:
    form = ExchangeRateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.exchange_rate_create(tenant=request.tenant, actor=request.user, **form.cleaned_data)
        except (ValidationError, AppError) as exc:
            _service_error(form, exc)
        else:
            messages.success(request, _("Rate added."))
            return redirect("accounts:rate-list", slug=slug)
    rates = list(selectors.exchange_rate_list(tenant=request.tenant, filters=request.GET or None)[:500])
    context = {
        "form": form,
        "rates": rates,
        "current_rates": selectors.exchange_rates_current(tenant=request.tenant),
        "currency_filter": request.GET.get("currency", ""),
    }
    return render(request, "accounts/rate_list.html", context)


@tenant_admin_required
def rate_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    try:
        rate = selectors.exchange_rate_get(tenant=request.tenant, pk=pk)
    except ExchangeRate.DoesNotExist as exc:
        raise Http404 from exc
    form = ExchangeRateForm(request.POST or None, instance=rate)
    if request.method == "POST" and form.is_valid():
        try:
            services.exchange_rate_update(
                tenant=request.tenant, actor=request.user, exchange_rate=rate, **form.cleaned_data
            )
        except (ValidationError, AppError) as exc:
            _service_error(form, exc)
        else:
            messages.success(request, _("Rate saved."))
            return redirect("accounts:rate-list", slug=slug)
    return render(request, "accounts/rate_form.html", {"form": form, "rate": rate})


@tenant_admin_required
@require_POST
def rate_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    try:
        rate = selectors.exchange_rate_get(tenant=request.tenant, pk=pk)
    except ExchangeRate.DoesNotExist as exc:
        raise Http404 from exc
    services.exchange_rate_delete(tenant=request.tenant, actor=request.user, exchange_rate=rate)
    messages.success(request, _("Rate deleted."))
    return redirect("accounts:rate-list", slug=slug)
