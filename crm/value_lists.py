"""The company's value lists (campaign channel, industry, company size, region, lost reason): who may edit them."""

from __future__ import annotations

from crm.models import Membership, Role

EDIT_ROLES = frozenset({Role.ADMIN})


def value_lists_can_edit(membership: Membership | None) -> bool:
    return membership is not None and membership.role in EDIT_ROLES
