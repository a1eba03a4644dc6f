"""The renewals page for customer success: terms due in 30 / 60 / 90 days, overdue, and won renewals whose next
term waits to be accepted; bulk hand-over of the renewal deals; a CSV export of exactly the rows and columns on
screen (the window and filters; every page of it, not only the first)."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from rest_framework.request import Request as DrfRequest

from accounts.models import Opportunity, OpportunityType
from crm.decorators import tenant_member_required
from crm.errors import AppError
from crm.types import tenant_request
from lifecycle.filters.subscriptions import RenewalCursorPagination, RenewalFilterSet
from lifecycle.forms.renewals import NextTermForm, RenewalAssignForm
from lifecycle.models import Subscription
from lifecycle.selectors.renewals import (
    DEFAULT_WINDOW,
    WINDOW_LABELS,
    WINDOWS,
    renewal_base,
    renewal_counts,
    renewal_rows,
)
from lifecycle.selectors.subscriptions import can_edit_subscriptions
from lifecycle.services.renewals import next_term_proposal, renewal_deals_assign

EXPORT_CAP = 10_000


def _window(request: HttpRequest) -> str:
    window = request.GET.get("window") or DEFAULT_WINDOW
    return window if window in WINDOWS else DEFAULT_WINDOW


def _filtered(request: HttpRequest) -> tuple[Any, Any, RenewalFilterSet, str]:
    """The window's rows after the filters (a refused filter gives no rows), the counts' base and the filters."""
    req = tenant_request(request)
    base, bounds = renewal_base(tenant=req.tenant, membership=req.membership)
    filterset = RenewalFilterSet(request.GET or None, queryset=base, request=request)
    if filterset.is_bound and not filterset.is_valid():
        narrowed = base.none()
    else:
        narrowed = filterset.qs if filterset.is_bound else base
    window = _window(request)
    return narrowed, bounds, filterset, window


@tenant_member_required
@require_GET
def renewal_list(request: HttpRequest, slug: str) -> HttpResponse:
    req = tenant_request(request)
    narrowed, bounds, filterset, window = _filtered(request)
    counts = renewal_counts(narrowed, bounds)
    paginator = RenewalCursorPagination()
    rows = list(
        paginator.paginate_queryset(renewal_rows(narrowed, bounds, window), DrfRequest(request)) or []
    )
    can_edit = can_edit_subscriptions(req.membership)
    if window == "won" and can_edit:
        for row in rows:
            row.has_successor = False  # type: ignore[attr-defined]  # the window: terms without a successor
            proposal = next_term_proposal(row)
            row.next_form = _next_form(proposal) if proposal else None  # type: ignore[attr-defined]
    query = request.GET.copy()
    tabs = []
    for key in WINDOWS:
        query["window"] = key
        query.pop("cursor", None)
        tabs.append(
            {"key": key, "label": WINDOW_LABELS[key], "count": counts[key], "query": query.urlencode()}
        )
    export_query = request.GET.copy()
    export_query["window"] = window
    export_query.pop("cursor", None)
    context = {
        "form": filterset.form,
        "tabs": tabs,
        "window": window,
        "window_label": WINDOW_LABELS[window],
        "rows": rows,
        "next_link": paginator.get_next_link(),
        "prev_link": paginator.get_previous_link(),
        "can_assign": can_edit or req.membership.role == "sales_manager",
        "can_edit": can_edit,
        "assign_form": RenewalAssignForm(tenant=req.tenant, membership=req.membership),
        "export_query": export_query.urlencode(),
        "today": bounds.today,
        "health_threshold": bounds.at_risk_threshold,
    }
    template = "lifecycle/partials/_renewal_results.html" if req.htmx else "lifecycle/renewal_list.html"
    return render(request, template, context)


def _next_form(proposal: Any) -> NextTermForm:
    return NextTermForm(
        initial={
            "plan": proposal.plan,
            "mrr": proposal.mrr,
            "currency": proposal.currency,
            "start_date": proposal.start_date,
            "end_date": proposal.end_date,
        },
        prefix=f"next-{proposal.subscription.pk}",
    )


EXPORT_COLUMNS = (
    "account",
    "plan",
    "end_date",
    "mrr",
    "currency",
    "health",
    "last_touch",
    "deal_stage",
    "deal_owner",
)


def export_cells(row: Subscription, tz: Any) -> list[str]:
    """The cells of one renewal row, as the page shows them (dates in the tenant's zone)."""
    deal = row.renewal_opportunity
    last_touch = getattr(row, "last_touch", None)
    health = getattr(row, "health", None)
    return [
        row.account.name,
        row.plan,
        row.end_date.isoformat() if row.end_date else "",
        f"{row.mrr:.2f}",
        row.currency,
        "" if health is None else str(health),
        timezone.localtime(last_touch, tz).date().isoformat() if last_touch else "",
        deal.stage.label if deal is not None else "",
        deal.owner.display_name if deal is not None and deal.owner is not None else "",
    ]


@tenant_member_required
@require_GET
def renewal_export(request: HttpRequest, slug: str) -> HttpResponse:
    req = tenant_request(request)
    narrowed, bounds, _filterset, window = _filtered(request)
    rows = renewal_rows(narrowed, bounds, window).order_by("end_date", "id")[:EXPORT_CAP]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response.write("\ufeff")
    writer = csv.writer(response)
    header = [
        _("Account"),
        _("Plan"),
        _("End date"),
        _("MRR"),
        _("Currency"),
        _("Health"),
        _("Last touch"),
        _("Deal stage"),
        _("Deal owner"),
    ]
    tz = req.tenant.tzinfo

    writer.writerow(header)
    for row in rows:
        writer.writerow(export_cells(row, tz))
    filename = f"{req.tenant.slug}-renewals-{window}-{bounds.today.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@tenant_member_required
@require_POST
def renewal_assign(request: HttpRequest, slug: str) -> HttpResponse:
    """Give the checked renewal deals to one owner (within the member's rules; an invisible deal is a 404)."""
    req = tenant_request(request)
    back = request.POST.get("next") or reverse("lifecycle:renewal-list", kwargs={"slug": slug})
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("lifecycle:renewal-list", kwargs={"slug": slug})
    form = RenewalAssignForm(request.POST, tenant=req.tenant, membership=req.membership)
    ids = [int(value) for value in request.POST.getlist("deal") if value.isdecimal()]
    if not ids:
        messages.error(request, _("Choose at least one renewal deal."))
        return redirect(back)
    if not form.is_valid():
        messages.error(request, _("Choose a new owner you may give renewal deals to."))
        return redirect(back)
    base, _bounds = renewal_base(tenant=req.tenant, membership=req.membership)
    visible = base.filter(renewal_opportunity_id__in=ids).values("renewal_opportunity_id")
    deals = list(
        Opportunity.objects.filter(
            tenant=req.tenant, pk__in=visible, type=OpportunityType.RENEWAL, deleted_at__isnull=True
        ).order_by("pk")
    )
    if len(deals) != len(set(ids)):
        raise Http404
    try:
        changed = renewal_deals_assign(
            tenant=req.tenant,
            actor=req.user,
            membership=req.membership,
            opportunities=deals,
            owner=form.cleaned_data["owner"],
        )
    except (ValidationError, PermissionDenied, AppError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect(back)
    messages.success(
        request,
        ngettext("%(count)d renewal deal reassigned.", "%(count)d renewal deals reassigned.", changed)
        % {"count": changed},
    )
    return redirect(back)
