"""Writes of opportunities (deals): create, update (version-checked), move between stages, mark won or lost,
delete and restore, link to the leads they came from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
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
from accounts.services.opportunity_rules import (
    UPDATABLE_FIELDS,
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
    _reporting_for,
    _resolve_stage,
    _save_changes,
)
from accounts.services.pipelines import _as_decimal, _validate_probability, pipeline_default
from accounts.signals import opportunities_changed
from crm.history import stamps_actor
from crm.models import Tenant, User
from crm.money import AMOUNT_TOO_LARGE, amount_too_large, round_cents
from crm.records import actor_membership, record_restore, record_soft_delete


def _clean_next_step(value: str | None) -> str:
    """One line, as the board card shows it: inner whitespace folded."""
    next_step = " ".join((value or "").split())
    if len(next_step) > 200:
        raise ValidationError({"next_step": _("Keep the next step under 200 characters.")})
    return next_step


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
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors.setdefault("name", []).append(_("Enter a name."))
    if type not in OpportunityType.values:
        errors.setdefault("type", []).append(_("Unknown deal type."))
    amount_value = _as_decimal(amount, "amount")
    if amount_value < 0:
        errors.setdefault("amount", []).append(_("The amount cannot be negative."))
    elif amount_too_large(amount_value):
        errors.setdefault("amount", []).append(str(AMOUNT_TOO_LARGE))
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
    unknown = set(fields) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})
    membership = actor_membership(tenant=tenant, actor=actor)
    current = _locked(tenant=tenant, opportunity=opportunity)
    _check_can_edit(membership=membership, opportunity=current)
    _check_deal_version(current, version)
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
        if fields["forecast_category"] not in ForecastCategory.values:
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
            _check_external_id_free(
                tenant=tenant,
                membership=membership,
                external_id=changes["external_id"],
                exclude_pk=current.pk,
            )
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
