"""Merges: the merge records (what an undo needs) and moving a merged lead's activities and deals (for the leads
app's lead merge and its undo)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from accounts.models import Activity, MergeRecord, Opportunity
from crm.models import Tenant, User


def lead_records_reassign(
    *,
    tenant: Tenant,
    from_lead_id: int,
    to_lead_id: int,
    activity_ids: list[int] | None = None,
    opportunity_ids: list[int] | None = None,
) -> dict[str, list[int]]:
    """Point the activities and deals linked to lead `from_lead_id` at lead `to_lead_id`: all of them, or (ids
    given, e.g. an undo) only those of the given ids still linked to `from_lead_id`. Runs inside the caller's
    transaction and history context. Returns the ids moved: {"activity_ids": [...], "opportunity_ids": [...]}."""
    now = timezone.now()
    moved: dict[str, list[int]] = {}
    for key, model, ids in (
        ("activity_ids", Activity, activity_ids),
        ("opportunity_ids", Opportunity, opportunity_ids),
    ):
        linked = model.objects.filter(tenant=tenant, lead_id=from_lead_id)
        if ids is not None:
            linked = linked.filter(pk__in=ids)
        moved[key] = list(linked.values_list("pk", flat=True))
        model.objects.filter(tenant=tenant, pk__in=moved[key]).update(lead_id=to_lead_id, updated_at=now)
    return moved


def merge_record_create(
    *,
    tenant: Tenant,
    actor: User | None,
    entity: str,
    survivor_id: int,
    merged_id: int,
    snapshot: dict[str, Any],
) -> MergeRecord:
    """Keep what undoing a merge of `entity` (accounts.models.MergeEntity) needs."""
    return MergeRecord.objects.create(
        tenant=tenant,
        entity=entity,
        survivor_id=survivor_id,
        merged_id=merged_id,
        snapshot=snapshot,
        actor=actor,
    )


def merge_record_mark_undone(
    *, tenant: Tenant, record: MergeRecord, at: datetime.datetime | None = None
) -> None:
    """Stamp the merge as undone at `at` (default now); `record.undone_at` is set in place too."""
    at = at or timezone.now()
    MergeRecord.objects.filter(tenant=tenant, pk=record.pk).update(undone_at=at)
    record.undone_at = at
