"""Checks every lead write shares: the actor's membership, edit rights on a lead, who may own a lead, same-tenant
references, and the actor stamp in the pghistory context."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from crm.history import history_actor
from crm.models import Membership, MembershipStatus, Tenant, User
from crm.visibility import can_edit_owned
from leads.models import Lead
from leads.selectors.leads import ASSIGNABLE_ROLES, lead_can_edit


def lead_history(actor: User | None, **extra: Any) -> AbstractContextManager[Any]:
    """Stamp the actor (None: the system) and a reason into the pghistory context of the writes that follow; a
    context is opened for the system too, so no earlier actor of the same transaction is credited."""
    return history_actor(actor, **extra)


def actor_membership(*, tenant: Tenant, actor: User | None) -> Membership | None:
    """The actor's active membership; None for system actors (tasks, imports without a user)."""
    if actor is None:
        return None
    cached = getattr(actor, "_lead_membership_cache", None)
    if cached is not None and cached.tenant_id == tenant.pk:
        return cached
    membership = (
        Membership.objects.select_related("team")
        .filter(tenant=tenant, user=actor, status=MembershipStatus.ACTIVE)
        .first()
    )
    if membership is None:
        raise PermissionDenied(_("You are not a member of this company."))
    actor._lead_membership_cache = membership  # type: ignore[attr-defined]  # a per-instance cache
    return membership


def check_can_edit(membership: Membership | None, lead: Lead) -> None:
    if not lead_can_edit(membership=membership, lead=lead):
        raise PermissionDenied(_("You can view this lead but not change it."))


def check_same_tenant(tenant: Tenant, obj: Any, field: str) -> None:
    if obj is not None and getattr(obj, "tenant_id", tenant.pk) != tenant.pk:
        raise ValidationError(
            {field: _("Select a valid choice. That choice is not one of the available choices.")}
        )


def check_owner(*, tenant: Tenant, membership: Membership | None, owner: User | None) -> None:
    """`owner` works leads in this company and the actor may give them a lead."""
    if owner is None:
        return
    if not Membership.objects.filter(
        tenant=tenant, user=owner, status=MembershipStatus.ACTIVE, role__in=ASSIGNABLE_ROLES
    ).exists():
        raise ValidationError({"owner": _("The owner must be an active member who works leads.")})
    if membership is not None and not can_edit_owned(membership, owner.pk):
        raise ValidationError({"owner": _("You cannot give a lead to this person.")})
