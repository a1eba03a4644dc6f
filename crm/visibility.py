"""Role visibility inside a tenant (DESIGN.md "Roles and visibility"), shared by every app's selectors.

`owner_scope(membership)` answers "whose records does this member see?": None means everyone's (admin, ops;
cs for customer records), otherwise the set of user ids — a rep's own, a manager's team (and their own).
Apps combine it with their own rules (a rep also sees accounts they work on, cs sees customer accounts).
"""

from __future__ import annotations

from crm.models import Membership, Role

SEES_ALL = frozenset({Role.ADMIN, Role.OPS})


def team_user_ids(membership: Membership) -> set[int]:
    """The manager and every member of their team, whatever the membership's status: records owned by a rep who
    left (deactivated) or has not logged in yet (invited, e.g. after a migration) stay the team's to see and
    to hand over (issue 10: visibility treats deactivated owners like anyone)."""
    ids = {membership.user_id}
    if membership.team_id:
        ids.update(
            Membership.objects.filter(tenant_id=membership.tenant_id, team_id=membership.team_id).values_list(
                "user_id", flat=True
            )
        )
    return ids


def owner_scope(membership: Membership) -> set[int] | None:
    if membership.role in SEES_ALL:
        return None
    if membership.role == Role.SALES_MANAGER:
        return team_user_ids(membership)
    return {membership.user_id}


def can_edit_owned(membership: Membership, owner_id: int | None) -> bool:
    """Edit rights on an owned sales record: admins all, managers their team's, reps their own; ops and cs
    edit only what their own app rules grant them (they call this and add their cases)."""
    if membership.role == Role.ADMIN:
        return True
    if membership.role == Role.SALES_MANAGER:
        return owner_id is None or owner_id in team_user_ids(membership)
    if membership.role == Role.SALES_REP:
        return owner_id == membership.user_id
    return False
