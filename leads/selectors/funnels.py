"""Lead figures: the funnel (leads, mql, sql, won) by source, source kind and campaign, and lead-source quality.
They only count the leads the member may see (crm.visibility.owner_scope), so a rep's figures are their own."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Exists, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import gettext as _

from accounts.models import Opportunity, StageKind
from crm.models import Membership, Tenant
from crm.visibility import owner_scope
from leads.models import Campaign, Lead, LeadSource, SourceKind
from leads.selectors.setup_roles import sees_all_leads

REACHED_MQL = Q(mql_at__isnull=False) | Q(sql_at__isnull=False) | Q(converted_at__isnull=False)


REACHED_SQL = Q(sql_at__isnull=False) | Q(converted_at__isnull=False)


REACHED_CONVERTED = Q(converted_at__isnull=False)


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
    # Sum of the reporting-currency amounts of the won deals originated from these leads.
    won_amount: Decimal = Decimal("0.00")
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, other: Funnel) -> None:
        self.leads += other.leads
        self.mql += other.mql
        self.sql += other.sql
        self.converted += other.converted
        self.won += other.won
        self.won_amount += other.won_amount

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
            "won_amount": self.won_amount,
            "lead_to_mql_rate": self.lead_to_mql_rate,
            "mql_to_sql_rate": self.mql_to_sql_rate,
            "lead_conversion_rate": self.lead_conversion_rate,
            "lead_to_win_rate": self.lead_to_win_rate,
        }


def won_lead_exists(tenant: Tenant, lead_ref: str = "pk") -> Exists:
    """True when a won deal originated from the lead (an opportunity with lead_id = lead, stage kind won)."""
    return Exists(
        Opportunity.objects.filter(
            tenant=tenant, lead_id=OuterRef(lead_ref), stage__kind=StageKind.WON, deleted_at__isnull=True
        )
    )


def won_amount_of_lead(tenant: Tenant, lead_ref: str = "pk") -> Subquery:
    """The sum of amount_reporting (the tenant's reporting currency, KPIS.md "Conventions") of the won deals
    originated from the lead; NULL when it has none."""
    won = (
        Opportunity.objects.filter(
            tenant=tenant, lead_id=OuterRef(lead_ref), stage__kind=StageKind.WON, deleted_at__isnull=True
        )
        .order_by()
        .values("lead_id")
        .annotate(total=Sum("amount_reporting"))
        .values("total")
    )
    return Subquery(won, output_field=DecimalField(max_digits=18, decimal_places=2))


def visible_leads(*, tenant: Tenant, membership: Membership) -> QuerySet[Lead]:
    """Leads (not deleted) whose figures this member may see."""
    leads = Lead.objects.filter(tenant=tenant, deleted_at__isnull=True)
    scope = owner_scope(membership)
    if scope is not None:
        leads = leads.filter(owner_id__in=scope)
    return leads


def _funnel_aggregates() -> dict[str, Count | Sum]:
    return {
        "n_leads": Count("id"),
        "n_mql": Count("id", filter=REACHED_MQL),
        "n_sql": Count("id", filter=REACHED_SQL),
        "n_converted": Count("id", filter=REACHED_CONVERTED),
        "n_won": Count("id", filter=Q(is_won=True)),
        "n_won_amount": Sum("lead_won_amount"),
    }


def _funnel_counts(tenant: Tenant, leads: QuerySet[Lead], *group_by: str, **group_exprs: Any) -> QuerySet:
    """One grouped query with conditional aggregates: leads, reached mql/sql/converted, with a won deal."""
    return (
        leads.annotate(is_won=won_lead_exists(tenant), lead_won_amount=won_amount_of_lead(tenant))
        .values(*group_by, **group_exprs)
        .annotate(**_funnel_aggregates())
        .order_by()
    )


def _funnel_total(tenant: Tenant, leads: QuerySet[Lead]) -> Funnel:
    """The same counts over all of `leads`, in one aggregate query."""
    return _funnel_from_row(
        leads.annotate(is_won=won_lead_exists(tenant), lead_won_amount=won_amount_of_lead(tenant)).aggregate(
            **_funnel_aggregates()
        )
    )


def _funnel_from_row(row: dict) -> Funnel:
    return Funnel(
        row["n_leads"],
        row["n_mql"],
        row["n_sql"],
        row["n_converted"],
        row["n_won"],
        row["n_won_amount"] or Decimal("0.00"),
    )


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
