"""Campaigns (reads): list with the counts of their visible leads, one campaign, the choices a lead may pick."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from crm.models import Membership, Tenant
from crm.visibility import owner_scope
from leads.models import Campaign
from leads.selectors.filtering import apply_filterset
from leads.selectors.funnels import won_lead_exists
from leads.selectors.setup_roles import can_read_sources


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
