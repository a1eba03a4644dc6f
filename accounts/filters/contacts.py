"""The contact list filters, shared by the page and the API."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.filters.common import ANY, OwnerFilter, _noop, _search, _team, _TenantFilterSet
from accounts.filters.sorting import ACCOUNT_SORT_CHOICES
from accounts.models import Account, Contact
from accounts.selectors import visibility as visibility_selectors
from crm.formstyle import StyledForm
from crm.models import Team


class ContactFilterSet(_TenantFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method=_search)
    account = django_filters.ModelChoiceFilter(label=_("Account"), queryset=Account.objects.none())
    owner = OwnerFilter(field_name="owner")
    team = django_filters.ModelChoiceFilter(
        label=_("Team"), queryset=Team.objects.none(), method=_team, empty_label=ANY
    )
    email = django_filters.CharFilter(label=_("Email"), method="filter_email")
    sort = django_filters.ChoiceFilter(
        label=_("Sort"), choices=ACCOUNT_SORT_CHOICES, method=_noop, empty_label=None, null_label=None
    )

    class Meta:
        model = Contact
        fields: list[str] = []
        form = StyledForm

    def setup_choices(self) -> None:
        super().setup_choices()
        if self.tenant is not None and self.membership is not None:
            self.filters["account"].queryset = visibility_selectors.account_queryset(
                tenant=self.tenant, membership=self.membership
            )

    def filter_email(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = (value or "").strip().lower()
        return queryset.filter(email=value) if value else queryset
