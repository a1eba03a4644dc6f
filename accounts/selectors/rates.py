"""Reads of the exchange-rate table: the list, the rates in force today, one rate."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.filters.rates import ExchangeRateFilterSet
from accounts.models import ExchangeRate
from crm.models import Tenant


def exchange_rate_list(*, tenant: Tenant, filters: dict | None = None) -> QuerySet[ExchangeRate]:
    qs = ExchangeRate.objects.filter(tenant=tenant).order_by("currency", "-valid_from", "pk")
    if filters:
        filterset = ExchangeRateFilterSet(filters, queryset=qs)
        qs = filterset.qs if filterset.is_valid() else qs.none()
    return qs


def exchange_rates_current(*, tenant: Tenant) -> list[ExchangeRate]:
    """The rate in force today for each currency (one query: DISTINCT ON currency)."""
    from crm.dates import tenant_today as _tenant_today

    return list(
        ExchangeRate.objects.filter(tenant=tenant, valid_from__lte=_tenant_today(tenant))
        .order_by("currency", "-valid_from")
        .distinct("currency")
    )


def exchange_rate_get(*, tenant: Tenant, pk: int) -> ExchangeRate:
    return ExchangeRate.objects.get(tenant=tenant, pk=pk)
