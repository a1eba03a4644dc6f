"""Writes of contacts: create, update (version-checked), delete and restore."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext as _

from accounts.models import Contact
from accounts.selectors.visibility import can_edit_contact
from accounts.services.common import (
    _attname,
    _check_live,
    _check_member,
    _history,
    _owners_checked,
    _prefetch_unchanged,
    _same_tenant,
    _unknown_fields,
    check_external_id_free,
    check_owner_assignable,
)
from crm.bulk import SetCleaner, copy_insert, copy_update
from crm.errors import AppError
from crm.models import Tenant, User
from crm.normalize import phone_digits
from crm.records import (
    actor_membership,
    record_restore,
    record_soft_delete,
    record_update_versioned,
    without_external_id_clashes,
)

CONTACT_FIELDS = ("external_id", "account", "first_name", "last_name", "email", "phone", "title", "owner")


def contact_search_text(contact: Contact) -> str:
    parts = [contact.first_name, contact.last_name, contact.email, contact.phone, phone_digits(contact.phone)]
    return " ".join(p.lower() for p in parts if p)


def contact_snapshot(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "version": contact.version,
        "account": contact.account_id,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
        "title": contact.title,
        "owner": contact.owner_id,
    }


# What a contact's full_clean leaves to the services: its relations and its derived search text.
CLEAN_EXCLUDE = ("tenant", "owner", "account", "merged_into", "search_text")


def _clean_contact(
    tenant: Tenant,
    contact: Contact,
    *,
    check_owner: bool = True,
    actor: User | None = None,
    cleaner: SetCleaner | None = None,
) -> None:
    """The rules every contact meets. With a `cleaner` (the set services: crm.bulk.SetCleaner over
    CLEAN_EXCLUDE, full_clean's field checks once per distinct value) it leaves out what asks the database for each
    contact: the owner's membership and the external id's clash (the caller checks both for the set) and
    full_clean's unique and constraint checks (the database refuses the set, whose rows are then written one by
    one)."""
    for name in ("first_name", "last_name", "phone", "title", "external_id"):
        setattr(contact, name, " ".join((getattr(contact, name) or "").split()))
    contact.email = (contact.email or "").strip().lower()
    if not (contact.first_name or contact.last_name or contact.email):
        raise ValidationError({"last_name": _("Enter a name or an email address.")})
    _same_tenant(tenant, contact.account, "account")
    _same_tenant(tenant, contact.owner, "owner")
    _check_live(contact.account, "account")
    if cleaner is not None:
        cleaner.clean(contact)
    else:
        if check_owner:
            _check_member(tenant, contact.owner)
        check_external_id_free(
            tenant=tenant,
            actor=actor,
            obj=contact,
            can_edit=lambda membership, other: can_edit_contact(
                tenant=tenant, membership=membership, contact=other
            ),
            message=_("Another contact has this external id."),
        )
        contact.full_clean(exclude=list(CLEAN_EXCLUDE))
    contact.search_text = contact_search_text(contact)


@transaction.atomic
def contact_create(*, tenant: Tenant, actor: User | None, **fields: Any) -> Contact:
    """Create a contact (owner defaults to the account's owner, else the actor)."""
    _unknown_fields(fields, CONTACT_FIELDS + ("created_at",))
    account = fields.get("account")
    default_owner = account.owner if account is not None and account.owner_id else actor
    if "owner" not in fields:
        fields["owner"] = default_owner
    contact = Contact(tenant=tenant, **fields)
    _clean_contact(tenant, contact, actor=actor)
    if contact.owner_id != (default_owner.pk if default_owner is not None else None):
        check_owner_assignable(tenant=tenant, actor=actor, owner_id=contact.owner_id)
    with _history(actor):
        contact.save()
    return contact


@transaction.atomic
def contact_update(
    *, tenant: Tenant, actor: User | None, contact: Contact, version: int | None, **fields: Any
) -> Contact:
    _unknown_fields(fields, CONTACT_FIELDS)
    draft = Contact.objects.get(tenant=tenant, pk=contact.pk)
    previous_owner_id = draft.owner_id
    for key, value in fields.items():
        setattr(draft, key, value)
    _clean_contact(tenant, draft, check_owner="owner" in fields, actor=actor)
    if draft.owner_id != previous_owner_id:
        check_owner_assignable(tenant=tenant, actor=actor, owner_id=draft.owner_id)
    attnames = [_attname(Contact, name) for name in fields]
    values = {attname: getattr(draft, attname) for attname in attnames}
    values["search_text"] = draft.search_text
    return record_update_versioned(
        queryset=Contact.objects.filter(tenant=tenant),
        instance=contact,
        expected_version=version,
        values=values,
        actor=actor,
        snapshot=contact_snapshot,
        message=_(
            "This record was changed by someone else since you opened it. Review their changes and save again."
        ),
    )


def _may_edit(tenant: Tenant, actor: User | None, contact: Contact) -> bool:
    membership = actor_membership(tenant=tenant, actor=actor)
    return membership is None or can_edit_contact(tenant=tenant, membership=membership, contact=contact)


@transaction.atomic
def contacts_create_many(
    *, tenant: Tenant, actor: User | None, drafts: Sequence[dict[str, Any]], external_ids_read: bool = False
) -> list[Contact | Exception]:
    """contact_create for many contacts at once (imports): `drafts` are its keyword arguments. The same rules, the
    owners' memberships in one query, each owner choice checked once, one query for the external ids (none when
    the caller `external_ids_read` them in this transaction: an import chunk's lookups) and one INSERT (history
    events from the database's statement trigger, booked to the actor). Returns, in the order of `drafts`, each
    created contact or the error that kept it out. A constraint only the database checks raises for the whole set
    (the caller creates them one by one to find the culprit)."""
    cleaner = SetCleaner(Contact, CLEAN_EXCLUDE)
    results: list[Contact | Exception | None] = [None] * len(drafts)
    # The accounts' owners (a contact's default owner), read for the set.
    prefetch_related_objects(
        [draft["account"] for draft in drafts if draft.get("account") is not None], "owner"
    )
    valid: list[tuple[int, Contact]] = []
    defaults: dict[int, int | None] = {}
    for index, draft in enumerate(drafts):
        fields = dict(draft)
        account = fields.get("account")
        default_owner = account.owner if account is not None and account.owner_id else actor
        fields.setdefault("owner", default_owner)
        defaults[index] = default_owner.pk if default_owner is not None else None
        try:
            _unknown_fields(draft, CONTACT_FIELDS + ("created_at",))
            contact = Contact(tenant=tenant, **fields)
            _clean_contact(tenant, contact, actor=actor, cleaner=cleaner)
        except (ValidationError, PermissionDenied, AppError) as exc:
            results[index] = exc
            continue
        valid.append((index, contact))
    checked = _owners_checked(
        tenant=tenant, actor=actor, valid=valid, results=results, default=defaults.__getitem__
    )
    checked = without_external_id_clashes(
        model=Contact,
        tenant=tenant,
        valid=checked,
        results=results,
        can_edit=lambda holder: _may_edit(tenant, actor, holder),
        message=_("Another contact has this external id."),
        read=external_ids_read,
    )
    contacts = [contact for _index, contact in checked]
    with _history(actor):
        copy_insert(Contact, contacts)
    for index, contact in checked:
        results[index] = contact
    return cast(list[Contact | Exception], results)  # every draft got its contact or its error above


@transaction.atomic
def contacts_update_many(
    *,
    tenant: Tenant,
    actor: User | None,
    changes: Sequence[tuple[Contact, dict[str, Any], datetime.datetime | None]],
) -> list[Contact | Exception]:
    """contact_update (no version check) for many contacts at once (imports: a file imported again), and the
    creation time an import keeps: the same rules, the contacts read again and locked in one query, the new owners'
    memberships in one, one UPDATE for the set (a history event for each from the database's row trigger, booked
    to the actor). `changes`: (the contact as read, its new values, its creation time or None). An external id
    does not change here, except that a contact without one takes the one given (the caller read every contact
    holding the ids given). Returns, in the order of `changes`, each updated contact or the error that kept it
    as it was. A constraint only the database checks raises for the whole set."""
    cleaner = SetCleaner(Contact, CLEAN_EXCLUDE)
    results: list[Contact | Exception | None] = [None] * len(changes)
    fresh = {
        contact.pk: contact
        for contact in Contact.objects.select_for_update(of=("self",)).filter(
            tenant=tenant, pk__in=[contact.pk for contact, _values, _at in changes]
        )
    }
    _prefetch_unchanged([(fresh[c.pk], v) for c, v, _at in changes if c.pk in fresh], ("account", "owner"))
    written: set[str] = {"search_text", "version", "updated_at"}
    valid: list[tuple[int, Contact]] = []
    previous: dict[int, int | None] = {}
    for index, (contact, values, created_at) in enumerate(changes):
        try:
            _unknown_fields(values, CONTACT_FIELDS)
            draft = fresh.get(contact.pk)
            if draft is None:
                raise Contact.DoesNotExist
            if draft.external_id and values.get("external_id", draft.external_id) != draft.external_id:
                raise ValidationError({"external_id": _("This field cannot be set here.")})
            previous[index] = draft.owner_id
            for key, value in values.items():
                setattr(draft, key, value)
            _clean_contact(tenant, draft, actor=actor, cleaner=cleaner)
            if created_at is not None:
                draft.created_at = created_at
                written.add("created_at")
            draft.version += 1
        except (ValidationError, PermissionDenied, AppError, Contact.DoesNotExist) as exc:
            results[index] = exc
            continue
        written.update(_attname(Contact, name) for name in values)
        valid.append((index, draft))
    valid = _owners_checked(
        tenant=tenant,
        actor=actor,
        valid=valid,
        results=results,
        default=previous.__getitem__,
        member=lambda index: "owner" in changes[index][1],
    )
    contacts = [contact for _index, contact in valid]
    with _history(actor):
        copy_update(Contact, contacts, sorted(written))
    for index, contact in valid:
        results[index] = contact
    return cast(list[Contact | Exception], results)  # every change got its contact or its error above


@transaction.atomic
def contact_delete(*, tenant: Tenant, actor: User | None, contact: Contact) -> Contact:
    return record_soft_delete(queryset=Contact.objects.filter(tenant=tenant), instance=contact, actor=actor)


@transaction.atomic
def contact_restore(*, tenant: Tenant, actor: User | None, contact: Contact) -> Contact:
    if contact.merged_into_id:
        raise AppError(_("This contact was merged into another one; undo the merge instead."))
    return record_restore(queryset=Contact.objects.filter(tenant=tenant), instance=contact, actor=actor)
