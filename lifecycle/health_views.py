"""Customer-success pages: at-risk accounts, health settings, feedback, playbook templates, survey links.

Views stay thin: parse input, call one selector or service, render. Every account, contact or feedback row the
member may not see is a 404, like a missing one. The customer-facing survey page is in survey_views.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Account, Contact
from accounts.selectors.accounts import account_get
from accounts.selectors.contacts import contact_get
from crm.decorators import tenant_member_required, tenant_roles_required
from crm.models import Role
from crm.types import TenantHttpRequest
from crm.viewutils import apply_validation_error
from lifecycle.feedback_filters import FeedbackFilterSet
from lifecycle.feedback_selectors import can_edit_feedback, feedback_for_account, feedback_get, feedback_list
from lifecycle.health_forms import FeedbackForm, HealthSettingsForm, PlaybookTemplateForm, SurveyLinkForm
from lifecycle.health_selectors import at_risk_list, health_reasons
from lifecycle.models import Feedback, PlaybookTemplate
from lifecycle.services.feedback import feedback_create, feedback_delete
from lifecycle.services.health import WEIGHT_FIELDS, health_settings_get, health_settings_update
from lifecycle.services.playbooks import (
    playbook_template_create,
    playbook_template_delete,
    playbook_template_update,
    playbook_templates_ensure_defaults,
)
from lifecycle.services.settings import lifecycle_settings_get
from lifecycle.services.survey import survey_link_make

CS_EDITORS = [Role.ADMIN, Role.CS]
PAGE_SIZE = 25


def _page(request: TenantHttpRequest, qs: Any) -> Any:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: TenantHttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


# --- at risk ----------------------------------------------------------------------------------------------------


@tenant_member_required
def at_risk(request: TenantHttpRequest, slug: str) -> HttpResponse:
    """Visible accounts under the threshold with their reasons, the most MRR at stake first (paginated)."""
    page = _page(request, at_risk_list(tenant=request.tenant, membership=request.membership))
    rows = [{"health": health, "reasons": health_reasons(health.components)} for health in page]
    return render(
        request,
        "lifecycle/health_at_risk.html",
        {
            "page": page,
            "rows": rows,
            "threshold": lifecycle_settings_get(tenant=request.tenant).health_at_risk_threshold,
            "can_edit_settings": request.membership.role in CS_EDITORS,
        },
    )


@tenant_roles_required(CS_EDITORS)
def health_settings(request: TenantHttpRequest, slug: str) -> HttpResponse:
    current = health_settings_get(tenant=request.tenant)
    initial = {
        name: getattr(current, name)
        for name in (*WEIGHT_FIELDS, *(f"cadence_{t}" for t in current.cadence()))
    }
    initial["at_risk_threshold"] = lifecycle_settings_get(tenant=request.tenant).health_at_risk_threshold
    form = HealthSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            health_settings_update(tenant=request.tenant, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Health settings saved. Scores are being recomputed."))
            return redirect("lifecycle:health-settings", slug=slug)
    return render(request, "lifecycle/health_settings.html", {"form": form})


# --- feedback ---------------------------------------------------------------------------------------------------


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
@require_POST
def feedback_delete_view(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    try:
        feedback = feedback_get(tenant=request.tenant, membership=request.membership, pk=pk)
    except Feedback.DoesNotExist as exc:
        raise Http404 from exc
    feedback_delete(tenant=request.tenant, actor=request.user, feedback=feedback)
    messages.success(request, _("Feedback deleted."))
    return redirect("lifecycle:feedback-list", slug=slug)


# --- playbooks --------------------------------------------------------------------------------------------------


@tenant_roles_required(CS_EDITORS)
def playbook_list(request: TenantHttpRequest, slug: str) -> HttpResponse:
    tenant = request.tenant
    playbook_templates_ensure_defaults(tenant=tenant)
    form = PlaybookTemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            playbook_template_create(tenant=tenant, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Playbook task added."))
            return redirect("lifecycle:playbook-list", slug=slug)
    templates = list(PlaybookTemplate.objects.filter(tenant=tenant).order_by("trigger", "order", "id"))
    return render(request, "lifecycle/playbook_list.html", {"templates": templates, "form": form})


def _template(request: TenantHttpRequest, pk: int) -> PlaybookTemplate:
    found = PlaybookTemplate.objects.filter(tenant=request.tenant, pk=pk).first()
    if found is None:
        raise Http404
    return found


@tenant_roles_required(CS_EDITORS)
def playbook_edit(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    template = _template(request, pk)
    initial = {
        name: getattr(template, name)
        for name in ("trigger", "subject", "due_in_days", "assignee", "is_active")
    }
    form = PlaybookTemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            playbook_template_update(
                tenant=request.tenant, actor=request.user, template=template, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Playbook task saved."))
            return redirect("lifecycle:playbook-list", slug=slug)
    return render(request, "lifecycle/playbook_form.html", {"form": form, "template": template})


@tenant_roles_required(CS_EDITORS)
@require_POST
def playbook_delete(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    playbook_template_delete(tenant=request.tenant, actor=request.user, template=_template(request, pk))
    messages.success(request, _("Playbook task deleted."))
    return redirect("lifecycle:playbook-list", slug=slug)


# --- survey links -----------------------------------------------------------------------------------------------


@tenant_roles_required(CS_EDITORS)
def survey_link(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Make a survey link for a contact (POST kind); the partial shows it to copy."""
    try:
        contact = contact_get(tenant=request.tenant, membership=request.membership, pk=pk)
    except Contact.DoesNotExist as exc:
        raise Http404 from exc
    form = SurveyLinkForm(request.POST or None)
    url = None
    if request.method == "POST" and form.is_valid() and contact.account_id:
        token = survey_link_make(tenant=request.tenant, contact=contact, kind=form.cleaned_data["kind"])
        url = request.build_absolute_uri(reverse("survey:answer", kwargs={"token": token}))
    context = {"contact": contact, "form": form, "survey_url": url}
    template = "lifecycle/partials/_survey_link.html" if request.htmx else "lifecycle/survey_link.html"
    return render(request, template, context)
