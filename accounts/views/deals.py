"""Pages of the deals area: the deal list, the board, the deal page, pipeline and stage admin.

Thin views: parse input, call one selector or service, render (a partial for htmx, JSON for the board's fetch).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.filters_deals import OpportunityFilter
from accounts.forms_deals import (
    EDIT_FIELDS,
    LostForm,
    MoveForm,
    OpportunityContactForm,
    OpportunityForm,
    PipelineForm,
    StageDeleteForm,
    StageForm,
    comparable_values,
)
from accounts.models import Opportunity, OpportunityContact, Pipeline, Stage, StageKind
from accounts.selectors import deals as selectors
from accounts.selectors.records import timeline_for
from accounts.services import deals as services
from crm.decorators import tenant_admin_required, tenant_member_required
from crm.errors import ConflictError
from crm.viewutils import apply_validation_error

BOARD_FILTER_FIELDS = ["q", "owner", "team", "type", "close", "close_from", "close_to"]
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


# --- helpers ----------------------------------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _get_deal(request: HttpRequest, pk: int, *, include_deleted: bool = False) -> Opportunity:
    try:
        return selectors.opportunity_get(
            tenant=request.tenant, membership=request.membership, pk=pk, include_deleted=include_deleted
        )
    except Opportunity.DoesNotExist as exc:
        raise Http404 from exc


def _deal_url(request: HttpRequest, opportunity: Opportunity) -> str:
    return reverse("accounts:opportunity-detail", kwargs={"slug": request.tenant.slug, "pk": opportunity.pk})


def _filtered(request: HttpRequest, data: Any = None) -> tuple[OpportunityFilter, QuerySet[Opportunity]]:
    base = selectors.opportunity_list(tenant=request.tenant, membership=request.membership)
    filterset = OpportunityFilter(data if data is not None else request.GET, queryset=base, request=request)
    return filterset, filterset.qs


def _error_payload(exc: ValidationError) -> dict[str, Any]:
    if hasattr(exc, "error_dict"):
        return {"errors": exc.message_dict}
    return {"errors": {"__all__": exc.messages}}


def _querystring(request: HttpRequest, drop: tuple[str, ...] = ()) -> str:
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    return params.urlencode()


# --- deal list --------------------------------------------------------------------------------------------------


@tenant_member_required
def opportunity_list(request: HttpRequest, slug: str) -> HttpResponse:
    filterset, deals = _filtered(request)
    page = selectors.opportunity_page(deals, sort=request.GET.get("sort"), cursor=request.GET.get("cursor"))
    count, more = selectors.capped_count(deals)
    access = selectors.DealAccess(request.membership)
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


# --- board ------------------------------------------------------------------------------------------------------


def _board_pipeline(request: HttpRequest, pipelines: list[Pipeline]) -> Pipeline:
    wanted = request.GET.get("pipeline")
    for pipeline in pipelines:
        if wanted and str(pipeline.pk) == wanted:
            return pipeline
    if wanted:
        raise Http404
    return next((p for p in pipelines if p.is_default), pipelines[0])


@tenant_member_required
def opportunity_board(request: HttpRequest, slug: str) -> HttpResponse:
    pipelines = list(selectors.pipeline_choices(tenant=request.tenant))
    if not pipelines:
        pipelines = [services.pipeline_default(tenant=request.tenant)]
    pipeline = _board_pipeline(request, pipelines)
    data = request.GET.copy()
    data["pipeline"] = str(pipeline.pk)
    filterset, deals = _filtered(request, data)
    columns = selectors.opportunity_board(tenant=request.tenant, pipeline=pipeline, deals=deals)
    access = selectors.DealAccess(request.membership)
    for column in columns:
        for card in column.cards:
            card.can_edit = access.can_edit(card)
    context = {
        "pipelines": pipelines,
        "pipeline": pipeline,
        "filter": filterset,
        "filter_fields": [filterset.form[name] for name in BOARD_FILTER_FIELDS],
        "columns": columns,
        "filter_query": data.urlencode(),
        "totals": {
            "count": sum(c.count for c in columns),
            "amount": sum((c.amount for c in columns if c.stage.kind == StageKind.OPEN), Decimal(0)),
            "weighted": sum((c.weighted for c in columns if c.stage.kind == StageKind.OPEN), Decimal(0)),
        },
        "can_create": access.can_create,
        "lost_form": LostForm(),
    }
    template = "accounts/partials/_board.html" if request.htmx else "accounts/opportunity_board.html"
    return render(request, template, context)


@tenant_member_required
def opportunity_board_column(request: HttpRequest, slug: str) -> HttpResponse:
    """The next cards of one column ("show more")."""
    try:
        stage = selectors.stage_get(tenant=request.tenant, pk=int(request.GET.get("stage", "")))
        offset = max(0, int(request.GET.get("offset", "0")))
    except (ValueError, Stage.DoesNotExist) as exc:
        raise Http404 from exc
    data = request.GET.copy()
    data["pipeline"] = str(stage.pipeline_id)
    _filterset, deals = _filtered(request, data)
    cards = selectors.opportunity_board_more(deals=deals, stage=stage, offset=offset)
    access = selectors.DealAccess(request.membership)
    for card in cards:
        card.can_edit = access.can_edit(card)
    # Counted here, never taken from the query string: the column's deals under the same filters and visibility.
    total = deals.filter(stage=stage).count()
    next_offset = offset + len(cards)
    data.pop("offset", None)
    data.pop("total", None)
    context = {
        "cards": cards,
        "stage": stage,
        "next_offset": next_offset,
        "has_more": len(cards) == selectors.BOARD_COLUMN_SIZE and next_offset < total,
        "total": total,
        "filter_query": data.urlencode(),
    }
    return render(request, "accounts/partials/_board_cards.html", context)


def _board_rows(
    request: HttpRequest, opportunity: Opportunity
) -> tuple[list[Stage], dict[int, Mapping[str, Any]], dict[str, Any]]:
    """The stages of the moved deal's pipeline, the per-stage totals of the board the move came from (its filters
    ride on the query string) and the open summary line, so the page updates without reloading: 2 queries."""
    data = request.GET.copy()
    data["pipeline"] = str(opportunity.pipeline_id)
    _filterset, deals = _filtered(request, data)
    rows = selectors.stage_totals(deals=deals.filter(pipeline_id=opportunity.pipeline_id))
    stages = list(selectors.pipeline_stages(tenant=request.tenant, pipeline_id=opportunity.pipeline_id))
    kinds = {stage.pk: stage.kind for stage in stages}
    open_rows = [row for stage_id, row in rows.items() if kinds.get(stage_id) == StageKind.OPEN]
    summary = {
        "count": sum(row["count"] for row in rows.values()),
        "amount": sum((row["amount"] for row in open_rows), Decimal(0)),
        "weighted": sum((row["weighted"] for row in open_rows), Decimal(0)),
    }
    return stages, rows, summary


def _move_json(request: HttpRequest, opportunity: Opportunity, message: str) -> JsonResponse:
    _stages, rows, summary = _board_rows(request, opportunity)
    totals = {
        str(stage_id): {"count": row["count"], "amount": str(row["amount"]), "weighted": str(row["weighted"])}
        for stage_id, row in rows.items()
    }
    opportunity.can_edit = True
    card = render_to_string(
        "accounts/partials/_board_card.html", {"card": opportunity, "current_tenant": request.tenant}, request
    )
    return JsonResponse(
        {
            "ok": True,
            "id": opportunity.pk,
            "version": opportunity.version,
            "stage": opportunity.stage_id,
            "kind": opportunity.stage.kind,
            "message": message,
            "totals": totals,
            "summary": {key: str(value) for key, value in summary.items()},
            "card": card,
        }
    )


def _move_htmx(
    request: HttpRequest, opportunity: Opportunity, message: str, from_stage_id: int
) -> HttpResponse:
    """Out-of-band swaps for the board (the moved card, the totals of the column it left and of the one it
    entered, the summary line, the status line), rendered from the partials the board page itself uses."""
    stages, rows, summary = _board_rows(request, opportunity)
    columns = []
    for stage in stages:
        if stage.pk in (from_stage_id, opportunity.stage_id):
            row = rows.get(stage.pk, {})
            columns.append(
                selectors.BoardColumn(
                    stage=stage,
                    cards=[],
                    count=row.get("count", 0),
                    amount=row.get("amount", Decimal(0)),
                    weighted=row.get("weighted", Decimal(0)),
                )
            )
    opportunity.can_edit = True
    context = {"card": opportunity, "columns": columns, "totals": summary, "message": message}
    return render(request, "accounts/partials/_board_moved.html", context)


def _board_htmx(request: HttpRequest) -> bool:
    """An htmx request from the board (not a boosted plain form)."""
    return bool(request.htmx) and not request.htmx.boosted


def _move_response(request: HttpRequest, opportunity: Opportunity, message: str) -> HttpResponse:
    if _wants_json(request):
        return _move_json(request, opportunity, message)
    messages.success(request, message)
    return redirect(_deal_url(request, opportunity))


def _move_error(
    request: HttpRequest, opportunity: Opportunity, exc: Exception, *, board: bool = False
) -> HttpResponse:
    """JSON for the board (fetch, or htmx when `board`: htmx swaps no 4xx body, board.js reads the message and
    puts the card back), a message and a redirect to the deal page for a plain form."""
    as_json = _wants_json(request) or board
    if isinstance(exc, ConflictError):
        if as_json:
            return JsonResponse({"ok": False, "error": str(exc), **exc.extra}, status=409)
        messages.error(request, str(exc))
    elif isinstance(exc, ValidationError):
        if as_json:
            return JsonResponse({"ok": False, **_error_payload(exc)}, status=400)
        for message in exc.messages:
            messages.error(request, message)
    else:
        if as_json:
            return JsonResponse({"ok": False, "error": str(exc)}, status=403)
        messages.error(request, str(exc))
    return redirect(_deal_url(request, opportunity))


@tenant_member_required
@require_POST
def opportunity_move(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Move a deal to a stage (board drag and drop, the stage path on the deal page). Lost needs a reason."""
    opportunity = _get_deal(request, pk)
    from_stage_id = opportunity.stage_id
    board = _board_htmx(request)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _move_error(request, opportunity, ValidationError(form.errors.get_json_data()), board=board)
    try:
        moved = services.opportunity_move_stage(
            tenant=request.tenant,
            actor=request.user,
            opportunity=opportunity,
            stage=form.cleaned_data["stage"],
            version=form.cleaned_data["version"],
            lost_reason=form.cleaned_data["lost_reason"] or "",
        )
    except (ConflictError, ValidationError, PermissionDenied) as exc:
        return _move_error(request, opportunity, exc, board=board)
    message = _("“%(deal)s” moved to %(stage)s.") % {"deal": moved.name, "stage": moved.stage.label}
    if board and not _wants_json(request):
        return _move_htmx(request, moved, message, from_stage_id)
    return _move_response(request, moved, message)


@tenant_member_required
@require_POST
def opportunity_won(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    opportunity = _get_deal(request, pk)
    version = request.POST.get("version") or None
    try:
        won = services.opportunity_mark_won(
            tenant=request.tenant, actor=request.user, opportunity=opportunity, version=version
        )
    except (ConflictError, ValidationError, PermissionDenied) as exc:
        return _move_error(request, opportunity, exc)
    return _move_response(request, won, _("“%(deal)s” is won. Congratulations!") % {"deal": won.name})


@tenant_member_required
def opportunity_lost(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """GET: the lost-reason form (a modal body for htmx); POST: mark the deal lost."""
    opportunity = _get_deal(request, pk)
    form = LostForm(request.POST or None, initial={"version": opportunity.version})
    if request.method == "POST" and form.is_valid():
        try:
            lost = services.opportunity_mark_lost(
                tenant=request.tenant,
                actor=request.user,
                opportunity=opportunity,
                reason=form.cleaned_data["lost_reason"],
                version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        except (ConflictError, PermissionDenied) as exc:
            return _move_error(request, opportunity, exc)
        else:
            return _move_response(request, lost, _("“%(deal)s” is marked lost.") % {"deal": lost.name})
    context = {"opportunity": opportunity, "form": form}
    template = (
        "accounts/partials/_opportunity_lost_form.html" if request.htmx else "accounts/opportunity_lost.html"
    )
    return render(request, template, context, status=400 if request.method == "POST" else 200)


# --- create, deal page ------------------------------------------------------------------------------------------


@tenant_member_required
def opportunity_create(request: HttpRequest, slug: str) -> HttpResponse:
    access = selectors.DealAccess(request.membership)
    if not access.can_create:
        raise Http404
    tenant = request.tenant
    initial: dict[str, Any] = {
        "currency": tenant.currency,
        "owner": request.user.pk,
        "forecast_category": "pipeline",
        "type": "renewal" if request.membership.role == "cs" else "new_business",
    }
    default = services.pipeline_default(tenant=tenant)
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
            opportunity = services.opportunity_create(
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
    request: HttpRequest, form: OpportunityForm, opportunity: Opportunity, exc: ConflictError
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The conflict panel (your values vs the current ones) and the merged initial values: your changes
    re-applied onto the current version, so saving again loses nothing you typed."""
    current = _get_deal(request, opportunity.pk)
    yours = comparable_values(form.cleaned_data)
    current_initial = OpportunityForm.initial_for(current)
    theirs = comparable_values(current_initial)
    original = form.original_values() or theirs
    stage_names = {str(s.pk): str(s) for s in form.fields["stage"].queryset}
    owner_names = {str(u.pk): u.display_name for u in form.fields["owner"].queryset}
    choices = {
        "type": dict(form.fields["type"].choices),
        "forecast_category": dict(form.fields["forecast_category"].choices),
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
    conflict = {"message": str(exc), "rows": rows, "current": current}
    return conflict, merged


@tenant_member_required
def opportunity_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    try:
        opportunity = selectors.opportunity_detail(
            tenant=request.tenant, membership=request.membership, pk=pk
        )
    except Opportunity.DoesNotExist as exc:
        raise Http404 from exc
    access = selectors.DealAccess(request.membership)
    can_edit = access.can_edit(opportunity) and opportunity.deleted_at is None
    conflict = None
    form_kwargs = {"tenant": request.tenant, "membership": request.membership, "opportunity": opportunity}
    if request.method == "POST":
        if not can_edit:
            raise Http404 if opportunity.deleted_at else PermissionDenied
        form = OpportunityForm(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                services.opportunity_update(
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
    stages = list(selectors.pipeline_stages(tenant=request.tenant, pipeline_id=opportunity.pipeline_id))
    context = {
        "opportunity": opportunity,
        "form": form,
        "conflict": conflict,
        "can_edit": can_edit,
        "can_restore": opportunity.deleted_at is not None and access.can_edit(opportunity),
        "can_log": opportunity.deleted_at is None,
        "weighted": opportunity.amount_reporting * opportunity.probability,
        "timeline": timeline_for(
            tenant=request.tenant, membership=request.membership, opportunity=opportunity
        ),
        "stages": stages,
        "contact_form": OpportunityContactForm(
            contacts=selectors.opportunity_contact_choices(
                tenant=request.tenant, membership=request.membership, opportunity=opportunity
            )
        )
        if can_edit
        else None,
        "lost_form": LostForm(initial={"version": opportunity.version}),
    }
    status = 409 if conflict else 200
    return render(request, "accounts/opportunity_detail.html", context, status=status)


@tenant_member_required
@require_POST
def opportunity_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    opportunity = _get_deal(request, pk)
    try:
        services.opportunity_delete(tenant=request.tenant, actor=request.user, opportunity=opportunity)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect(_deal_url(request, opportunity))
    request.session["deal_undo"] = opportunity.pk
    messages.success(request, _("Deal “%(deal)s” deleted.") % {"deal": opportunity.name})
    return redirect("accounts:opportunity-list", slug=slug)


@tenant_member_required
@require_POST
def opportunity_restore(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    opportunity = _get_deal(request, pk, include_deleted=True)
    try:
        services.opportunity_restore(tenant=request.tenant, actor=request.user, opportunity=opportunity)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("accounts:opportunity-list", slug=slug)
    messages.success(request, _("Deal “%(deal)s” restored.") % {"deal": opportunity.name})
    return redirect(_deal_url(request, opportunity))


# --- contacts on a deal -----------------------------------------------------------------------------------------


def _contacts_response(
    request: HttpRequest, opportunity: Opportunity, form: OpportunityContactForm | None = None
):  # type: ignore[no-untyped-def]
    if not request.htmx:
        return redirect(_deal_url(request, opportunity))
    opportunity = selectors.opportunity_detail(
        tenant=request.tenant, membership=request.membership, pk=opportunity.pk
    )
    contacts = selectors.opportunity_contact_choices(
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
def opportunity_contact_add(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    opportunity = _get_deal(request, pk)
    contacts = selectors.opportunity_contact_choices(
        tenant=request.tenant, membership=request.membership, opportunity=opportunity
    )
    form = OpportunityContactForm(request.POST, contacts=contacts)
    if form.is_valid():
        try:
            services.opportunity_contact_add(
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
            form = None
    elif not request.htmx:
        messages.error(request, _("Choose a contact of the deal's account."))
    return _contacts_response(request, opportunity, form)


def _contact_link(request: HttpRequest, pk: int, link_pk: int) -> tuple[Opportunity, OpportunityContact]:
    opportunity = _get_deal(request, pk)
    try:
        link = selectors.opportunity_contact_get(tenant=request.tenant, opportunity=opportunity, pk=link_pk)
    except OpportunityContact.DoesNotExist as exc:
        raise Http404 from exc
    return opportunity, link


@tenant_member_required
@require_POST
def opportunity_contact_remove(request: HttpRequest, slug: str, pk: int, link_pk: int) -> HttpResponse:
    opportunity, link = _contact_link(request, pk, link_pk)
    try:
        services.opportunity_contact_remove(tenant=request.tenant, actor=request.user, link=link)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return _contacts_response(request, opportunity)


@tenant_member_required
@require_POST
def opportunity_contact_primary(request: HttpRequest, slug: str, pk: int, link_pk: int) -> HttpResponse:
    opportunity, link = _contact_link(request, pk, link_pk)
    try:
        services.opportunity_contact_update(
            tenant=request.tenant, actor=request.user, link=link, is_primary=True
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return _contacts_response(request, opportunity)


# --- pipelines and stages (admin) -------------------------------------------------------------------------------


def _get_pipeline(request: HttpRequest, pk: int) -> Pipeline:
    try:
        return selectors.pipeline_get(tenant=request.tenant, pk=pk)
    except Pipeline.DoesNotExist as exc:
        raise Http404 from exc


def _get_stage(request: HttpRequest, pipeline: Pipeline, stage_pk: int) -> Stage:
    try:
        return selectors.stage_get(tenant=request.tenant, pk=stage_pk, pipeline=pipeline)
    except Stage.DoesNotExist as exc:
        raise Http404 from exc


def _pipeline_url(request: HttpRequest, pipeline: Pipeline) -> str:
    return reverse("accounts:pipeline-detail", kwargs={"slug": request.tenant.slug, "pk": pipeline.pk})


@tenant_admin_required
def pipeline_list(request: HttpRequest, slug: str) -> HttpResponse:
    form = PipelineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pipeline = services.pipeline_create(
                tenant=request.tenant,
                actor=request.user,
                name=form.cleaned_data["name"],
                is_default=form.cleaned_data["is_default"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Pipeline “%(name)s” created.") % {"name": pipeline.name})
            return redirect(_pipeline_url(request, pipeline))
    context = {"pipelines": selectors.pipeline_list(tenant=request.tenant), "form": form}
    return render(request, "accounts/pipeline_list.html", context)


def _pipeline_page(
    request: HttpRequest,
    pipeline: Pipeline,
    *,
    form: PipelineForm | None = None,
    stage_form: StageForm | None = None,
    stage_errors: dict[int, StageForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    counts = selectors.pipeline_stage_counts(tenant=request.tenant, pipeline=pipeline)
    stage_rows = []
    for stage in pipeline.stages.all():
        edit_form = (stage_errors or {}).get(stage.pk) or StageForm(
            initial={"name": stage.name, "probability": stage.probability, "kind": stage.kind},
            prefix=f"stage-{stage.pk}",
        )
        stage_rows.append({"stage": stage, "form": edit_form, "deals": counts.get(stage.pk, 0)})
    context = {
        "pipeline": pipeline,
        "form": form or PipelineForm(initial={"name": pipeline.name, "is_default": pipeline.is_default}),
        "stage_form": stage_form
        or StageForm(initial={"kind": StageKind.OPEN, "probability": "0.5"}, prefix="new"),
        "stage_rows": stage_rows,
        "deal_count": sum(counts.values()),
    }
    template = "accounts/partials/_stage_table.html" if request.htmx else "accounts/pipeline_detail.html"
    return render(request, template, context, status=status)


@tenant_admin_required
def pipeline_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    pipeline = _get_pipeline(request, pk)
    if request.method == "POST":
        form = PipelineForm(request.POST)
        if form.is_valid():
            try:
                services.pipeline_update(
                    tenant=request.tenant,
                    actor=request.user,
                    pipeline=pipeline,
                    name=form.cleaned_data["name"],
                    is_default=True if form.cleaned_data["is_default"] else None,
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Pipeline saved."))
                return redirect(_pipeline_url(request, pipeline))
        return _pipeline_page(request, pipeline, form=form, status=400)
    return _pipeline_page(request, pipeline)


@tenant_admin_required
@require_POST
def pipeline_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    pipeline = _get_pipeline(request, pk)
    try:
        services.pipeline_delete(tenant=request.tenant, actor=request.user, pipeline=pipeline)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(_pipeline_url(request, pipeline))
    messages.success(request, _("Pipeline “%(name)s” deleted.") % {"name": pipeline.name})
    return redirect("accounts:pipeline-list", slug=slug)


@tenant_admin_required
@require_POST
def stage_create(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    pipeline = _get_pipeline(request, pk)
    form = StageForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            stage = services.stage_create(
                tenant=request.tenant, actor=request.user, pipeline=pipeline, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Stage “%(name)s” added.") % {"name": stage.name})
            return redirect(_pipeline_url(request, pipeline))
    return _pipeline_page(request, _get_pipeline(request, pk), stage_form=form, status=400)


@tenant_admin_required
@require_POST
def stage_update(request: HttpRequest, slug: str, pk: int, stage_pk: int) -> HttpResponse:
    pipeline = _get_pipeline(request, pk)
    stage = _get_stage(request, pipeline, stage_pk)
    form = StageForm(request.POST, prefix=f"stage-{stage.pk}")
    if form.is_valid():
        try:
            services.stage_update(tenant=request.tenant, actor=request.user, stage=stage, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Stage saved."))
            return redirect(_pipeline_url(request, pipeline))
    return _pipeline_page(request, _get_pipeline(request, pk), stage_errors={stage.pk: form}, status=400)


@tenant_admin_required
@require_POST
def stage_move(request: HttpRequest, slug: str, pk: int, stage_pk: int) -> HttpResponse:
    pipeline = _get_pipeline(request, pk)
    stage = _get_stage(request, pipeline, stage_pk)
    direction = "up" if request.POST.get("direction") == "up" else "down"
    services.stage_move(tenant=request.tenant, actor=request.user, stage=stage, direction=direction)
    if request.htmx:
        return _pipeline_page(request, _get_pipeline(request, pk))
    return redirect(_pipeline_url(request, pipeline))


@tenant_admin_required
@require_POST
def stage_reorder(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Drag and drop on the stage table: `stages` is the full list of ids in the new order."""
    pipeline = _get_pipeline(request, pk)
    raw = request.POST.getlist("stages")
    if len(raw) == 1 and raw[0].startswith("["):
        raw = json.loads(raw[0])
    try:
        ids = [int(value) for value in raw]
        services.stages_reorder(tenant=request.tenant, actor=request.user, pipeline=pipeline, stage_ids=ids)
    except (ValueError, ValidationError) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else _("Unknown stage.")
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": message}, status=400)
        messages.error(request, message)
        return redirect(_pipeline_url(request, pipeline))
    if _wants_json(request):
        return JsonResponse({"ok": True})
    return redirect(_pipeline_url(request, pipeline))


@tenant_admin_required
def stage_delete(request: HttpRequest, slug: str, pk: int, stage_pk: int) -> HttpResponse:
    """GET: confirm (and, when the stage has deals, ask where to move them); POST: delete."""
    pipeline = _get_pipeline(request, pk)
    stage = _get_stage(request, pipeline, stage_pk)
    deal_count = selectors.pipeline_stage_counts(tenant=request.tenant, pipeline=pipeline).get(stage.pk, 0)
    form = StageDeleteForm(request.POST or None, stage=stage)
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.stage_delete(
                tenant=request.tenant, actor=request.user, stage=stage, move_to=form.cleaned_data["move_to"]
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            message = _("Stage “%(name)s” deleted.") % {"name": stage.name}
            if moved:
                message += " " + _("%(count)s deals moved.") % {"count": moved}
            messages.success(request, message)
            return redirect(_pipeline_url(request, pipeline))
    context = {"pipeline": pipeline, "stage": stage, "form": form, "deal_count": deal_count}
    template = "accounts/partials/_stage_delete_form.html" if request.htmx else "accounts/stage_delete.html"
    return render(request, template, context, status=400 if request.method == "POST" else 200)
