"""Lead merges and their undo (the accounts.MergeRecord of entity "lead" holds what the undo needs)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import MergeEntity, MergeRecord
from accounts.services.merges import lead_records_reassign, merge_record_create, merge_record_mark_undone
from crm.errors import AppError
from crm.history import history_actor
from crm.models import Tenant, User
from crm.records import actor_membership
from leads.models import Lead, LeadStatus
from leads.services.access import check_can_edit
from leads.services.leads import lead_derived_values
from leads.services.scoring import lead_rescore

# Blank fields of a merge's survivor are filled from the merged lead.
MERGE_FILL_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "title",
    "region",
    "industry",
    "size_band",
    "source",
    "campaign",
)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _merge_state(lead: Lead) -> dict[str, Any]:
    fields = {
        name: _json_value(getattr(lead, f"{name}_id" if name in ("source", "campaign") else name))
        for name in MERGE_FILL_FIELDS
    }
    fields.update(
        {
            "last_activity_at": _json_value(lead.last_activity_at),
            "score": lead.score,
            "score_reasons": lead.score_reasons,
            "search_text": lead.search_text,
            "version": lead.version,
            "deleted_at": _json_value(lead.deleted_at),
        }
    )
    return fields


def _column(name: str) -> str:
    return f"{name}_id" if name in ("source", "campaign") else name


@transaction.atomic
def lead_merge(*, tenant: Tenant, actor: User | None, survivor: Lead, merged: Lead) -> MergeRecord:
    """Merge `merged` into `survivor`: the survivor keeps its values and fills its blanks from the merged lead,
    every activity and deal of the merged lead moves to the survivor, the merged lead is soft-deleted with
    merged_into. Returns the accounts.MergeRecord (entity "lead") that holds what lead_merge_undo needs.
    Both leads' history stays (pghistory keeps the merged lead's events under its id)."""
    membership = actor_membership(tenant=tenant, actor=actor)
    if survivor.pk == merged.pk:
        raise ValidationError({"merged": _("Choose two different leads.")})
    locked = {
        lead.pk: lead
        for lead in Lead.objects.select_for_update()
        .filter(tenant=tenant, pk__in=[survivor.pk, merged.pk], deleted_at=None)
        .order_by("pk")
    }
    if len(locked) != 2:
        raise Lead.DoesNotExist
    keep, gone = locked[survivor.pk], locked[merged.pk]
    check_can_edit(membership, keep)
    check_can_edit(membership, gone)
    if gone.status == LeadStatus.CONVERTED:
        raise ValidationError({"merged": _("A converted lead can only be the one that stays.")})
    now = timezone.now()
    filled = {}
    for name in MERGE_FILL_FIELDS:
        column = _column(name)
        if not getattr(keep, column) and getattr(gone, column):
            filled[column] = getattr(gone, column)
    snapshot: dict[str, Any] = {
        "survivor": _merge_state(keep),
        "merged": _merge_state(gone),
        "filled": sorted(filled),
    }
    for column, value in filled.items():
        setattr(keep, column, value)
    if gone.last_activity_at and (not keep.last_activity_at or gone.last_activity_at > keep.last_activity_at):
        filled["last_activity_at"] = gone.last_activity_at
    filled.update(lead_derived_values(keep))
    with history_actor(actor, reason="lead_merge"):
        Lead.objects.filter(tenant=tenant, pk=keep.pk).update(
            **filled, version=F("version") + 1, updated_at=now
        )
        Lead.objects.filter(tenant=tenant, pk=gone.pk).update(
            deleted_at=now, merged_into=keep, version=F("version") + 1, updated_at=now
        )
        moved = lead_records_reassign(tenant=tenant, from_lead_id=gone.pk, to_lead_id=keep.pk)
    snapshot["activity_ids"] = moved["activity_ids"]
    snapshot["opportunity_ids"] = moved["opportunity_ids"]
    record = merge_record_create(
        tenant=tenant,
        actor=actor,
        entity=MergeEntity.LEAD,
        survivor_id=keep.pk,
        merged_id=gone.pk,
        snapshot=snapshot,
    )
    survivor.refresh_from_db()
    lead_rescore(tenant=tenant, lead=survivor)
    return record


@transaction.atomic
def lead_merge_undo(*, tenant: Tenant, actor: User | None, record: MergeRecord) -> Lead:
    """Undo a lead merge: the merged lead comes back as it was (live, its own activities and deals), and the
    survivor's filled blanks are emptied again unless someone changed them since. Returns the restored lead."""
    if record.entity != MergeEntity.LEAD:
        raise ValidationError({"record": _("This is not a lead merge.")})
    if record.undone_at is not None:
        raise AppError(_("This merge was already undone."))
    membership = actor_membership(tenant=tenant, actor=actor)
    locked = {
        lead.pk: lead
        for lead in Lead.objects.select_for_update()
        .filter(tenant=tenant, pk__in=[record.survivor_id, record.merged_id])
        .order_by("pk")
    }
    keep, gone = locked.get(record.survivor_id), locked.get(record.merged_id)
    if keep is None or gone is None or gone.merged_into_id != keep.pk:
        raise AppError(_("These leads changed too much since the merge to undo it."))
    check_can_edit(membership, keep)
    snapshot = record.snapshot
    before = snapshot["survivor"]
    merged_state = snapshot["merged"]
    now = timezone.now()
    restore: dict[str, Any] = {}
    for name in snapshot.get("filled", []):
        field_name = name[:-3] if name.endswith("_id") else name
        filled_value = merged_state.get(field_name)
        if getattr(keep, name) == filled_value:
            restore[name] = before.get(field_name) or ("" if not name.endswith("_id") else None)
    if keep.last_activity_at and _json_value(keep.last_activity_at) == merged_state["last_activity_at"]:
        restore["last_activity_at"] = before["last_activity_at"]
    for column, value in restore.items():
        setattr(keep, column, value)
    restore.update(lead_derived_values(keep))
    with history_actor(actor, reason="lead_merge_undo"):
        Lead.objects.filter(tenant=tenant, pk=keep.pk).update(
            **restore, version=F("version") + 1, updated_at=now
        )
        Lead.objects.filter(tenant=tenant, pk=gone.pk).update(
            deleted_at=None, merged_into=None, version=F("version") + 1, updated_at=now
        )
        lead_records_reassign(
            tenant=tenant,
            from_lead_id=keep.pk,
            to_lead_id=gone.pk,
            activity_ids=snapshot["activity_ids"],
            opportunity_ids=snapshot["opportunity_ids"],
        )
    merge_record_mark_undone(tenant=tenant, record=record, at=now)
    keep.refresh_from_db()
    lead_rescore(tenant=tenant, lead=keep)
    gone.refresh_from_db()
    return gone
