"""Writes of the exchange-rate table that follow a change of the tenant's reporting currency.

The table holds `1 currency = rate reporting units` from `valid_from` on. When the reporting currency changes
from OLD to NEW, every rate is re-expressed in NEW (X→NEW = X→OLD / NEW→OLD, OLD→NEW = 1 / NEW→OLD) and every
deal repriced, inside the settings transaction: a rate that cannot be converted refuses the whole change.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import ExchangeRate, Opportunity
from crm.history import stamps_actor
from crm.models import Tenant, User

RATE_PLACES = Decimal("0.00000001")  # ExchangeRate.rate has 8 decimal places
SMALLEST_RATE = RATE_PLACES


def _in_force(rates: list[tuple[dt.date, Decimal]], on_date: dt.date) -> Decimal | None:
    """The rate valid on `on_date` (rates sorted by date ascending), None before the first one."""
    found = None
    for valid_from, rate in rates:
        if valid_from > on_date:
            break
        found = rate
    return found


def _quantized(value: Decimal) -> Decimal:
    return max(value.quantize(RATE_PLACES, rounding=ROUND_HALF_UP), SMALLEST_RATE)


def rebased_rates(
    *, table: dict[str, list[tuple[dt.date, Decimal]]], old_currency: str, new_currency: str
) -> dict[str, list[tuple[dt.date, Decimal]]]:
    """The rate table (currency -> [(valid_from, rate into OLD)] by date) re-expressed into NEW.

    On every date where NEW→OLD has a rate, each currency with a rate in force gets X→OLD / NEW→OLD and OLD gets
    1 / NEW→OLD; a currency's own rate dates are converted with the NEW→OLD rate in force on them, so each
    conversion on any date gives what it gave before. Raises ValidationError on `currency`, naming the missing
    NEW→OLD rate, when there is none at all or a rate starts before the first one."""
    divisors = table.get(new_currency, [])
    if not divisors:
        raise ValidationError(
            {
                "currency": _(
                    "Switching the reporting currency to %(new)s needs an exchange rate %(new)s → %(old)s "
                    "(1 %(new)s in %(old)s). Add it under Exchange rates first."
                )
                % {"new": new_currency, "old": old_currency}
            }
        )
    divisor_dates = [valid_from for valid_from, _rate in divisors]
    result: dict[str, list[tuple[dt.date, Decimal]]] = {
        old_currency: [(valid_from, _quantized(1 / rate)) for valid_from, rate in divisors]
    }
    for currency, rates in sorted(table.items()):
        if currency in (new_currency, old_currency):
            continue
        first = rates[0][0]
        dates = sorted({valid_from for valid_from, _rate in rates} | {d for d in divisor_dates if d >= first})
        converted = []
        for on_date in dates:
            divisor = _in_force(divisors, on_date)
            if divisor is None:
                raise ValidationError(
                    {
                        "currency": _(
                            "Switching the reporting currency to %(new)s needs an exchange rate %(new)s → "
                            "%(old)s valid on %(date)s, to convert the %(currency)s rate from that date. Add it "
                            "under Exchange rates first."
                        )
                        % {
                            "new": new_currency,
                            "old": old_currency,
                            "date": on_date.isoformat(),
                            "currency": currency,
                        }
                    }
                )
            rate = _in_force(rates, on_date)
            if rate is not None:  # always: on_date is on or after the currency's first date
                converted.append((on_date, _quantized(rate / divisor)))
        result[currency] = converted
    return result


@transaction.atomic
@stamps_actor
def exchange_rates_rebase(
    *, tenant: Tenant, actor: User | None, old_currency: str, new_currency: str
) -> dict[str, Any]:
    """Re-express the tenant's rate table from OLD into NEW (see rebased_rates) and reprice every deal.

    Side effects: the rate table replaced (two statements), amount_reporting of all deals recomputed set-based.
    Raises ValidationError on `currency` when a needed NEW→OLD rate is missing (nothing is changed then)."""
    from accounts.services.deals import opportunities_reprice

    old_currency, new_currency = old_currency.upper(), new_currency.upper()
    if old_currency == new_currency:
        return {"rates": 0, "deals": 0}
    table: dict[str, list[tuple[dt.date, Decimal]]] = {}
    for currency, valid_from, rate in (
        ExchangeRate.objects.filter(tenant=tenant)
        .order_by("currency", "valid_from")
        .values_list("currency", "valid_from", "rate")
    ):
        table.setdefault(currency, []).append((valid_from, rate))
    if not table and not Opportunity.objects.filter(tenant=tenant).exclude(currency=new_currency).exists():
        # Nothing is converted (a tenant fixing its currency before any rate or foreign deal): no rate needed.
        return {"rates": 0, "deals": opportunities_reprice(tenant=tenant, actor=actor)}
    rebased = rebased_rates(table=table, old_currency=old_currency, new_currency=new_currency)
    ExchangeRate.objects.filter(tenant=tenant).delete()
    rows = ExchangeRate.objects.bulk_create(
        [
            ExchangeRate(tenant=tenant, currency=currency, valid_from=valid_from, rate=rate)
            for currency, rates in rebased.items()
            for valid_from, rate in rates
        ]
    )
    deals = opportunities_reprice(tenant=tenant, actor=actor)
    return {"rates": len(rows), "deals": deals}


def on_reporting_currency_changed(  # type: ignore[no-untyped-def]
    sender, tenant: Tenant, actor: User | None, old_currency: str, new_currency: str, **kwargs
) -> None:
    """crm's `tenant_currency_changed` receiver (connected in AccountsConfig.ready)."""
    exchange_rates_rebase(tenant=tenant, actor=actor, old_currency=old_currency, new_currency=new_currency)
