"""django-filter FilterSet of lead sources, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.formstyle import StyledForm
from leads.models import LeadSource, SourceKind


class LeadSourceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Search"))
    kind = django_filters.ChoiceFilter(choices=SourceKind.choices, label=_("Kind"), empty_label=_("Any"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = LeadSource
        form = StyledForm
        fields = ["q", "kind", "is_active"]
