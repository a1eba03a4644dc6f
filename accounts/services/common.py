"""Shared checks of the accounts writes: tenant, owner and live-record checks and history stamping (the acting
user's membership is crm.records.actor_membership); the version-checked update, soft delete and restore themselves are crm.records'."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, cast

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext as _

from crm.bulk import copy_insert, copy_update
from crm.errors import AppError
from crm.history import history_actor
from crm.imported import owner_statuses
from crm.models import Membership, Role, Tenant, User
from crm.records import actor_membership, external_id_clash, without_external_id_clashes
from crm.visibility import can_edit_owned


def _history(actor: User | None) -> AbstractContextManager[Any]:
    """Stamp the actor into the pghistory context (None: the system, so no earlier actor leaks in)."""
    return history_actor(actor)


def _same_tenant(tenant: Tenant, obj: models.Model | None, field: str) -> None:
    if obj is not None and getattr(obj, "tenant_id", tenant.pk) != tenant.pk:
        raise ValidationError(
            {field: _("Select a valid choice. That choice is not one of the available choices.")}
        )


def _members_of(tenant: Tenant, user_ids: set[int]) -> set[int]:
    """Of `user_ids`, the members an owner may be here (a status an owner may have: active, any in an import)."""
    return set(
        Membership.objects.filter(
            tenant=tenant, user_id__in=user_ids, status__in=owner_statuses()
        ).values_list("user_id", flat=True)
    )


def _not_member(field: str = "owner") -> ValidationError:
    return ValidationError({field: _("The owner must be an active member of this company.")})


def _check_member(tenant: Tenant, user: User | None, field: str = "owner") -> None:
    if user is None:
        return
    if not _members_of(tenant, {user.pk}):
        raise _not_member(field)


def _prefetch_unchanged(
    pairs: Sequence[tuple[models.Model, dict[str, Any]]], relations: Sequence[str]
) -> None:
    """The set updates: of (record, its new values) pairs, read the `relations` the values do not replace, for the
    whole set (one query per relation; the rules look at each record's relations)."""
    for name in relations:
        prefetch_related_objects([record for record, values in pairs if name not in values], name)


def _once(cache: dict[Any, Exception | None], key: Any, check: Any) -> None:
    """The set services: run `check()` once per key and raise its error again for every later record with that
    key (an owner's assignability, a lead's edit rights)."""
    if key not in cache:
        try:
            check()
            cache[key] = None
        except (ValidationError, PermissionDenied) as exc:
            cache[key] = exc
    refused = cache[key]
    if refused is not None:
        raise refused


def _owners_checked(
    *,
    tenant: Tenant,
    actor: User | None,
    valid: list[tuple[int, Any]],
    results: list[Any],
    default: Callable[[int], int | None],
    member: Callable[[int], bool] = lambda _index: True,
) -> list[tuple[int, Any]]:
    """The set services' owner rules for (index, record) pairs, as each record's service checks them: an owner
    must be a member here (when `member(index)`; one query for the set) and, when it is not `default(index)` (the
    owner the record gets or keeps without a choice), one the actor may assign (each owner checked once). Returns
    the pairs that pass; the others get their error in `results[index]`."""
    owner_ids = {record.owner_id for index, record in valid if record.owner_id is not None and member(index)}
    members = _members_of(tenant, owner_ids) if owner_ids else set()
    choices: dict[Any, Exception | None] = {}
    kept = []
    for index, record in valid:
        owner_id = record.owner_id
        try:
            if owner_id is not None and member(index) and owner_id not in members:
                raise _not_member()
            if owner_id != default(index):
                _once(
                    choices,
                    owner_id,
                    lambda owner_id=owner_id: check_owner_assignable(
                        tenant=tenant, actor=actor, owner_id=owner_id
                    ),
                )
        except (ValidationError, PermissionDenied) as exc:
            results[index] = exc
            continue
        kept.append((index, record))
    return kept


RULE_ERRORS = (ValidationError, PermissionDenied, AppError)


def _create_set(
    *,
    model: type[models.Model],
    tenant: Tenant,
    actor: User | None,
    count: int,
    build: Callable[[int], Any],
    default: Callable[[int], int | None],
    can_edit: Callable[[Membership, Any], bool],
    message: str,
    external_ids_read: bool,
) -> list[Any]:
    """The create-many services of owned records (contacts, accounts): `build(index)` makes and cleans the
    index-th record (raising its rule's error); then the owners for the set (_owners_checked, `default`), the
    external ids (one query, none when the caller read them: an import chunk's lookups) and one INSERT (history
    events booked to the actor). Returns, for each index, the created record or the error that kept it out."""
    results: list[Any] = [None] * count
    valid: list[tuple[int, Any]] = []
    for index in range(count):
        try:
            valid.append((index, build(index)))
        except RULE_ERRORS as exc:
            results[index] = exc
    valid = _owners_checked(tenant=tenant, actor=actor, valid=valid, results=results, default=default)

    def may_edit(holder: Any) -> bool:
        membership = actor_membership(tenant=tenant, actor=actor)
        return membership is None or can_edit(membership, holder)

    valid = without_external_id_clashes(
        model=model,
        tenant=tenant,
        valid=valid,
        results=results,
        can_edit=may_edit,
        message=message,
        read=external_ids_read,
    )
    with _history(actor):
        copy_insert(model, [record for _index, record in valid])
    for index, record in valid:
        results[index] = record
    return results


def _update_set(
    *,
    model: type[models.Model],
    tenant: Tenant,
    actor: User | None,
    changes: Sequence[tuple[Any, dict[str, Any], datetime.datetime | None]],
    allowed: tuple[str, ...],
    relations: tuple[str, ...],
    clean: Callable[[Any, dict[str, Any]], None],
) -> list[Any]:
    """The update-many services of owned, versioned records (contacts, accounts; imports: a file imported again):
    their update service with no version check, and the creation time an import keeps. The records are read again
    and locked in one query (their `relations` the changes do not replace with them), `clean(record, values)`
    applies the rules after the values are set, the owners are checked for the set (a new owner: a member the actor
    may assign) and one UPDATE writes the set (a history event for each from the database's row trigger, booked to
    the actor). An external id does not change here, except that a record without one takes the one given (the
    caller read every record holding the ids given). Returns, for each change, the updated record or the error
    that kept it as it was; a constraint only the database checks raises for the whole set."""
    results: list[Any] = [None] * len(changes)
    fresh: dict[Any, Any] = {
        record.pk: record
        for record in model._default_manager.select_for_update(of=("self",)).filter(
            tenant=tenant, pk__in=[record.pk for record, _values, _at in changes]
        )
    }
    _prefetch_unchanged([(fresh[r.pk], v) for r, v, _at in changes if r.pk in fresh], relations)
    written: set[str] = {"search_text", "version", "updated_at"}
    valid: list[tuple[int, Any]] = []
    previous: dict[int, int | None] = {}
    for index, (record, values, created_at) in enumerate(changes):
        try:
            _unknown_fields(values, allowed)
            draft = fresh.get(record.pk)
            if draft is None:
                raise model.DoesNotExist  # type: ignore[attr-defined]  # every concrete model has it
            if draft.external_id and values.get("external_id", draft.external_id) != draft.external_id:
                raise ValidationError({"external_id": _("This field cannot be set here.")})
            previous[index] = draft.owner_id
            clean(draft, values)
            if created_at is not None:
                draft.created_at = created_at
                written.add("created_at")
            draft.version += 1
        except (*RULE_ERRORS, ObjectDoesNotExist) as exc:
            results[index] = exc
            continue
        written.update(_attname(model, name) for name in values)
        valid.append((index, draft))
    valid = _owners_checked(
        tenant=tenant,
        actor=actor,
        valid=valid,
        results=results,
        default=previous.__getitem__,
        member=lambda index: "owner" in changes[index][1],
    )
    with _history(actor):
        copy_update(model, [record for _index, record in valid], sorted(written))
    for index, record in valid:
        results[index] = record
    return results


def check_owner_assignable(
    *, tenant: Tenant, actor: User | None, owner_id: int | None, field: str = "owner"
) -> None:
    """The owner rule of every owned sales record (leads apply the same one, crm.visibility.can_edit_owned): a rep
    gives records only to themselves, a sales manager within their team (and to themselves). Other roles keep
    their own rules (admins anyone; cs and ops as their app rules say); system actors (None) are not limited.
    Call it for an owner the actor chose (a new record's default owner is not a choice), before saving: a
    ValidationError on the field, a 400 in the API."""
    if owner_id is None:
        return
    membership = actor_membership(tenant=tenant, actor=actor)
    if membership is None or membership.role not in (Role.SALES_REP, Role.SALES_MANAGER):
        return
    if not can_edit_owned(membership, owner_id):
        raise ValidationError({field: _("You cannot make this person the owner.")})


def _check_live(obj: models.Model | None, field: str) -> None:
    if obj is not None and getattr(obj, "deleted_at", None) is not None:
        raise ValidationError({field: _("This record was deleted.")})


def _attname(model: type[models.Model], name: str) -> str:
    """The column attribute of a concrete field (`owner` -> `owner_id`). Callers pass only names of concrete
    fields (a *_FIELDS tuple, a unique constraint), never reverse relations, which have no attname."""
    return cast(models.Field, model._meta.get_field(name)).attname


def _unknown_fields(fields: dict, allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})


def check_external_id_free(
    *,
    tenant: Tenant,
    actor: User | None,
    obj: models.Model,
    can_edit: Callable[[Membership, Any], bool],
    message: str,
) -> None:
    """A unique constraint allows one record per external id in a company (deleted ones included): a clash is a
    field error, `message` when the actor may change the other record (`can_edit(membership, record)`; system
    actors may), else the one message that does not say whether the actor can see it (crm.records)."""
    external_id = getattr(obj, "external_id", "")
    if not external_id:
        return
    model = type(obj)
    clash = model._default_manager.filter(tenant=tenant, external_id=external_id).exclude(pk=obj.pk).first()
    if clash is None:
        return
    membership = actor_membership(tenant=tenant, actor=actor)
    raise external_id_clash(editable=membership is None or can_edit(membership, clash), message=message)


def activity_can_edit(membership: Membership, activity: Any) -> bool:
    """The activity API's rule: the owner changes an activity; admins, and managers within their team, too."""
    if activity.owner_id == membership.user_id or membership.role == Role.ADMIN:
        return True
    return membership.role == Role.SALES_MANAGER and can_edit_owned(membership, activity.owner_id)
