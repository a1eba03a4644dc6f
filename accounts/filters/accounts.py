"""The account list filters, shared by the page and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from accounts.filters.common import ANY, OwnerFilter, _noop, _search, _team, _TenantFilterSet
from accounts.filters.sorting import ACCOUNT_SORT_CHOICES
from accounts.models import Account, LifecycleStageName, Tier
from crm.formstyle import StyledForm
from crm.models import Team


class AccountFilterSet(_TenantFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method=_search)
    owner = OwnerFilter(field_name="owner")
    team = django_filters.ModelChoiceFilter(
        label=_("Team"), queryset=Team.objects.none(), method=_team, empty_label=ANY
    )
    tier = django_filters.ChoiceFilter(label=_("Tier"), choices=Tier.choices, empty_label=ANY)
    industry = django_filters.CharFilter(label=_("Industry"), field_name="industry")
    region = django_filters.CharFilter(label=_("Region"), field_name="region")
    lifecycle_stage = django_filters.ChoiceFilter(
        label=_("Lifecycle stage"), choices=LifecycleStageName.choices, empty_label=ANY
    )
    parent = django_filters.NumberFilter(label=_("Parent account"), field_name="parent_id")
    sort = django_filters.ChoiceFilter(
        label=_("Sort"), choices=ACCOUNT_SORT_CHOICES, method=_noop, empty_label=None, null_label=None
    )

    class Meta:
        model = Account
        fields: list[str] = []
        form = StyledForm
