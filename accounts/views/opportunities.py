"""Pages of opportunities (deals): the list, create, the deal page (edit with the conflict panel), delete,
restore and the deal's contacts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import panels
from accounts.filters.opportunities import OpportunityFilter
from accounts.forms.opportunities import (
    EDIT_FIELDS,
    LostForm,
    OpportunityContactForm,
    OpportunityForm,
    comparable_values,
    lost_reasons_of,
)
from accounts.links import lead_link
from accounts.models import Opportunity, OpportunityContact, StageKind
from accounts.selectors import common as common_selectors
from accounts.selectors import opportunities as opportunities_selectors
from accounts.selectors import opportunity_pages as opportunity_pages_selectors
from accounts.selectors import pipelines as pipelines_selectors
from accounts.selectors import visibility as visibility_selectors
from accounts.selectors.timeline import timeline_for
from accounts.services import opportunities as opportunities_services
from accounts.services import opportunity_contacts as opportunity_contacts_services
from accounts.services import pipelines as pipelines_services
from crm.decorators import tenant_member_required
from crm.errors import ConflictError
from crm.formstyle import choice_field, field_queryset
from crm.types import TenantHttpRequest
from crm.viewutils import apply_validation_error, conflict_context, delete_with_undo, restore_deleted

LIST_FILTER_FIELDS = [
    "q",
    "pipeline",
    "stage",
    "status",
    "type",
    "forecast_category",
    "owner",
    "team",
    "close",
    "close_from",
    "close_to",
    "amount_min",
    "amount_max",
]


def _get_deal(request: TenantHttpRequest, pk: int, *, include_deleted: bool = False) -> Opportunity:
    try:
        return opportunities_selectors.opportunity_get(
            tenant=request.tenant, membership=request.membership, pk=pk, include_deleted=include_deleted
        )
    except Opportunity.DoesNotExist as exc:
        raise Http404 from exc


# The session key of the deal page's "won: reopen?" offer after Mark won ({"deal", "stage", "message"}).
WON_UNDO = "deal_won_undo"


def _won_undo(
    request: TenantHttpRequest, opportunity: Opportunity, stages: list[Any]
) -> dict[str, Any] | None:
    """The offer to reopen a deal just marked won, once: its message and the open stage it came from."""
    offer = request.session.get(WON_UNDO)
    if not offer or offer.get("deal") != opportunity.pk:
        return None
    del request.session[WON_UNDO]
    stage = next((s for s in stages if s.pk == offer.get("stage") and s.kind == StageKind.OPEN), None)
    if stage is None or opportunity.stage.kind != StageKind.WON:
        return None
    return {"message": offer.get("message", ""), "stage": stage}


def _deal_url(request: TenantHttpRequest, opportunity: Opportunity) -> str:
    return reverse("accounts:opportunity-detail", kwargs={"slug": request.tenant.slug, "pk": opportunity.pk})


def _filtered(
    request: TenantHttpRequest, data: Any = None
) -> tuple[OpportunityFilter, QuerySet[Opportunity]]:
    base = opportunities_selectors.opportunity_list(tenant=request.tenant, membership=request.membership)
    filterset = OpportunityFilter(data if data is not None else request.GET, queryset=base, request=request)
    return filterset, filterset.qs


def _error_payload(exc: ValidationError) -> dict[str, Any]:
    if hasattr(exc, "error_dict"):
        return {"errors": exc.message_dict}
    return {"errors": {"__all__": exc.messages}}


def _querystring(request: TenantHttpRequest, drop: tuple[str, ...] = ()) -> str:
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    return params.urlencode()


@tenant_member_required
def opportunity_list(request: TenantHttpRequest, slug: str) -> HttpResponse:
    filterset, deals = _filtered(request)
    page = opportunity_pages_selectors.opportunity_page(
        deals, sort=request.GET.get("sort"), cursor=request.GET.get("cursor")
    )
    count, more = common_selectors.capped_count(deals, cap=opportunities_selectors.COUNT_CAP)
    access = visibility_selectors.DealAccess(request.membership)
    undo_id = request.session.pop("deal_undo", None)
    context = {
        "filter": filterset,
        "filter_fields": [filterset.form[name] for name in LIST_FILTER_FIELDS],
        "page": page,
        "count": count,
        "count_more": more,
        "sorts": [
            ("-created", _("Newest")),
            ("created", _("Oldest")),
            ("-amount", _("Largest amount")),
            ("amount", _("Smallest amount")),
            ("close", _("Closing soonest")),
            ("-close", _("Closing latest")),
            ("name", _("Name A–Z")),
        ],
        "query_without_cursor": _querystring(request, drop=("cursor",)),
        "query_without_sort": _querystring(request, drop=("cursor", "sort")),
        "can_create": access.can_create,
        "undo_id": undo_id,
    }
    template = (
        "accounts/partials/_opportunity_table.html" if request.htmx else "accounts/opportunity_list.html"
    )
    return render(request, template, context)


@tenant_member_required
def opportunity_create(request: TenantHttpRequest, slug: str) -> HttpResponse:
    access = visibility_selectors.DealAccess(request.membership)
    if not access.can_create:
        raise Http404
    tenant = request.tenant
    initial: dict[str, Any] = {
        "currency": tenant.currency,
        "owner": request.user.pk,
        "forecast_category": "pipeline",
        "type": "renewal" if request.membership.role == "cs" else "new_business",
    }
    default = pipelines_services.pipeline_default(tenant=tenant)
    first = default.stages.filter(kind=StageKind.OPEN).order_by("order", "id").first()
    if first is not None:
        initial["stage"] = first.pk
    if request.GET.get("account", "").isdecimal():
        initial["account"] = int(request.GET["account"])
    form = OpportunityForm(
        request.POST or None, initial=initial, tenant=tenant, membership=request.membership
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            opportunity = opportunities_services.opportunity_create(
                tenant=tenant,
                actor=request.user,
                account=data["account"],
                name=data["name"],
                amount=data["amount"],
                currency=data["currency"],
                type=data["type"],
                pipeline=data["stage"].pipeline,
                stage=data["stage"],
                probability=data["probability"],
                forecast_category=data["forecast_category"],
                expected_close_date=data["expected_close_date"],
                owner=data["owner"],
                lost_reason=data["lost_reason"],
                next_step=data["next_step"],
                next_step_date=data["next_step_date"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Deal “%(deal)s” created.") % {"deal": opportunity.name})
            return redirect(_deal_url(request, opportunity))
    return render(request, "accounts/opportunity_form.html", {"form": form})


def _conflict_context(
    request: TenantHttpRequest, form: OpportunityForm, opportunity: Opportunity, exc: ConflictError
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The conflict panel (your values vs the current ones) and the merged initial values: your changes
    re-applied onto the current version, so saving again loses nothing you typed."""
    current = _get_deal(request, opportunity.pk)
    yours = comparable_values(form.cleaned_data)
    current_initial = OpportunityForm.initial_for(current)
    theirs = comparable_values(current_initial)
    original = form.original_values() or theirs
    stage_names = {str(s.pk): str(s) for s in field_queryset(form.fields, "stage")}
    owner_names = {str(u.pk): u.display_name for u in field_queryset(form.fields, "owner")}
    choices = {
        "type": dict(choice_field(form.fields, "type").choices),  # type: ignore[arg-type]  # the getter gives the normalized pairs; the stubs give it the setter's type
        "forecast_category": dict(choice_field(form.fields, "forecast_category").choices),  # type: ignore[arg-type]  # the getter gives the normalized pairs; the stubs give it the setter's type
    }

    def display(name: str, value: str) -> str:
        if name == "stage":
            return stage_names.get(value, value)
        if name == "owner":
            return owner_names.get(value, value) or "—"
        if name in choices:
            return str(choices[name].get(value, value))
        return value or "—"

    rows = []
    merged: dict[str, Any] = {}
    for name in EDIT_FIELDS:
        mine_changed = yours.get(name, "") != original.get(name, "")
        theirs_changed = theirs.get(name, "") != original.get(name, "")
        merged[name] = yours.get(name, "") if mine_changed else theirs.get(name, "")
        rows.append(
            {
                "label": form.fields[name].label,
                "yours": display(name, yours.get(name, "")),
                "current": display(name, theirs.get(name, "")),
                "differs": yours.get(name, "") != theirs.get(name, ""),
                "mine_changed": mine_changed,
                "theirs_changed": theirs_changed,
                "clash": mine_changed and theirs_changed and yours.get(name) != theirs.get(name),
            }
        )
    merged["version"] = current.version
    merged["original"] = current_initial["original"]
    conflict = conflict_context(exc, rows, current=current)
    return conflict, merged


@tenant_member_required
def opportunity_detail(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    try:
        opportunity = opportunities_selectors.opportunity_detail(
            tenant=request.tenant, membership=request.membership, pk=pk
        )
    except Opportunity.DoesNotExist as exc:
        raise Http404 from exc
    access = visibility_selectors.DealAccess(request.membership)
    can_edit = access.can_edit(opportunity) and opportunity.deleted_at is None
    conflict = None
    form_kwargs: dict[str, Any] = {
        "tenant": request.tenant,
        "membership": request.membership,
        "opportunity": opportunity,
    }
    if request.method == "POST":
        if not can_edit:
            raise Http404 if opportunity.deleted_at else PermissionDenied
        form = OpportunityForm(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                opportunities_services.opportunity_update(
                    tenant=request.tenant,
                    actor=request.user,
                    opportunity=opportunity,
                    version=form.cleaned_data["version"],
                    **form.service_fields(),
                )
            except ConflictError as exc:
                conflict, merged = _conflict_context(request, form, opportunity, exc)
                form = OpportunityForm(initial=merged, **form_kwargs)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Deal saved."))
                return redirect(_deal_url(request, opportunity))
    else:
        form = OpportunityForm(initial=OpportunityForm.initial_for(opportunity), **form_kwargs)
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    stages = list(
        pipelines_selectors.pipeline_stages(tenant=request.tenant, pipeline_id=opportunity.pipeline_id)
    )
    context = {
        "opportunity": opportunity,
        "form": form,
        "conflict": conflict,
        "can_edit": can_edit,
        "can_restore": opportunity.deleted_at is not None and access.can_edit(opportunity),
        "can_open_sources": lead_link().can_read_sources(request.membership),
        "can_log": opportunity.deleted_at is None,
        "weighted": opportunity.amount_reporting * opportunity.probability,
        "timeline": timeline_for(
            tenant=request.tenant, membership=request.membership, opportunity=opportunity
        ),
        "stages": stages,
        "contact_form": OpportunityContactForm(
            contacts=opportunities_selectors.opportunity_contact_choices(
                tenant=request.tenant, membership=request.membership, opportunity=opportunity
            )
        )
        if can_edit
        else None,
        "lost_form": LostForm(
            initial={"version": opportunity.version},
            tenant=request.tenant,
            opportunity=opportunity,
            lists=lost_reasons_of(form),
        ),
        "panels": panels.panels_for(panels.DEAL, request=request, record=opportunity),
    }
    if can_edit and request.method == "GET":
        context["won_undo"] = _won_undo(request, opportunity, stages)
    status = 409 if conflict else 200
    return render(request, "accounts/opportunity_detail.html", context, status=status)


@tenant_member_required
@require_POST
def opportunity_delete(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    opportunity = _get_deal(request, pk)
    return delete_with_undo(
        request,
        delete=lambda: opportunities_services.opportunity_delete(
            tenant=request.tenant, actor=request.user, opportunity=opportunity
        ),
        done_url=reverse("accounts:opportunity-list", kwargs={"slug": slug}),
        error_url=_deal_url(request, opportunity),
        message=_("Deal “%(deal)s” deleted.") % {"deal": opportunity.name},
        undo_session=("deal_undo", opportunity.pk),
        errors=(PermissionDenied,),
    )


@tenant_member_required
@require_POST
def opportunity_restore(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    opportunity = _get_deal(request, pk, include_deleted=True)
    return restore_deleted(
        request,
        restore=lambda: opportunities_services.opportunity_restore(
            tenant=request.tenant, actor=request.user, opportunity=opportunity
        ),
        done_url=_deal_url(request, opportunity),
        error_url=reverse("accounts:opportunity-list", kwargs={"slug": slug}),
        message=_("Deal “%(deal)s” restored.") % {"deal": opportunity.name},
        errors=(PermissionDenied,),
    )


def _contacts_response(
    request: TenantHttpRequest, opportunity: Opportunity, form: OpportunityContactForm | None = None
):  # type: ignore[no-untyped-def]
    if not request.htmx:
        return redirect(_deal_url(request, opportunity))
    opportunity = opportunities_selectors.opportunity_detail(
        tenant=request.tenant, membership=request.membership, pk=opportunity.pk
    )
    contacts = opportunities_selectors.opportunity_contact_choices(
        tenant=request.tenant, membership=request.membership, opportunity=opportunity
    )
    context = {
        "opportunity": opportunity,
        "can_edit": True,
        "contact_form": form or OpportunityContactForm(contacts=contacts),
    }
    return render(request, "accounts/partials/_opportunity_contacts.html", context)


@tenant_member_required
@require_POST
def opportunity_contact_add(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    opportunity = _get_deal(request, pk)
    contacts = opportunities_selectors.opportunity_contact_choices(
        tenant=request.tenant, membership=request.membership, opportunity=opportunity
    )
    form = OpportunityContactForm(request.POST, contacts=contacts)
    shown: OpportunityContactForm | None = form  # None after a successful add: the panel shows a fresh form
    if form.is_valid():
        try:
            opportunity_contacts_services.opportunity_contact_add(
                tenant=request.tenant,
                actor=request.user,
                opportunity=opportunity,
                contact=form.cleaned_data["contact"],
                role=form.cleaned_data["role"],
                is_primary=form.cleaned_data["is_primary"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            shown = None
    elif not request.htmx:
        messages.error(request, _("Choose a contact of the deal's account."))
    return _contacts_response(request, opportunity, shown)


def _contact_link(
    request: TenantHttpRequest, pk: int, link_pk: int
) -> tuple[Opportunity, OpportunityContact]:
    opportunity = _get_deal(request, pk)
    try:
        link = opportunities_selectors.opportunity_contact_get(
            tenant=request.tenant, opportunity=opportunity, pk=link_pk
        )
    except OpportunityContact.DoesNotExist as exc:
        raise Http404 from exc
    return opportunity, link


@tenant_member_required
@require_POST
def opportunity_contact_remove(request: TenantHttpRequest, slug: str, pk: int, link_pk: int) -> HttpResponse:
    opportunity, link = _contact_link(request, pk, link_pk)
    try:
        opportunity_contacts_services.opportunity_contact_remove(
            tenant=request.tenant, actor=request.user, link=link
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return _contacts_response(request, opportunity)


@tenant_member_required
@require_POST
def opportunity_contact_primary(request: TenantHttpRequest, slug: str, pk: int, link_pk: int) -> HttpResponse:
    opportunity, link = _contact_link(request, pk, link_pk)
    try:
        opportunity_contacts_services.opportunity_contact_update(
            tenant=request.tenant, actor=request.user, link=link, is_primary=True
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return _contacts_response(request, opportunity)
