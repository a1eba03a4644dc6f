"""Member and team choices for owner pickers and list filters."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.selectors.visibility import member_scope
from crm.models import Membership, MembershipStatus, Role, Team, Tenant, User


def members_for_choices(*, tenant: Tenant) -> QuerySet[User]:
    """Active members of the tenant (owner choices and filters)."""
    return (
        User.objects.filter(
            memberships__tenant=tenant, memberships__status=MembershipStatus.ACTIVE, is_active=True
        )
        .distinct()
        .order_by("full_name", "email")
    )


def filter_member_choices(*, tenant: Tenant, membership: Membership) -> QuerySet[Membership]:
    """Owners offered in the deal filters: the people whose deals the member can see."""
    members = Membership.objects.filter(tenant=tenant).select_related("user")
    scope = member_scope(membership) if membership.role not in (Role.CS,) else None
    if scope is not None:
        members = members.filter(user_id__in=sorted(scope))
    return members.order_by("user__full_name", "user__email")


def filter_team_choices(*, tenant: Tenant, membership: Membership) -> QuerySet[Team]:
    teams = Team.objects.filter(tenant=tenant).order_by("name")
    if membership.role == Role.SALES_MANAGER:
        return teams.filter(pk=membership.team_id)
    if membership.role == Role.SALES_REP:
        return teams.none()
    return teams
