"""Reads of merge records: one record, the undo banner of a merged record, the merges into a record."""

from __future__ import annotations

from typing import Any

from accounts.models import MergeRecord
from crm.models import Tenant


def merge_record_get(*, tenant: Tenant, pk: int, entity: str | None = None) -> MergeRecord:
    qs = MergeRecord.objects.filter(tenant=tenant).select_related("actor")
    if entity:
        qs = qs.filter(entity=entity)
    return qs.get(pk=pk)


def merge_record_for_banner(*, tenant: Tenant, pk: Any, entity: str, survivor_id: int) -> MergeRecord | None:
    """The merge just made, for the "Merged. Undo" banner on the survivor's page."""
    if not str(pk).isdecimal():
        return None
    return MergeRecord.objects.filter(
        tenant=tenant, pk=int(pk), entity=entity, survivor_id=survivor_id, undone_at=None
    ).first()


def merges_into(*, tenant: Tenant, entity: str, survivor_id: int) -> list[MergeRecord]:
    return list(
        MergeRecord.objects.filter(tenant=tenant, entity=entity, survivor_id=survivor_id, undone_at=None)
        .select_related("actor")
        .order_by("-created_at")
    )
