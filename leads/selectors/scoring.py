"""Scoring rules (reads): list, one rule, and how many open visible leads score above a threshold."""

from __future__ import annotations

from django.db.models import QuerySet

from crm.models import Membership, Tenant
from leads.models import ScoringRule
from leads.selectors.filtering import apply_filterset
from leads.selectors.funnels import visible_leads
from leads.selectors.setup_roles import can_read_config


def scoring_rule_list(
    *, tenant: Tenant, membership: Membership, filters: dict | None = None
) -> QuerySet[ScoringRule]:
    if not can_read_config(membership):
        return ScoringRule.objects.none()
    qs = ScoringRule.objects.filter(tenant=tenant).order_by("category", "field", "value", "id")
    return apply_filterset("scoring", qs, filters)


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
