"""What every deal write checks and derives: who may edit or own a deal, which stage a deal goes to and
the forecast category that follows, the amount in the reporting currency, the snapshot and the version-checked
save that books a stage change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
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
from accounts.services.rates import _local_date, reporting_amount
from accounts.signals import opportunities_changed, opportunity_stage_changed
from crm.imported import owner_statuses
from crm.models import Membership, Role, Tenant, User
from crm.records import external_id_clash, record_check_version, record_update_versioned
from crm.visibility import can_edit_owned

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
    "next_step",
    "next_step_date",
    "external_id",
)


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
    if not Membership.objects.filter(tenant=tenant, user=owner, status__in=owner_statuses()).exists():
        raise ValidationError({"owner": _("The owner must be an active member of this company.")})


def _check_external_id_free(
    *, tenant: Tenant, membership: Membership | None, external_id: str, exclude_pk: int | None = None
) -> None:
    """The database refuses a second deal with one external id (a unique constraint): say so as a field error,
    without telling whether the actor may see the other deal (crm.records.EXTERNAL_ID_UNAVAILABLE)."""
    if not external_id:
        return
    clash = Opportunity.objects.filter(tenant=tenant, external_id=external_id)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    other = clash.first()
    if other is not None:
        raise external_id_clash(
            editable=opportunity_can_edit(membership=membership, opportunity=other),
            message=_("Another deal has this external id."),
        )


def _account_visible(*, tenant: Tenant, membership: Membership | None, account: Account) -> bool:
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


def _deal_conflict_message() -> str:
    return _("Someone else changed this deal since you opened it. Review their changes and save again.")


def _check_deal_version(current: Opportunity, version: int | None) -> None:
    """A deal read under lock (`_locked`) must still have the version the user loaded (None: no check)."""
    record_check_version(
        current=current,
        expected_version=version,
        snapshot=opportunity_snapshot,
        message=_deal_conflict_message(),
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


class DealChecks:
    """What a deal write asks the database, for one deal at a time (opportunity_update): whether an external id is
    free, an account visible to the actor, an owner a member; a pipeline's stage; an amount in the reporting
    currency. The set services ask the same of opportunities.SetDealChecks, which reads each once for a set."""

    def __init__(self, *, tenant: Tenant, membership: Membership | None) -> None:
        self.tenant = tenant
        self.membership = membership

    def external_id_free(self, external_id: str, deal: Opportunity) -> None:
        """Raise the clash error if another deal holds `external_id` (the one `deal` is about to take)."""
        _check_external_id_free(
            tenant=self.tenant, membership=self.membership, external_id=external_id, exclude_pk=deal.pk
        )

    def account_visible(self, account: Account) -> bool:
        return account.tenant_id == self.tenant.pk and _account_visible(
            tenant=self.tenant, membership=self.membership, account=account
        )

    def owner_is_member(self, owner: User | None) -> None:
        _check_owner_is_member(tenant=self.tenant, owner=owner)

    def stage(self, pipeline: Pipeline, stage: Stage | str | int | None) -> Stage:
        return _resolve_stage(pipeline=pipeline, stage=stage)

    def reporting(self, amount: Decimal, currency: str, closed_at: dt.datetime | None) -> Decimal:
        return _reporting_for(tenant=self.tenant, amount=amount, currency=currency, closed_at=closed_at)


def _real_changes(opportunity: Opportunity, changes: dict[str, Any], checks: DealChecks) -> dict[str, Any]:
    """Of `changes`, those that differ from the deal as it is, with its amount in the reporting currency again
    when the amount, currency, close time or stage change (closed deals at the close date's rate)."""
    if any(k in changes for k in ("amount", "currency", "closed_at", "stage")):
        changes["amount_reporting"] = checks.reporting(
            changes.get("amount", opportunity.amount),
            changes.get("currency", opportunity.currency),
            changes.get("closed_at", opportunity.closed_at),
        )
    return {k: v for k, v in changes.items() if _differs(opportunity, k, v)}


def _save_changes(
    *,
    tenant: Tenant,
    actor: User | None,
    opportunity: Opportunity,
    version: int | None,
    changes: dict[str, Any],
    at: dt.datetime,
    checks: DealChecks | None = None,
) -> Opportunity:
    """Write `changes` if the row still has `version` (None: the version just read under lock); record the
    StageChange and recompute amount_reporting."""
    from_stage = opportunity.stage
    expected = opportunity.version if version is None else int(version)
    real = _real_changes(opportunity, changes, checks or DealChecks(tenant=tenant, membership=None))
    if not real:
        _check_deal_version(opportunity, version)
        return opportunity
    record_update_versioned(
        queryset=Opportunity.objects.filter(tenant=tenant, deleted_at__isnull=True),
        instance=opportunity,
        expected_version=expected,
        values=real,
        actor=actor,
        snapshot=opportunity_snapshot,
        message=_deal_conflict_message(),
        # The current values of a deal deleted meanwhile are still shown (a conflict, not a 404).
        reread=Opportunity.objects.select_related("stage", "owner").filter(tenant=tenant),
        refresh=False,
    )
    opportunities_changed.send(sender=Opportunity, tenant_id=tenant.pk)
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


def _closed_stage(pipeline: Pipeline, kind: str) -> Stage:
    stage = pipeline.stages.filter(kind=kind).order_by("order", "id").first()
    if stage is None:
        raise ValidationError(
            {"stage": _("The pipeline has no %(kind)s stage.") % {"kind": StageKind(kind).label}}
        )
    return stage
