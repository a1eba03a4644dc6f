"""Merges: merging two accounts or two contacts (values, moved relations, the merge record), undoing a merge,
and the merge-record writes of the leads app."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import F
from django.db.models.fields.reverse_related import ForeignObjectRel
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, Activity, Contact, MergeEntity, MergeRecord, Opportunity
from accounts.services.accounts import _clean_account
from accounts.services.common import _attname, _history
from accounts.services.contacts import _clean_contact
from crm.errors import AppError
from crm.models import Tenant, User

# The models that merge (and merge_undo) handle, with what each keeps of the pair.
Mergeable = Account | Contact


MERGE_FIELDS: dict[type[Mergeable], tuple[str, ...]] = {
    Account: ("name", "domain", "industry", "size_band", "region", "tier", "owner", "parent"),
    Contact: ("first_name", "last_name", "email", "phone", "title", "account", "owner"),
}


MERGE_ENTITY: dict[type[Mergeable], str] = {Account: MergeEntity.ACCOUNT, Contact: MergeEntity.CONTACT}


MERGE_MODEL: dict[str, type[Mergeable]] = {MergeEntity.ACCOUNT: Account, MergeEntity.CONTACT: Contact}


def _jsonable(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _row_values(obj: models.Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _from_json(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return {
        name: (fields[name].to_python(v) if v is not None else None)
        for name, v in values.items()
        if name in fields
    }


def _is_history_model(model: type[models.Model]) -> bool:
    from pghistory.models import Event

    return issubclass(model, Event)


def _incoming_relations(model: type[models.Model]) -> list[ForeignObjectRel]:
    """Every foreign key pointing at `model` from a live table (history snapshots are never rewritten; the
    self-reference `merged_into` stays with the record that was merged)."""
    relations = []
    for rel in model._meta.get_fields(include_hidden=True):
        # Reverse one-to-many/one-to-one relations are the auto-created, non-concrete ForeignObjectRels.
        if not isinstance(rel, ForeignObjectRel):
            continue
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        related = rel.related_model
        if _is_history_model(related) or related._meta.proxy or not related._meta.managed:
            continue
        if related is model and rel.field.name == "merged_into":
            continue
        if related is MergeRecord:
            continue
        relations.append(rel)
    return relations


def _unique_groups(model: type[models.Model], field_name: str) -> list[tuple[str, ...]]:
    groups = [tuple(g) for g in model._meta.unique_together if field_name in g]
    for constraint in model._meta.constraints:
        if (
            isinstance(constraint, models.UniqueConstraint)
            and constraint.condition is None
            and field_name in (constraint.fields or ())
        ):
            groups.append(tuple(constraint.fields))
    return groups


def _rel_queryset(related: type[models.Model], tenant: Tenant) -> models.QuerySet:
    qs = related._default_manager.all()
    if any(f.name == "tenant" for f in related._meta.concrete_fields):
        qs = qs.filter(tenant_id=tenant.pk)
    return qs


def _move_relations(
    *, tenant: Tenant, model: type[models.Model], survivor: models.Model, merged: models.Model
) -> tuple[dict, list]:
    """Point every row that references `merged` at `survivor`. Rows that would break a unique constraint
    (the survivor already has that contact role or team member) are deleted and kept for the undo."""
    moved: dict[str, list] = {}
    removed: list[dict] = []
    for rel in _incoming_relations(model):
        related, fk = rel.related_model, rel.field
        qs = _rel_queryset(related, tenant).filter(**{fk.attname: merged.pk})
        if related is model:
            qs = qs.exclude(pk=survivor.pk)
        groups = _unique_groups(related, fk.name)
        if groups:
            for row in list(qs):
                for group in groups:
                    others = {
                        _attname(related, n): getattr(row, _attname(related, n))
                        for n in group
                        if n != fk.name
                    }
                    if _rel_queryset(related, tenant).filter(**others, **{fk.attname: survivor.pk}).exists():
                        removed.append({"model": related._meta.label, "values": _row_values(row)})
                        _rel_queryset(related, tenant).filter(pk=row.pk).delete()
                        break
        ids = list(qs.values_list("pk", flat=True))
        if ids:
            _rel_queryset(related, tenant).filter(pk__in=ids).update(**{fk.attname: survivor.pk})
            moved[f"{related._meta.label}.{fk.attname}"] = ids
    return moved, removed


def _merge_values(
    model: type[Mergeable], survivor: models.Model, merged: models.Model, choices: dict
) -> dict:
    values = {}
    for name in MERGE_FIELDS[model]:
        pick = choices.get(name, "survivor")
        if pick not in ("survivor", "merged"):
            raise ValidationError({name: _("Pick the value of the survivor or of the merged record.")})
        attname = _attname(model, name)
        source = merged if pick == "merged" else survivor
        values[attname] = getattr(source, attname)
        # Keep data: an empty survivor field takes the merged record's value unless told otherwise.
        if pick == "survivor" and name not in choices and values[attname] in (None, ""):
            values[attname] = getattr(merged, attname)
    return values


@transaction.atomic
def _merge(
    *,
    tenant: Tenant,
    actor: User | None,
    model: type[Mergeable],
    survivor: Any,
    merged: Any,
    choices: dict,
) -> MergeRecord:
    survivor = model.objects.select_for_update().get(tenant=tenant, pk=survivor.pk)
    merged = model.objects.select_for_update().get(tenant=tenant, pk=merged.pk)
    if survivor.pk == merged.pk:
        raise ValidationError(_("Choose two different records to merge."))
    if survivor.deleted_at is not None or merged.deleted_at is not None:
        raise AppError(_("Both records must be live (not deleted) to merge them."))
    values = _merge_values(model, survivor, merged, choices or {})
    if model is Account and values.get("parent_id") in (survivor.pk, merged.pk):
        values["parent_id"] = None  # the pair cannot be its own parent
    survivor_before = _row_values(survivor)
    merged_before = _row_values(merged)
    with _history(actor):
        moved, removed = _move_relations(tenant=tenant, model=model, survivor=survivor, merged=merged)
        merged_updates: dict[str, Any] = {
            "deleted_at": timezone.now(),
            "merged_into_id": survivor.pk,
            "version": F("version") + 1,
            "updated_at": timezone.now(),
        }
        if not survivor.external_id and merged.external_id:
            merged_updates["external_id"] = ""
            values["external_id"] = merged.external_id
        model.objects.filter(tenant=tenant, pk=merged.pk).update(**merged_updates)
        draft = model.objects.get(tenant=tenant, pk=survivor.pk)
        for attname, value in values.items():
            setattr(draft, attname, value)
        if model is Account:
            _clean_account(tenant, draft, check_owner=False)
        else:
            _clean_contact(tenant, draft, check_owner=False)
        values["search_text"] = draft.search_text
        values.update({k: getattr(draft, k) for k in values if k in {"name", "domain", "email"}})
        model.objects.filter(tenant=tenant, pk=survivor.pk).update(
            **values, version=F("version") + 1, updated_at=timezone.now()
        )
    survivor.refresh_from_db()
    record = MergeRecord.objects.create(
        tenant=tenant,
        entity=MERGE_ENTITY[model],
        survivor_id=survivor.pk,
        merged_id=merged.pk,
        actor=actor,
        snapshot=_jsonable(
            {
                "survivor_before": survivor_before,
                "survivor_after": _row_values(survivor),
                "merged_before": merged_before,
                "moved": moved,
                "removed": removed,
                "choices": choices or {},
            }
        ),
    )
    return record


def account_merge(
    *, tenant: Tenant, actor: User | None, survivor: Account, merged: Account, choices: dict | None = None
) -> MergeRecord:
    """Merge `merged` into `survivor`: pick each field's value (choices: field -> "survivor" | "merged"),
    move every contact, deal, activity, child account and team member to the survivor, soft-delete the merged
    account with merged_into set, and keep a MergeRecord holding what `merge_undo` needs."""
    return _merge(
        tenant=tenant, actor=actor, model=Account, survivor=survivor, merged=merged, choices=choices or {}
    )


def contact_merge(
    *, tenant: Tenant, actor: User | None, survivor: Contact, merged: Contact, choices: dict | None = None
) -> MergeRecord:
    """Merge two contacts the same way as accounts (activities, deal roles, conversions move over)."""
    return _merge(
        tenant=tenant, actor=actor, model=Contact, survivor=survivor, merged=merged, choices=choices or {}
    )


@transaction.atomic
def merge_undo(*, tenant: Tenant, actor: User | None, merge_record: MergeRecord) -> MergeRecord:
    """Undo a merge exactly: moved rows go back, deleted duplicates come back with their ids, the merged record
    is live again and the survivor's fields the merge changed get their old values (fields edited since the
    merge keep the newer value)."""
    record = MergeRecord.objects.select_for_update().get(tenant=tenant, pk=merge_record.pk)
    if record.undone_at is not None:
        raise AppError(_("This merge was already undone."))
    model = MERGE_MODEL.get(record.entity)
    if model is None:
        raise AppError(_("This kind of merge cannot be undone here."))
    snapshot = record.snapshot
    merged = model.objects.filter(tenant=tenant, pk=record.merged_id).first()
    survivor = model.objects.filter(tenant=tenant, pk=record.survivor_id).first()
    if merged is None or survivor is None:
        raise AppError(_("A record of this merge no longer exists; it cannot be undone."))
    with _history(actor):
        for key, ids in snapshot.get("moved", {}).items():
            label, attname = key.rsplit(".", 1)
            related = _model_by_label(label)
            _rel_queryset(related, tenant).filter(pk__in=ids, **{attname: survivor.pk}).update(
                **{attname: merged.pk}
            )
        for row in snapshot.get("removed", []):
            related = _model_by_label(row["model"])
            values = _from_json(related, row["values"])
            related._default_manager.create(**values)
        # The survivor first: it may hold the external id that goes back to the merged record.
        survivor_before = _from_json(model, snapshot["survivor_before"])
        survivor_after = _from_json(model, snapshot["survivor_after"])
        restore = {}
        for attname, old in survivor_before.items():
            if attname in {"id", "tenant_id", "version", "updated_at", "created_at"}:
                continue
            if survivor_after.get(attname) != old and getattr(survivor, attname) == survivor_after.get(
                attname
            ):
                restore[attname] = old
        if restore:
            model.objects.filter(tenant=tenant, pk=survivor.pk).update(
                **restore, version=F("version") + 1, updated_at=timezone.now()
            )
        before = _from_json(model, snapshot["merged_before"])
        model.objects.filter(tenant=tenant, pk=merged.pk).update(
            deleted_at=before.get("deleted_at"),
            merged_into_id=before.get("merged_into_id"),
            external_id=before.get("external_id", ""),
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
    record.undone_at = timezone.now()
    record.save(update_fields=["undone_at", "updated_at"])
    return record


def _model_by_label(label: str) -> type[models.Model]:
    from django.apps import apps

    return apps.get_model(label)


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
