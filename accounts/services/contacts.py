"""Writes of contacts: create, update (version-checked), delete and restore."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Contact
from accounts.selectors.visibility import can_edit_contact
from accounts.services.common import (
    _attname,
    _check_live,
    _check_member,
    _history,
    _same_tenant,
    _unknown_fields,
    check_external_id_free,
    check_owner_assignable,
)
from crm.errors import AppError
from crm.models import Tenant, User
from crm.normalize import phone_digits
from crm.records import record_restore, record_soft_delete, record_update_versioned

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


def _clean_contact(
    tenant: Tenant, contact: Contact, *, check_owner: bool = True, actor: User | None = None
) -> None:
    for name in ("first_name", "last_name", "phone", "title", "external_id"):
        setattr(contact, name, re.sub(r"\s+", " ", (getattr(contact, name) or "").strip()))
    contact.email = (contact.email or "").strip().lower()
    if not (contact.first_name or contact.last_name or contact.email):
        raise ValidationError({"last_name": _("Enter a name or an email address.")})
    _same_tenant(tenant, contact.account, "account")
    _same_tenant(tenant, contact.owner, "owner")
    _check_live(contact.account, "account")
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
    contact.full_clean(exclude=["tenant", "owner", "account", "merged_into", "search_text"])
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
def contact_delete(*, tenant: Tenant, actor: User | None, contact: Contact) -> Contact:
    return record_soft_delete(queryset=Contact.objects.filter(tenant=tenant), instance=contact, actor=actor)


@transaction.atomic
def contact_restore(*, tenant: Tenant, actor: User | None, contact: Contact) -> Contact:
    if contact.merged_into_id:
        raise AppError(_("This contact was merged into another one; undo the merge instead."))
    return record_restore(queryset=Contact.objects.filter(tenant=tenant), instance=contact, actor=actor)
