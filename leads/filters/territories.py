"""django-filter FilterSet of territories, shared by the pages and the API (members chosen among the tenant's)."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.formstyle import StyledForm
from leads.filters.campaigns import tenant_member_choices
from leads.models import Territory


class TerritoryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Search"))
    is_active = django_filters.BooleanFilter(label=_("Active"))
    member = django_filters.ModelChoiceFilter(
        queryset=tenant_member_choices, field_name="territory_members__user", label=_("Member")
    )

    class Meta:
        model = Territory
        form = StyledForm
        fields = ["q", "is_active", "member"]
