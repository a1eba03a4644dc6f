"""Reads of the deals area: pipelines, the deal list, the board, the deal page. Role visibility lives here.

Who sees which deal (DESIGN.md, issue):
- admin, ops: every deal;
- sales_manager: deals owned by their team (crm.visibility.owner_scope);
- sales_rep: their own deals, plus (read only) deals of accounts they have an AccountMember row on;
- cs: renewal deals, and (read only except renewals) every deal of a customer account
  (lifecycle stage conversion, retention or churn).
A deal outside that set raises Opportunity.DoesNotExist (a 404 everywhere).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from accounts.links import lead_link
from accounts.models import (
    Account,
    AccountMember,
    Contact,
    Opportunity,
    OpportunityContact,
    OpportunityType,
    Pipeline,
    Stage,
    StageChange,
)
from crm.models import Membership, MembershipStatus, Role, Team, Tenant
from crm.visibility import owner_scope

CUSTOMER_LIFECYCLE_STAGES = ("conversion", "retention", "churn")
BOARD_COLUMN_SIZE = 20
LIST_PAGE_SIZE = 50
COUNT_CAP = 10_000
MONEY = DecimalField(max_digits=20, decimal_places=2)


# --- visibility -------------------------------------------------------------------------------------------------


def member_scope(membership: Membership) -> set[int] | None:
    """crm.visibility.owner_scope, computed once per request (a manager's team is a query)."""
    cached = getattr(membership, "_deal_owner_scope", False)
    if cached is False:
        cached = owner_scope(membership)
        membership._deal_owner_scope = cached  # type: ignore[attr-defined]
    # The cache attribute is untyped; it only ever holds what owner_scope returned.
    return cast("set[int] | None", cached)


def opportunity_visibility_q(membership: Membership) -> Q | None:
    """The Q of deals the member may see; None = all."""
    role = membership.role
    if role in (Role.ADMIN, Role.OPS):
        return None
    if role == Role.CS:
        return Q(type=OpportunityType.RENEWAL) | Q(account__lifecycle_stage__in=CUSTOMER_LIFECYCLE_STAGES)
    scope = member_scope(membership)
    visible = Q(owner_id__in=sorted(scope or {membership.user_id}))
    if role == Role.SALES_REP:
        shared = AccountMember.objects.filter(tenant_id=membership.tenant_id, user_id=membership.user_id)
        visible |= Q(account_id__in=shared.values("account_id"))
    return visible


@dataclass
class DealAccess:
    """Per-request edit rights, computed once (a manager's team is one query, not one per row)."""

    membership: Membership
    team_ids: set[int] | None = field(default=None)

    def __post_init__(self) -> None:
        if self.membership.role == Role.SALES_MANAGER:
            self.team_ids = member_scope(self.membership)

    @property
    def can_create(self) -> bool:
        return self.membership.role in (Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP, Role.CS)

    @property
    def is_admin(self) -> bool:
        return self.membership.role == Role.ADMIN

    def can_edit(self, opportunity: Opportunity) -> bool:
        role = self.membership.role
        if role == Role.ADMIN:
            return True
        if role == Role.CS:
            return opportunity.type == OpportunityType.RENEWAL
        if role == Role.SALES_MANAGER:
            return opportunity.owner_id is None or opportunity.owner_id in (self.team_ids or set())
        if role == Role.SALES_REP:
            return opportunity.owner_id == self.membership.user_id
        return False


def deal_account_choices(*, tenant: Tenant, membership: Membership) -> QuerySet[Account]:
    """Accounts the member may put a deal on: the accounts they can see (the records area's visibility)."""
    from accounts.selectors.records import account_queryset

    return account_queryset(tenant=tenant, membership=membership).filter(merged_into__isnull=True)


def deal_owner_choices(*, tenant: Tenant, membership: Membership) -> QuerySet[Membership]:
    """Members a deal may be given to by this member (reps: themselves; managers: their team; admins/cs: all)."""
    members = Membership.objects.filter(tenant=tenant, status=MembershipStatus.ACTIVE).select_related("user")
    if membership.role in (Role.SALES_REP,):
        return members.filter(user_id=membership.user_id)
    if membership.role == Role.SALES_MANAGER:
        return members.filter(user_id__in=sorted(member_scope(membership) or set()))
    return members.order_by("user__full_name", "user__email")


def filter_member_choices(*, tenant: Tenant, membership: Membership) -> QuerySet[Membership]:
    """Owners offered in the deal filters: the people whose deals the member can see."""
    members = Membership.objects.filter(tenant=tenant).select_related("user")
    scope = member_scope(membership) if membership.role not in (Role.CS,) else None
    if scope is not None:
        members = members.filter(user_id__in=sorted(scope))
    return members.order_by("user__full_name", "user__email")


def filter_team_choices(*, tenant: Tenant, membership: Membership) -> QuerySet[Team]:
    teams = Team.objects.filter(tenant=tenant).order_by("name")
    if membership.role == Role.SALES_MANAGER:
        return teams.filter(pk=membership.team_id)
    if membership.role == Role.SALES_REP:
        return teams.none()
    return teams


# --- pipelines --------------------------------------------------------------------------------------------------


def pipeline_list(*, tenant: Tenant) -> QuerySet[Pipeline]:
    stages = Stage.objects.filter(tenant=tenant).order_by("order", "id")
    return (
        Pipeline.objects.filter(tenant=tenant)
        .annotate(deal_count=Count("opportunities", filter=Q(opportunities__deleted_at__isnull=True)))
        .prefetch_related(Prefetch("stages", queryset=stages))
        .order_by("-is_default", "order", "name")
    )


def pipeline_choices(*, tenant: Tenant) -> QuerySet[Pipeline]:
    """Pipelines for selectors (the board's pipeline switch): default first."""
    return Pipeline.objects.filter(tenant=tenant).order_by("-is_default", "order", "name")


def pipeline_stages(*, tenant: Tenant, pipeline_id: int) -> QuerySet[Stage]:
    return Stage.objects.filter(tenant=tenant, pipeline_id=pipeline_id).order_by("order", "id")


def pipeline_get(*, tenant: Tenant, pk: int) -> Pipeline:
    stages = Stage.objects.filter(tenant=tenant).order_by("order", "id")
    return Pipeline.objects.prefetch_related(Prefetch("stages", queryset=stages)).get(tenant=tenant, pk=pk)


def pipeline_stage_counts(*, tenant: Tenant, pipeline: Pipeline) -> dict[int, int]:
    """Deals per stage (deleted ones included: they too must move when a stage goes)."""
    rows = (
        Opportunity.objects.filter(tenant=tenant, pipeline=pipeline)
        .values("stage_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["stage_id"]: row["n"] for row in rows}


def stage_get(*, tenant: Tenant, pk: int, pipeline: Pipeline | None = None) -> Stage:
    stages = Stage.objects.select_related("pipeline").filter(tenant=tenant)
    if pipeline is not None:
        stages = stages.filter(pipeline=pipeline)
    return stages.get(pk=pk)


# --- opportunities ----------------------------------------------------------------------------------------------


def opportunity_base(*, tenant: Tenant, membership: Membership, include_deleted: bool = False) -> QuerySet:
    deals = Opportunity.objects.filter(tenant=tenant)
    if not include_deleted:
        deals = deals.filter(deleted_at__isnull=True)
    visible = opportunity_visibility_q(membership)
    if visible is not None:
        deals = deals.filter(visible)
    return deals


def opportunity_list(
    *, tenant: Tenant, membership: Membership, filters: dict[str, Any] | None = None
) -> QuerySet[Opportunity]:
    """Visible, not deleted deals with what a row needs (account, stage, pipeline, owner) in one query.

    `filters` are the cleaned values of accounts.filters_deals.OpportunityFilter (applied by the FilterSet when
    it is used directly); here only the plain keys are handled for callers outside the request path.
    """
    deals = opportunity_base(tenant=tenant, membership=membership).select_related(
        "account", "stage", "pipeline", "owner"
    )
    for key, value in (filters or {}).items():
        if value in (None, ""):
            continue
        if key in {"pipeline", "stage", "owner", "account", "type", "forecast_category"}:
            deals = deals.filter(**{key: value})
    return deals


def opportunity_get(
    *, tenant: Tenant, membership: Membership, pk: int, include_deleted: bool = False
) -> Opportunity:
    return (
        opportunity_base(tenant=tenant, membership=membership, include_deleted=include_deleted)
        .select_related("account", "stage", "pipeline", "owner", "lead")
        .get(pk=pk)
    )


def opportunity_detail(*, tenant: Tenant, membership: Membership, pk: int) -> Opportunity:
    """The deal page: the deal with its stage history and contact roles prefetched (fixed query count).

    Only the contacts the member may see are on it, and `lead_visible` says whether the member may see the
    lead the deal came from (the page names it only then)."""
    from accounts.selectors.records import contact_visibility_q

    leads = lead_link()

    history = StageChange.objects.filter(tenant=tenant).select_related("from_stage", "to_stage", "actor")
    contacts = (
        OpportunityContact.objects.filter(tenant=tenant)
        .select_related("contact")
        .order_by("-is_primary", "contact__last_name", "contact__first_name", "id")
    )
    contact_q = contact_visibility_q(membership)
    if contact_q is not None:
        contacts = contacts.filter(contact_id__in=Contact.objects.filter(contact_q).values("pk"))
    lead_q = leads.visibility_q(membership)
    lead_visible: Any = Value(True, output_field=BooleanField())
    if lead_q is not None:
        visible_leads = (
            leads.model._default_manager.filter(deleted_at__isnull=True).filter(lead_q).values("pk")
        )
        lead_visible = ExpressionWrapper(Q(lead_id__in=visible_leads), output_field=BooleanField())
    return (
        opportunity_base(tenant=tenant, membership=membership, include_deleted=True)
        .annotate(lead_visible=lead_visible)
        .select_related("account", "stage", "pipeline", "owner", "lead")
        .prefetch_related(
            Prefetch("stage_changes", queryset=history.order_by("-changed_at", "-id"), to_attr="history"),
            Prefetch("contact_roles", queryset=contacts, to_attr="contact_links"),
        )
        .get(pk=pk)
    )


def opportunity_contact_choices(
    *, tenant: Tenant, membership: Membership, opportunity: Opportunity
) -> QuerySet[Contact]:
    """Contacts of the deal's account, visible to the member, that are not on the deal yet (the form's choices
    and the API's check: any other id is "does not exist")."""
    from accounts.selectors.records import contact_queryset

    on_deal = OpportunityContact.objects.filter(tenant=tenant, opportunity=opportunity).values("contact_id")
    return (
        contact_queryset(tenant=tenant, membership=membership)
        .filter(account_id=opportunity.account_id)
        .exclude(pk__in=on_deal)
        .order_by("last_name", "first_name", "id")
    )


def opportunity_contact_links(
    *, tenant: Tenant, membership: Membership, opportunity: Opportunity
) -> QuerySet[OpportunityContact]:
    """The contacts on the deal that the member may see (primary first), with the contact."""
    from accounts.selectors.records import contact_visibility_q

    links = (
        OpportunityContact.objects.filter(tenant=tenant, opportunity=opportunity)
        .select_related("contact")
        .order_by("-is_primary", "id")
    )
    contact_q = contact_visibility_q(membership)
    if contact_q is not None:
        links = links.filter(contact_id__in=Contact.objects.filter(contact_q).values("pk"))
    return links


def opportunity_contact_get(*, tenant: Tenant, opportunity: Opportunity, pk: int) -> OpportunityContact:
    return (
        OpportunityContact.objects.select_related("contact", "opportunity")
        .filter(tenant=tenant, opportunity=opportunity)
        .get(pk=pk)
    )


def stage_history(*, tenant: Tenant, opportunity: Opportunity) -> QuerySet[StageChange]:
    return (
        StageChange.objects.filter(tenant=tenant, opportunity=opportunity)
        .select_related("from_stage", "to_stage", "actor")
        .order_by("-changed_at", "-id")
    )


# --- totals and the board ---------------------------------------------------------------------------------------


def weighted_expression() -> ExpressionWrapper:
    return ExpressionWrapper(F("amount_reporting") * F("probability"), output_field=MONEY)


def opportunity_totals(deals: QuerySet[Opportunity]) -> dict[str, Any]:
    """Count, amount and weighted amount (reporting currency) of a filtered deal set: one aggregate query."""
    totals = deals.order_by().aggregate(
        count=Count("id"),
        amount=Coalesce(Sum("amount_reporting"), Decimal(0), output_field=MONEY),
        weighted=Coalesce(Sum(weighted_expression()), Decimal(0), output_field=MONEY),
    )
    return totals


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
        in_pipeline.filter(stage_id=stage.pk)
        .select_related("account", "owner")
        .order_by(*board_card_order())[:per_column]
        for stage in stages
    ]
    if firsts:
        for card in firsts[0].union(*firsts[1:], all=True) if len(firsts) > 1 else firsts[0]:
            cards.setdefault(card.stage_id, []).append(card)
    for column_cards in cards.values():
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
    *, deals: QuerySet[Opportunity], stage: Stage, offset: int, limit: int = BOARD_COLUMN_SIZE
) -> list[Opportunity]:
    """The next cards of one column ("show more")."""
    return list(
        deals.filter(stage=stage)
        .select_related("account", "owner")
        .order_by(*board_card_order())[offset : offset + limit]
    )


# --- keyset pagination of the deal list (fast at any depth, no OFFSET, no full COUNT) ------------------------


SORTS: dict[str, tuple[str, bool]] = {
    # key: (field, descending)
    "-created": ("created_at", True),
    "created": ("created_at", False),
    "-amount": ("amount_reporting", True),
    "amount": ("amount_reporting", False),
    "close": ("expected_close_date", False),
    "-close": ("expected_close_date", True),
    "name": ("name", False),
    "-name": ("name", True),
}
NULLABLE_SORT_FIELDS = {"expected_close_date"}
DEFAULT_SORT = "-created"


def _encode(value: Any, pk: int, backwards: bool) -> str:
    if isinstance(value, dt.datetime):
        raw: Any = ["dt", value.isoformat()]
    elif isinstance(value, dt.date):
        raw = ["d", value.isoformat()]
    elif isinstance(value, Decimal):
        raw = ["n", str(value)]
    else:
        raw = ["s", value]
    payload = json.dumps({"v": raw, "id": pk, "b": backwards}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[Any, int, bool] | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
        kind, raw = data["v"]
        if raw is None:
            value: Any = None
        elif kind == "dt":
            value = dt.datetime.fromisoformat(raw)
        elif kind == "d":
            value = dt.date.fromisoformat(raw)
        elif kind == "n":
            value = Decimal(raw)
        else:
            value = str(raw)
        return value, int(data["id"]), bool(data.get("b"))
    except (ValueError, KeyError, TypeError, json.JSONDecodeError, ArithmeticError):
        return None


def _bound(field_name: str, op: str, value: Any) -> Q:
    """The redundant `field <= value` (or >=) next to the keyset OR: it lets PostgreSQL start the index scan at
    the cursor instead of filtering every row before it, so a deep page costs what the first one costs. Only
    for NOT NULL keys (a nullable key's nulls lie past any bound)."""
    if field_name in NULLABLE_SORT_FIELDS:
        return Q()
    return Q(**{f"{field_name}__{op}e": value})


def _after_q(field_name: str, descending: bool, value: Any, pk: int) -> Q:
    """Rows strictly after (value, pk) in the order (field [desc], id [desc]), nulls last."""
    op = "lt" if descending else "gt"
    if value is None:
        return Q(**{f"{field_name}__isnull": True, f"id__{op}": pk})
    after = Q(**{f"{field_name}__{op}": value}) | Q(**{field_name: value, f"id__{op}": pk})
    if field_name in NULLABLE_SORT_FIELDS:
        after |= Q(**{f"{field_name}__isnull": True})
    return _bound(field_name, op, value) & after


def _before_q(field_name: str, descending: bool, value: Any, pk: int) -> Q:
    op = "gt" if descending else "lt"
    if value is None:
        return Q(**{f"{field_name}__isnull": False}) | Q(**{f"{field_name}__isnull": True, f"id__{op}": pk})
    return _bound(field_name, op, value) & (
        Q(**{f"{field_name}__{op}": value}) | Q(**{field_name: value, f"id__{op}": pk})
    )


def _order(field_name: str, descending: bool, reverse: bool = False) -> list[Any]:
    """Forward: nulls last; walking backwards reverses everything (nulls first).

    Only a nullable key says where nulls go: on a NOT NULL column an explicit NULLS LAST after DESC would no
    longer match the (tenant, key, id) index, and PostgreSQL would sort every visible deal for each page."""
    desc = descending != reverse
    nulls: dict[str, bool] = {}
    if field_name in NULLABLE_SORT_FIELDS:
        nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
    expr = F(field_name).desc(**nulls) if desc else F(field_name).asc(**nulls)
    return [expr, F("id").desc() if desc else F("id").asc()]


@dataclass
class KeysetPage:
    rows: list[Opportunity]
    next_cursor: str | None
    previous_cursor: str | None
    sort: str


def opportunity_page(
    deals: QuerySet[Opportunity], *, sort: str | None, cursor: str | None, size: int = LIST_PAGE_SIZE
) -> KeysetPage:
    """One page of deals by keyset: one query (size + 1 rows) at any depth."""
    sort = sort if sort in SORTS else DEFAULT_SORT
    field_name, descending = SORTS[sort]
    decoded = _decode(cursor) if cursor else None
    backwards = bool(decoded and decoded[2])
    if decoded is None:
        rows = list(deals.order_by(*_order(field_name, descending))[: size + 1])
        has_more = len(rows) > size
        rows = rows[:size]
        has_previous = False
    elif not backwards:
        value, pk, _ = decoded
        rows = list(
            deals.filter(_after_q(field_name, descending, value, pk)).order_by(
                *_order(field_name, descending)
            )[: size + 1]
        )
        has_more = len(rows) > size
        rows = rows[:size]
        has_previous = True
    else:
        value, pk, _ = decoded
        rows = list(
            deals.filter(_before_q(field_name, descending, value, pk)).order_by(
                *_order(field_name, descending, reverse=True)
            )[: size + 1]
        )
        has_previous = len(rows) > size
        rows = list(reversed(rows[:size]))
        has_more = True
    next_cursor = _encode(getattr(rows[-1], field_name), rows[-1].pk, False) if rows and has_more else None
    previous_cursor = (
        _encode(getattr(rows[0], field_name), rows[0].pk, True) if rows and has_previous else None
    )
    return KeysetPage(rows=rows, next_cursor=next_cursor, previous_cursor=previous_cursor, sort=sort)


def capped_count(deals: QuerySet[Opportunity], cap: int = COUNT_CAP) -> tuple[int, bool]:
    """Count up to `cap` rows (bounded cost at any table size); returns (count, more_than_cap)."""
    n = deals.order_by().values("id")[: cap + 1].count()
    return min(n, cap), n > cap
