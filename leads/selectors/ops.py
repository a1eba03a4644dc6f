"""Reads of the ops area: lead sources and their quality, campaigns and their funnel, territories, scoring rules.

Who may read what (DESIGN.md roles): sources and campaigns are read by every selling role (admin, ops, managers,
reps: they pick them on leads) and edited by admin and ops; territories and scoring rules are read by admin, ops
and managers. Customer success sees none of it. Lead figures (quality, funnels, lead counts) only count the
leads the member may see (crm.visibility.owner_scope), so a rep's figures are their own leads'.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import gettext as _

from accounts.models import Opportunity, StageKind
from crm.models import Membership, MembershipStatus, Role, Tenant, User
from crm.visibility import owner_scope
from leads.models import (
    Campaign,
    Lead,
    LeadSource,
    ScoringRule,
    SourceKind,
    Territory,
    TerritoryMember,
)
from leads.services.ops import ASSIGNABLE_ROLES, territory_for

if TYPE_CHECKING:
    from django_filters import FilterSet

EDIT_ROLES = frozenset({Role.ADMIN, Role.OPS})
SOURCE_READ_ROLES = frozenset({Role.ADMIN, Role.OPS, Role.SALES_MANAGER, Role.SALES_REP})
CONFIG_READ_ROLES = frozenset({Role.ADMIN, Role.OPS, Role.SALES_MANAGER})

REACHED_MQL = Q(mql_at__isnull=False) | Q(sql_at__isnull=False) | Q(converted_at__isnull=False)
REACHED_SQL = Q(sql_at__isnull=False) | Q(converted_at__isnull=False)
REACHED_CONVERTED = Q(converted_at__isnull=False)


def can_edit(membership: Membership) -> bool:
    return membership.role in EDIT_ROLES


def can_read_sources(membership: Membership) -> bool:
    return membership.role in SOURCE_READ_ROLES


def can_read_config(membership: Membership) -> bool:
    return membership.role in CONFIG_READ_ROLES


def sees_all_leads(membership: Membership) -> bool:
    return owner_scope(membership) is None


# ------------------------------------------------------------------------------------------- lead figures


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass
class Funnel:
    """Lead counts of a set of leads by the furthest status they reached (KPIS.md "Acquisition")."""

    leads: int = 0
    mql: int = 0
    sql: int = 0
    converted: int = 0
    won: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, other: Funnel) -> None:
        self.leads += other.leads
        self.mql += other.mql
        self.sql += other.sql
        self.converted += other.converted
        self.won += other.won

    @property
    def lead_to_mql_rate(self) -> float | None:
        return _rate(self.mql, self.leads)

    @property
    def mql_to_sql_rate(self) -> float | None:
        return _rate(self.sql, self.mql)

    @property
    def lead_conversion_rate(self) -> float | None:
        return _rate(self.converted, self.leads)

    @property
    def lead_to_win_rate(self) -> float | None:
        return _rate(self.won, self.leads)

    def as_dict(self) -> dict[str, Any]:
        return {
            "leads": self.leads,
            "mql": self.mql,
            "sql": self.sql,
            "converted": self.converted,
            "won": self.won,
            "lead_to_mql_rate": self.lead_to_mql_rate,
            "mql_to_sql_rate": self.mql_to_sql_rate,
            "lead_conversion_rate": self.lead_conversion_rate,
            "lead_to_win_rate": self.lead_to_win_rate,
        }


def _won_lead(tenant: Tenant, lead_ref: str = "pk") -> Exists:
    """True when a won deal originated from the lead (an opportunity with lead_id = lead, stage kind won)."""
    return Exists(
        Opportunity.objects.filter(
            tenant=tenant, lead_id=OuterRef(lead_ref), stage__kind=StageKind.WON, deleted_at__isnull=True
        )
    )


def visible_leads(*, tenant: Tenant, membership: Membership) -> QuerySet[Lead]:
    """Leads (not deleted) whose figures this member may see."""
    leads = Lead.objects.filter(tenant=tenant, deleted_at__isnull=True)
    scope = owner_scope(membership)
    if scope is not None:
        leads = leads.filter(owner_id__in=scope)
    return leads


def _funnel_aggregates() -> dict[str, Count]:
    return {
        "n_leads": Count("id"),
        "n_mql": Count("id", filter=REACHED_MQL),
        "n_sql": Count("id", filter=REACHED_SQL),
        "n_converted": Count("id", filter=REACHED_CONVERTED),
        "n_won": Count("id", filter=Q(is_won=True)),
    }


def _funnel_counts(tenant: Tenant, leads: QuerySet[Lead], *group_by: str, **group_exprs: Any) -> QuerySet:
    """One grouped query with conditional aggregates: leads, reached mql/sql/converted, with a won deal."""
    return (
        leads.annotate(is_won=_won_lead(tenant))
        .values(*group_by, **group_exprs)
        .annotate(**_funnel_aggregates())
        .order_by()
    )


def _funnel_total(tenant: Tenant, leads: QuerySet[Lead]) -> Funnel:
    """The same counts over all of `leads`, in one aggregate query."""
    return _funnel_from_row(leads.annotate(is_won=_won_lead(tenant)).aggregate(**_funnel_aggregates()))


def _funnel_from_row(row: dict) -> Funnel:
    return Funnel(row["n_leads"], row["n_mql"], row["n_sql"], row["n_converted"], row["n_won"])


@dataclass
class Quality:
    sources: list[Funnel]
    kinds: list[Funnel]
    total: Funnel


def source_quality(
    *,
    tenant: Tenant,
    membership: Membership,
    created_from: datetime.date | None = None,
    created_to: datetime.date | None = None,
) -> Quality:
    """Per source and per kind (inbound vs incentive): leads created in the period (tenant-local dates,
    inclusive) and how far they got. A lead's kind is its source's kind, else its campaign's source kind.
    Two queries: the sources, and one grouped aggregate over the leads."""
    leads = visible_leads(tenant=tenant, membership=membership)
    tz = tenant.tzinfo
    if created_from:
        leads = leads.filter(created_at__gte=datetime.datetime.combine(created_from, datetime.time(), tz))
    if created_to:
        end = datetime.datetime.combine(created_to + datetime.timedelta(days=1), datetime.time(), tz)
        leads = leads.filter(created_at__lt=end)
    rows = _funnel_counts(
        tenant,
        leads,
        "source_id",
        lead_kind=Coalesce("source__kind", NullIf("campaign__source_kind", Value(""))),
    )
    sources = {s.pk: s for s in LeadSource.objects.filter(tenant=tenant)}
    by_source: dict[int | None, Funnel] = {}
    by_kind = {kind: Funnel(extra={"kind": kind, "label": label}) for kind, label in SourceKind.choices}
    total = Funnel()
    for row in rows:
        funnel = _funnel_from_row(row)
        by_source.setdefault(row["source_id"], Funnel()).add(funnel)
        if row["lead_kind"] in by_kind:
            by_kind[row["lead_kind"]].add(funnel)
        total.add(funnel)
    result = []
    for source in sorted(sources.values(), key=lambda s: (s.kind, s.name.lower())):
        if source.deleted_at and source.pk not in by_source:
            continue
        funnel = by_source.get(source.pk, Funnel())
        funnel.extra = {"source": source, "name": source.name, "kind": source.kind}
        result.append(funnel)
    if None in by_source:
        funnel = by_source[None]
        funnel.extra = {"source": None, "name": _("(no source)"), "kind": ""}
        result.append(funnel)
    return Quality(sources=result, kinds=list(by_kind.values()), total=total)


def _money_per(cost: Decimal, count: int) -> Decimal | None:
    return (cost / count).quantize(Decimal("0.01")) if count else None


def campaign_funnel(*, tenant: Tenant, membership: Membership, campaign: Campaign) -> dict[str, Any]:
    """The campaign's leads funnel (created -> MQL -> SQL -> converted -> won) in one query, and its cost per
    lead / MQL / won deal. The cost figures need every lead of the campaign, so they are given only to members
    who see all leads (admin, ops); for others they are None and `cost_scoped` is True."""
    leads = visible_leads(tenant=tenant, membership=membership).filter(campaign=campaign)
    funnel = _funnel_total(tenant, leads)
    full = sees_all_leads(membership)
    return {
        "funnel": funnel,
        "steps": [
            {"key": key, "label": label, "count": count, "share": _rate(count, funnel.leads)}
            for key, label, count in [
                ("created", _("Leads created"), funnel.leads),
                ("mql", _("MQL"), funnel.mql),
                ("sql", _("SQL"), funnel.sql),
                ("converted", _("Converted"), funnel.converted),
                ("won", _("Won deal"), funnel.won),
            ]
        ],
        "cost_per_lead": _money_per(campaign.cost, funnel.leads) if full else None,
        "cost_per_mql": _money_per(campaign.cost, funnel.mql) if full else None,
        "cost_per_won": _money_per(campaign.cost, funnel.won) if full else None,
        "cost_scoped": not full,
    }


# ------------------------------------------------------------------------------------ sources, campaigns


def source_list(
    *, tenant: Tenant, membership: Membership, filters: dict | None = None
) -> QuerySet[LeadSource]:
    if not can_read_sources(membership):
        return LeadSource.objects.none()
    qs = LeadSource.objects.filter(tenant=tenant, deleted_at__isnull=True).order_by("name", "id")
    return _apply_filterset("source", qs, filters)


def source_get(
    *, tenant: Tenant, membership: Membership, pk: int, include_deleted: bool = False
) -> LeadSource:
    if not can_read_sources(membership):
        raise LeadSource.DoesNotExist
    qs = LeadSource.objects.filter(tenant=tenant)
    if not include_deleted:
        qs = qs.filter(deleted_at__isnull=True)
    return qs.get(pk=pk)


def source_choices(*, tenant: Tenant) -> QuerySet[LeadSource]:
    """Sources a lead or campaign may pick (active, not deleted): for forms and body validation."""
    return LeadSource.objects.filter(tenant=tenant, deleted_at__isnull=True, is_active=True).order_by("name")


def campaign_choices(*, tenant: Tenant) -> QuerySet[Campaign]:
    """Campaigns a lead may pick (not deleted), newest first."""
    return Campaign.objects.filter(tenant=tenant, deleted_at__isnull=True).order_by("-start_date", "name")


def campaign_list(
    *, tenant: Tenant, membership: Membership, filters: dict | None = None
) -> QuerySet[Campaign]:
    """Campaigns with the counts of their visible leads (n_leads, n_mql, n_won) in the same query."""
    if not can_read_sources(membership):
        return Campaign.objects.none()
    lead_filter = Q(leads__deleted_at__isnull=True)
    scope = owner_scope(membership)
    if scope is not None:
        lead_filter &= Q(leads__owner_id__in=scope)
    won = _won_lead(tenant, "leads__id")
    qs = (
        Campaign.objects.filter(tenant=tenant, deleted_at__isnull=True)
        .select_related("source", "owner")
        .annotate(
            n_leads=Count("leads", filter=lead_filter),
            n_mql=Count(
                "leads",
                filter=lead_filter
                & (
                    Q(leads__mql_at__isnull=False)
                    | Q(leads__sql_at__isnull=False)
                    | Q(leads__converted_at__isnull=False)
                ),
            ),
            n_won=Count("leads", filter=lead_filter & Q(won)),
        )
        .order_by("-start_date", "name", "-id")
    )
    return _apply_filterset("campaign", qs, filters)


def campaign_get(
    *, tenant: Tenant, membership: Membership, pk: int, include_deleted: bool = False
) -> Campaign:
    if not can_read_sources(membership):
        raise Campaign.DoesNotExist
    qs = Campaign.objects.filter(tenant=tenant).select_related("source", "owner")
    if not include_deleted:
        qs = qs.filter(deleted_at__isnull=True)
    return qs.get(pk=pk)


# ---------------------------------------------------------------------------------------------- territories


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
    return _apply_filterset("territory", qs, filters)


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


# ------------------------------------------------------------------------------------------- scoring rules


def scoring_rule_list(
    *, tenant: Tenant, membership: Membership, filters: dict | None = None
) -> QuerySet[ScoringRule]:
    if not can_read_config(membership):
        return ScoringRule.objects.none()
    qs = ScoringRule.objects.filter(tenant=tenant).order_by("category", "field", "value", "id")
    return _apply_filterset("scoring", qs, filters)


def scoring_rule_get(*, tenant: Tenant, membership: Membership, pk: int) -> ScoringRule:
    if not can_read_config(membership):
        raise ScoringRule.DoesNotExist
    return ScoringRule.objects.filter(tenant=tenant).get(pk=pk)


def leads_scoring_above(*, tenant: Tenant, membership: Membership, above: int = 50) -> int:
    """Open visible leads whose stored score is above `above`."""
    return (
        visible_leads(tenant=tenant, membership=membership)
        .exclude(status__in=["converted", "disqualified"])
        .filter(score__gt=above)
        .count()
    )


# ------------------------------------------------------------------------------------------------ filters


def _apply_filterset(kind: str, qs: QuerySet, filters: dict | None) -> QuerySet:
    """Apply the shared django-filter FilterSet (leads.filters_ops) to a queryset, when filters are given."""
    if not filters:
        return qs
    from leads import filters_ops

    filterset_class: type[FilterSet] = {
        "source": filters_ops.LeadSourceFilter,
        "campaign": filters_ops.CampaignFilter,
        "territory": filters_ops.TerritoryFilter,
        "scoring": filters_ops.ScoringRuleFilter,
    }[kind]
    filterset = filterset_class(filters, queryset=qs)
    return filterset.qs if filterset.is_valid() else qs.none()
