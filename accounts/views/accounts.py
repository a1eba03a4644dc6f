"""Pages of accounts: the list, the profile, create and edit (with the duplicate check and the conflict panel),
delete and restore, the account picker and the account team."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import panels
from accounts.filters.accounts import AccountFilterSet
from accounts.filters.sorting import AccountCursorPagination
from accounts.forms.accounts import AccountForm, AccountMemberForm
from accounts.models import Account, MergeEntity
from accounts.selectors import accounts as accounts_selectors
from accounts.selectors import common as common_selectors
from accounts.selectors import duplicates as duplicates_selectors
from accounts.selectors import merges as merges_selectors
from accounts.selectors import visibility as visibility_selectors
from accounts.services import accounts as accounts_services
from accounts.views.common import (
    MERGERS,
    WRITERS,
    _account_for,
    _conflict_display,
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
def account_list(request: TenantHttpRequest, slug: str) -> HttpResponse:
    base = accounts_selectors.account_list(tenant=request.tenant, membership=request.membership)
    filterset = AccountFilterSet(request.GET or None, queryset=base, request=request)
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else base
    if filterset.is_bound and not filterset.is_valid():
        qs = base.none()
    rows, next_link, prev_link = _paginate(request, qs, AccountCursorPagination())
    count, more = common_selectors.capped_count(qs)
    deleted = None
    if request.GET.get("deleted"):
        deleted = accounts_selectors.account_deleted_get(
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
def account_detail(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    try:
        profile = accounts_selectors.account_profile(
            tenant=request.tenant, membership=request.membership, pk=pk
        )
    except Account.DoesNotExist as exc:
        raise Http404 from exc
    merge = None
    if request.GET.get("merged"):
        merge = merges_selectors.merge_record_for_banner(
            tenant=request.tenant, pk=request.GET["merged"], entity=MergeEntity.ACCOUNT, survivor_id=pk
        )
    context = {
        "profile": profile,
        "account": profile.account,
        "timeline": profile.timeline,
        "merge": merge,
        "member_form": AccountMemberForm(tenant=request.tenant) if profile.account.can_edit else None,
        "can_merge": request.membership.role in MERGERS and profile.account.can_edit,
        "panels": panels.panels_for(panels.ACCOUNT, request=request, record=profile.account),
    }
    return render(request, "accounts/account_detail.html", context)


def _duplicates_for_form(
    request: TenantHttpRequest, form: AccountForm, exclude_id: int | None
) -> list[Account]:
    return duplicates_selectors.account_duplicates(
        tenant=request.tenant,
        name=form.cleaned_data.get("name") or "",
        domain=form.cleaned_data.get("domain") or "",
        exclude_id=exclude_id,
        membership=request.membership,
    )


@tenant_roles_required(WRITERS)
def account_create(request: TenantHttpRequest, slug: str) -> HttpResponse:
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
                account = accounts_services.account_create(
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
def account_edit(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
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
                accounts_services.account_update(
                    tenant=request.tenant,
                    actor=request.user,
                    account=account,
                    version=form.cleaned_data.get("version"),
                    **form.service_fields(),
                )
            except ConflictError as exc:
                rows = conflict_rows(form, exc.extra["current"], display=_conflict_display(request))
                conflict = conflict_context(exc, rows)
                # Saving again overwrites: the form now carries the current version, and keeps what they typed.
                form = AccountForm(
                    data_with_version(request.POST, exc.extra["current_version"]),
                    instance=account,
                    tenant=request.tenant,
                    membership=request.membership,
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


@tenant_roles_required(WRITERS)
@require_POST
def account_delete(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    account = _account_for(request, pk, for_edit=True)
    return delete_with_undo(
        request,
        delete=lambda: accounts_services.account_delete(
            tenant=request.tenant, actor=request.user, account=account
        ),
        done_url=reverse("accounts:account-list", kwargs={"slug": slug}) + f"?deleted={account.pk}",
        error_url=reverse("accounts:account-detail", kwargs={"slug": slug, "pk": account.pk}),
    )


@tenant_roles_required(WRITERS)
@require_POST
def account_restore(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    account = accounts_selectors.account_deleted_get(
        tenant=request.tenant, membership=request.membership, pk=pk
    )
    if account is None:
        raise Http404
    return restore_deleted(
        request,
        restore=lambda: accounts_services.account_restore(
            tenant=request.tenant, actor=request.user, account=account
        ),
        done_url=reverse("accounts:account-detail", kwargs={"slug": slug, "pk": account.pk}),
        error_url=reverse("accounts:account-list", kwargs={"slug": slug}),
        message=_("Account restored."),
    )


@tenant_member_required
@require_GET
def account_duplicates(request: TenantHttpRequest, slug: str) -> HttpResponse:
    """htmx: possible duplicates while the user types a company name or domain."""
    exclude = request.GET.get("exclude") or None
    duplicates = duplicates_selectors.account_duplicates(
        tenant=request.tenant,
        name=request.GET.get("name", ""),
        domain=request.GET.get("domain", ""),
        exclude_id=int(exclude) if exclude and exclude.isdecimal() else None,
        membership=request.membership,
    )
    return render(request, "accounts/partials/_duplicates_accounts.html", {"duplicates": duplicates})


@tenant_member_required
@require_GET
def account_picker(request: TenantHttpRequest, slug: str) -> HttpResponse:
    """htmx: the accounts matching a search, for the account picker widget (parent, a contact's account)."""
    q = request.GET.get("q", "").strip().lower()
    accounts = []
    if q:
        accounts = list(
            visibility_selectors.account_queryset(tenant=request.tenant, membership=request.membership)
            .filter(search_text__contains=q)
            .exclude(  # pk=None excludes nothing; the stubs' plugin types a pk lookup as never None
                pk=request.GET.get("exclude") if (request.GET.get("exclude") or "").isdecimal() else None  # type: ignore[misc]
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
def account_member_add(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    account = _account_for(request, pk, for_edit=True)
    form = AccountMemberForm(request.POST, tenant=request.tenant)
    if form.is_valid():
        try:
            accounts_services.account_member_set(
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
def account_member_remove(request: TenantHttpRequest, slug: str, pk: int, user_id: int) -> HttpResponse:
    account = _account_for(request, pk, for_edit=True)
    accounts_services.account_member_remove(
        tenant=request.tenant, actor=request.user, account=account, user_id=user_id
    )
    messages.success(request, _("Account team updated."))
    return redirect("accounts:account-detail", slug=slug, pk=account.pk)
