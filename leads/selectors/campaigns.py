"""Campaigns (reads): list with the counts of their visible leads, one campaign, the choices a lead may pick."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from crm.models import Membership, Tenant
from crm.visibility import owner_scope
from leads.models import Campaign
from leads.selectors.filtering import apply_filterset
from leads.selectors.funnels import won_amount_of_lead, won_lead_exists
from leads.selectors.setup_roles import can_read_sources


def campaign_choices(*, tenant: Tenant) -> QuerySet[Campaign]:
    """Campaigns a lead may pick (not deleted), newest first."""
    return Campaign.objects.filter(tenant=tenant, deleted_at__isnull=True).order_by("-start_date", "name")


def campaign_list(
    *, tenant: Tenant, membership: Membership, filters: dict | None = None
) -> QuerySet[Campaign]:
    """Campaigns with the figures of their visible leads in the same query: n_leads, n_mql, n_won (leads with a
    won deal originated from them) and won_amount (those deals' amount in the reporting currency, 0 when none
    is won). lead_to_win_rate (KPIS.md) is n_won / n_leads."""
    if not can_read_sources(membership):
        return Campaign.objects.none()
    lead_filter = Q(leads__deleted_at__isnull=True)
    scope = owner_scope(membership)
    if scope is not None:
        lead_filter &= Q(leads__owner_id__in=scope)
    won = won_lead_exists(tenant, "leads__id")
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
            won_amount=Coalesce(
                Sum(won_amount_of_lead(tenant, "leads__id"), filter=lead_filter),
                Value(Decimal("0.00")),
                output_field=DecimalField(max_digits=18, decimal_places=2),
            ),
        )
        .order_by("-start_date", "name", "-id")
    )
    return apply_filterset("campaign", qs, filters)


def campaign_get(
    *, tenant: Tenant, membership: Membership, pk: int, include_deleted: bool = False
) -> Campaign:
    if not can_read_sources(membership):
        raise Campaign.DoesNotExist
    qs = Campaign.objects.filter(tenant=tenant).select_related("source", "owner")
    if not include_deleted:
        qs = qs.filter(deleted_at__isnull=True)
    return qs.get(pk=pk)
