"""The deal board: the columns, a column's next cards, and moving a deal (drag and drop, won, lost) from the
board or the deal page, as JSON, htmx fragments or a redirect."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms.opportunities import LostForm, MoveForm
from accounts.models import Opportunity, Pipeline, Stage, StageKind
from accounts.selectors import opportunity_board as opportunity_board_selectors
from accounts.selectors import pipelines as pipelines_selectors
from accounts.selectors import visibility as visibility_selectors
from accounts.services import opportunities as opportunities_services
from accounts.services import pipelines as pipelines_services
from accounts.views.common import _wants_json
from accounts.views.opportunities import WON_UNDO, _deal_url, _error_payload, _filtered, _get_deal
from crm.decorators import tenant_member_required
from crm.errors import ConflictError
from crm.models import ValueListKey
from crm.types import TenantHttpRequest
from crm.value_lists import list_value_clean
from crm.viewutils import apply_validation_error

BOARD_FILTER_FIELDS = ["q", "owner", "team", "type", "close", "close_from", "close_to"]


def _board_pipeline(request: TenantHttpRequest, pipelines: list[Pipeline]) -> Pipeline:
    wanted = request.GET.get("pipeline")
    for pipeline in pipelines:
        if wanted and str(pipeline.pk) == wanted:
            return pipeline
    if wanted:
        raise Http404
    return next((p for p in pipelines if p.is_default), pipelines[0])


@tenant_member_required
def opportunity_board(request: TenantHttpRequest, slug: str) -> HttpResponse:
    pipelines = list(pipelines_selectors.pipeline_choices(tenant=request.tenant))
    if not pipelines:
        pipelines = [pipelines_services.pipeline_default(tenant=request.tenant)]
    pipeline = _board_pipeline(request, pipelines)
    data = request.GET.copy()
    data["pipeline"] = str(pipeline.pk)
    filterset, deals = _filtered(request, data)
    columns = opportunity_board_selectors.opportunity_board(
        tenant=request.tenant, pipeline=pipeline, deals=deals
    )
    access = visibility_selectors.DealAccess(request.membership)
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
        "lost_form": LostForm(tenant=request.tenant),
    }
    template = "accounts/partials/_board.html" if request.htmx else "accounts/opportunity_board.html"
    return render(request, template, context)


@tenant_member_required
def opportunity_board_column(request: TenantHttpRequest, slug: str) -> HttpResponse:
    """The next cards of one column ("show more")."""
    try:
        stage = pipelines_selectors.stage_get(tenant=request.tenant, pk=int(request.GET.get("stage", "")))
        offset = max(0, int(request.GET.get("offset", "0")))
    except (ValueError, Stage.DoesNotExist) as exc:
        raise Http404 from exc
    data = request.GET.copy()
    data["pipeline"] = str(stage.pipeline_id)
    _filterset, deals = _filtered(request, data)
    cards = opportunity_board_selectors.opportunity_board_more(
        tenant=request.tenant, deals=deals, stage=stage, offset=offset
    )
    access = visibility_selectors.DealAccess(request.membership)
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
        "has_more": len(cards) == opportunity_board_selectors.BOARD_COLUMN_SIZE and next_offset < total,
        "total": total,
        "filter_query": data.urlencode(),
    }
    return render(request, "accounts/partials/_board_cards.html", context)


def _board_rows(
    request: TenantHttpRequest, opportunity: Opportunity
) -> tuple[list[Stage], dict[int, Mapping[str, Any]], dict[str, Any]]:
    """The stages of the moved deal's pipeline, the per-stage totals of the board the move came from (its filters
    ride on the query string) and the open summary line, so the page updates without reloading: 2 queries."""
    data = request.GET.copy()
    data["pipeline"] = str(opportunity.pipeline_id)
    _filterset, deals = _filtered(request, data)
    rows = opportunity_board_selectors.stage_totals(deals=deals.filter(pipeline_id=opportunity.pipeline_id))
    stages = list(
        pipelines_selectors.pipeline_stages(tenant=request.tenant, pipeline_id=opportunity.pipeline_id)
    )
    kinds = {stage.pk: stage.kind for stage in stages}
    open_rows = [row for stage_id, row in rows.items() if kinds.get(stage_id) == StageKind.OPEN]
    summary = {
        "count": sum(row["count"] for row in rows.values()),
        "amount": sum((row["amount"] for row in open_rows), Decimal(0)),
        "weighted": sum((row["weighted"] for row in open_rows), Decimal(0)),
    }
    return stages, rows, summary


def _move_json(request: TenantHttpRequest, opportunity: Opportunity, message: str) -> JsonResponse:
    _stages, rows, summary = _board_rows(request, opportunity)
    totals = {
        str(stage_id): {"count": row["count"], "amount": str(row["amount"]), "weighted": str(row["weighted"])}
        for stage_id, row in rows.items()
    }
    opportunity.can_edit = True
    opportunity.days_in_stage = 0  # it has just entered its stage
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
    request: TenantHttpRequest, opportunity: Opportunity, message: str, from_stage_id: int
) -> HttpResponse:
    """Out-of-band swaps for the board (the moved card, the totals of the column it left and of the one it
    entered, the summary line, the status line), rendered from the partials the board page itself uses."""
    stages, rows, summary = _board_rows(request, opportunity)
    columns = []
    for stage in stages:
        if stage.pk in (from_stage_id, opportunity.stage_id):
            row = rows.get(stage.pk, {})
            columns.append(
                opportunity_board_selectors.BoardColumn(
                    stage=stage,
                    cards=[],
                    count=row.get("count", 0),
                    amount=row.get("amount", Decimal(0)),
                    weighted=row.get("weighted", Decimal(0)),
                )
            )
    opportunity.can_edit = True
    # The card just entered its stage (a move to the stage it was in changes nothing: no count shown).
    opportunity.days_in_stage = 0 if opportunity.stage_id != from_stage_id else None
    context = {"card": opportunity, "columns": columns, "totals": summary, "message": message}
    return render(request, "accounts/partials/_board_moved.html", context)


def _board_htmx(request: TenantHttpRequest) -> bool:
    """An htmx request from the board (not a boosted plain form)."""
    return bool(request.htmx) and not request.htmx.boosted


def _move_response(request: TenantHttpRequest, opportunity: Opportunity, message: str) -> HttpResponse:
    if _wants_json(request):
        return _move_json(request, opportunity, message)
    messages.success(request, message)
    return redirect(_deal_url(request, opportunity))


def _move_error(
    request: TenantHttpRequest, opportunity: Opportunity, exc: Exception, *, board: bool = False
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
def opportunity_move(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Move a deal to a stage (board drag and drop, the stage path on the deal page). Lost needs a reason."""
    opportunity = _get_deal(request, pk)
    from_stage_id = opportunity.stage_id
    board = _board_htmx(request)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _move_error(request, opportunity, ValidationError(form.errors.get_json_data()), board=board)
    try:
        lost_reason = list_value_clean(
            tenant=request.tenant,
            list_key=ValueListKey.LOST_REASON,
            value=form.cleaned_data["lost_reason"] or "",
            field="lost_reason",
            current=opportunity.lost_reason,
        )
        moved = opportunities_services.opportunity_move_stage(
            tenant=request.tenant,
            actor=request.user,
            opportunity=opportunity,
            stage=form.cleaned_data["stage"],
            version=form.cleaned_data["version"],
            lost_reason=lost_reason,
        )
    except (ConflictError, ValidationError, PermissionDenied) as exc:
        return _move_error(request, opportunity, exc, board=board)
    message = _("“%(deal)s” moved to %(stage)s.") % {"deal": moved.name, "stage": moved.stage.label}
    if board and not _wants_json(request):
        return _move_htmx(request, moved, message, from_stage_id)
    return _move_response(request, moved, message)


@tenant_member_required
@require_POST
def opportunity_won(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Mark the deal won (the page asks first). From an open stage, the deal page then offers the undo: reopen
    it in the stage it came from (session key WON_UNDO, read once by the deal page)."""
    opportunity = _get_deal(request, pk)
    from_stage = opportunity.stage
    posted_version = request.POST.get("version")
    version = int(posted_version) if posted_version else None  # as the service's version check reads it
    try:
        won = opportunities_services.opportunity_mark_won(
            tenant=request.tenant, actor=request.user, opportunity=opportunity, version=version
        )
    except (ConflictError, ValidationError, PermissionDenied) as exc:
        return _move_error(request, opportunity, exc)
    message = _("“%(deal)s” is won. Congratulations!") % {"deal": won.name}
    if _wants_json(request) or from_stage.kind != StageKind.OPEN or won.stage_id == from_stage.pk:
        return _move_response(request, won, message)
    request.session[WON_UNDO] = {"deal": won.pk, "stage": from_stage.pk, "message": message}
    return redirect(_deal_url(request, won))


@tenant_member_required
def opportunity_lost(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    """GET: the lost-reason form (a modal body for htmx); POST: mark the deal lost."""
    opportunity = _get_deal(request, pk)
    form = LostForm(
        request.POST or None,
        initial={"version": opportunity.version},
        tenant=request.tenant,
        opportunity=opportunity,
    )
    if request.method == "POST" and form.is_valid():
        try:
            lost = opportunities_services.opportunity_mark_lost(
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
