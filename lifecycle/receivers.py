"""What the lifecycle app listens to.

Stages: changes of deals (accounts app) and of its own subscriptions that can move an account's stage. Each
schedules a recompute of the affected account after commit, debounced per transaction (an import chunk of a
thousand rows gives one recompute). Settings changes schedule a whole-tenant recompute from their service.

Health (besides feedback, whose service schedules it): activities saved on an account (logged, edited), the
activity changes accounts makes with a queryset update (a task completed or reopened, snoozed, deleted, restored:
accounts.signals.activity_changed) and moves of renewal deals. Each schedules a recompute of the account's health
after commit, debounced per transaction (lifecycle.services.health.health_schedule_recompute).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from accounts.models import Activity, Opportunity, OpportunityType, Stage, StageChange, StageKind
from accounts.signals import (
    activities_logged_many,
    activities_updated_many,
    activity_changed,
    opportunities_created_many,
)
from lifecycle.models import Subscription
from lifecycle.services.health import health_schedule_recompute
from lifecycle.services.stages import lifecycle_schedule_recompute

# --- stages -------------------------------------------------------------------------------------------------------


def _account_changed(sender: Any, instance: Opportunity | Subscription, **kwargs: Any) -> None:
    if getattr(instance, "skip_lifecycle_recompute", False):  # the caller schedules one itself (imports)
        return
    lifecycle_schedule_recompute(tenant_id=instance.tenant_id, account_ids=[instance.account_id])


def _stage_kind(change: StageChange, name: str) -> str | None:
    """The kind of the change's from/to stage, from the object the service passed (no query) if it did."""
    field = StageChange._meta.get_field(name)
    if field.is_cached(change):  # type: ignore[union-attr]
        stage = getattr(change, name)
        return stage.kind if stage is not None else None
    stage_id = getattr(change, f"{name}_id")
    if stage_id is None:
        return None
    return Stage.objects.filter(pk=stage_id).values_list("kind", flat=True).first()


def _deal_stage_changed(sender: Any, instance: StageChange, created: bool = False, **kwargs: Any) -> None:
    # The deals services record every stage move as a StageChange inside their transaction, while the deal itself
    # is written with a queryset update (no post_save): only a move into or out of a won stage (won, reopened)
    # can change the account's stage.
    if not created:
        return
    if StageKind.WON in {_stage_kind(instance, "from_stage"), _stage_kind(instance, "to_stage")}:
        lifecycle_schedule_recompute(
            tenant_id=instance.tenant_id, account_ids=[instance.opportunity.account_id]
        )


def _deals_created_many(sender: Any, tenant: Any, opportunities: list[Opportunity], **kwargs: Any) -> None:
    # A set insert of deals (an import's chunk) sends no post_save for them or their first StageChanges: what those
    # scheduled (_account_changed, _deal_stage_changed, _renewal_saved, _deal_moved), for the set's accounts.
    lifecycle_schedule_recompute(
        tenant_id=tenant.pk, account_ids=sorted({deal.account_id for deal in opportunities})
    )
    health_schedule_recompute(
        tenant_id=tenant.pk,
        account_ids=sorted(
            {deal.account_id for deal in opportunities if deal.type == OpportunityType.RENEWAL}
        ),
    )


# --- health -------------------------------------------------------------------------------------------------------


def _activity_saved(sender: Any, instance: Activity, **kwargs: Any) -> None:
    if instance.account_id:
        health_schedule_recompute(tenant_id=instance.tenant_id, account_ids=[instance.account_id])


def _activities_logged_many(sender: Any, tenant: Any, activities: list[Activity], **kwargs: Any) -> None:
    # A set insert or update (an import's chunk) sends no post_save: the same health recompute for the accounts it
    # touched.
    health_schedule_recompute(
        tenant_id=tenant.pk, account_ids=sorted({a.account_id for a in activities if a.account_id})
    )


def _activity_changed(sender: Any, tenant_id: int, account_id: int | None, **kwargs: Any) -> None:
    # Sent on commit, outside the transaction: the recompute is queued at once.
    if account_id:
        health_schedule_recompute(tenant_id=tenant_id, account_ids=[account_id])


def _renewal_saved(sender: Any, instance: Opportunity, **kwargs: Any) -> None:
    if instance.type == OpportunityType.RENEWAL:
        health_schedule_recompute(tenant_id=instance.tenant_id, account_ids=[instance.account_id])


def _deal_moved(sender: Any, instance: StageChange, created: bool = False, **kwargs: Any) -> None:
    # Deals move with a queryset update (no post_save of the deal): the StageChange row is the event.
    if not created:
        return
    opportunity = instance.opportunity
    if opportunity.type == OpportunityType.RENEWAL:
        health_schedule_recompute(tenant_id=instance.tenant_id, account_ids=[opportunity.account_id])


# --- import jobs -------------------------------------------------------------------------------------------------


def _import_finished(sender: Any, tenant: Any, held: dict | None = None, **kwargs: Any) -> None:
    """One stage and one health recompute for what a whole import job changed (held back chunk by chunk)."""
    from lifecycle.tasks import recompute_health, recompute_lifecycle

    for name, task in (("lifecycle", recompute_lifecycle), ("health", recompute_health)):
        for tenant_id, ids in ((held or {}).get(name) or {}).items():
            if ids is None or ids:
                task.delay(tenant_id, None if ids is None else sorted(ids))


def connect() -> None:
    from imports.signals import import_job_finished

    import_job_finished.connect(_import_finished, dispatch_uid="lifecycle.import_job_finished")
    for model in (Opportunity, Subscription):
        post_save.connect(_account_changed, sender=model, dispatch_uid=f"lifecycle.{model.__name__}.saved")
        post_delete.connect(
            _account_changed, sender=model, dispatch_uid=f"lifecycle.{model.__name__}.deleted"
        )
    post_save.connect(_deal_stage_changed, sender=StageChange, dispatch_uid="lifecycle.deal_stage_changed")
    opportunities_created_many.connect(
        _deals_created_many, dispatch_uid="lifecycle.opportunities_created_many"
    )
    post_save.connect(_activity_saved, sender=Activity, dispatch_uid="lifecycle.health.activity_saved")
    activity_changed.connect(_activity_changed, dispatch_uid="lifecycle.health.activity_changed")
    activities_logged_many.connect(
        _activities_logged_many, dispatch_uid="lifecycle.health.activities_logged_many"
    )
    activities_updated_many.connect(
        _activities_logged_many, dispatch_uid="lifecycle.health.activities_updated_many"
    )
    post_save.connect(_renewal_saved, sender=Opportunity, dispatch_uid="lifecycle.health.renewal_saved")
    post_save.connect(_deal_moved, sender=StageChange, dispatch_uid="lifecycle.health.deal_moved")
