"""The exchange-rate list filters."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import ExchangeRate


class ExchangeRateFilterSet(django_filters.FilterSet):
    currency = django_filters.CharFilter(label=_("Currency"), method="filter_currency")

    class Meta:
        model = ExchangeRate
        fields: list[str] = []

    def filter_currency(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(currency=value.strip().upper()) if value else queryset
