"""The activity list filters, shared by the task page and the API."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.filters.common import OwnerFilter, _noop, _TenantFilterSet
from accounts.filters.sorting import ACTIVITY_SORT_CHOICES
from accounts.models import Account, Activity, ActivityKind, CallOutcome, Contact
from accounts.selectors import visibility as visibility_selectors
from crm.formstyle import StyledForm
from crm.validators import SANE_DATETIME_VALIDATORS


class ActivityFilterSet(_TenantFilterSet):
    kind = django_filters.MultipleChoiceFilter(label=_("Kind"), choices=ActivityKind.choices)
    done = django_filters.BooleanFilter(label=_("Done"))
    outcome = django_filters.MultipleChoiceFilter(label=_("Outcome"), choices=CallOutcome.choices)
    owner = OwnerFilter(field_name="owner")
    account = django_filters.ModelChoiceFilter(label=_("Account"), queryset=Account.objects.none())
    contact = django_filters.ModelChoiceFilter(label=_("Contact"), queryset=Contact.objects.none())
    opportunity = django_filters.NumberFilter(label=_("Deal"), method="filter_opportunity")
    lead = django_filters.NumberFilter(label=_("Lead"), field_name="lead_id")
    occurred_after = django_filters.IsoDateTimeFilter(
        validators=SANE_DATETIME_VALIDATORS, field_name="occurred_at", lookup_expr="gte"
    )
    occurred_before = django_filters.IsoDateTimeFilter(
        validators=SANE_DATETIME_VALIDATORS, field_name="occurred_at", lookup_expr="lt"
    )
    due_after = django_filters.IsoDateTimeFilter(
        validators=SANE_DATETIME_VALIDATORS, field_name="due_at", lookup_expr="gte"
    )
    due_before = django_filters.IsoDateTimeFilter(
        validators=SANE_DATETIME_VALIDATORS, field_name="due_at", lookup_expr="lt"
    )
    sort = django_filters.ChoiceFilter(label=_("Sort"), choices=ACTIVITY_SORT_CHOICES, method=_noop)

    class Meta:
        model = Activity
        fields: list[str] = []
        form = StyledForm

    def setup_choices(self) -> None:
        super().setup_choices()
        if self.tenant is not None and self.membership is not None:
            self.filters["account"].queryset = visibility_selectors.account_queryset(
                tenant=self.tenant, membership=self.membership
            )
            self.filters["contact"].queryset = visibility_selectors.contact_queryset(
                tenant=self.tenant, membership=self.membership
            )

    def filter_opportunity(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(opportunity_id=value) if value else queryset
