"""Helpers shared by the accounts pages: who writes and merges, the visible record behind a URL id, paging,
the way back, service errors and how the conflict screen of a stale edit names saved values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.http import url_has_allowed_host_and_scheme
from rest_framework.request import Request as DrfRequest

from accounts.links import lead_link
from accounts.models import Account, Contact, Opportunity
from accounts.selectors import accounts as accounts_selectors
from accounts.selectors import contacts as contacts_selectors
from accounts.selectors import visibility as visibility_selectors
from accounts.selectors.opportunities import opportunity_get
from crm.models import Role
from crm.types import TenantHttpRequest
from crm.viewutils import apply_validation_error

WRITERS = [Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP, Role.CS]


MERGERS = [Role.ADMIN, Role.SALES_MANAGER, Role.CS]


def _lead_for(request: TenantHttpRequest, pk: int) -> Any:
    """A lead the member may see (the leads app's selector, through accounts.links)."""
    link = lead_link()
    try:
        return link.get(tenant=request.tenant, membership=request.membership, pk=pk)
    except link.model.DoesNotExist as exc:  # type: ignore[attr-defined]  # every concrete model has it
        raise Http404 from exc


def _opportunity_for(request: TenantHttpRequest, pk: int) -> Opportunity:
    try:
        return opportunity_get(tenant=request.tenant, membership=request.membership, pk=pk)
    except Opportunity.DoesNotExist as exc:
        raise Http404 from exc


def _account_for(request: TenantHttpRequest, pk: int, *, for_edit: bool = False) -> Account:
    try:
        return accounts_selectors.account_get(
            tenant=request.tenant, membership=request.membership, pk=pk, for_edit=for_edit
        )
    except Account.DoesNotExist as exc:
        raise Http404 from exc


def _contact_for(request: TenantHttpRequest, pk: int, *, for_edit: bool = False) -> Contact:
    try:
        return contacts_selectors.contact_get(
            tenant=request.tenant, membership=request.membership, pk=pk, for_edit=for_edit
        )
    except Contact.DoesNotExist as exc:
        raise Http404 from exc


def _paginate(request: TenantHttpRequest, qs: Any, paginator: Any) -> tuple[list, str | None, str | None]:
    drf_request = DrfRequest(request)
    rows = paginator.paginate_queryset(qs, drf_request)
    return list(rows or []), paginator.get_next_link(), paginator.get_previous_link()


def _back(request: TenantHttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _service_error(form: Any, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        apply_validation_error(form, exc)
    else:
        form.add_error(None, str(exc))


def _conflict_display(request: TenantHttpRequest) -> Callable[[str, Any], Any]:
    """How the conflict screen shows a saved value of an account or contact: the owner by name, a parent or
    contact's account by name when the member may see it, else by its id (a hidden account reads like a missing
    one)."""
    from crm.models import User

    def display(name: str, value: Any) -> Any:
        if name == "owner":
            owner = User.objects.filter(pk=value).first()
            return owner.display_name if owner else value
        if name in ("parent", "account"):
            visible = visibility_selectors.account_queryset(
                tenant=request.tenant, membership=request.membership
            )
            account = visible.filter(pk=value).only("name").first()
            return account.name if account else f"#{value}"
        return value

    return display


def _wants_json(request: TenantHttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")
