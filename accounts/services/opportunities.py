"""Writes of opportunities (deals): create, update (version-checked), move between stages, mark won or lost,
delete and restore, link to the leads they came from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    Account,
    ForecastCategory,
    Opportunity,
    OpportunityType,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
)
from accounts.selectors.opportunities import deal_account_choices
from accounts.services.common import _members_of, _not_member, _once
from accounts.services.opportunity_rules import (
    UPDATABLE_FIELDS,
    DealChecks,
    _account_visible,
    _apply_stage,
    _check_can_edit,
    _check_can_own,
    _check_deal_version,
    _check_external_id_free,
    _check_owner_is_member,
    _closed_stage,
    _derived_forecast,
    _emit_stage_changed,
    _locked,
    _real_changes,
    _reporting_for,
    _resolve_stage,
    _save_changes,
    opportunity_can_edit,
)
from accounts.services.pipelines import _as_decimal, _validate_probability, pipeline_default
from accounts.services.rates import _local_date, reporting_converter
from accounts.signals import opportunities_changed, opportunities_created_many
from crm.bulk import Maker, SetCleaner, copy_insert, copy_update, send_saves
from crm.errors import AppError
from crm.history import history_actor, stamps_actor
from crm.models import Membership, Tenant, User
from crm.money import AMOUNT_TOO_LARGE, amount_too_large, round_cents
from crm.records import (
    AnyOf,
    actor_membership,
    external_id_clash,
    record_restore,
    record_soft_delete,
    with_external_ids,
    without_external_id_clashes,
)


def _clean_next_step(value: str | None) -> str:
    """One line, as the board card shows it: inner whitespace folded."""
    next_step = " ".join((value or "").split())
    if len(next_step) > 200:
        raise ValidationError({"next_step": _("Keep the next step under 200 characters.")})
    return next_step


# What a new deal's full_clean leaves to the services: its relations. The set also leaves the source and campaign,
# which are the lead's own (each a query per deal otherwise).
_CREATE_CLEAN_EXCLUDE = ("tenant", "account", "pipeline", "stage", "owner", "lead")
_SET_CLEAN_EXCLUDE = (*_CREATE_CLEAN_EXCLUDE, "source", "campaign")

# opportunity_create's keyword arguments besides tenant and actor (a draft of opportunities_create_many).
_CREATE_ARGUMENTS = (
    "account",
    "name",
    "amount",
    "currency",
    "type",
    "pipeline",
    "stage",
    "probability",
    "forecast_category",
    "expected_close_date",
    "owner",
    "lead",
    "created_at",
    "closed_at",
    "lost_reason",
    "external_id",
    "next_step",
    "next_step_date",
)


# The choices' values, read once (an enum's `.values` is built again at every access).
_DEAL_TYPES = frozenset(OpportunityType.values)
_FORECASTS = frozenset(ForecastCategory.values)


def _create_errors(
    *,
    tenant: Tenant,
    name: str,
    deal_type: str,
    amount: Decimal | str | int | float,
    currency: str | None,
    forecast_category: str | None,
) -> tuple[str, Decimal, str]:
    """A new deal's own fields: (its name, amount and currency as cleaned), or a ValidationError with their
    errors."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors.setdefault("name", []).append(_("Enter a name."))
    if deal_type not in _DEAL_TYPES:
        errors.setdefault("type", []).append(_("Unknown deal type."))
    amount_value = _as_decimal(amount, "amount")
    if amount_value < 0:
        errors.setdefault("amount", []).append(_("The amount cannot be negative."))
    elif amount_too_large(amount_value):
        errors.setdefault("amount", []).append(str(AMOUNT_TOO_LARGE))
    currency = (currency or tenant.currency).strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        errors.setdefault("currency", []).append(_("Use a three-letter currency code such as CNY or EUR."))
    if forecast_category is not None and forecast_category not in _FORECASTS:
        errors.setdefault("forecast_category", []).append(_("Unknown forecast category."))
    if errors:
        raise ValidationError(errors)
    return name, amount_value, currency


def _closing(
    stage: Stage,
    created_at: dt.datetime,
    closed_at: dt.datetime | None,
    lost_reason: str,
    now: dt.datetime,
) -> tuple[dt.datetime | None, str]:
    """A new deal's (closed_at, lost_reason) in `stage`: an open deal has neither, a closed one closes when the
    file says (else when it was created, if that is past) and not before it was created."""
    if stage.kind == StageKind.OPEN:
        closed_at = None
        lost_reason = ""
    else:
        closed_at = closed_at or (created_at if created_at < now else now)
        if closed_at < created_at:
            raise ValidationError({"closed_at": _("A deal cannot close before it was created.")})
    if stage.kind != StageKind.LOST:
        lost_reason = ""
    return closed_at, lost_reason


def _probability(stage: Stage, probability: Decimal | str | float | None) -> Decimal:
    """A new deal's probability: the one given (an open deal), else its stage's; won 1, lost 0."""
    if probability is None or probability == "":
        prob = stage.probability
    else:
        prob = _validate_probability(_as_decimal(probability, "probability"))
    if stage.kind == StageKind.WON:
        prob = Decimal("1")
    elif stage.kind == StageKind.LOST:
        prob = Decimal("0")
    return prob


@transaction.atomic
@stamps_actor
def opportunity_create(
    *,
    tenant: Tenant,
    actor: User | None,
    account: Account,
    name: str,
    amount: Decimal | str | int | float,
    currency: str | None = None,
    type: str = OpportunityType.NEW_BUSINESS,
    pipeline: Pipeline | None = None,
    stage: Stage | str | None = None,
    probability: Decimal | str | float | None = None,
    forecast_category: str | None = None,
    expected_close_date: dt.date | None = None,
    owner: User | None = None,
    lead: Any = None,
    created_at: dt.datetime | None = None,
    closed_at: dt.datetime | None = None,
    lost_reason: str = "",
    external_id: str = "",
    next_step: str = "",
    next_step_date: dt.date | None = None,
) -> Opportunity:
    """Create a deal (historical created_at/closed_at kept as given, for imports).

    Side effects: the initial StageChange at created_at; amount_reporting computed; `opportunity_stage_changed`.
    """
    membership = actor_membership(tenant=tenant, actor=actor)
    if account.tenant_id != tenant.pk:
        raise Account.DoesNotExist
    if owner is None:
        owner = actor
    name, amount_value, currency = _create_errors(
        tenant=tenant,
        name=name,
        deal_type=type,
        amount=amount,
        currency=currency,
        forecast_category=forecast_category,
    )
    _check_can_own(membership=membership, owner=owner, deal_type=type)
    _check_owner_is_member(tenant=tenant, owner=owner)
    if not _account_visible(tenant=tenant, membership=membership, account=account):
        raise ValidationError({"account": _("Choose an account you can see.")})
    if pipeline is None:
        pipeline = pipeline_default(tenant=tenant)
    elif pipeline.tenant_id != tenant.pk:
        raise ValidationError({"pipeline": _("Unknown pipeline.")})
    stage_obj = _resolve_stage(pipeline=pipeline, stage=stage)
    now = timezone.now()
    created_at = created_at or now
    closed_at, lost_reason = _closing(stage_obj, created_at, closed_at, lost_reason, now)
    prob = _probability(stage_obj, probability)
    if stage_obj.kind != StageKind.OPEN or forecast_category is None:
        forecast_category = _derived_forecast(stage_obj.kind, forecast_category)
    opportunity = Opportunity(
        tenant=tenant,
        external_id=(external_id or "").strip(),
        account=account,
        lead=lead,
        # A deal originated from a lead carries the lead's attribution (the source and campaign reports).
        source_id=getattr(lead, "source_id", None),
        campaign_id=getattr(lead, "campaign_id", None),
        name=name,
        type=type,
        amount=round_cents(amount_value),
        currency=currency,
        amount_reporting=_reporting_for(
            tenant=tenant, amount=amount_value, currency=currency, closed_at=closed_at
        ),
        pipeline=pipeline,
        stage=stage_obj,
        probability=prob,
        forecast_category=forecast_category,
        expected_close_date=expected_close_date,
        closed_at=closed_at,
        lost_reason=(lost_reason or "").strip()[:200],
        next_step=_clean_next_step(next_step),
        next_step_date=next_step_date,
        owner=owner,
        created_at=created_at,
    )
    _check_external_id_free(tenant=tenant, membership=membership, external_id=opportunity.external_id)
    opportunity.full_clean(exclude=list(_CREATE_CLEAN_EXCLUDE))
    opportunity.save()
    StageChange.objects.create(
        tenant=tenant,
        opportunity=opportunity,
        from_stage=None,
        to_stage=stage_obj,
        changed_at=created_at,
        actor=actor,
        amount=opportunity.amount,
        probability=opportunity.probability,
    )
    _emit_stage_changed(
        tenant=tenant, opportunity=opportunity, from_stage=None, to_stage=stage_obj, actor=actor
    )
    return opportunity


@transaction.atomic
def opportunities_create_many(
    *,
    tenant: Tenant,
    actor: User | None,
    drafts: Sequence[dict[str, Any]],
    external_ids_read: bool = False,
) -> list[Opportunity | Exception]:
    """opportunity_create for many deals at once (an import's chunk): each draft is its keyword arguments, checked
    by the same rules in the same order, with what asks the database read for the set (the owners' memberships and
    the visible accounts in one query each, each pipeline's stage looked up once per name, the rate table once,
    the external ids once, none when the caller `external_ids_read` them in this transaction). One INSERT of the
    deals and one of their first StageChanges (history events booked to the actor). What their post_save would
    have done follows from accounts.signals.opportunities_created_many (lifecycle) and opportunities_changed (the
    KPIs); `opportunity_stage_changed` is sent for each deal on commit. Returns, in the order of `drafts`, each
    created deal or the error that kept it out. A constraint only the database checks raises for the whole set
    (the import then writes its rows one by one)."""
    results: list[Opportunity | Exception | None] = [None] * len(drafts)
    try:
        membership = actor_membership(tenant=tenant, actor=actor)
    except PermissionDenied as exc:
        return [exc] * len(drafts)
    now = timezone.now()
    owners = [draft.get("owner") or actor for draft in drafts]
    checks = SetDealChecks(
        tenant=tenant,
        membership=membership,
        accounts=[draft.get("account") for draft in drafts],
        owners=owners,
    )
    cleaner = SetCleaner(Opportunity, _SET_CLEAN_EXCLUDE)
    make_deal, make_change = Maker(Opportunity, now=now), Maker(StageChange, now=now)
    owning: dict[Any, Exception | None] = {}
    default_pipeline: list[Pipeline] = []

    def build(draft: dict[str, Any], owner: User | None) -> Opportunity:
        unknown = set(draft) - set(_CREATE_ARGUMENTS)
        if unknown:
            raise TypeError(f"opportunities_create_many: unknown arguments {sorted(unknown)}")
        account: Account = draft["account"]
        if account.tenant_id != tenant.pk:
            raise Account.DoesNotExist
        deal_type = draft.get("type", OpportunityType.NEW_BUSINESS)
        forecast_category = draft.get("forecast_category")
        name, amount_value, currency = _create_errors(
            tenant=tenant,
            name=draft["name"],
            deal_type=deal_type,
            amount=draft["amount"],
            currency=draft.get("currency"),
            forecast_category=forecast_category,
        )
        _once(
            owning,
            (owner.pk if owner is not None else None, deal_type),
            lambda: _check_can_own(membership=membership, owner=owner, deal_type=deal_type),
        )
        checks.owner_is_member(owner)
        if not checks.account_visible(account):
            raise ValidationError({"account": _("Choose an account you can see.")})
        pipeline = draft.get("pipeline")
        if pipeline is None:
            if not default_pipeline:
                default_pipeline.append(pipeline_default(tenant=tenant))
            pipeline = default_pipeline[0]
        elif pipeline.tenant_id != tenant.pk:
            raise ValidationError({"pipeline": _("Unknown pipeline.")})
        stage_obj = checks.stage(pipeline, draft.get("stage"))
        created_at = draft.get("created_at") or now
        closed_at, lost_reason = _closing(
            stage_obj, created_at, draft.get("closed_at"), draft.get("lost_reason", ""), now
        )
        prob = _probability(stage_obj, draft.get("probability"))
        if stage_obj.kind != StageKind.OPEN or forecast_category is None:
            forecast_category = _derived_forecast(stage_obj.kind, forecast_category)
        lead = draft.get("lead")
        return make_deal(
            tenant=tenant,
            external_id=(draft.get("external_id") or "").strip(),
            account=account,
            lead=lead,
            source_id=getattr(lead, "source_id", None),
            campaign_id=getattr(lead, "campaign_id", None),
            name=name,
            type=deal_type,
            amount=round_cents(amount_value),
            currency=currency,
            amount_reporting=checks.reporting(amount_value, currency, closed_at),
            pipeline=pipeline,
            stage=stage_obj,
            probability=prob,
            forecast_category=forecast_category,
            expected_close_date=draft.get("expected_close_date"),
            closed_at=closed_at,
            lost_reason=(lost_reason or "").strip()[:200],
            next_step=_clean_next_step(draft.get("next_step", "")),
            next_step_date=draft.get("next_step_date"),
            owner=owner,
            created_at=created_at,
        )

    valid: list[tuple[int, Opportunity]] = []
    for index, draft in enumerate(drafts):
        try:
            valid.append((index, build(draft, owners[index])))
        except (ValidationError, PermissionDenied, AppError, ObjectDoesNotExist) as exc:
            results[index] = exc
    valid = without_external_id_clashes(
        model=Opportunity,
        tenant=tenant,
        valid=valid,
        results=results,
        can_edit=lambda holder: opportunity_can_edit(membership=membership, opportunity=holder),
        message=_("Another deal has this external id."),
        read=external_ids_read,
    )
    kept = []
    for index, deal in valid:
        try:
            cleaner.clean(deal)
        except ValidationError as exc:
            results[index] = exc
            continue
        kept.append((index, deal))
    deals = [deal for _index, deal in kept]
    with history_actor(actor):
        copy_insert(Opportunity, deals)
        # Made once the deals have their ids.
        copy_insert(
            StageChange,
            [
                make_change(
                    tenant=tenant,
                    opportunity=deal,
                    from_stage=None,
                    to_stage=deal.stage,
                    changed_at=deal.created_at,
                    actor=actor,
                    amount=deal.amount,
                    probability=deal.probability,
                )
                for deal in deals
            ],
        )
    if deals:
        opportunities_created_many.send(sender=Opportunity, tenant=tenant, opportunities=deals)
        opportunities_changed.send(sender=Opportunity, tenant_id=tenant.pk)
    for deal in deals:
        _emit_stage_changed(
            tenant=tenant, opportunity=deal, from_stage=None, to_stage=deal.stage, actor=actor
        )
    for index, deal in kept:
        results[index] = deal
    return cast(list[Opportunity | Exception], results)  # every draft got its deal or its error above


class SetDealChecks(DealChecks):
    """DealChecks for a set of deals (an import's chunk), each answer read once for the set: which of the set's
    `accounts` the actor may put a deal on and which of its `owners` are members (one query each), each pipeline's
    stage by name, the rate table, and the deals holding the external ids the set's changes take
    (`read_holders`; a change that takes or frees one is booked with `claimed`, so a later change of the set sees
    it as the database would, row by row). The answers and errors are those of DealChecks."""

    def __init__(
        self,
        *,
        tenant: Tenant,
        membership: Membership | None,
        accounts: Sequence[Account | None],
        owners: Sequence[User | None],
    ) -> None:
        super().__init__(tenant=tenant, membership=membership)
        given = [account for account in accounts if account is not None]
        if membership is None:
            self.visible = {account.pk for account in given if account.tenant_id == tenant.pk}
        else:
            ids = sorted({account.pk for account in given})
            self.visible = (
                set(
                    deal_account_choices(tenant=tenant, membership=membership)
                    .filter(AnyOf(F("pk"), ids))
                    .values_list("pk", flat=True)
                )
                if ids
                else set()
            )
        owner_ids = {owner.pk for owner in owners if owner is not None}
        self.members = _members_of(tenant, owner_ids) if owner_ids else set()
        self.stages: dict[tuple[int, Any], Stage | ValidationError] = {}
        self.convert: Any = None
        self.holders: dict[str, Opportunity | None] = {}

    def read_holders(self, external_ids: set[str]) -> None:
        """The deals holding `external_ids` now (one query; none for no id)."""
        wanted = {external_id for external_id in external_ids if external_id}
        if wanted:
            self.holders = {
                deal.external_id: deal
                for deal in with_external_ids(Opportunity, tenant=self.tenant, external_ids=sorted(wanted))
            }

    def claimed(self, deal: Opportunity, external_id: str) -> None:
        """`deal` leaves its external id for `external_id`."""
        if deal.external_id:
            self.holders[deal.external_id] = None
        if external_id:
            self.holders[external_id] = deal

    def external_id_free(self, external_id: str, deal: Opportunity) -> None:
        holder = self.holders.get(external_id) if external_id else None
        if holder is not None and holder.pk != deal.pk:
            raise external_id_clash(
                editable=opportunity_can_edit(membership=self.membership, opportunity=holder),
                message=_("Another deal has this external id."),
            )

    def account_visible(self, account: Account) -> bool:
        return account.tenant_id == self.tenant.pk and account.pk in self.visible

    def owner_is_member(self, owner: User | None) -> None:
        if owner is not None and owner.pk not in self.members:
            raise _not_member()

    def stage(self, pipeline: Pipeline, stage: Stage | str | int | None) -> Stage:
        if isinstance(stage, Stage):
            return _resolve_stage(pipeline=pipeline, stage=stage)
        key = (pipeline.pk, stage)
        if key not in self.stages:
            try:
                self.stages[key] = _resolve_stage(pipeline=pipeline, stage=stage)
            except ValidationError as exc:
                self.stages[key] = exc
        found = self.stages[key]
        if isinstance(found, ValidationError):
            raise found
        return found

    def reporting(self, amount: Decimal, currency: str, closed_at: dt.datetime | None) -> Decimal:
        if self.convert is None:
            self.convert = reporting_converter(tenant=self.tenant)
        try:
            return cast(Decimal, self.convert(amount, currency, _local_date(self.tenant, closed_at)))
        except AppError as exc:  # reporting_amount's field error
            raise ValidationError({"currency": str(exc)}) from exc


@transaction.atomic
def opportunities_update_many(
    *,
    tenant: Tenant,
    actor: User | None,
    changes: Sequence[tuple[Opportunity, dict[str, Any]]],
) -> list[Opportunity | Exception]:
    """opportunity_update (no version check) for many deals at once (an import: a file imported again): `changes`
    are (the deal, opportunity_update's keyword arguments for it, `closed_at` among them). The same rules in the
    same order (_planned_changes), with the deals read again and locked in one query and what the rules ask the
    database read once for the set (SetDealChecks). One UPDATE of the deals that really change (version + 1, a
    history event each from the database's row trigger, booked to the actor) and one INSERT of their
    StageChanges, whose post_save is sent as StageChange.objects.create sends it (lifecycle's recomputes);
    `opportunities_changed` once, `opportunity_stage_changed` on commit for each move. A deal whose values are
    all as stored is left as it is. Returns, in the order of `changes`, each deal as it now is or the error that
    kept it as it was. A constraint only the database checks raises for the whole set (the import then writes
    its rows one by one)."""
    if not changes:
        return []
    results: list[Opportunity | Exception | None] = [None] * len(changes)
    refused: PermissionDenied | None = None
    membership = None
    try:
        membership = actor_membership(tenant=tenant, actor=actor)
    except PermissionDenied as exc:
        refused = exc
    fresh = {
        deal.pk: deal
        for deal in Opportunity.objects.select_for_update(of=("self",))
        .select_related("stage", "pipeline", "owner")
        .filter(
            AnyOf(F("pk"), sorted({deal.pk for deal, _values in changes})),
            tenant=tenant,
            deleted_at__isnull=True,
        )
    }
    checks = SetDealChecks(
        tenant=tenant,
        membership=membership,
        accounts=[values.get("account") for _deal, values in changes],
        owners=[values.get("owner") for _deal, values in changes],
    )
    checks.read_holders(
        {
            (values.get("external_id") or "").strip()
            for deal, values in changes
            if deal.pk in fresh and (values.get("external_id") or "").strip() != fresh[deal.pk].external_id
        }
    )
    written: set[str] = {"version", "updated_at"}
    changed: dict[int, Opportunity] = {}
    moves: list[tuple[StageChange, Stage]] = []  # each move and the stage it goes to
    for index, (deal, values) in enumerate(changes):
        fields = dict(values)
        closed_at = fields.pop("closed_at", None)
        try:
            _check_updatable(fields)
            if refused is not None:
                raise refused
            current = fresh.get(deal.pk)
            if current is None:
                raise Opportunity.DoesNotExist
            _check_can_edit(membership=membership, opportunity=current)
            planned, at = _planned_changes(current=current, fields=fields, closed_at=closed_at, checks=checks)
            real = _real_changes(current, planned, checks)
        except (ValidationError, PermissionDenied, AppError, ObjectDoesNotExist) as exc:
            results[index] = exc
            continue
        results[index] = current
        if not real:
            continue
        from_stage = current.stage
        if "external_id" in real:
            checks.claimed(current, real["external_id"])
        for name, value in real.items():
            setattr(current, name, value)
        current.version += 1  # as record_update_versioned's UPDATE does
        written.update(real)
        changed[current.pk] = current
        if "stage" in real:
            move = StageChange(
                tenant=tenant,
                opportunity=current,
                from_stage=from_stage,
                to_stage=real["stage"],
                changed_at=at,
                actor=actor,
                amount=current.amount,
                probability=current.probability,
            )
            moves.append((move, real["stage"]))
    if not changed:
        return cast(list[Opportunity | Exception], results)
    with history_actor(actor):
        if copy_update(Opportunity, list(changed.values()), sorted(written)) != len(changed):
            raise DatabaseError("opportunities_update_many: a locked deal was not updated")
        copy_insert(StageChange, [move for move, _to in moves])
    send_saves(post_save, StageChange, [move for move, _to in moves], created=True)
    opportunities_changed.send(sender=Opportunity, tenant_id=tenant.pk)
    for move, to_stage in moves:
        _emit_stage_changed(
            tenant=tenant,
            opportunity=move.opportunity,
            from_stage=move.from_stage,
            to_stage=to_stage,
            actor=actor,
        )
    return cast(list[Opportunity | Exception], results)  # every change got its deal or its error above


@transaction.atomic
@stamps_actor
def opportunity_move_stage(
    *,
    tenant: Tenant,
    actor: User | None,
    opportunity: Opportunity,
    stage: Stage | str | int,
    version: int | None = None,
    lost_reason: str = "",
    at: dt.datetime | None = None,
) -> Opportunity:
    """Move a deal to another stage of its pipeline. Won: closed (probability 1); lost: needs a reason.

    Side effects: a StageChange (time, actor, from/to, amount, probability); amount_reporting re-converted.
    """
    membership = actor_membership(tenant=tenant, actor=actor)
    current = _locked(tenant=tenant, opportunity=opportunity)
    _check_can_edit(membership=membership, opportunity=current)
    _check_deal_version(current, version)
    target = _resolve_stage(pipeline=current.pipeline, stage=stage)
    if target.pk == current.stage_id:
        if (
            target.kind == StageKind.LOST
            and lost_reason.strip()
            and lost_reason.strip() != current.lost_reason
        ):
            return _save_changes(
                tenant=tenant,
                actor=actor,
                opportunity=current,
                version=current.version,
                changes={"lost_reason": lost_reason.strip()[:200]},
                at=at or timezone.now(),
            )
        return current
    at = at or timezone.now()
    changes: dict[str, Any] = {}
    _apply_stage(
        tenant=tenant,
        opportunity=current,
        stage=target,
        changes=changes,
        lost_reason=lost_reason,
        at=at,
        explicit=set(),
    )
    return _save_changes(
        tenant=tenant, actor=actor, opportunity=current, version=current.version, changes=changes, at=at
    )


@transaction.atomic
@stamps_actor
def opportunity_mark_won(
    *,
    tenant: Tenant,
    actor: User | None,
    opportunity: Opportunity,
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Opportunity:
    """Move the deal to its pipeline's (first) won stage: closed_at set, probability 1, forecast closed."""
    stage = _closed_stage(opportunity.pipeline, StageKind.WON)
    return opportunity_move_stage(
        tenant=tenant, actor=actor, opportunity=opportunity, stage=stage, version=version, at=at
    )


@transaction.atomic
@stamps_actor
def opportunity_mark_lost(
    *,
    tenant: Tenant,
    actor: User | None,
    opportunity: Opportunity,
    reason: str,
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Opportunity:
    """Move the deal to its pipeline's (first) lost stage with a reason: probability 0, forecast omitted."""
    if not (reason or "").strip():
        raise ValidationError({"lost_reason": _("Say why the deal was lost.")})
    stage = _closed_stage(opportunity.pipeline, StageKind.LOST)
    return opportunity_move_stage(
        tenant=tenant,
        actor=actor,
        opportunity=opportunity,
        stage=stage,
        version=version,
        lost_reason=reason,
        at=at,
    )


@transaction.atomic
@stamps_actor
def opportunity_update(
    *,
    tenant: Tenant,
    actor: User | None,
    opportunity: Opportunity,
    version: int | None,
    closed_at: dt.datetime | None = None,
    **fields: Any,
) -> Opportunity:
    """Change fields of a deal if it still has `version` (else ConflictError with the current values).

    A stage change goes through the same rules as a move (StageChange, closed_at, lost reason required).
    `closed_at` (imports) is the historical close time of a deal that is or becomes closed.
    """
    _check_updatable(fields)
    membership = actor_membership(tenant=tenant, actor=actor)
    current = _locked(tenant=tenant, opportunity=opportunity)
    _check_can_edit(membership=membership, opportunity=current)
    _check_deal_version(current, version)
    checks = DealChecks(tenant=tenant, membership=membership)
    changes, at = _planned_changes(current=current, fields=fields, closed_at=closed_at, checks=checks)
    return _save_changes(
        tenant=tenant,
        actor=actor,
        opportunity=current,
        version=current.version,
        changes=changes,
        at=at,
        checks=checks,
    )


def _check_updatable(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})


def _planned_changes(
    *, current: Opportunity, fields: dict[str, Any], closed_at: dt.datetime | None, checks: DealChecks
) -> tuple[dict[str, Any], dt.datetime]:
    """opportunity_update's rules for `fields` on the deal as it is (read under lock, its stage and pipeline
    loaded): (the values to write, the time of the move), or the first rule's error. What they ask the database
    goes through `checks` (one deal, or a set read once)."""
    tenant, membership = checks.tenant, checks.membership
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if "name" in fields:
        name = (fields["name"] or "").strip()
        if not name:
            errors.setdefault("name", []).append(_("Enter a name."))
        changes["name"] = name
    if "type" in fields:
        if fields["type"] not in _DEAL_TYPES:
            errors.setdefault("type", []).append(_("Unknown deal type."))
        changes["type"] = fields["type"]
    if "amount" in fields:
        amount = _as_decimal(fields["amount"], "amount")
        if amount < 0:
            errors.setdefault("amount", []).append(_("The amount cannot be negative."))
        elif amount_too_large(amount):
            errors.setdefault("amount", []).append(str(AMOUNT_TOO_LARGE))
        changes["amount"] = round_cents(amount)
    if "currency" in fields:
        currency = (fields["currency"] or tenant.currency).strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            errors.setdefault("currency", []).append(
                _("Use a three-letter currency code such as CNY or EUR.")
            )
        changes["currency"] = currency
    if "forecast_category" in fields:
        if fields["forecast_category"] not in _FORECASTS:
            errors.setdefault("forecast_category", []).append(_("Unknown forecast category."))
        changes["forecast_category"] = fields["forecast_category"]
    if "expected_close_date" in fields:
        changes["expected_close_date"] = fields["expected_close_date"] or None
    if "next_step" in fields:
        changes["next_step"] = _clean_next_step(fields["next_step"])
    if "next_step_date" in fields:
        changes["next_step_date"] = fields["next_step_date"] or None
    if "external_id" in fields:
        changes["external_id"] = (fields["external_id"] or "").strip()
        if changes["external_id"] != current.external_id:
            checks.external_id_free(changes["external_id"], current)
    if "probability" in fields and fields["probability"] not in (None, ""):
        changes["probability"] = _validate_probability(_as_decimal(fields["probability"], "probability"))
    if errors:
        raise ValidationError(errors)
    if "account" in fields and fields["account"] is not None and fields["account"].pk != current.account_id:
        account = fields["account"]
        if not checks.account_visible(account):
            raise ValidationError({"account": _("Choose an account you can see.")})
        changes["account"] = account
    if "owner" in fields:
        owner = fields["owner"]
        if (owner.pk if owner else None) != current.owner_id:
            checks.owner_is_member(owner)
            changes["owner"] = owner
    new_type = changes.get("type", current.type)
    if "owner" in changes or "type" in changes:
        _check_can_own(membership=membership, owner=changes.get("owner", current.owner), deal_type=new_type)
    pipeline = fields.get("pipeline") or current.pipeline
    if pipeline.tenant_id != tenant.pk:
        raise ValidationError({"pipeline": _("Unknown pipeline.")})
    stage_arg = fields.get("stage")
    if pipeline.pk != current.pipeline_id:
        changes["pipeline"] = pipeline
        target = checks.stage(pipeline, stage_arg)
    elif stage_arg is not None:
        target = checks.stage(pipeline, stage_arg)
    else:
        target = current.stage
    historical_close = closed_at is not None and target.kind != StageKind.OPEN
    at = closed_at if historical_close and closed_at is not None else timezone.now()
    if target.pk != current.stage_id:
        _apply_stage(
            tenant=tenant,
            opportunity=current,
            stage=target,
            changes=changes,
            lost_reason=fields.get(
                "lost_reason", current.lost_reason if current.stage.kind == StageKind.LOST else ""
            ),
            at=at,
            explicit=set(fields),
        )
    else:
        if target.kind != StageKind.OPEN:
            # Closed deals keep probability and forecast category tied to their stage.
            changes.pop("probability", None)
            changes.pop("forecast_category", None)
        if "lost_reason" in fields:
            reason = (fields["lost_reason"] or "").strip()
            if target.kind == StageKind.LOST:
                if not reason:
                    raise ValidationError({"lost_reason": _("Say why the deal was lost.")})
                changes["lost_reason"] = reason[:200]
    if historical_close:
        changes["closed_at"] = at
    return changes, at


@transaction.atomic
@stamps_actor
def opportunity_delete(*, tenant: Tenant, actor: User | None, opportunity: Opportunity) -> Opportunity:
    """Soft-delete (restorable with opportunity_restore)."""
    membership = actor_membership(tenant=tenant, actor=actor)
    _check_can_edit(membership=membership, opportunity=opportunity)
    deleted = record_soft_delete(
        queryset=Opportunity.objects.filter(tenant=tenant), instance=opportunity, actor=actor
    )
    opportunities_changed.send(sender=Opportunity, tenant_id=tenant.pk)
    return deleted


@transaction.atomic
@stamps_actor
def opportunity_restore(*, tenant: Tenant, actor: User | None, opportunity: Opportunity) -> Opportunity:
    membership = actor_membership(tenant=tenant, actor=actor)
    _check_can_edit(membership=membership, opportunity=opportunity)
    restored = record_restore(
        queryset=Opportunity.objects.filter(tenant=tenant), instance=opportunity, actor=actor
    )
    opportunities_changed.send(sender=Opportunity, tenant_id=tenant.pk)
    return restored


def opportunities_link_leads(*, tenant: Tenant, links: Sequence[tuple[int, int]]) -> None:
    """Point deals at the lead they came from, (deal id, lead id) pairs, in batched bulk updates: no history, no
    version bump (the leads demo links its converted leads to the seeded deals; Opportunity.lead feeds
    lead_to_win_rate). Each deal takes its lead's source and campaign, as a deal created from the lead does."""
    deals = []
    for deal_id, lead_id in links:
        deal = Opportunity(pk=deal_id, tenant=tenant)
        deal.lead_id = lead_id
        deals.append(deal)
    Opportunity.objects.bulk_update(deals, ["lead"], batch_size=500)
    deal_ids = [deal_id for deal_id, _lead_id in links]
    lead_model = Opportunity._meta.get_field(
        "lead"
    ).related_model  # leads.Lead (accounts may not import leads)
    lead_source = lead_model._default_manager.filter(tenant=tenant, pk=OuterRef("lead_id"))  # type: ignore[union-attr]
    Opportunity.objects.filter(tenant=tenant, pk__in=deal_ids).update(
        source_id=Subquery(lead_source.values("source_id")[:1]),
        campaign_id=Subquery(lead_source.values("campaign_id")[:1]),
    )
    opportunities_changed.send(sender=Opportunity, tenant_id=tenant.pk)
