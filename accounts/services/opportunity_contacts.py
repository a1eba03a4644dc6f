"""Writes of a deal's contacts (the buying group): add, change role or primary, remove."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Contact, Opportunity, OpportunityContact
from accounts.services.opportunity_rules import _check_can_edit
from crm.history import stamps_actor
from crm.models import Tenant, User
from crm.records import actor_membership


@transaction.atomic
@stamps_actor
def opportunity_contact_add(
    *,
    tenant: Tenant,
    actor: User | None,
    opportunity: Opportunity,
    contact: Contact,
    role: str = "",
    is_primary: bool = False,
) -> OpportunityContact:
    """Link a contact of the deal's account to the deal with a role; a new primary replaces the old one."""
    membership = actor_membership(tenant=tenant, actor=actor)
    _check_can_edit(membership=membership, opportunity=opportunity)
    if contact.tenant_id != tenant.pk or contact.account_id != opportunity.account_id or contact.deleted_at:
        raise ValidationError({"contact": _("Choose a contact of the deal's account.")})
    if OpportunityContact.objects.filter(tenant=tenant, opportunity=opportunity, contact=contact).exists():
        raise ValidationError({"contact": _("This contact is already on the deal.")})
    if is_primary:
        OpportunityContact.objects.filter(tenant=tenant, opportunity=opportunity).update(is_primary=False)
    return OpportunityContact.objects.create(
        tenant=tenant,
        opportunity=opportunity,
        contact=contact,
        role=(role or "").strip()[:100],
        is_primary=is_primary,
    )


@transaction.atomic
@stamps_actor
def opportunity_contact_update(
    *,
    tenant: Tenant,
    actor: User | None,
    link: OpportunityContact,
    role: str | None = None,
    is_primary: bool | None = None,
) -> OpportunityContact:
    membership = actor_membership(tenant=tenant, actor=actor)
    _check_can_edit(membership=membership, opportunity=link.opportunity)
    if role is not None:
        link.role = role.strip()[:100]
    if is_primary is not None:
        if is_primary:
            OpportunityContact.objects.filter(tenant=tenant, opportunity_id=link.opportunity_id).exclude(
                pk=link.pk
            ).update(is_primary=False)
        link.is_primary = is_primary
    link.save()
    return link


@transaction.atomic
@stamps_actor
def opportunity_contact_remove(*, tenant: Tenant, actor: User | None, link: OpportunityContact) -> None:
    membership = actor_membership(tenant=tenant, actor=actor)
    _check_can_edit(membership=membership, opportunity=link.opportunity)
    link.delete()
