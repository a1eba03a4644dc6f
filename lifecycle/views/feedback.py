"""Feedback pages: the list with filters, logging feedback, deleting it, and the account's feedback partial.

Every account or feedback row the member may not see is a 404, like a missing one.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Account
from accounts.selectors.accounts import account_get
from crm.decorators import tenant_member_required, tenant_roles_required
from crm.types import TenantHttpRequest
from crm.viewutils import apply_validation_error
from lifecycle.filters.feedback import FeedbackFilterSet
from lifecycle.forms.feedback import FeedbackForm
from lifecycle.models import Feedback
from lifecycle.selectors.feedback import can_edit_feedback, feedback_for_account, feedback_get, feedback_list
from lifecycle.services.feedback import feedback_create, feedback_delete
from lifecycle.views.common import CS_EDITORS, _page, _query_without_page


@tenant_member_required
def feedback_list_view(request: TenantHttpRequest, slug: str) -> HttpResponse:
    tenant, membership = request.tenant, request.membership
    filterset = FeedbackFilterSet(
        request.GET or None,
        queryset=feedback_list(tenant=tenant, membership=membership),
        tenant=tenant,
        membership=membership,
    )
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    if filterset.is_bound and not filterset.is_valid():
        qs = qs.none()
    can_edit = can_edit_feedback(membership)
    form = FeedbackForm(tenant=tenant, membership=membership) if can_edit else None
    return render(
        request,
        "lifecycle/feedback_list.html",
        {
            "filter": filterset,
            "page": _page(request, qs),
            "query": _query_without_page(request),
            "form": form,
            "can_edit": can_edit,
        },
    )


@tenant_roles_required(CS_EDITORS)
@require_POST
def feedback_create_view(request: TenantHttpRequest, slug: str) -> HttpResponse:
    tenant, membership = request.tenant, request.membership
    account = None
    if request.POST.get("account_fixed"):
        account = _account(request, request.POST.get("account"))
    form = FeedbackForm(request.POST, tenant=tenant, membership=membership, account=account)
    if form.is_valid():
        data = form.cleaned_data
        try:
            feedback_create(
                tenant=tenant,
                actor=request.user,
                account=data["account"],
                contact=data.get("contact"),
                kind=data["kind"],
                score=data["score"],
                channel=data["channel"],
                received_at=data.get("received_at"),
                comment=data.get("comment", ""),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if request.htmx and account is not None:
                return _account_feedback_partial(
                    request,
                    account,
                    FeedbackForm(tenant=tenant, membership=membership, account=account),
                    _("Feedback saved."),
                )
            messages.success(request, _("Feedback saved."))
            return redirect("lifecycle:feedback-list", slug=slug)
    if account is not None:
        response = _account_feedback_partial(request, account, form, "")
        if not request.htmx:
            response.status_code = 400
        return response
    page = _page(request, feedback_list(tenant=tenant, membership=membership))
    filterset = FeedbackFilterSet(
        None, queryset=Feedback.objects.none(), tenant=tenant, membership=membership
    )
    return render(
        request,
        "lifecycle/feedback_list.html",
        {"filter": filterset, "page": page, "query": "", "form": form, "can_edit": True},
        status=400,
    )


def _account(request: TenantHttpRequest, pk: Any) -> Account:
    try:
        return account_get(tenant=request.tenant, membership=request.membership, pk=int(pk))
    except (Account.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404 from exc


def _account_feedback_partial(
    request: TenantHttpRequest, account: Account, form: Any, message: str
) -> HttpResponse:
    context = feedback_partial_context(request, account)
    context.update({"form": form, "message": message})
    return render(request, "lifecycle/partials/_feedback_list.html", context)


def feedback_partial_context(request: TenantHttpRequest, account: Account) -> dict[str, Any]:
    """What lifecycle/partials/_feedback_list.html reads, for the account page (include it with this context)."""
    tenant, membership = request.tenant, request.membership
    can_edit = can_edit_feedback(membership)
    return {
        "account": account,
        "feedback_rows": feedback_for_account(tenant=tenant, membership=membership, account=account),
        "can_edit": can_edit,
        "form": FeedbackForm(tenant=tenant, membership=membership, account=account) if can_edit else None,
    }


@tenant_member_required
def account_feedback(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    """The account's feedback partial on its own (htmx-loadable from the account page)."""
    account = _account(request, pk)
    return render(
        request, "lifecycle/partials/_feedback_list.html", feedback_partial_context(request, account)
    )


@tenant_roles_required(CS_EDITORS)
@require_GET
def feedback_contacts(request: TenantHttpRequest, slug: str) -> HttpResponse:
    """htmx: the contact choice of the feedback form for the account picked (`?account=`): its contacts only."""
    form = FeedbackForm(
        initial={"account": request.GET.get("account", "")},
        tenant=request.tenant,
        membership=request.membership,
    )
    return HttpResponse(str(form["contact"]))


@tenant_roles_required(CS_EDITORS)
@require_POST
def feedback_delete_view(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    try:
        feedback = feedback_get(tenant=request.tenant, membership=request.membership, pk=pk)
    except Feedback.DoesNotExist as exc:
        raise Http404 from exc
    feedback_delete(tenant=request.tenant, actor=request.user, feedback=feedback)
    messages.success(request, _("Feedback deleted."))
    return redirect("lifecycle:feedback-list", slug=slug)
