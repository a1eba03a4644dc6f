"""Territories (writes): create, edit, delete, reorder; members and their round-robin order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from crm.models import Tenant, User, ValueListKey
from crm.value_lists import match_value, value_list
from leads.models import Territory, TerritoryMember
from leads.services.assignment import assignable_user_ids


def _clean_list(values: Iterable[str] | None) -> list[str]:
    """Strip, drop empties and case-insensitive duplicates, keep the first spelling and the order."""
    seen: set[str] = set()
    result = []
    for value in values or []:
        value = (value or "").strip()
        if value and value.lower() not in seen:
            seen.add(value.lower())
            result.append(value)
    return result


def _validate_territory(tenant: Tenant, territory: Territory, member_ids: Sequence[int] | None) -> None:
    errors: dict[str, str] = {}
    if not territory.name:
        errors["name"] = _("Enter a name.")
    elif (
        Territory.objects.filter(tenant=tenant, name__iexact=territory.name).exclude(pk=territory.pk).exists()
    ):
        errors["name"] = _("A territory with this name already exists.")
    # Company sizes are values of the company's size band list; a band the territory has kept since it was retired
    # stays valid on it (crm.value_lists).
    kept = set()
    if territory.pk:
        kept = set(
            Territory.objects.filter(tenant=tenant, pk=territory.pk)
            .values_list("size_bands", flat=True)
            .first()
            or []
        )
    bands = value_list(tenant=tenant, list_key=ValueListKey.SIZE_BAND)
    found = [match_value(bands, b, current=b if b in kept else "") for b in territory.size_bands]
    bad_bands = [b for b, value in zip(territory.size_bands, found, strict=True) if value is None]
    territory.size_bands = [value for value in found if value is not None]  # as the list spells them
    if bad_bands:
        errors["size_bands"] = _("Unknown company size: %(values)s.") % {"values": ", ".join(bad_bands)}
    if territory.priority is None or int(territory.priority) < 0:
        errors["priority"] = _("The priority must be zero or more.")
    if member_ids is not None:
        unknown = set(member_ids) - assignable_user_ids(tenant=tenant)
        if unknown:
            errors["members"] = _(
                "Members must be active admins, sales managers or sales reps of this company."
            )
    if errors:
        raise ValidationError(errors)


def _set_territory_members(tenant: Tenant, territory: Territory, member_ids: Sequence[int]) -> None:
    ordered = list(dict.fromkeys(int(pk) for pk in member_ids))
    TerritoryMember.objects.filter(tenant=tenant, territory=territory).exclude(user_id__in=ordered).delete()
    existing = {m.user_id: m for m in TerritoryMember.objects.filter(tenant=tenant, territory=territory)}
    changed, created = [], []
    for position, user_id in enumerate(ordered):
        member = existing.get(user_id)
        if member is None:
            created.append(
                TerritoryMember(tenant=tenant, territory=territory, user_id=user_id, position=position)
            )
        elif member.position != position:
            member.position = position
            changed.append(member)
    TerritoryMember.objects.bulk_update(changed, ["position"])
    TerritoryMember.objects.bulk_create(created)


def _apply_territory_fields(territory: Territory, fields: dict) -> None:
    if "name" in fields:
        territory.name = (fields["name"] or "").strip()
    for key in ("regions", "industries", "size_bands"):
        if key in fields:
            setattr(territory, key, _clean_list(fields[key]))
    for key in ("priority", "is_active"):
        if key in fields and fields[key] is not None:
            setattr(territory, key, fields[key])


@transaction.atomic
def territory_create(
    *, tenant: Tenant, actor: User, member_ids: Sequence[int] = (), **fields: object
) -> Territory:
    """Create a territory with its members (round-robin in the given order)."""
    territory = Territory(tenant=tenant)
    _apply_territory_fields(territory, fields)
    _validate_territory(tenant, territory, member_ids)
    try:
        with transaction.atomic():
            territory.save()
    except IntegrityError as exc:
        raise ValidationError({"name": _("A territory with this name already exists.")}) from exc
    _set_territory_members(tenant, territory, member_ids)
    return territory


@transaction.atomic
def territory_update(
    *,
    tenant: Tenant,
    actor: User,
    territory: Territory,
    member_ids: Sequence[int] | None = None,
    **fields: object,
) -> Territory:
    """Change criteria, priority, activity and (when given) the members; locks the row like assignment does."""
    territory = Territory.objects.select_for_update().get(tenant=tenant, pk=territory.pk)
    _apply_territory_fields(territory, fields)
    _validate_territory(tenant, territory, member_ids)
    territory.save()
    if member_ids is not None:
        _set_territory_members(tenant, territory, member_ids)
    return territory


@transaction.atomic
def territory_delete(*, tenant: Tenant, actor: User, territory: Territory) -> None:
    """Delete a territory and its members; its leads keep their owners and lose the territory link."""
    Territory.objects.filter(tenant=tenant, pk=territory.pk).delete()


@transaction.atomic
def territory_move(*, tenant: Tenant, actor: User, territory: Territory, direction: str) -> None:
    """Swap places with the neighbour above ("up") or below ("down"); priorities are renumbered 10, 20, ...
    so the order stays unambiguous."""
    ordered = list(
        Territory.objects.select_for_update().filter(tenant=tenant).order_by("priority", "name", "id")
    )
    index = next((i for i, t in enumerate(ordered) if t.pk == territory.pk), None)
    if index is None:
        raise Territory.DoesNotExist
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    territory_reorder(tenant=tenant, actor=actor, ordered_ids=[t.pk for t in ordered])


@transaction.atomic
def territory_reorder(*, tenant: Tenant, actor: User, ordered_ids: Sequence[int]) -> None:
    """Set priorities 10, 20, ... in the given order; territories not listed keep their relative order after."""
    territories = list(
        Territory.objects.select_for_update().filter(tenant=tenant).order_by("priority", "name", "id")
    )
    by_id = {t.pk: t for t in territories}
    ordered = [by_id[pk] for pk in dict.fromkeys(ordered_ids) if pk in by_id]
    ordered += [t for t in territories if t not in ordered]
    for position, territory in enumerate(ordered, start=1):
        territory.priority = position * 10
    Territory.objects.bulk_update(ordered, ["priority"])
