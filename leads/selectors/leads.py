"""Lead reads: visibility (who sees and edits which lead), the inbox tabs, lists, one lead, bulk-action ids and
owner choices. Every read of leads starts from lead_queryset. Inbox pages, duplicates and the pool are their own
modules in this package."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from crm.models import Membership, MembershipStatus, Role, Tenant, User
from crm.visibility import can_edit_owned, owner_scope, team_user_ids
from leads.filters.leads import LeadFilterSet
from leads.models import Lead, LeadStatus

OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.MQL, LeadStatus.SQL)


STATUS_ORDER: list[str] = [
    LeadStatus.NEW,
    LeadStatus.WORKING,
    LeadStatus.MQL,
    LeadStatus.SQL,
    LeadStatus.CONVERTED,
]


# Roles that open leads at all (cs gets 404 everywhere), and the roles a lead may be given to.
LEAD_ROLES = (Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP, Role.OPS)


ASSIGNABLE_ROLES = (Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP)


CLAIM_ROLES = ASSIGNABLE_ROLES


def pool_q() -> Q:
    """An open lead nobody owns is in the public pool."""
    return Q(owner__isnull=True, status__in=OPEN_STATUSES)


def lead_visibility_q(membership: Membership) -> Q | None:
    """The leads `membership` may see: None means all of them; a Q matching nothing means none."""
    if membership.role not in LEAD_ROLES:
        return Q(pk__in=[])
    scope = owner_scope(membership)
    if scope is None:
        return None
    return Q(owner_id__in=scope) | pool_q()


def lead_queryset(*, tenant: Tenant, membership: Membership) -> QuerySet[Lead]:
    """Live (not deleted, not merged away) leads the member may see: the base of every lead read."""
    qs = Lead.objects.filter(tenant=tenant, deleted_at=None)
    q = lead_visibility_q(membership)
    return qs if q is None else qs.filter(q)


def _team_ids(membership: Membership) -> set[int]:
    """The manager's team (crm.visibility.team_user_ids), read once per membership instance: bulk actions ask
    lead_can_edit for every lead, which would otherwise cost a query per lead."""
    cached: set[int] | None = getattr(membership, "_lead_team_ids", None)
    if cached is None:
        cached = team_user_ids(membership)
        membership._lead_team_ids = cached  # type: ignore[attr-defined]  # a per-instance cache
    return cached


def lead_can_edit(*, membership: Membership | None, lead: Lead) -> bool:
    """Admins all, managers their team's and the pool's, reps their own (a pool lead is claimed first).
    Same rule as crm.visibility.can_edit_owned, with the manager's team read once."""
    if membership is None:
        return True
    if membership.role not in ASSIGNABLE_ROLES:
        return False
    if membership.role == Role.SALES_MANAGER:
        return lead.owner_id is None or lead.owner_id in _team_ids(membership)
    return can_edit_owned(membership, lead.owner_id)


def lead_scopes(membership: Membership) -> list[tuple[str, Any]]:
    """The inbox tabs the role gets, the first being the default."""
    if membership.role == Role.SALES_REP:
        return [("my", _("My leads"))]
    if membership.role == Role.SALES_MANAGER:
        return [("my", _("My leads")), ("team", _("My team"))]
    if membership.role in (Role.ADMIN, Role.OPS):
        return [("all", _("All leads")), ("my", _("My leads"))]
    return []


def _apply_scope(qs: QuerySet[Lead], membership: Membership, scope: str) -> QuerySet[Lead]:
    if scope == "my":
        return qs.filter(owner_id=membership.user_id)
    if scope == "team":
        team = owner_scope(membership)
        return qs if team is None else qs.filter(owner_id__in=team)
    return qs


def lead_scoped_queryset(*, tenant: Tenant, membership: Membership, scope: str) -> QuerySet[Lead]:
    """Live visible leads of one inbox tab. The "my" and "team" tabs lie inside what a lead role sees already
    (its own, its team's leads), so they leave out the visibility OR with the pool: a plain owner condition
    that PostgreSQL walks an owner index with, instead of combining two bitmaps and sorting the result."""
    if scope in ("my", "team") and membership.role in LEAD_ROLES:
        return _apply_scope(Lead.objects.filter(tenant=tenant, deleted_at=None), membership, scope)
    return _apply_scope(lead_queryset(tenant=tenant, membership=membership), membership, scope)


def lead_filterset(
    *,
    tenant: Tenant,
    membership: Membership,
    filters: Any = None,
    queryset: QuerySet | None = None,
    narrow_search: bool = True,
) -> LeadFilterSet:
    """`narrow_search=False` for rows that lead_inbox_page reads: it narrows to the matching ids itself, and a
    second `id = ANY(...)` on the same rows makes PostgreSQL price the primary key as the product of both lists
    and scan the table instead (150 ms at a million leads)."""
    return LeadFilterSet(
        filters if filters is not None else None,
        queryset=queryset if queryset is not None else lead_queryset(tenant=tenant, membership=membership),
        tenant=tenant,
        membership=membership,
        narrow_search=narrow_search,
    )


def lead_list(
    *, tenant: Tenant, membership: Membership, filters: Any = None, scope: str | None = None
) -> QuerySet[Lead]:
    """Visible leads in the scope (my / team / all; default: the role's first tab), through LeadFilterSet.
    Invalid filter values (another tenant's source, an owner outside the scope) give an empty list."""
    qs = lead_queryset(tenant=tenant, membership=membership)
    scopes = [key for key, _label in lead_scopes(membership)]
    if scope is not None:
        if scope not in scopes:
            scope = scopes[0] if scopes else "my"
        qs = lead_scoped_queryset(tenant=tenant, membership=membership, scope=scope)
    if filters:
        filterset = lead_filterset(tenant=tenant, membership=membership, filters=filters, queryset=qs)
        qs = filterset.qs if filterset.is_valid() else qs.none()
    return qs.select_related("owner", "source", "campaign")


def lead_get(*, tenant: Tenant, membership: Membership, pk: int) -> Lead:
    """One visible live lead (Lead.DoesNotExist otherwise) with what its page shows."""
    lead = (
        lead_queryset(tenant=tenant, membership=membership)
        .select_related(
            "owner",
            "source",
            "campaign",
            "territory",
            "converted_account",
            "converted_contact",
            "converted_opportunity",
        )
        .get(pk=pk)
    )
    # Read by the lead page; not a column, so the model does not declare it.
    lead.can_edit = lead_can_edit(membership=membership, lead=lead)  # type: ignore[attr-defined]
    return lead


def lead_get_deleted(*, tenant: Tenant, membership: Membership, pk: int) -> Lead:
    """A soft-deleted lead the member could see and edit before deletion (for Restore)."""
    qs = Lead.objects.filter(tenant=tenant, deleted_at__isnull=False, merged_into__isnull=True)
    q = lead_visibility_q(membership)
    if q is not None:
        qs = qs.filter(q | Q(owner__isnull=True))
    lead = qs.get(pk=pk)
    if not lead_can_edit(membership=membership, lead=lead):
        raise Lead.DoesNotExist
    return lead


def leads_for_ids(
    *, tenant: Tenant, membership: Membership, ids: list[int], for_edit: bool = True
) -> list[Lead]:
    """Leads of a bulk action. Every id must be visible (and editable when `for_edit`), else the whole request is
    refused: Lead.DoesNotExist, exactly as for one missing id."""
    wanted = {int(i) for i in ids}
    leads = list(lead_queryset(tenant=tenant, membership=membership).filter(pk__in=wanted))
    if len(leads) != len(wanted):
        raise Lead.DoesNotExist
    if for_edit and not all(lead_can_edit(membership=membership, lead=lead) for lead in leads):
        raise Lead.DoesNotExist
    return leads


def owner_choices(*, tenant: Tenant, membership: Membership | None) -> QuerySet[User]:
    """Active members a lead may be given to by this member: admins anyone who works leads, managers their team,
    reps themselves."""
    members = Membership.objects.filter(
        tenant=tenant, status=MembershipStatus.ACTIVE, role__in=ASSIGNABLE_ROLES
    )
    if membership is not None and membership.role != Role.ADMIN:
        if membership.role == Role.SALES_MANAGER:
            members = members.filter(user_id__in=owner_scope(membership) or set())
        else:
            members = members.filter(user_id=membership.user_id)
    return User.objects.filter(pk__in=members.values("user_id"), is_active=True).order_by(
        "full_name", "email"
    )
