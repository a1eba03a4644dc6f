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


def _lead_workers(tenant: Tenant, user_ids: set[int]) -> set[int]:
    """Of `user_ids`, the members who may own leads here (a role that works leads, a status an owner may have)."""
    return set(
        Membership.objects.filter(
            tenant=tenant, user_id__in=user_ids, status__in=owner_statuses(), role__in=ASSIGNABLE_ROLES
        ).values_list("user_id", flat=True)
    )


def _owner_error(membership: Membership | None, owner_id: int, works_leads: bool) -> ValidationError | None:
    if not works_leads:
        return ValidationError({"owner": _("The owner must be an active member who works leads.")})
    if membership is not None and not can_edit_owned(membership, owner_id):
        return ValidationError({"owner": _("You cannot give a lead to this person.")})
    return None


def check_owner(*, tenant: Tenant, membership: Membership | None, owner: User | None) -> None:
    """`owner` works leads in this company and the actor may give them a lead."""
    if owner is None:
        return
    refused = _owner_error(membership, owner.pk, bool(_lead_workers(tenant, {owner.pk})))
    if refused is not None:
        raise refused


def check_owners(
    *, tenant: Tenant, membership: Membership | None, owner_ids: set[int]
) -> dict[int, ValidationError | None]:
    """check_owner for many owners in one query (a chunk of imported leads): owner id -> the error that refuses
    them, or None."""
    workers = _lead_workers(tenant, owner_ids) if owner_ids else set()
    return {pk: _owner_error(membership, pk, pk in workers) for pk in owner_ids}
