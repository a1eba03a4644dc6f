"""Writes of monthly quotas (KPIS.md "Quotas"): create, update, delete (API, import) and the grid's bulk save.
Who may set which quota: admins and ops every row; a sales manager their team's row and their team members' rows.
Saving or deleting a quota schedules the debounced KPI recompute (sales_ops.receivers)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.models import Membership, MembershipStatus, Role, Team, Tenant, User
from crm.records import external_id_clash
from crm.visibility import team_user_ids
from sales_ops.models import Quota

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
