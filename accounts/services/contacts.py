"""Writes of contacts: create, update (version-checked), delete and restore."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext as _

from accounts.models import Contact
from accounts.selectors.visibility import can_edit_contact
from accounts.services.common import (
    _attname,
    _check_live,
    _check_member,
    _create_set,
    _history,
    _same_tenant,
    _unknown_fields,
    _update_set,
    check_external_id_free,
    check_owner_assignable,
)
from crm.bulk import SetCleaner
from crm.errors import AppError
from crm.models import Tenant, User
from crm.normalize import phone_digits
from crm.records import (
    record_restore,
    record_soft_delete,
    record_update_versioned,
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
    # The accounts' owners (a contact's default owner), read for the set.
    prefetch_related_objects(
        [draft["account"] for draft in drafts if draft.get("account") is not None], "owner"
    )
    defaults: dict[int, int | None] = {}

    def build(index: int) -> Contact:
        draft = drafts[index]
        account = draft.get("account")
        default_owner = account.owner if account is not None and account.owner_id else actor
        defaults[index] = default_owner.pk if default_owner is not None else None
        _unknown_fields(draft, CONTACT_FIELDS + ("created_at",))
        contact = Contact(tenant=tenant, **{"owner": default_owner, **draft})
        _clean_contact(tenant, contact, actor=actor, cleaner=cleaner)
        return contact

    return _create_set(
        model=Contact,
        tenant=tenant,
        actor=actor,
        count=len(drafts),
        build=build,
        default=defaults.__getitem__,
        can_edit=lambda membership, other: can_edit_contact(
            tenant=tenant, membership=membership, contact=other
        ),
        message=_("Another contact has this external id."),
        external_ids_read=external_ids_read,
    )


@transaction.atomic
def contacts_update_many(
    *,
    tenant: Tenant,
    actor: User | None,
    changes: Sequence[tuple[Contact, dict[str, Any], datetime.datetime | None]],
) -> list[Contact | Exception]:
    """contact_update (no version check) for many contacts at once (imports: a file imported again), and the
    creation time an import keeps: `changes` are (the contact as read, its new values, its creation time or None).
    The same rules for the set (accounts.services.common._update_set: read again and locked in one query, one
    UPDATE). Returns, in the order of `changes`, each updated contact or the error that kept it as it was."""
    cleaner = SetCleaner(Contact, CLEAN_EXCLUDE)

    def clean(contact: Contact, values: dict[str, Any]) -> None:
        for key, value in values.items():
            setattr(contact, key, value)
        _clean_contact(tenant, contact, actor=actor, cleaner=cleaner)

    return _update_set(
        model=Contact,
        tenant=tenant,
        actor=actor,
        changes=changes,
        allowed=CONTACT_FIELDS,
        relations=("account", "owner"),
        clean=clean,
    )


@transaction.atomic
def contact_delete(*, tenant: Tenant, actor: User | None, contact: Contact) -> Contact:
    return record_soft_delete(queryset=Contact.objects.filter(tenant=tenant), instance=contact, actor=actor)


@transaction.atomic
def contact_restore(*, tenant: Tenant, actor: User | None, contact: Contact) -> Contact:
    if contact.merged_into_id:
        raise AppError(_("This contact was merged into another one; undo the merge instead."))
    return record_restore(queryset=Contact.objects.filter(tenant=tenant), instance=contact, actor=actor)
