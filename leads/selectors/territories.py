"""Territories (reads): list with members, one territory, assignable members, who round-robin gives next, and the
preview of the territory a lead would get."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from crm.models import Membership, MembershipStatus, Tenant, User
from leads.models import Territory, TerritoryMember
from leads.selectors.filtering import apply_filterset
from leads.selectors.setup_roles import can_read_config
from leads.services.assignment import ASSIGNABLE_ROLES, territory_for


def assignable_members(*, tenant: Tenant) -> QuerySet[Membership]:
    """Active members who may be in a territory (admins, managers, reps), for the members picker."""
    return (
        Membership.objects.filter(tenant=tenant, status=MembershipStatus.ACTIVE, role__in=ASSIGNABLE_ROLES)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def territory_list(
    *, tenant: Tenant, membership: Membership, filters: dict | None = None
) -> QuerySet[Territory]:
    """Territories by priority with their members (users) prefetched: three queries whatever the size."""
    if not can_read_config(membership):
        return Territory.objects.none()
    members = TerritoryMember.objects.filter(tenant=tenant).select_related("user").order_by("position", "id")
    qs = (
        Territory.objects.filter(tenant=tenant)
        .prefetch_related(Prefetch("territory_members", queryset=members))
        .order_by("priority", "name", "id")
    )
    return apply_filterset("territory", qs, filters)


def territory_get(*, tenant: Tenant, membership: Membership, pk: int) -> Territory:
    if not can_read_config(membership):
        raise Territory.DoesNotExist
    return territory_list(tenant=tenant, membership=membership).get(pk=pk)


def active_user_ids(*, tenant: Tenant) -> set[int]:
    return set(
        Membership.objects.filter(
            tenant=tenant, status=MembershipStatus.ACTIVE, role__in=ASSIGNABLE_ROLES
        ).values_list("user_id", flat=True)
    )


def territory_next_user(territory: Territory, active_ids: set[int]) -> User | None:
    """Who round-robin gives the next lead of this territory (uses the prefetched members)."""
    users = [m.user for m in territory.territory_members.all() if m.user_id in active_ids]
    return users[territory.rr_position % len(users)] if users else None


@dataclass
class TerritoryPreview:
    territory: Territory | None
    next_user: User | None


def territory_preview(*, tenant: Tenant, region: str, industry: str, size_band: str) -> TerritoryPreview:
    """The territory a lead with these attributes would get and who is next, without advancing round-robin."""
    territory, member_ids = territory_for(
        tenant=tenant, region=region, industry=industry, size_band=size_band
    )
    if territory is None:
        return TerritoryPreview(None, None)
    next_id = member_ids[territory.rr_position % len(member_ids)]
    return TerritoryPreview(territory, User.objects.get(pk=next_id))
