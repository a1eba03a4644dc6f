"""Assignment rules: the territory that matches a lead and the next member of it (round-robin).

`lead_assign_by_rules(tenant=, lead=)` is called by the lead services on every create without a manual owner.
Manual assignment and the pool are in leads.services.pool."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from crm.models import Membership, MembershipStatus, Role, Tenant, User
from leads.models import Lead, Territory, TerritoryMember
from leads.services.criteria import criterion_norm

# Roles that work leads and may therefore be members of a territory.
ASSIGNABLE_ROLES = (Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP)


def territory_matches(territory: Territory, *, region: str, industry: str, size_band: str) -> bool:
    """Every non-empty criterion must match (case-insensitive for regions and industries)."""
    if territory.regions and criterion_norm(region) not in {criterion_norm(r) for r in territory.regions}:
        return False
    if territory.industries and criterion_norm(industry) not in {
        criterion_norm(i) for i in territory.industries
    }:
        return False
    return not territory.size_bands or (size_band or "") in set(territory.size_bands)


def assignable_user_ids(*, tenant: Tenant) -> set[int]:
    """Users who may be territory members: active members in a selling role."""
    return set(
        Membership.objects.filter(
            tenant=tenant, status=MembershipStatus.ACTIVE, role__in=ASSIGNABLE_ROLES
        ).values_list("user_id", flat=True)
    )


def territory_active_member_ids(*, tenant: Tenant, territory: Territory) -> list[int]:
    """User ids of the territory's members whose membership is active, in round-robin order."""
    active = Membership.objects.filter(
        tenant=tenant, status=MembershipStatus.ACTIVE, role__in=ASSIGNABLE_ROLES
    ).values("user_id")
    return list(
        TerritoryMember.objects.filter(tenant=tenant, territory=territory, user_id__in=active)
        .order_by("position", "id")
        .values_list("user_id", flat=True)
    )


def territory_for(
    *, tenant: Tenant, region: str, industry: str, size_band: str
) -> tuple[Territory | None, list[int]]:
    """The first active territory by priority that matches and has active members, with those members."""
    for territory in Territory.objects.filter(tenant=tenant, is_active=True).order_by(
        "priority", "name", "id"
    ):
        if not territory_matches(territory, region=region, industry=industry, size_band=size_band):
            continue
        member_ids = territory_active_member_ids(tenant=tenant, territory=territory)
        if member_ids:
            return territory, member_ids
    return None, []


@transaction.atomic
def lead_assign_by_rules(*, tenant: Tenant, lead: Lead) -> User | None:
    """Give an unowned lead the territory that matches it and the next member of that territory.

    A lead that already has an owner (a manual assignment) is left alone and its owner returned. Advances the
    territory's round-robin position under a row lock, so concurrent creates spread evenly. Saves owner and
    territory when the lead is already stored; an unsaved lead just gets the attributes (the caller saves).
    Returns the new owner, or None when no territory with active members matches (the lead stays in the pool).
    """
    if lead.owner_id:
        return lead.owner
    territory, _ids = territory_for(
        tenant=tenant, region=lead.region, industry=lead.industry, size_band=lead.size_band
    )
    if territory is None:
        return None
    locked = Territory.objects.select_for_update().get(tenant=tenant, pk=territory.pk)
    # Re-read the members under the lock: an edit of the territory may have committed meanwhile.
    member_ids = territory_active_member_ids(tenant=tenant, territory=locked) or _ids
    index = locked.rr_position % len(member_ids)
    Territory.objects.filter(tenant=tenant, pk=locked.pk).update(rr_position=(index + 1) % len(member_ids))
    owner = User.objects.get(pk=member_ids[index])
    lead.owner = owner
    lead.territory = locked
    if lead.pk:
        Lead.objects.filter(tenant=tenant, pk=lead.pk).update(
            owner=owner, territory=locked, updated_at=timezone.now()
        )
    return owner


@transaction.atomic
def leads_assign_by_rules_many(*, tenant: Tenant, leads: Sequence[Lead]) -> None:
    """lead_assign_by_rules for many unsaved, unowned leads at once (imports), in their order: the same first
    matching territory and the same round-robin, with the territories and their members read once and each used
    territory's position locked and advanced once. Leads no territory takes stay in the pool."""
    if not leads:
        return
    territories = list(
        Territory.objects.filter(tenant=tenant, is_active=True).order_by("priority", "name", "id")
    )
    if not territories:
        return
    active = Membership.objects.filter(
        tenant=tenant, status=MembershipStatus.ACTIVE, role__in=ASSIGNABLE_ROLES
    ).values("user_id")
    members: dict[int, list[int]] = {}
    for territory_id, user_id in (
        TerritoryMember.objects.filter(tenant=tenant, territory__in=territories, user_id__in=active)
        .order_by("position", "id")
        .values_list("territory_id", "user_id")
    ):
        members.setdefault(territory_id, []).append(user_id)
    staffed = [territory for territory in territories if members.get(territory.pk)]
    chosen: list[tuple[Lead, Territory]] = []
    for lead in leads:
        for territory in staffed:
            if territory_matches(
                territory, region=lead.region, industry=lead.industry, size_band=lead.size_band
            ):
                chosen.append((lead, territory))
                break
    if not chosen:
        return
    used = {territory.pk for _lead, territory in chosen}
    # Locked in one order (their ids), so two imports never wait on each other's locks crosswise.
    locked = {
        territory.pk: territory
        for territory in Territory.objects.select_for_update()
        .filter(tenant=tenant, pk__in=used)
        .order_by("pk")
    }
    positions = {pk: territory.rr_position for pk, territory in locked.items()}
    for lead, territory in chosen:
        member_ids = members[territory.pk]
        index = positions[territory.pk] % len(member_ids)
        positions[territory.pk] = (index + 1) % len(member_ids)
        lead.owner_id = member_ids[index]
        lead.territory = locked[territory.pk]
    for pk, position in positions.items():
        Territory.objects.filter(tenant=tenant, pk=pk).update(rr_position=position)
