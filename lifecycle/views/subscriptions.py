"""Pages of subscriptions: the list with filters, a subscription with its account's contract history and (for a
won renewal) the proposed next term, create / edit (optimistic locking) / delete (soft, with undo) / restore.

Views stay thin: parse input, call one selector or service, render (a partial when the request is htmx). A
subscription the member may not see is a 404, exactly like a missing one; read-only members get no write pages.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from rest_framework.request import Request as DrfRequest

from crm.decorators import tenant_member_required
from crm.errors import AppError, ConflictError
from crm.types import tenant_request
from crm.viewutils import (
    apply_validation_error,
    conflict_context,
    conflict_rows,
    data_with_version,
    delete_with_undo,
    restore_deleted,
)
from lifecycle.filters.subscriptions import SubscriptionCursorPagination, SubscriptionFilterSet
from lifecycle.forms.renewals import NextTermForm
from lifecycle.forms.subscriptions import SubscriptionForm
from lifecycle.models import Subscription
from lifecycle.selectors.subscriptions import (
    can_edit_subscriptions,
    contract_history,
    subscription_deleted_get,
    subscription_get,
    subscription_list,
)
from lifecycle.services import subscriptions as services
from lifecycle.services.renewals import next_term_proposal, subscription_accept_next_term

# The fields a stale edit compares (the account and the renewal link are not edited here).
CONFLICT_FIELDS = ("plan", "mrr", "currency", "start_date", "end_date", "churn_reason")


def _paginate(request: HttpRequest, qs: Any, paginator: Any) -> tuple[list, str | None, str | None]:
    drf_request = DrfRequest(request)
    rows = paginator.paginate_queryset(qs, drf_request)
    return list(rows or []), paginator.get_next_link(), paginator.get_previous_link()


def _subscription_for(request: HttpRequest, pk: int, *, for_edit: bool = False) -> Subscription:
    req = tenant_request(request)
    try:
        return subscription_get(tenant=req.tenant, membership=req.membership, pk=pk, for_edit=for_edit)
    except Subscription.DoesNotExist as exc:
        raise Http404 from exc


def _require_editor(request: HttpRequest) -> None:
    if not can_edit_subscriptions(tenant_request(request).membership):
        raise Http404


@tenant_member_required
@require_GET
def subscription_list_view(request: HttpRequest, slug: str) -> HttpResponse:
    req = tenant_request(request)
    base = subscription_list(tenant=req.tenant, membership=req.membership)
    filterset = SubscriptionFilterSet(request.GET or None, queryset=base, request=request)
    if filterset.is_bound and not filterset.is_valid():
        qs = base.none()
    else:
        qs = filterset.qs if filterset.is_bound else base
    rows, next_link, prev_link = _paginate(request, qs, SubscriptionCursorPagination())
    deleted = None
    if request.GET.get("deleted"):
        deleted = subscription_deleted_get(
            tenant=req.tenant, membership=req.membership, pk=request.GET["deleted"]
        )
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "subscriptions": rows,
        "next_link": next_link,
        "prev_link": prev_link,
        "deleted": deleted,
        "can_create": can_edit_subscriptions(req.membership),
    }
    template = (
        "lifecycle/partials/_subscription_results.html" if req.htmx else "lifecycle/subscription_list.html"
    )
    return render(request, template, context)


@tenant_member_required
@require_GET
def subscription_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    req = tenant_request(request)
    subscription = _subscription_for(request, pk)
    proposal = next_term_proposal(subscription)
    next_form = None
    if proposal is not None and subscription.can_edit:  # type: ignore[attr-defined]
        next_form = _next_term_form(proposal)
    context = {
        "subscription": subscription,
        "history": contract_history(
            tenant=req.tenant, membership=req.membership, account=subscription.account
        ),
        "proposal": proposal,
        "next_form": next_form,
    }
    return render(request, "lifecycle/subscription_detail.html", context)


def _next_term_form(proposal: Any, data: Any = None) -> NextTermForm:
    return NextTermForm(
        data,
        initial={
            "plan": proposal.plan,
            "mrr": proposal.mrr,
            "currency": proposal.currency,
            "start_date": proposal.start_date,
            "end_date": proposal.end_date,
        },
        prefix=f"next-{proposal.subscription.pk}",
    )


@tenant_member_required
def subscription_create(request: HttpRequest, slug: str) -> HttpResponse:
    _require_editor(request)
    req = tenant_request(request)
    initial: dict[str, Any] = {}
    if request.GET.get("account", "").isdecimal():
        initial["account"] = int(request.GET["account"])
    form = SubscriptionForm(
        request.POST or None, tenant=req.tenant, membership=req.membership, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            subscription = services.subscription_create(
                tenant=req.tenant,
                actor=req.user,
                account=form.cleaned_data["account"],
                **form.service_fields(),
            )
        except (ValidationError, AppError) as exc:
            _service_error(form, exc)
        else:
            messages.success(request, _("Subscription created."))
            return redirect("lifecycle:subscription-detail", slug=slug, pk=subscription.pk)
    return render(request, "lifecycle/subscription_form.html", {"form": form, "subscription": None})


def _service_error(form: Any, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        apply_validation_error(form, exc)
    else:
        form.add_error(None, str(exc))


@tenant_member_required
def subscription_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    req = tenant_request(request)
    subscription = _subscription_for(request, pk, for_edit=True)
    form = SubscriptionForm(
        request.POST or None, tenant=req.tenant, membership=req.membership, instance=subscription
    )
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.subscription_update(
                tenant=req.tenant,
                actor=req.user,
                subscription=subscription,
                version=form.cleaned_data.get("version"),
                **form.service_fields(),
            )
        except ConflictError as exc:
            current = cast(dict[str, Any], exc.extra["current"])
            conflict = conflict_context(exc, conflict_rows(form, current, fields=CONFLICT_FIELDS))
            # Saving again overwrites: the form now carries the current version and keeps what they typed.
            form = SubscriptionForm(
                data_with_version(request.POST, current["version"]),
                tenant=req.tenant,
                membership=req.membership,
                instance=subscription,
            )
            form.is_valid()
        except (ValidationError, AppError) as exc:
            _service_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("lifecycle:subscription-detail", slug=slug, pk=subscription.pk)
    context = {"form": form, "subscription": subscription, "conflict": conflict}
    return render(request, "lifecycle/subscription_form.html", context)


@tenant_member_required
@require_POST
def subscription_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    req = tenant_request(request)
    subscription = _subscription_for(request, pk, for_edit=True)
    url = reverse("lifecycle:subscription-list", kwargs={"slug": slug})
    return delete_with_undo(
        request,
        delete=lambda: services.subscription_delete(
            tenant=req.tenant, actor=req.user, subscription=subscription
        ),
        done_url=f"{url}?deleted={subscription.pk}",
        error_url=reverse("lifecycle:subscription-detail", kwargs={"slug": slug, "pk": subscription.pk}),
    )


@tenant_member_required
@require_POST
def subscription_restore(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    req = tenant_request(request)
    subscription = subscription_deleted_get(tenant=req.tenant, membership=req.membership, pk=pk)
    if subscription is None:
        raise Http404
    return restore_deleted(
        request,
        restore=lambda: services.subscription_restore(
            tenant=req.tenant, actor=req.user, subscription=subscription
        ),
        done_url=reverse("lifecycle:subscription-detail", kwargs={"slug": slug, "pk": subscription.pk}),
        error_url=reverse("lifecycle:subscription-list", kwargs={"slug": slug}),
        message=_("Subscription restored."),
    )


@tenant_member_required
@require_POST
def subscription_next_term(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Accept the next term a won renewal proposes (the form may have been edited)."""
    req = tenant_request(request)
    subscription = _subscription_for(request, pk, for_edit=True)
    proposal = next_term_proposal(subscription)
    if proposal is None:
        messages.error(request, _("This subscription has no next term to accept."))
        return redirect("lifecycle:subscription-detail", slug=slug, pk=pk)
    form = _next_term_form(proposal, request.POST)
    if form.is_valid():
        try:
            created = subscription_accept_next_term(
                tenant=req.tenant, actor=req.user, subscription=subscription, **form.cleaned_data
            )
        except (ValidationError, AppError) as exc:
            _service_error(form, exc)
        else:
            messages.success(request, _("Next term created."))
            return redirect("lifecycle:subscription-detail", slug=slug, pk=created.pk)
    context = {
        "subscription": subscription,
        "history": contract_history(
            tenant=req.tenant, membership=req.membership, account=subscription.account
        ),
        "proposal": proposal,
        "next_form": form,
    }
    return render(request, "lifecycle/subscription_detail.html", context, status=400)
