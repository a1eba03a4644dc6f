"""Reads of quotas: the rows a member may read (API, export) and the quota grid (months × people) of a fiscal year.

Who reads what: admin and ops every quota; a sales manager the tenant's rows, their team's row and their team
members' rows; a rep their own rows; cs the tenant's rows. Who edits: sales_ops.services.quotas.quota_can_edit (the grid's `editable` applies the same rule).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from crm.models import Membership, MembershipStatus, Role, Team, Tenant
from crm.visibility import team_user_ids
from sales_ops.models import Quota

SALES_ROLES = (Role.SALES_REP, Role.SALES_MANAGER)


def quota_visibility(membership: Membership) -> Q | None:
    """The quota rows a member reads; None: all of them."""
    if membership.role in (Role.ADMIN, Role.OPS):
        return None
    tenant_rows = Q(owner__isnull=True, team__isnull=True)
    if membership.role == Role.SALES_MANAGER:
        visible = tenant_rows | Q(owner_id__in=team_user_ids(membership))
        if membership.team_id is not None:
            visible |= Q(team_id=membership.team_id)
        return visible
    if membership.role == Role.SALES_REP:
        return Q(owner_id=membership.user_id)
    return tenant_rows


def quota_list(*, tenant: Tenant, membership: Membership) -> QuerySet[Quota]:
    """The tenant's quotas the member may read, with their owner and team (no N+1)."""
    rows = Quota.objects.filter(tenant=tenant).select_related("owner", "team")
    visible = quota_visibility(membership)
    return rows if visible is None else rows.filter(visible)


def fiscal_months(*, tenant: Tenant, year: int) -> list[datetime.date]:
    """The 12 months of fiscal year `year` (the one starting in `year`'s fiscal start month)."""
    first = tenant.fiscal_year_start_month
    return [datetime.date(year + (first - 1 + i) // 12, (first - 1 + i) % 12 + 1, 1) for i in range(12)]


def _editable(membership: Membership, target: dict[str, Any], owner_ids: set[int] | None) -> bool:
    """sales_ops.services.quotas.quota_can_edit, with the manager's team members already loaded."""
    if membership.role in (Role.ADMIN, Role.OPS):
        return True
    if membership.role != Role.SALES_MANAGER or membership.team_id is None:
        return False
    if target["team_id"] is not None:
        return bool(target["team_id"] == membership.team_id)
    return target["owner_id"] is not None and owner_ids is not None and target["owner_id"] in owner_ids


def quota_grid(*, tenant: Tenant, membership: Membership, year: int) -> dict[str, Any]:
    """The quota grid of fiscal year `year` for the member: {"year", "months", "rows"}; each row is
    {"key", "label", "level", "owner_id", "team_id", "editable", "cells" (12 amounts or None), "total"}.
    Rows: the tenant, then each team, then each active sales person, limited to what the member may read (a
    manager: the tenant read-only, their team and its people; a rep: their own row; cs: the tenant). Three
    queries (four for a manager: their team's people)."""
    months = fiscal_months(tenant=tenant, year=year)
    role = membership.role
    sees_all = role in (Role.ADMIN, Role.OPS)
    team_ids: set[int] | None = None if sees_all else ({membership.team_id} if membership.team_id else set())
    owner_ids: set[int] | None = None
    if role == Role.SALES_MANAGER:
        owner_ids = team_user_ids(membership)
    elif role == Role.SALES_REP:
        owner_ids, team_ids = {membership.user_id}, set()
    elif not sees_all:
        owner_ids, team_ids = set(), set()

    targets: list[dict[str, Any]] = []
    if role != Role.SALES_REP:
        targets.append(
            {
                "key": "tenant",
                "label": _("Whole company"),
                "level": _("Company"),
                "owner_id": None,
                "team_id": None,
            }
        )
    teams = Team.objects.filter(tenant=tenant).order_by("name")
    if team_ids is not None:
        teams = teams.filter(pk__in=team_ids)
    for team in teams if team_ids is None or team_ids else []:
        targets.append(
            {
                "key": f"team-{team.pk}",
                "label": team.name,
                "level": _("Team"),
                "owner_id": None,
                "team_id": team.pk,
            }
        )
    if owner_ids is None or owner_ids:
        members = (
            Membership.objects.filter(tenant=tenant, status=MembershipStatus.ACTIVE, role__in=SALES_ROLES)
            .select_related("user", "team")
            .order_by("team__name", "user__email")
        )
        if owner_ids is not None:
            members = members.filter(user_id__in=owner_ids)
        for member in members:
            targets.append(
                {
                    "key": f"owner-{member.user_id}",
                    "label": member.user.display_name,
                    "level": member.team.name if member.team else _("No team"),
                    "owner_id": member.user_id,
                    "team_id": None,
                }
            )

    quotas = Quota.objects.filter(tenant=tenant, month__in=months)
    if not sees_all:
        # quota_visibility's rule, with the manager's team members already loaded above.
        visible = Q(owner_id__in=owner_ids or set()) | Q(team_id__in=team_ids or set())
        if role != Role.SALES_REP:
            visible |= Q(owner__isnull=True, team__isnull=True)
        quotas = quotas.filter(visible)
    amounts: dict[tuple[int | None, int | None, datetime.date], Decimal] = {
        (quota.owner_id, quota.team_id, quota.month): quota.amount for quota in quotas
    }
    rows = []
    for target in targets:
        cells = [amounts.get((target["owner_id"], target["team_id"], month)) for month in months]
        known = [cell for cell in cells if cell is not None]
        rows.append(
            {
                **target,
                "editable": _editable(membership, target, owner_ids),
                "cells": cells,
                "total": sum(known, Decimal(0)) if known else None,
            }
        )
    return {"year": year, "months": months, "rows": rows}
