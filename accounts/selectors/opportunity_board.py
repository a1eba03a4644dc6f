"""The deal board: one column per stage of a pipeline, with its first cards, totals and the next cards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Opportunity, Pipeline, Stage, StageChange
from accounts.selectors.opportunities import MONEY, weighted_expression
from crm.dates import tenant_today
from crm.models import Tenant

BOARD_COLUMN_SIZE = 20


@dataclass
class BoardColumn:
    stage: Stage
    cards: list[Opportunity]
    count: int = 0
    amount: Decimal = Decimal(0)
    weighted: Decimal = Decimal(0)

    @property
    def has_more(self) -> bool:
        return self.count > len(self.cards)


def stage_totals(*, deals: QuerySet[Opportunity]) -> dict[int, Mapping[str, Any]]:
    """Count, amount and weighted amount per stage of a filtered deal set, in one aggregate query."""
    return {
        row["stage_id"]: row
        for row in deals.order_by()
        .values("stage_id")
        .annotate(
            count=Count("id"),
            amount=Coalesce(Sum("amount_reporting"), Decimal(0), output_field=MONEY),
            weighted=Coalesce(Sum(weighted_expression()), Decimal(0), output_field=MONEY),
        )
    }


def board_card_order() -> list[Any]:
    return [F("expected_close_date").asc(nulls_last=True), F("id").desc()]


def with_stage_entered_at(deals: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """Annotate `stage_entered_at`: when the deal last entered its current stage, from its StageChange history
    (a correlated subquery on the (tenant, opportunity, changed_at) index, evaluated for the fetched cards only:
    no extra query). A deal without such a change counts from its creation."""
    entered = (
        StageChange.objects.filter(
            tenant_id=OuterRef("tenant_id"), opportunity_id=OuterRef("pk"), to_stage_id=OuterRef("stage_id")
        )
        .order_by("-changed_at", "-id")
        .values("changed_at")[:1]
    )
    return deals.annotate(stage_entered_at=Coalesce(Subquery(entered), F("created_at")))


def set_days_in_stage(*, tenant: Tenant, cards: list[Opportunity]) -> None:
    """`days_in_stage` on cards annotated by with_stage_entered_at: whole days in the tenant's calendar."""
    today = tenant_today(tenant)
    zone = tenant.tzinfo
    for card in cards:
        entered = getattr(card, "stage_entered_at", None)
        if entered is None:
            card.days_in_stage = None
            continue
        local = timezone.localtime(entered, zone).date()
        card.days_in_stage = max((today - local).days, 0)


def opportunity_board(
    *, tenant: Tenant, pipeline: Pipeline, deals: QuerySet[Opportunity], per_column: int = BOARD_COLUMN_SIZE
) -> list[BoardColumn]:
    """Kanban columns of `pipeline` for an already visible and filtered deal set, in 3 queries whatever the
    number of deals: the stages, the first `per_column` cards of every stage (one UNION ALL of a LIMIT per
    stage, each walking the (tenant, stage, close date, id) index; a window over the whole pipeline would sort
    every deal first) and the totals per stage (an aggregate)."""
    stages = list(Stage.objects.filter(tenant=tenant, pipeline=pipeline).order_by("order", "id"))
    in_pipeline = deals.filter(pipeline=pipeline)
    totals = stage_totals(deals=in_pipeline)
    cards: dict[int, list[Opportunity]] = {stage.pk: [] for stage in stages}
    firsts = [
        with_stage_entered_at(in_pipeline.filter(stage_id=stage.pk))
        .select_related("account", "owner")
        .order_by(*board_card_order())[:per_column]
        for stage in stages
    ]
    if firsts:
        for card in firsts[0].union(*firsts[1:], all=True) if len(firsts) > 1 else firsts[0]:
            cards.setdefault(card.stage_id, []).append(card)
    for column_cards in cards.values():
        set_days_in_stage(tenant=tenant, cards=column_cards)
        # UNION ALL keeps each part's order in practice, but SQL does not promise it.
        column_cards.sort(
            key=lambda d: (d.expected_close_date is None, d.expected_close_date or dt.date.min, -d.pk)
        )
    columns = []
    for stage in stages:
        row = totals.get(stage.pk, {})
        columns.append(
            BoardColumn(
                stage=stage,
                cards=cards.get(stage.pk, []),
                count=row.get("count", 0),
                amount=row.get("amount", Decimal(0)),
                weighted=row.get("weighted", Decimal(0)),
            )
        )
    return columns


def opportunity_board_more(
    *,
    tenant: Tenant,
    deals: QuerySet[Opportunity],
    stage: Stage,
    offset: int,
    limit: int = BOARD_COLUMN_SIZE,
) -> list[Opportunity]:
    """The next cards of one column ("show more"), with their days in the stage."""
    cards = list(
        with_stage_entered_at(deals.filter(stage=stage))
        .select_related("account", "owner")
        .order_by(*board_card_order())[offset : offset + limit]
    )
    set_days_in_stage(tenant=tenant, cards=cards)
    return cards
