"""Who reads and edits the acquisition set-up (DESIGN.md roles): lead sources and campaigns are read by every
selling role (admin, ops, managers, reps: they pick them on leads) and edited by admin and ops; territories and
scoring rules are read by admin, ops and managers. Customer success sees none of it."""

from __future__ import annotations

from crm.models import Membership, Role
from crm.visibility import owner_scope

EDIT_ROLES = frozenset({Role.ADMIN, Role.OPS})


SOURCE_READ_ROLES = frozenset({Role.ADMIN, Role.OPS, Role.SALES_MANAGER, Role.SALES_REP})


CONFIG_READ_ROLES = frozenset({Role.ADMIN, Role.OPS, Role.SALES_MANAGER})


def can_edit(membership: Membership) -> bool:
    return membership.role in EDIT_ROLES


def can_read_sources(membership: Membership) -> bool:
    return membership.role in SOURCE_READ_ROLES


def can_read_config(membership: Membership) -> bool:
    return membership.role in CONFIG_READ_ROLES


def sees_all_leads(membership: Membership) -> bool:
    return owner_scope(membership) is None
