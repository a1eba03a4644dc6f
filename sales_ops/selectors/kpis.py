"""Reads of sales_ops: snapshot rows of the current set within the member's visibility, recompute jobs."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from crm.models import Membership, Role, Tenant, User
from crm.visibility import team_user_ids
from sales_ops.models import Dimension, KpiRecompute, KpiSnapshot


def snapshot_visibility(membership: Membership) -> Q | None:
    """Which rows a member reads (DESIGN.md, issue 9): admin and ops every row; a sales manager `all`, their
    team and their team members' `owner` rows; a rep `all` and their own `owner` rows; cs `all`. None: all."""
    if membership.role in (Role.ADMIN, Role.OPS):
        return None
    visible = Q(dimension=Dimension.ALL)
    if membership.role == Role.SALES_MANAGER:
        if membership.team is not None:
            visible |= Q(dimension=Dimension.TEAM, dimension_value=membership.team.name)
        emails = User.objects.filter(pk__in=team_user_ids(membership)).values_list("email", flat=True)
        visible |= Q(dimension=Dimension.OWNER, dimension_value__in=list(emails))
    elif membership.role == Role.SALES_REP:
        visible |= Q(dimension=Dimension.OWNER, dimension_value=membership.user.email)
    return visible


def kpi_snapshot_list(*, tenant: Tenant, membership: Membership) -> QuerySet[KpiSnapshot]:
    """Rows of the tenant's current snapshot set (one statement joins the set, so a swap is never seen half
    done) that the member may read."""
    rows = KpiSnapshot.objects.filter(tenant=tenant, snapshot_set__is_current=True)
    visible = snapshot_visibility(membership)
    return rows if visible is None else rows.filter(visible)


def kpi_recompute_get(*, tenant: Tenant, pk: int) -> KpiRecompute:
    return KpiRecompute.objects.get(tenant=tenant, pk=pk)


def kpi_recompute_queryset(*, tenant: Tenant) -> QuerySet[KpiRecompute]:
    return KpiRecompute.objects.filter(tenant=tenant)
