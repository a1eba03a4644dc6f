"""What the health score listens to (besides feedback, whose service schedules it): activities saved on an account
(logged, edited, completed through a save) and moves of renewal deals. Each schedules a recompute of the account's
health after commit, debounced per transaction (lifecycle.services.health.health_schedule_recompute)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from accounts.models import Activity, Opportunity, OpportunityType, StageChange
from lifecycle.services.health import health_schedule_recompute


def _activity_saved(sender: Any, instance: Activity, **kwargs: Any) -> None:
    if instance.account_id:
        health_schedule_recompute(tenant_id=instance.tenant_id, account_ids=[instance.account_id])


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


def connect() -> None:
    post_save.connect(_activity_saved, sender=Activity, dispatch_uid="lifecycle.health.activity_saved")
    post_save.connect(_renewal_saved, sender=Opportunity, dispatch_uid="lifecycle.health.renewal_saved")
    post_save.connect(_deal_moved, sender=StageChange, dispatch_uid="lifecycle.health.deal_moved")
