"""The django-filter FilterSets of sources, campaigns, territories and scoring rules applied to a list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from crm.filtering import filterset_rows
from leads.filters.campaigns import CampaignFilter
from leads.filters.scoring import ScoringRuleFilter
from leads.filters.sources import LeadSourceFilter
from leads.filters.territories import TerritoryFilter

if TYPE_CHECKING:
    from django_filters import FilterSet


def apply_filterset(kind: str, qs: QuerySet, filters: dict | None) -> QuerySet:
    """Apply the shared django-filter FilterSet (leads.filters.*) to a queryset, when filters are given."""
    if not filters:
        return qs
    filterset_class: type[FilterSet] = {
        "source": LeadSourceFilter,
        "campaign": CampaignFilter,
        "territory": TerritoryFilter,
        "scoring": ScoringRuleFilter,
    }[kind]
    filterset = filterset_class(filters, queryset=qs)
    return filterset_rows(filterset)
