"""Writes of monthly quotas (KPIS.md "Quotas"): create, update, delete (API, import) and the grid's bulk save.
Who may set which quota: admins and ops every row; a sales manager their team's row and their team members' rows.
Saving or deleting a quota schedules the debounced KPI recompute (sales_ops.receivers)."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.bulk import copy_insert, copy_update
from crm.models import Membership, MembershipStatus, Role, Team, Tenant, User
from crm.records import external_id_clash, with_external_ids
from crm.visibility import team_user_ids
from sales_ops.models import Quota
from sales_ops.services.triggers import kpi_recompute_soon, kpi_refresh_soon

# The model holds 18 digits with 2 decimals; a monthly quota above a trillion is a typo, not a plan.
MAX_AMOUNT = Decimal("1000000000000.00")


@dataclass(frozen=True)
class QuotaCell:
    """One month of one target: owner (user id), team (team id) or neither (the tenant). amount None: no quota."""

    month: datetime.date
    amount: Decimal | None
    owner_id: int | None = None
    team_id: int | None = None


def quota_can_edit(*, membership: Membership, owner_id: int | None, team_id: int | None) -> bool:
    if membership.role in (Role.ADMIN, Role.OPS):
        return True
    if membership.role != Role.SALES_MANAGER:
        return False
    if team_id is not None:
        return team_id == membership.team_id
    if owner_id is not None:
        return owner_id in team_user_ids(membership)
    return False


@transaction.atomic
def quota_bulk_set(*, tenant: Tenant, actor: User, membership: Membership, cells: list[QuotaCell]) -> int:
    """Set (or clear, amount None) each cell's monthly quota; returns how many rows changed. All or nothing:
    a cell the member may not edit, a month not on its first day or a negative amount refuses the whole save.
    Side effect: the KPI recompute follows (sales_ops receivers watch Quota saves)."""
    errors = []
    for cell in cells:
        if cell.month.day != 1:
            errors.append(_("A quota month starts on its first day."))
        if cell.amount is not None and cell.amount < 0:
            errors.append(_("A quota cannot be negative."))
        if cell.amount is not None and cell.amount > MAX_AMOUNT:
            errors.append(_("A quota is at most %(max)s.") % {"max": f"{MAX_AMOUNT:,.0f}"})
        if cell.owner_id is not None and cell.team_id is not None:
            errors.append(_("A quota belongs to a person or a team, not both."))
        if not quota_can_edit(membership=membership, owner_id=cell.owner_id, team_id=cell.team_id):
            raise PermissionDenied
    if errors:
        raise ValidationError(sorted(set(errors)))
    months = {cell.month for cell in cells}
    existing = {
        (q.owner_id, q.team_id, q.month): q
        for q in Quota.objects.filter(tenant=tenant, month__in=months).select_for_update()
    }
    changed = 0
    for cell in cells:
        current = existing.get((cell.owner_id, cell.team_id, cell.month))
        if cell.amount is None:
            if current is not None:
                current.delete()
                changed += 1
            continue
        amount = cell.amount.quantize(Decimal("0.01"))
        if current is None:
            Quota.objects.create(
                tenant=tenant, owner_id=cell.owner_id, team_id=cell.team_id, month=cell.month, amount=amount
            )
            changed += 1
        elif current.amount != amount:
            current.amount = amount
            current.save(update_fields=["amount", "updated_at"])
            changed += 1
    return changed


# --- one quota at a time (API, import) ---------------------------------------------------------------------


def quota_validate_month(value: Any) -> datetime.date:
    if not isinstance(value, datetime.date):
        raise ValidationError({"month": _("Enter a date.")})
    if isinstance(value, datetime.datetime):
        value = value.date()
    if value.day != 1:
        raise ValidationError({"month": _("A quota's period starts on the first day of a month.")})
    return value


def quota_validate_amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"amount": _("Enter a number.")}) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError({"amount": _("A quota is zero or more.")})
    if amount > MAX_AMOUNT:
        raise ValidationError({"amount": _("A quota is at most %(max)s.") % {"max": f"{MAX_AMOUNT:,.0f}"}})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": _("Use at most two decimal places.")})
    return amount


def _check_target(*, tenant: Tenant, owner: User | None, team: Team | None) -> None:
    if owner is not None and team is not None:
        raise ValidationError(_("A quota belongs to an owner, to a team, or to neither (the whole tenant)."))
    if team is not None and team.tenant_id != tenant.pk:
        raise ValidationError({"team": _("Choose a team of this tenant.")})
    if owner is not None and not Membership.objects.filter(tenant=tenant, user=owner).exists():
        raise ValidationError({"owner": _("Choose a member of this tenant.")})


def _check_unique(
    *, tenant: Tenant, owner: User | None, team: Team | None, month: datetime.date, pk: int | None
) -> None:
    clash = Quota.objects.filter(tenant=tenant, owner=owner, team=team, month=month)
    if pk is not None:
        clash = clash.exclude(pk=pk)
    if clash.exists():
        raise ValidationError({"month": _("There is already a quota for this month; change that one.")})


def _check_external_id(*, tenant: Tenant, membership: Membership, external_id: str, pk: int | None) -> None:
    """One quota per external id; a clash with a quota the member may not change says no more than that the id is
    taken (crm.records.EXTERNAL_ID_UNAVAILABLE)."""
    if not external_id:
        return
    clash = Quota.objects.filter(tenant=tenant, external_id=external_id)
    if pk is not None:
        clash = clash.exclude(pk=pk)
    other = clash.first()
    if other is not None:
        editable = quota_can_edit(membership=membership, owner_id=other.owner_id, team_id=other.team_id)
        raise external_id_clash(editable=editable, message=_("Another quota has this external id."))


def _require_edit(membership: Membership, *, owner: User | None, team: Team | None) -> None:
    if not quota_can_edit(
        membership=membership, owner_id=owner.pk if owner else None, team_id=team.pk if team else None
    ):
        raise PermissionDenied(_("You may not change this quota."))


@transaction.atomic
def quota_create(
    *,
    tenant: Tenant,
    membership: Membership,
    month: datetime.date,
    amount: Any,
    owner: User | None = None,
    team: Team | None = None,
    external_id: str = "",
) -> Quota:
    """Create a monthly quota after validation and the edit-right check. Side effect: a KPI recompute soon."""
    month = quota_validate_month(month)
    amount = quota_validate_amount(amount)
    _check_target(tenant=tenant, owner=owner, team=team)
    _require_edit(membership, owner=owner, team=team)
    _check_unique(tenant=tenant, owner=owner, team=team, month=month, pk=None)
    _check_external_id(tenant=tenant, membership=membership, external_id=external_id, pk=None)
    return Quota.objects.create(
        tenant=tenant, owner=owner, team=team, month=month, amount=amount, external_id=external_id
    )


UNSET: Any = object()


@transaction.atomic
def quota_update(
    *,
    tenant: Tenant,
    membership: Membership,
    quota: Quota,
    month: Any = UNSET,
    amount: Any = UNSET,
    owner: Any = UNSET,
    team: Any = UNSET,
    external_id: Any = UNSET,
) -> Quota:
    """Change a quota (its month, amount, target or external id); the member must be allowed to edit it before
    and after. Side effect: a KPI recompute soon."""
    if quota.tenant_id != tenant.pk:
        raise Quota.DoesNotExist
    _require_edit(membership, owner=quota.owner, team=quota.team)
    if owner is not UNSET or team is not UNSET:
        quota.owner = None if owner is UNSET else owner
        quota.team = None if team is UNSET else team
    if month is not UNSET:
        quota.month = quota_validate_month(month)
    if amount is not UNSET:
        quota.amount = quota_validate_amount(amount)
    if external_id is not UNSET:
        quota.external_id = external_id or ""
    _check_target(tenant=tenant, owner=quota.owner, team=quota.team)
    _require_edit(membership, owner=quota.owner, team=quota.team)
    _check_unique(tenant=tenant, owner=quota.owner, team=quota.team, month=quota.month, pk=quota.pk)
    _check_external_id(tenant=tenant, membership=membership, external_id=quota.external_id, pk=quota.pk)
    quota.save()
    return quota


@transaction.atomic
def quota_delete(*, tenant: Tenant, membership: Membership, quota: Quota) -> None:
    """Delete a quota. Side effect: a KPI recompute soon."""
    if quota.tenant_id != tenant.pk:
        raise Quota.DoesNotExist
    _require_edit(membership, owner=quota.owner, team=quota.team)
    quota.delete()


# --- many quotas at once (an import's chunk) ---------------------------------------------------------------

# What quotas_save_many may set: a new quota all of them, a stored one its target, month and amount.
NEW_QUOTA_FIELDS = frozenset({"owner", "team", "month", "amount", "external_id"})
QUOTA_CHANGE_FIELDS = frozenset({"owner", "team", "month", "amount"})
Target = tuple[int | None, int | None, datetime.date]  # (owner id, team id, month): one quota each


def _editable(membership: Membership) -> Callable[[int | None, int | None], bool]:
    """quota_can_edit for one member and many targets: a manager's team read once."""
    team: set[int] | None = None

    def editable(owner_id: int | None, team_id: int | None) -> bool:
        nonlocal team
        if membership.role != Role.SALES_MANAGER or team_id is not None or owner_id is None:
            return quota_can_edit(membership=membership, owner_id=owner_id, team_id=team_id)
        if team is None:
            team = team_user_ids(membership)
        return owner_id in team

    return editable


@transaction.atomic
def quotas_save_many(
    *,
    tenant: Tenant,
    membership: Membership,
    changes: Sequence[tuple[Quota | None, dict[str, Any]]],
    external_ids_read: bool = False,
) -> list[Quota | Exception]:
    """quota_create (a change without a quota) and quota_update (a change of a stored quota: its target, month or
    amount) for many quotas at once, in the order of `changes`: the same rules and errors as those services one
    by one, with the reads done once for the set (the quotas to change, read again and locked; the owners'
    memberships; the months' quotas; the external ids, none when the caller `external_ids_read` them in this
    transaction: an import chunk's lookups). A change sees the changes before it, as one by one: a quota moved
    away frees its month for a later one. Then one UPDATE of the changed quotas and one INSERT of the new ones.
    Side effect: one KPI recompute and refresh soon. Returns, in order, each quota as saved or the error that
    kept it out; a constraint only the database checks raises for the whole set."""
    results: list[Quota | Exception | None] = [None] * len(changes)
    editable = _editable(membership)
    fresh = {
        quota.pk: quota
        for quota in Quota.objects.select_for_update(of=("self",))
        .filter(tenant=tenant, pk__in=[quota.pk for quota, _fields in changes if quota is not None])
        .select_related("owner", "team")
    }
    months: set[datetime.date] = {quota.month for quota in fresh.values()}
    owner_ids: set[int] = {quota.owner_id for quota in fresh.values() if quota.owner_id is not None}
    for _quota, fields in changes:
        with contextlib.suppress(ValidationError):  # a bad month is the change's own error, below
            months.add(quota_validate_month(fields.get("month")))
        if fields.get("owner") is not None:
            owner_ids.add(fields["owner"].pk)
    members = set(
        Membership.objects.filter(tenant=tenant, user_id__in=owner_ids).values_list("user_id", flat=True)
    )
    # Who holds each target of the months: a stored quota's id, or the index of a new quota of the set.
    holders: dict[Target, int | tuple[str, int]] = {
        (owner_id, team_id, month): pk
        for pk, owner_id, team_id, month in Quota.objects.filter(tenant=tenant, month__in=months).values_list(
            "pk", "owner_id", "team_id", "month"
        )
    }
    wanted = {str(fields.get("external_id") or "") for quota, fields in changes if quota is None} - {""}
    taken = (
        {}
        if external_ids_read or not wanted
        else {
            quota.external_id: quota for quota in with_external_ids(Quota, tenant=tenant, external_ids=wanted)
        }
    )
    seen: set[str] = set()

    def checked(owner: User | None, team: Team | None, month: datetime.date) -> Target:
        """quota_create's and quota_update's checks of a target in a month."""
        if owner is not None and team is not None:
            raise ValidationError(
                _("A quota belongs to an owner, to a team, or to neither (the whole tenant).")
            )
        if team is not None and team.tenant_id != tenant.pk:
            raise ValidationError({"team": _("Choose a team of this tenant.")})
        if owner is not None and owner.pk not in members:
            raise ValidationError({"owner": _("Choose a member of this tenant.")})
        if not editable(owner.pk if owner else None, team.pk if team else None):
            raise PermissionDenied(_("You may not change this quota."))
        return (owner.pk if owner else None, team.pk if team else None, month)

    new: list[Quota] = []
    changed: dict[int, Quota] = {}
    for index, (quota, fields) in enumerate(changes):
        try:
            if quota is None:
                unknown = set(fields) - NEW_QUOTA_FIELDS
                if unknown:
                    raise ValidationError(
                        {name: _("This field cannot be set here.") for name in sorted(unknown)}
                    )
                month = quota_validate_month(fields.get("month"))
                amount = quota_validate_amount(fields.get("amount"))
                owner, team = fields.get("owner"), fields.get("team")
                target = checked(owner, team, month)
                if target in holders:
                    raise ValidationError(
                        {"month": _("There is already a quota for this month; change that one.")}
                    )
                external_id = fields.get("external_id") or ""
                if external_id and (external_id in taken or external_id in seen):
                    holder = taken.get(external_id)
                    raise external_id_clash(
                        editable=holder is None or editable(holder.owner_id, holder.team_id),
                        message=_("Another quota has this external id."),
                    )
                created = Quota(
                    tenant=tenant, owner=owner, team=team, month=month, amount=amount, external_id=external_id
                )
                holders[target] = ("new", index)
                if external_id:
                    seen.add(external_id)
                new.append(created)
                results[index] = created
                continue
            unknown = set(fields) - QUOTA_CHANGE_FIELDS
            if unknown:
                raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})
            current = fresh.get(quota.pk)
            if current is None:
                raise Quota.DoesNotExist
            if not editable(current.owner_id, current.team_id):
                raise PermissionDenied(_("You may not change this quota."))
            owner, team = current.owner, current.team
            if "owner" in fields or "team" in fields:
                owner, team = fields.get("owner"), fields.get("team")
            month = quota_validate_month(fields["month"]) if "month" in fields else current.month
            amount = quota_validate_amount(fields["amount"]) if "amount" in fields else current.amount
            target = checked(owner, team, month)
            if holders.get(target, current.pk) != current.pk:
                raise ValidationError(
                    {"month": _("There is already a quota for this month; change that one.")}
                )
        except (ValidationError, PermissionDenied, ObjectDoesNotExist) as exc:
            results[index] = exc
            continue
        before = (current.owner_id, current.team_id, current.month)
        if holders.get(before) == current.pk:
            del holders[before]
        holders[target] = current.pk
        current.owner, current.team, current.month, current.amount = owner, team, month, amount
        changed[current.pk] = current
        results[index] = current
    # The changes first: a new quota may take a month a changed one left.
    copy_update(Quota, list(changed.values()), ["owner", "team", "month", "amount", "updated_at"])
    copy_insert(Quota, new)
    if changed or new:
        kpi_recompute_soon(tenant_id=tenant.pk)
        kpi_refresh_soon(tenant_id=tenant.pk)
    return cast(list[Quota | Exception], results)  # every change got its quota or its error


def quota_owner_lookup(*, tenant: Tenant, emails: Iterable[str]) -> dict[str, User]:
    """Members of the tenant (active, invited or deactivated) by lower-cased email, in one query."""
    wanted = {email.strip().lower() for email in emails if email and email.strip()}
    if not wanted:
        return {}
    members = Membership.objects.filter(
        tenant=tenant,
        user__email__in=wanted | {email.upper() for email in wanted},
        status__in=[MembershipStatus.ACTIVE, MembershipStatus.INVITED, MembershipStatus.DEACTIVATED],
    ).select_related("user")
    found = {member.user.email.lower(): member.user for member in members}
    missing = wanted - set(found)
    if missing:
        # Emails stored with other capitals: one more query, case-insensitive.
        for member in Membership.objects.filter(tenant=tenant).select_related("user"):
            if member.user.email.lower() in missing:
                found[member.user.email.lower()] = member.user
    return found
