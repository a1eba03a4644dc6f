"""Reads of contacts: the list, one contact, choices, the deleted contact of the restore banner and a contact's
deals."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.filters.contacts import ContactFilterSet
from accounts.models import Contact, Opportunity
from accounts.selectors.opportunities import opportunity_base
from accounts.selectors.visibility import _with_can_edit, contact_queryset, contact_visibility_q
from crm.filtering import filterset_rows
from crm.models import Membership, Tenant


def contact_list(*, tenant: Tenant, membership: Membership, filters: dict | None = None) -> QuerySet[Contact]:
    qs = contact_queryset(tenant=tenant, membership=membership).select_related("account", "owner")
    if filters:
        filterset = ContactFilterSet(filters, queryset=qs, tenant=tenant, membership=membership)
        qs = filterset_rows(filterset)
    return qs


def contact_get(*, tenant: Tenant, membership: Membership, pk: int, for_edit: bool = False) -> Contact:
    qs = contact_queryset(tenant=tenant, membership=membership, for_edit=for_edit).select_related(
        "account", "owner"
    )
    return _with_can_edit(qs, membership, Contact).get(pk=pk)


def contact_deleted_get(*, tenant: Tenant, membership: Membership, pk: Any) -> Contact | None:
    if not str(pk).isdecimal():
        return None
    qs = Contact.objects.filter(tenant=tenant, pk=int(pk), merged_into=None).exclude(deleted_at=None)
    q = contact_visibility_q(membership, for_edit=True)
    return (qs if q is None else qs.filter(q)).first()


def contact_opportunities(*, tenant: Tenant, membership: Membership, contact: Contact) -> list[Opportunity]:
    """Deals the contact has a role on that the member may see (the contact page's deal list)."""
    return list(
        opportunity_base(tenant=tenant, membership=membership)
        .filter(contact_roles__contact=contact)
        .select_related("stage", "account")
        .order_by("-created_at", "-pk")[:50]
    )


def contact_choices(*, tenant: Tenant, membership: Membership) -> QuerySet[Contact]:
    return contact_queryset(tenant=tenant, membership=membership).order_by("last_name", "first_name", "pk")
