"""Writes of monthly quotas (KPIS.md "Quotas"): the grid's bulk save. Who may set which quota: admins and ops
every row; a sales manager their team's row and their team members' rows."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.models import Membership, Role, Tenant, User
from crm.visibility import team_user_ids
from sales_ops.models import Quota


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
