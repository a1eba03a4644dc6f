"""django-filter FilterSet of scoring rules, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.formstyle import StyledForm
from leads.models import ScoringCategory, ScoringField, ScoringRule


class ScoringRuleFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=ScoringCategory.choices, label=_("Category"))
    field = django_filters.ChoiceFilter(choices=ScoringField.choices, label=_("Field"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = ScoringRule
        form = StyledForm
        fields = ["category", "field", "is_active"]
