"""The change history of accounts, contacts and deals, read from the django-pghistory events: who changed which
field from what to what, with labels and the records a change points at."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.links import lead_link
from accounts.models import Account, Contact, MergeEntity, MergeRecord, Opportunity
from accounts.selectors.visibility import account_visibility_q, contact_visibility_q, opportunity_visibility_q
from crm.models import Membership, Tenant, User

ACTIONS = {"insert": "created", "update": "updated", "delete": "deleted"}


ACTION_LABELS = {
    "created": _("created"),
    "updated": _("updated"),
    "deleted": _("deleted"),
    "restored": _("restored"),
    "merged": _("merged"),
}


# Bookkeeping columns that are not a change a person made.
# Derived columns: "last activity at" repeats the activity already on the timeline.
HISTORY_IGNORED = {
    "id",
    "tenant",
    "created_at",
    "updated_at",
    "version",
    "search_text",
    "amount_reporting",
    "last_activity_at",
}


# History labels of tracked fields whose model field has no translated verbose_name (adding one needs a
# migration); the English text is the verbose_name itself, every other field shows its verbose_name.
HISTORY_FIELD_LABELS = {
    "owner": _("owner"),
    "parent": pgettext_lazy("account field", "parent"),
    "account": _("account"),
    "contact": _("contact"),
    "lead": _("lead"),
    "opportunity": _("opportunity"),
    "pipeline": _("pipeline"),
    "stage": _("stage"),
    "source": pgettext_lazy("lead field", "source"),
    "campaign": _("campaign"),
    "territory": _("territory"),
    "score_reasons": _("score reasons"),
    "merged_into": _("merged into"),
    "deleted_at": _("deleted at"),
    "working_at": _("working at"),
    "mql_at": _("mql at"),
    "sql_at": _("sql at"),
    "converted_at": _("converted at"),
    "disqualified_at": _("disqualified at"),
    "last_activity_at": _("last activity at"),
    "pooled_at": _("pooled at"),
    "claimed_at": _("claimed at"),
    "assigned_at": _("assigned at"),
    "converted_account": _("converted account"),
    "converted_contact": _("converted contact"),
    "converted_opportunity": _("converted opportunity"),
}


MERGE_ENTITY_OF: dict[type[models.Model], str] = {Account: MergeEntity.ACCOUNT, Contact: MergeEntity.CONTACT}


@dataclass
class HistoryEntry:
    when: datetime.datetime
    who: User | None
    action: str  # created | updated | deleted | restored
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)
    object_id: int | None = None
    event_id: int = 0

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS.get(self.action, self.action))

    @property
    def kind(self) -> str:
        return "history"


def _event_model(model: type[models.Model]) -> type[Any] | None:
    """The event model django-pghistory generates for a tracked model (None when it is not tracked). Its
    columns are copied from the tracked model at run time, so no static type knows them: typed as Any."""
    try:
        return apps.get_model(model._meta.app_label, f"{model._meta.object_name}Event")
    except LookupError:
        return None


def _tracked_fields(model: type[models.Model], event_model: type[models.Model]) -> list[models.Field]:
    event_names = {f.attname for f in event_model._meta.concrete_fields}
    return [
        f for f in model._meta.concrete_fields if f.attname in event_names and f.name not in HISTORY_IGNORED
    ]


def _display(field_obj: models.Field, value: Any, objects: dict) -> Any:
    if value is None or value == "":
        return None
    if field_obj.is_relation:
        related = objects.get((field_obj.related_model, value))
        return _label(related) if related is not None else f"#{value}"
    if field_obj.choices:
        return dict(field_obj.flatchoices).get(value, value)
    if isinstance(field_obj, models.BooleanField):
        return _("yes") if value else _("no")
    if isinstance(field_obj, models.JSONField):
        return _json_display(value)
    return value


def _json_display(value: Any) -> str | None:
    """JSON as a person reads it: score reasons as "rule +points · ...", other lists and objects as items."""
    if not value:
        return None
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, dict) and "rule" in item and "points" in item:
                parts.append(f"{item['rule']} {int(item['points']):+d}")
            elif isinstance(item, dict):
                parts.append(", ".join(f"{k}: {v}" for k, v in item.items()))
            else:
                parts.append(str(item))
        return " · ".join(parts)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _label(obj: models.Model) -> str:
    return obj.display_name if isinstance(obj, User) else str(obj)


def _record_visibility_q(model: type[models.Model], membership: Membership | None) -> Q | None:
    """The role visibility of a record that history may name (None: all of them)."""
    if membership is None:
        return None
    if model is Account:
        return account_visibility_q(membership)
    if model is Contact:
        return contact_visibility_q(membership)
    if model is Opportunity:
        return opportunity_visibility_q(membership)
    leads = lead_link()
    if model is leads.model:
        return leads.visibility_q(membership)
    return None


def _resolve_objects(requests: dict[type[models.Model], set], membership: Membership | None = None) -> dict:
    """One query per related model: (model, pk) -> instance (deleted rows included: history names them). With
    `membership`, only the records that member may see: another one is shown like a missing one (its id)."""
    found: dict = {}
    for model, ids in requests.items():
        ids = {i for i in ids if i is not None}
        if not ids:
            continue
        qs = model._default_manager.filter(pk__in=ids)
        visible = _record_visibility_q(model, membership)
        if visible is not None:
            qs = qs.filter(visible)
        for obj in qs:
            found[(model, obj.pk)] = obj
    return found


def history_for(
    *, tenant: Tenant, obj: models.Model, limit: int | None = None, membership: Membership | None = None
) -> list[HistoryEntry]:
    """Every tracked change of `obj` (any model tracked by django-pghistory), oldest first: when, who (from the
    pghistory context's `user`), action and (field label, old, new) for each changed field, with foreign keys
    shown by name — one query for the events plus one per referenced model, whatever the number of events.
    Records merged into `obj` contribute their history too. `limit` keeps the newest entries.

    Pages and API pass `membership`: a referenced account, contact, deal or lead the member may not see is
    shown by its id, exactly like one that no longer exists."""
    model = type(obj)
    event_model = _event_model(model)
    if event_model is None:
        return []
    object_ids = [obj.pk]
    entity = MERGE_ENTITY_OF.get(model)
    if entity:
        object_ids += list(
            MergeRecord.objects.filter(
                tenant=tenant, entity=entity, survivor_id=obj.pk, undone_at=None
            ).values_list("merged_id", flat=True)
        )
    events = list(
        event_model.objects.filter(tenant_id=tenant.pk, pgh_obj_id__in=object_ids)
        .select_related("pgh_context")
        .order_by("pgh_obj_id", "pgh_id")
    )
    fields = _tracked_fields(model, event_model)
    lookups: dict[type[models.Model], set] = {User: set()}
    for f in fields:
        if f.is_relation and f.related_model is not None:
            lookups.setdefault(f.related_model, set()).update(getattr(e, f.attname) for e in events)
    for e in events:
        user_id = (e.pgh_context.metadata or {}).get("user") if e.pgh_context_id and e.pgh_context else None
        e.actor_id = user_id
        lookups[User].add(user_id)
    names = _resolve_objects(lookups, membership)

    entries: list[HistoryEntry] = []
    previous: dict[int, Any] = {}
    for e in events:
        prev = previous.get(e.pgh_obj_id)
        action = ACTIONS.get(e.pgh_label, e.pgh_label)
        changes = []
        if prev is not None and action == "updated":
            for f in fields:
                old, new = getattr(prev, f.attname), getattr(e, f.attname)
                if old != new:
                    label = HISTORY_FIELD_LABELS.get(f.name, f.verbose_name)
                    changes.append((str(label), _display(f, old, names), _display(f, new, names)))
            deleted_field = "deleted_at" in {f.name for f in fields}
            if deleted_field and prev.deleted_at is None and e.deleted_at is not None:
                action = "deleted"
            elif deleted_field and prev.deleted_at is not None and e.deleted_at is None:
                action = "restored"
            if not changes:
                previous[e.pgh_obj_id] = e
                continue
        previous[e.pgh_obj_id] = e
        when = e.pgh_created_at
        if action == "created" and getattr(e, "created_at", None):
            # Imports and bulk loads keep the record's historical creation time; show that, not the load time.
            when = min(when, e.created_at)
        entries.append(
            HistoryEntry(
                when=when,
                who=names.get((User, e.actor_id)),
                action=action,
                changes=changes,
                object_id=e.pgh_obj_id,
                event_id=e.pgh_id,
            )
        )
    entries.sort(key=lambda entry: entry.when)
    if limit is not None:
        entries = entries[-limit:]
    return entries
