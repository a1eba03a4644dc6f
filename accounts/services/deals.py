"""Writes of the deals area: pipelines and stages, opportunities (deals), stage moves, deal contacts, money.

Every opportunity write is optimistic-locked on `version`, records a StageChange when the stage changes and keeps
`amount_reporting` (the amount in the tenant's reporting currency) up to date. Every write books its history events
(django-pghistory) to its `actor` through crm.history (None: the system), in a request or not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    DateTimeField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Round, TruncDate
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    Account,
    Contact,
    ExchangeRate,
    ForecastCategory,
    Opportunity,
    OpportunityContact,
    OpportunityType,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
)
from crm.errors import AppError, ConflictError
from crm.history import stamps_actor
from crm.models import Membership, MembershipStatus, Role, Tenant, User
from crm.visibility import can_edit_owned

# Sent on commit after a deal changed stage (incl. creation): tenant, opportunity, from_stage, to_stage, actor.
# Lifecycle and KPI code listen here instead of importing this module's internals.
opportunity_stage_changed = Signal()

DEFAULT_PIPELINE_NAME = "Sales"
# (name, default probability, kind) of the pipeline every tenant starts with (DESIGN.md).
DEFAULT_STAGES: list[tuple[str, str, str]] = [
    ("Qualification", "0.10", StageKind.OPEN),
    ("Needs analysis", "0.25", StageKind.OPEN),
    ("Proposal", "0.50", StageKind.OPEN),
    ("Negotiation", "0.75", StageKind.OPEN),
    ("Closed won", "1.0", StageKind.WON),
    ("Closed lost", "0", StageKind.LOST),
]
CUSTOMER_LIFECYCLE_STAGES = ("conversion", "retention", "churn")
# Fields opportunity_update may change; stage goes through the move logic.
UPDATABLE_FIELDS = (
    "name",
    "account",
    "type",
    "amount",
    "currency",
    "pipeline",
    "stage",
    "probability",
    "forecast_category",
    "expected_close_date",
    "owner",
    "lost_reason",
    "external_id",
)
CENT = Decimal("0.01")


# --- helpers ----------------------------------------------------------------------------------------------------


def _membership(*, tenant: Tenant, actor: User | None) -> Membership | None:
    """The actor's active membership; None for system actors (tasks, imports without a user)."""
    if actor is None:
        return None
    membership = getattr(actor, "_deal_membership_cache", None)
    if membership is not None and membership.tenant_id == tenant.pk:
        return membership
    membership = (
        Membership.objects.select_related("team")
        .filter(tenant=tenant, user=actor, status=MembershipStatus.ACTIVE)
        .first()
    )
    if membership is None:
        raise PermissionDenied(_("You are not a member of this company."))
    actor._deal_membership_cache = membership  # type: ignore[attr-defined]  # a per-instance cache
    return membership


def _require_admin(*, tenant: Tenant, actor: User | None) -> None:
    membership = _membership(tenant=tenant, actor=actor)
    if membership is not None and membership.role != Role.ADMIN:
        raise PermissionDenied(_("Only admins can change pipelines."))


def opportunity_can_edit(*, membership: Membership | None, opportunity: Opportunity) -> bool:
    """Admins all, managers their team's, reps their own, cs renewal deals; ops read only."""
    if membership is None:
        return True
    if membership.role == Role.CS:
        return opportunity.type == OpportunityType.RENEWAL
    return can_edit_owned(membership, opportunity.owner_id)


def _check_can_edit(*, membership: Membership | None, opportunity: Opportunity) -> None:
    if not opportunity_can_edit(membership=membership, opportunity=opportunity):
        raise PermissionDenied(_("You can view this deal but not change it."))


def _check_can_own(*, membership: Membership | None, owner: User | None, deal_type: str) -> None:
    """The actor may create or keep a deal with this owner and type."""
    if membership is None or membership.role == Role.ADMIN:
        return
    if membership.role == Role.CS:
        if deal_type != OpportunityType.RENEWAL:
            raise ValidationError({"type": _("Customer success can create and edit renewal deals only.")})
        return
    if membership.role == Role.OPS:
        raise PermissionDenied(_("Ops can view deals but not change them."))
    if not can_edit_owned(membership, owner.pk if owner else None):
        raise ValidationError({"owner": _("You cannot give a deal to this person.")})


def _check_owner_is_member(*, tenant: Tenant, owner: User | None) -> None:
    if owner is None:
        return
    if not Membership.objects.filter(tenant=tenant, user=owner, status=MembershipStatus.ACTIVE).exists():
        raise ValidationError({"owner": _("The owner must be an active member of this company.")})


def _account_visible(*, tenant: Tenant, membership: Membership | None, account: Account) -> bool:
    from accounts.selectors.deals import deal_account_choices

    if membership is None:
        return account.tenant_id == tenant.pk
    return deal_account_choices(tenant=tenant, membership=membership).filter(pk=account.pk).exists()


def _resolve_stage(*, pipeline: Pipeline, stage: Stage | str | int | None) -> Stage:
    if stage is None:
        first_open = pipeline.stages.filter(kind=StageKind.OPEN).order_by("order", "id").first()
        if first_open is None:
            raise ValidationError({"stage": _("The pipeline has no open stage.")})
        return first_open
    if isinstance(stage, Stage):
        if stage.pipeline_id != pipeline.pk:
            raise ValidationError({"stage": _("The stage belongs to another pipeline.")})
        return stage
    lookup = Q(pk=stage) if isinstance(stage, int) else Q(name__iexact=str(stage).strip())
    found = pipeline.stages.filter(lookup).first()
    if found is None:
        raise ValidationError(
            {
                "stage": _("No stage “%(stage)s” in pipeline “%(pipeline)s”.")
                % {"stage": stage, "pipeline": pipeline}
            }
        )
    return found


def _local_date(tenant: Tenant, moment: dt.datetime | None) -> dt.date:
    moment = moment or timezone.now()
    return timezone.localtime(moment, tenant.tzinfo).date()


def reporting_amount(*, tenant: Tenant, amount: Decimal, currency: str, on_date: dt.date) -> Decimal:
    """`amount` in the tenant's reporting currency on `on_date` (accounts.services.records.to_reporting); no
    rate at all is a field error on `currency`."""
    from accounts.services.records import to_reporting

    try:
        return to_reporting(tenant=tenant, amount=amount, currency=currency, on_date=on_date)
    except AppError as exc:
        raise ValidationError({"currency": str(exc)}) from exc


def _reporting_for(
    *, tenant: Tenant, amount: Decimal, currency: str, closed_at: dt.datetime | None
) -> Decimal:
    """Closed deals convert at the close date, open deals at the latest rate (today's)."""
    return reporting_amount(
        tenant=tenant, amount=amount, currency=currency, on_date=_local_date(tenant, closed_at)
    )


def _derived_forecast(kind: str, current: str | None) -> str:
    if kind == StageKind.WON:
        return ForecastCategory.CLOSED
    if kind == StageKind.LOST:
        return ForecastCategory.OMITTED
    if current in (None, "", ForecastCategory.CLOSED, ForecastCategory.OMITTED):
        return ForecastCategory.PIPELINE
    return current


def _as_decimal(value: Any, field: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationError({field: _("Enter a number.")}) from exc
    if not result.is_finite():
        raise ValidationError({field: _("Enter a number.")})
    return result


def _validate_probability(value: Decimal) -> Decimal:
    if value < 0 or value > 1:
        raise ValidationError({"probability": _("Probability is a fraction between 0 and 1.")})
    return value.quantize(Decimal("0.001"), ROUND_HALF_UP)


def opportunity_snapshot(opportunity: Opportunity) -> dict[str, Any]:
    """JSON-friendly current values (the 409 body and the conflict panel)."""
    return {
        "id": opportunity.pk,
        "version": opportunity.version,
        "name": opportunity.name,
        "account": opportunity.account_id,
        "type": opportunity.type,
        "amount": str(opportunity.amount),
        "currency": opportunity.currency,
        "amount_reporting": str(opportunity.amount_reporting),
        "pipeline": opportunity.pipeline_id,
        "stage": opportunity.stage_id,
        "probability": str(opportunity.probability),
        "forecast_category": opportunity.forecast_category,
        "expected_close_date": opportunity.expected_close_date.isoformat()
        if opportunity.expected_close_date
        else None,
        "closed_at": opportunity.closed_at.isoformat() if opportunity.closed_at else None,
        "lost_reason": opportunity.lost_reason,
        "owner": opportunity.owner_id,
        "external_id": opportunity.external_id,
        "updated_at": opportunity.updated_at.isoformat() if opportunity.updated_at else None,
    }


def _conflict(opportunity_id: int) -> ConflictError:
    current = Opportunity.objects.select_related("stage", "owner").filter(pk=opportunity_id).first()
    if current is None:
        raise Opportunity.DoesNotExist
    return ConflictError(
        _("Someone else changed this deal since you opened it. Review their changes and save again."),
        current=opportunity_snapshot(current),
    )


def _emit_stage_changed(
    *, tenant: Tenant, opportunity: Opportunity, from_stage: Stage | None, to_stage: Stage, actor: User | None
) -> None:
    transaction.on_commit(
        lambda: opportunity_stage_changed.send(
            sender=Opportunity,
            tenant=tenant,
            opportunity=opportunity,
            from_stage=from_stage,
            to_stage=to_stage,
            actor=actor,
        )
    )


# --- pipelines and stages ---------------------------------------------------------------------------------------


@transaction.atomic
def pipeline_create_default(*, tenant: Tenant) -> Pipeline:
    """Create the default `Sales` pipeline with its six stages (idempotent: returns the existing one)."""
    existing = Pipeline.objects.filter(tenant=tenant, name=DEFAULT_PIPELINE_NAME).first()
    if existing is not None:
        if not Pipeline.objects.filter(tenant=tenant, is_default=True).exists():
            Pipeline.objects.filter(pk=existing.pk).update(is_default=True)
            existing.is_default = True
        return existing
    has_default = Pipeline.objects.filter(tenant=tenant, is_default=True).exists()
    pipeline = Pipeline.objects.create(tenant=tenant, name=DEFAULT_PIPELINE_NAME, is_default=not has_default)
    Stage.objects.bulk_create(
        [
            Stage(
                tenant=tenant, pipeline=pipeline, name=name, order=index, probability=Decimal(prob), kind=kind
            )
            for index, (name, prob, kind) in enumerate(DEFAULT_STAGES)
        ]
    )
    return pipeline


def pipeline_default(*, tenant: Tenant) -> Pipeline:
    """The tenant's default pipeline (created if the tenant somehow has none)."""
    pipeline = Pipeline.objects.filter(tenant=tenant, is_default=True).first()
    if pipeline is None:
        pipeline = Pipeline.objects.filter(tenant=tenant).order_by("order", "id").first()
    if pipeline is None:
        pipeline = pipeline_create_default(tenant=tenant)
    return pipeline


def _validate_pipeline_kinds(pipeline: Pipeline) -> None:
    kinds = set(pipeline.stages.values_list("kind", flat=True))
    missing = [str(kind.label) for kind in StageKind if kind not in kinds]
    if missing:
        raise ValidationError(
            {"kind": _("A pipeline needs at least one %(kinds)s stage.") % {"kinds": ", ".join(missing)}}
        )


@transaction.atomic
def pipeline_create(
    *,
    tenant: Tenant,
    actor: User | None,
    name: str,
    is_default: bool = False,
    stages: list[dict[str, Any]] | None = None,
) -> Pipeline:
    """Create a pipeline; without `stages` it gets a copy of the default stage set."""
    _require_admin(tenant=tenant, actor=actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    if Pipeline.objects.filter(tenant=tenant, name__iexact=name).exists():
        raise ValidationError({"name": _("A pipeline with this name exists.")})
    order = (
        Pipeline.objects.filter(tenant=tenant).order_by("-order").values_list("order", flat=True).first() or 0
    ) + 1
    if is_default:
        Pipeline.objects.filter(tenant=tenant, is_default=True).update(is_default=False)
    pipeline = Pipeline.objects.create(tenant=tenant, name=name, is_default=is_default, order=order)
    specs = stages or [{"name": n, "probability": p, "kind": k} for n, p, k in DEFAULT_STAGES]
    seen: set[str] = set()
    rows = []
    for index, spec in enumerate(specs):
        stage_name = str(spec.get("name", "")).strip()
        if not stage_name or stage_name.lower() in seen:
            raise ValidationError({"stages": _("Stage names must be present and unique.")})
        seen.add(stage_name.lower())
        kind = spec.get("kind", StageKind.OPEN)
        if kind not in StageKind.values:
            raise ValidationError({"kind": _("Unknown stage kind.")})
        rows.append(
            Stage(
                tenant=tenant,
                pipeline=pipeline,
                name=stage_name,
                order=index,
                probability=_validate_probability(_as_decimal(spec.get("probability", 0), "probability")),
                kind=kind,
            )
        )
    Stage.objects.bulk_create(rows)
    _validate_pipeline_kinds(pipeline)
    return pipeline


@transaction.atomic
def pipeline_update(
    *,
    tenant: Tenant,
    actor: User | None,
    pipeline: Pipeline,
    name: str | None = None,
    is_default: bool | None = None,
) -> Pipeline:
    _require_admin(tenant=tenant, actor=actor)
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError({"name": _("Enter a name.")})
        if Pipeline.objects.filter(tenant=tenant, name__iexact=name).exclude(pk=pipeline.pk).exists():
            raise ValidationError({"name": _("A pipeline with this name exists.")})
        pipeline.name = name
    if is_default is True and not pipeline.is_default:
        Pipeline.objects.filter(tenant=tenant, is_default=True).update(is_default=False)
        pipeline.is_default = True
    elif is_default is False and pipeline.is_default:
        raise ValidationError({"is_default": _("Make another pipeline the default instead.")})
    pipeline.save()
    return pipeline


@transaction.atomic
def pipeline_delete(*, tenant: Tenant, actor: User | None, pipeline: Pipeline) -> None:
    """Delete a pipeline that is not the default and holds no deals (deleted deals included)."""
    _require_admin(tenant=tenant, actor=actor)
    if pipeline.is_default:
        raise ValidationError({"is_default": _("The default pipeline cannot be deleted.")})
    if Opportunity.objects.filter(tenant=tenant, pipeline=pipeline).exists():
        raise ValidationError(
            {"pipeline": _("This pipeline has deals; move them to another pipeline first.")}
        )
    pipeline.delete()


@transaction.atomic
def stage_create(
    *,
    tenant: Tenant,
    actor: User | None,
    pipeline: Pipeline,
    name: str,
    probability: Decimal | str | float,
    kind: str = StageKind.OPEN,
    order: int | None = None,
) -> Stage:
    """Add a stage; without `order` an open stage goes after the last open stage, a closed one at the end."""
    _require_admin(tenant=tenant, actor=actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    if kind not in StageKind.values:
        raise ValidationError({"kind": _("Unknown stage kind.")})
    if pipeline.stages.filter(name__iexact=name).exists():
        raise ValidationError({"name": _("This pipeline already has a stage with this name.")})
    prob = _validate_probability(_as_decimal(probability, "probability"))
    ordered = list(pipeline.stages.order_by("order", "id"))
    if order is None:
        if kind == StageKind.OPEN:
            open_positions = [i for i, s in enumerate(ordered) if s.kind == StageKind.OPEN]
            order = (open_positions[-1] + 1) if open_positions else 0
        else:
            order = len(ordered)
    order = max(0, min(order, len(ordered)))
    stage = Stage(tenant=tenant, pipeline=pipeline, name=name, probability=prob, kind=kind, order=order)
    ordered.insert(order, stage)
    stage.save()
    _renumber(ordered)
    return stage


def _renumber(stages: list[Stage]) -> None:
    changed = []
    for index, stage in enumerate(stages):
        if stage.order != index:
            stage.order = index
            changed.append(stage)
    if changed:
        Stage.objects.bulk_update(changed, ["order"])


@transaction.atomic
def stage_update(
    *,
    tenant: Tenant,
    actor: User | None,
    stage: Stage,
    name: str | None = None,
    probability: Decimal | str | float | None = None,
    kind: str | None = None,
) -> Stage:
    """Rename a stage, change its default probability or kind. Changing the kind of a stage with deals is
    refused (their closed/won state would change under them)."""
    _require_admin(tenant=tenant, actor=actor)
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError({"name": _("Enter a name.")})
        if (
            Stage.objects.filter(pipeline_id=stage.pipeline_id, name__iexact=name)
            .exclude(pk=stage.pk)
            .exists()
        ):
            raise ValidationError({"name": _("This pipeline already has a stage with this name.")})
        stage.name = name
    if probability is not None:
        stage.probability = _validate_probability(_as_decimal(probability, "probability"))
    if kind is not None and kind != stage.kind:
        if kind not in StageKind.values:
            raise ValidationError({"kind": _("Unknown stage kind.")})
        if Opportunity.objects.filter(tenant=tenant, stage=stage).exists():
            raise ValidationError({"kind": _("This stage has deals; its kind cannot change.")})
        stage.kind = kind
    stage.save()
    _validate_pipeline_kinds(stage.pipeline)
    return stage


@transaction.atomic
def stages_reorder(
    *, tenant: Tenant, actor: User | None, pipeline: Pipeline, stage_ids: list[int]
) -> list[Stage]:
    """Put the pipeline's stages in the order of `stage_ids` (every stage exactly once)."""
    _require_admin(tenant=tenant, actor=actor)
    stages = {s.pk: s for s in pipeline.stages.all()}
    ids = [int(i) for i in stage_ids]
    if sorted(ids) != sorted(stages):
        raise ValidationError({"stages": _("Send every stage of the pipeline exactly once.")})
    ordered = [stages[i] for i in ids]
    _renumber(ordered)
    return ordered


@transaction.atomic
def stage_move(*, tenant: Tenant, actor: User | None, stage: Stage, direction: str) -> Stage:
    """Move a stage one place `up` or `down`."""
    ordered = list(Stage.objects.filter(pipeline_id=stage.pipeline_id).order_by("order", "id"))
    index = next(i for i, s in enumerate(ordered) if s.pk == stage.pk)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    stages_reorder(tenant=tenant, actor=actor, pipeline=stage.pipeline, stage_ids=[s.pk for s in ordered])
    stage.refresh_from_db()
    return stage


@transaction.atomic
@stamps_actor
def stage_delete(*, tenant: Tenant, actor: User | None, stage: Stage, move_to: Stage | None = None) -> int:
    """Delete a stage; its deals (deleted ones too) move to `move_to`, a stage of the same pipeline and kind.

    Side effects: one StageChange per moved deal. Returns the number of deals moved.
    """
    _require_admin(tenant=tenant, actor=actor)
    deals = Opportunity.objects.filter(tenant=tenant, stage=stage)
    moved = 0
    if deals.exists():
        if move_to is None:
            raise ValidationError({"move_to": _("This stage has deals; choose where to move them.")})
        if move_to.pk == stage.pk or move_to.pipeline_id != stage.pipeline_id:
            raise ValidationError({"move_to": _("Choose another stage of the same pipeline.")})
        if move_to.kind != stage.kind:
            raise ValidationError({"move_to": _("Choose a stage of the same kind (open, won or lost).")})
        now = timezone.now()
        rows = list(deals.values("pk", "amount", "probability"))
        new_probability = F("probability") if stage.kind != StageKind.OPEN else Value(move_to.probability)
        moved = deals.update(
            stage=move_to, probability=new_probability, version=F("version") + 1, updated_at=now
        )
        StageChange.objects.bulk_create(
            [
                StageChange(
                    tenant=tenant,
                    opportunity_id=row["pk"],
                    from_stage=stage,
                    to_stage=move_to,
                    changed_at=now,
                    actor=actor,
                    amount=row["amount"],
                    probability=move_to.probability if stage.kind == StageKind.OPEN else row["probability"],
                )
                for row in rows
            ]
        )
    pipeline = stage.pipeline
    stage.delete()
    _renumber(list(pipeline.stages.order_by("order", "id")))
    _validate_pipeline_kinds(pipeline)
    return moved


# --- opportunities ----------------------------------------------------------------------------------------------


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
) -> Opportunity:
    """Create a deal (historical created_at/closed_at kept as given, for imports).

    Side effects: the initial StageChange at created_at; amount_reporting computed; `opportunity_stage_changed`.
    """
    membership = _membership(tenant=tenant, actor=actor)
    if account.tenant_id != tenant.pk:
        raise Account.DoesNotExist
    if owner is None:
        owner = actor
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors.setdefault("name", []).append(_("Enter a name."))
    if type not in OpportunityType.values:
        errors.setdefault("type", []).append(_("Unknown deal type."))
    amount_value = _as_decimal(amount, "amount")
    if amount_value < 0:
        errors.setdefault("amount", []).append(_("The amount cannot be negative."))
    currency = (currency or tenant.currency).strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        errors.setdefault("currency", []).append(_("Use a three-letter currency code such as CNY or EUR."))
    if forecast_category is not None and forecast_category not in ForecastCategory.values:
        errors.setdefault("forecast_category", []).append(_("Unknown forecast category."))
    if errors:
        raise ValidationError(errors)
    _check_can_own(membership=membership, owner=owner, deal_type=type)
    _check_owner_is_member(tenant=tenant, owner=owner)
    if not _account_visible(tenant=tenant, membership=membership, account=account):
        raise ValidationError({"account": _("Choose an account you can see.")})
    if pipeline is None:
        pipeline = pipeline_default(tenant=tenant)
    elif pipeline.tenant_id != tenant.pk:
        raise ValidationError({"pipeline": _("Unknown pipeline.")})
    stage_obj = _resolve_stage(pipeline=pipeline, stage=stage)
    created_at = created_at or timezone.now()
    if stage_obj.kind == StageKind.OPEN:
        closed_at = None
        lost_reason = ""
    else:
        closed_at = closed_at or (created_at if created_at < timezone.now() else timezone.now())
        if closed_at < created_at:
            raise ValidationError({"closed_at": _("A deal cannot close before it was created.")})
    if stage_obj.kind != StageKind.LOST:
        lost_reason = ""
    if probability is None or probability == "":
        prob = stage_obj.probability
    else:
        prob = _validate_probability(_as_decimal(probability, "probability"))
    if stage_obj.kind == StageKind.WON:
        prob = Decimal("1")
    elif stage_obj.kind == StageKind.LOST:
        prob = Decimal("0")
    if stage_obj.kind != StageKind.OPEN or forecast_category is None:
        forecast_category = _derived_forecast(stage_obj.kind, forecast_category)
    opportunity = Opportunity(
        tenant=tenant,
        external_id=(external_id or "").strip(),
        account=account,
        lead=lead,
        name=name,
        type=type,
        amount=amount_value.quantize(CENT, ROUND_HALF_UP),
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
        owner=owner,
        created_at=created_at,
    )
    opportunity.full_clean(exclude=["tenant", "account", "pipeline", "stage", "owner", "lead"])
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


def _apply_stage(
    *,
    tenant: Tenant,
    opportunity: Opportunity,
    stage: Stage,
    changes: dict[str, Any],
    lost_reason: str | None,
    at: dt.datetime,
    explicit: set[str],
) -> None:
    """Fill `changes` with what a move into `stage` implies (closed_at, probability, forecast, lost reason)."""
    changes["stage"] = stage
    if "probability" not in explicit or stage.kind != StageKind.OPEN:
        changes["probability"] = (
            Decimal("1")
            if stage.kind == StageKind.WON
            else Decimal("0")
            if stage.kind == StageKind.LOST
            else stage.probability
        )
    if stage.kind == StageKind.OPEN:
        changes["closed_at"] = None
        changes["lost_reason"] = ""
        current = changes.get("forecast_category", opportunity.forecast_category)
        changes["forecast_category"] = _derived_forecast(stage.kind, current)
    else:
        was_closed = opportunity.stage.kind != StageKind.OPEN
        changes["closed_at"] = opportunity.closed_at if was_closed and opportunity.closed_at else at
        changes["forecast_category"] = _derived_forecast(stage.kind, None)
        if stage.kind == StageKind.LOST:
            reason = (lost_reason if lost_reason is not None else "").strip()
            if not reason:
                raise ValidationError({"lost_reason": _("Say why the deal was lost.")})
            changes["lost_reason"] = reason[:200]
        else:
            changes["lost_reason"] = ""


def _differs(opportunity: Opportunity, field: str, value: Any) -> bool:
    if field in ("stage", "pipeline", "account", "owner"):
        return getattr(opportunity, f"{field}_id") != (value.pk if value is not None else None)
    return getattr(opportunity, field) != value


def _save_changes(
    *,
    tenant: Tenant,
    actor: User | None,
    opportunity: Opportunity,
    version: int | None,
    changes: dict[str, Any],
    at: dt.datetime,
) -> Opportunity:
    """Write `changes` if the row still has `version` (None: the version just read under lock); record the
    StageChange and recompute amount_reporting."""
    from_stage = opportunity.stage
    expected = opportunity.version if version is None else int(version)
    new_values = {
        field: changes.get(field, getattr(opportunity, field))
        for field in ("amount", "currency", "closed_at")
    }
    money_changed = any(k in changes for k in ("amount", "currency", "closed_at", "stage"))
    if money_changed:
        changes["amount_reporting"] = _reporting_for(
            tenant=tenant,
            amount=new_values["amount"],
            currency=new_values["currency"],
            closed_at=new_values["closed_at"],
        )
    real = {k: v for k, v in changes.items() if _differs(opportunity, k, v)}
    if not real:
        if version is not None and int(version) != opportunity.version:
            raise _conflict(opportunity.pk)
        return opportunity
    updated = Opportunity.objects.filter(
        tenant=tenant, pk=opportunity.pk, version=expected, deleted_at__isnull=True
    ).update(**real, version=F("version") + 1, updated_at=timezone.now())
    if updated == 0:
        raise _conflict(opportunity.pk)
    to_stage = real.get("stage")
    if to_stage is not None:
        probability = real.get("probability", opportunity.probability)
        StageChange.objects.create(
            tenant=tenant,
            opportunity=opportunity,
            from_stage=from_stage,
            to_stage=to_stage,
            changed_at=at,
            actor=actor,
            amount=real.get("amount", opportunity.amount),
            probability=probability,
        )
    fresh = Opportunity.objects.select_related("stage", "pipeline", "account", "owner").get(pk=opportunity.pk)
    if to_stage is not None:
        _emit_stage_changed(
            tenant=tenant, opportunity=fresh, from_stage=from_stage, to_stage=to_stage, actor=actor
        )
    return fresh


def _locked(*, tenant: Tenant, opportunity: Opportunity) -> Opportunity:
    """Re-read the deal under a row lock, so a version-less write (board move) is still atomic."""
    return (
        Opportunity.objects.select_for_update(of=("self",))
        .select_related("stage", "pipeline")
        .get(tenant=tenant, pk=opportunity.pk, deleted_at__isnull=True)
    )


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
    membership = _membership(tenant=tenant, actor=actor)
    current = _locked(tenant=tenant, opportunity=opportunity)
    _check_can_edit(membership=membership, opportunity=current)
    if version is not None and int(version) != current.version:
        raise _conflict(current.pk)
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


def _closed_stage(pipeline: Pipeline, kind: str) -> Stage:
    stage = pipeline.stages.filter(kind=kind).order_by("order", "id").first()
    if stage is None:
        raise ValidationError(
            {"stage": _("The pipeline has no %(kind)s stage.") % {"kind": StageKind(kind).label}}
        )
    return stage


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
    unknown = set(fields) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})
    membership = _membership(tenant=tenant, actor=actor)
    current = _locked(tenant=tenant, opportunity=opportunity)
    _check_can_edit(membership=membership, opportunity=current)
    if version is not None and int(version) != current.version:
        raise _conflict(current.pk)
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if "name" in fields:
        name = (fields["name"] or "").strip()
        if not name:
            errors.setdefault("name", []).append(_("Enter a name."))
        changes["name"] = name
    if "type" in fields:
        if fields["type"] not in OpportunityType.values:
            errors.setdefault("type", []).append(_("Unknown deal type."))
        changes["type"] = fields["type"]
    if "amount" in fields:
        amount = _as_decimal(fields["amount"], "amount")
        if amount < 0:
            errors.setdefault("amount", []).append(_("The amount cannot be negative."))
        changes["amount"] = amount.quantize(CENT, ROUND_HALF_UP)
    if "currency" in fields:
        currency = (fields["currency"] or tenant.currency).strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            errors.setdefault("currency", []).append(
                _("Use a three-letter currency code such as CNY or EUR.")
            )
        changes["currency"] = currency
    if "forecast_category" in fields:
        if fields["forecast_category"] not in ForecastCategory.values:
            errors.setdefault("forecast_category", []).append(_("Unknown forecast category."))
        changes["forecast_category"] = fields["forecast_category"]
    if "expected_close_date" in fields:
        changes["expected_close_date"] = fields["expected_close_date"] or None
    if "external_id" in fields:
        changes["external_id"] = (fields["external_id"] or "").strip()
    if "probability" in fields and fields["probability"] not in (None, ""):
        changes["probability"] = _validate_probability(_as_decimal(fields["probability"], "probability"))
    if errors:
        raise ValidationError(errors)
    if "account" in fields and fields["account"] is not None and fields["account"].pk != current.account_id:
        account = fields["account"]
        if account.tenant_id != tenant.pk or not _account_visible(
            tenant=tenant, membership=membership, account=account
        ):
            raise ValidationError({"account": _("Choose an account you can see.")})
        changes["account"] = account
    if "owner" in fields:
        owner = fields["owner"]
        if (owner.pk if owner else None) != current.owner_id:
            _check_owner_is_member(tenant=tenant, owner=owner)
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
        target = _resolve_stage(pipeline=pipeline, stage=stage_arg)
    elif stage_arg is not None:
        target = _resolve_stage(pipeline=pipeline, stage=stage_arg)
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
    return _save_changes(
        tenant=tenant, actor=actor, opportunity=current, version=current.version, changes=changes, at=at
    )


@transaction.atomic
@stamps_actor
def opportunity_delete(*, tenant: Tenant, actor: User | None, opportunity: Opportunity) -> Opportunity:
    """Soft-delete (restorable with opportunity_restore)."""
    membership = _membership(tenant=tenant, actor=actor)
    _check_can_edit(membership=membership, opportunity=opportunity)
    now = timezone.now()
    Opportunity.objects.filter(tenant=tenant, pk=opportunity.pk, deleted_at__isnull=True).update(
        deleted_at=now, version=F("version") + 1, updated_at=now
    )
    opportunity.refresh_from_db()
    return opportunity


@transaction.atomic
@stamps_actor
def opportunity_restore(*, tenant: Tenant, actor: User | None, opportunity: Opportunity) -> Opportunity:
    membership = _membership(tenant=tenant, actor=actor)
    _check_can_edit(membership=membership, opportunity=opportunity)
    Opportunity.objects.filter(tenant=tenant, pk=opportunity.pk, deleted_at__isnull=False).update(
        deleted_at=None, version=F("version") + 1, updated_at=timezone.now()
    )
    opportunity.refresh_from_db()
    return opportunity


# --- contacts on a deal -----------------------------------------------------------------------------------------


@transaction.atomic
@stamps_actor
def opportunity_contact_add(
    *,
    tenant: Tenant,
    actor: User | None,
    opportunity: Opportunity,
    contact: Contact,
    role: str = "",
    is_primary: bool = False,
) -> OpportunityContact:
    """Link a contact of the deal's account to the deal with a role; a new primary replaces the old one."""
    membership = _membership(tenant=tenant, actor=actor)
    _check_can_edit(membership=membership, opportunity=opportunity)
    if contact.tenant_id != tenant.pk or contact.account_id != opportunity.account_id or contact.deleted_at:
        raise ValidationError({"contact": _("Choose a contact of the deal's account.")})
    if OpportunityContact.objects.filter(tenant=tenant, opportunity=opportunity, contact=contact).exists():
        raise ValidationError({"contact": _("This contact is already on the deal.")})
    if is_primary:
        OpportunityContact.objects.filter(tenant=tenant, opportunity=opportunity).update(is_primary=False)
    return OpportunityContact.objects.create(
        tenant=tenant,
        opportunity=opportunity,
        contact=contact,
        role=(role or "").strip()[:100],
        is_primary=is_primary,
    )


@transaction.atomic
@stamps_actor
def opportunity_contact_update(
    *,
    tenant: Tenant,
    actor: User | None,
    link: OpportunityContact,
    role: str | None = None,
    is_primary: bool | None = None,
) -> OpportunityContact:
    membership = _membership(tenant=tenant, actor=actor)
    _check_can_edit(membership=membership, opportunity=link.opportunity)
    if role is not None:
        link.role = role.strip()[:100]
    if is_primary is not None:
        if is_primary:
            OpportunityContact.objects.filter(tenant=tenant, opportunity_id=link.opportunity_id).exclude(
                pk=link.pk
            ).update(is_primary=False)
        link.is_primary = is_primary
    link.save()
    return link


@transaction.atomic
@stamps_actor
def opportunity_contact_remove(*, tenant: Tenant, actor: User | None, link: OpportunityContact) -> None:
    membership = _membership(tenant=tenant, actor=actor)
    _check_can_edit(membership=membership, opportunity=link.opportunity)
    link.delete()


# --- money ------------------------------------------------------------------------------------------------------


def _rate_on(*, tenant: Tenant, on_date: Any) -> Subquery:
    """The deal's currency's rate valid on `on_date` (a date or a date expression of the outer deal)."""
    return Subquery(
        ExchangeRate.objects.filter(tenant=tenant, currency=OuterRef("currency"), valid_from__lte=on_date)
        .order_by("-valid_from")
        .values("rate")[:1]
    )


@transaction.atomic
@stamps_actor
def opportunities_reprice(
    *, tenant: Tenant, actor: User | None = None, currency: str | None = None, open_only: bool = False
) -> int:
    """Re-convert amount_reporting of the deals in `currency` (None: every currency) set-based in SQL — a few
    UPDATEs whatever the number of deals — with to_reporting's rule: open deals at today's rate, closed deals at
    the rate valid on their close date, before the first rate the earliest one; the reporting currency 1:1.
    Deals whose currency has no rate at all keep their amount. Only rows whose amount changes are written (each
    write is a history event, booked to `actor`; None: the system). Returns the number of rows updated."""
    deals = Opportunity.objects.filter(tenant=tenant)
    if currency is not None:
        deals = deals.filter(currency=currency.upper())
    money = DecimalField(max_digits=18, decimal_places=2)
    reporting = tenant.currency.upper()
    count = 0
    if currency is None or currency.upper() == reporting:
        count += (
            deals.filter(currency=reporting)
            .exclude(amount_reporting=F("amount"))
            .update(amount_reporting=F("amount"))
        )
        if currency is not None:
            return count
    rates = ExchangeRate.objects.filter(tenant=tenant, currency=OuterRef("currency"))
    earliest = Subquery(rates.order_by("valid_from").values("rate")[:1])
    foreign = deals.exclude(currency=reporting).filter(Exists(rates))
    close_day = TruncDate(
        ExpressionWrapper(OuterRef("closed_at"), output_field=DateTimeField()), tzinfo=tenant.tzinfo
    )
    groups: list[tuple[Any, Any]] = [
        (
            foreign.filter(stage__kind=StageKind.OPEN),
            _rate_on(tenant=tenant, on_date=_local_date(tenant, None)),
        )
    ]
    if not open_only:
        groups.append(
            (
                foreign.exclude(stage__kind=StageKind.OPEN).filter(closed_at__isnull=False),
                _rate_on(tenant=tenant, on_date=close_day),
            )
        )
    for group, rate in groups:
        converted = Round(
            ExpressionWrapper(F("amount") * Coalesce(rate, earliest, output_field=money), output_field=money),
            2,
        )
        count += group.exclude(amount_reporting=converted).update(amount_reporting=converted)
    return count


def opportunities_link_leads(*, tenant: Tenant, links: Sequence[tuple[int, int]]) -> None:
    """Point deals at the lead they came from, (deal id, lead id) pairs, in batched bulk updates: no history, no
    version bump (the leads demo links its converted leads to the seeded deals; Opportunity.lead feeds
    lead_to_win_rate)."""
    deals = []
    for deal_id, lead_id in links:
        deal = Opportunity(pk=deal_id, tenant=tenant)
        deal.lead_id = lead_id
        deals.append(deal)
    Opportunity.objects.bulk_update(deals, ["lead"], batch_size=500)
