"""Checks every lead write shares: edit rights on a lead, who may own a lead, same-tenant references (the actor's
membership and the history stamp are crm.records.actor_membership and crm.history.history_actor)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from crm.imported import owner_statuses
from crm.models import Membership, Tenant, User
from crm.visibility import can_edit_owned
from leads.models import Lead
from leads.selectors.leads import ASSIGNABLE_ROLES, lead_can_edit


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
        tenant=tenant, user=owner, status__in=owner_statuses(), role__in=ASSIGNABLE_ROLES
    ).exists():
        raise ValidationError({"owner": _("The owner must be an active member who works leads.")})
    if membership is not None and not can_edit_owned(membership, owner.pk):
        raise ValidationError({"owner": _("You cannot give a lead to this person.")})
