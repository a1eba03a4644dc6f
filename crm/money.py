"""Money arithmetic shared by every app: rounding to cents and converting an amount into the tenant's reporting
currency once the rate is known. Looking the rate up (the tenant's exchange-rate table) is the accounts app's job;
this module only does the arithmetic, so every conversion rounds the same way."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")

# The largest amount any money field takes, in the field's own currency: below 10^13 (ten trillion, 十万亿). The
# columns hold 16 digits before the point, so an amount converted at a rate up to 1,000 still fits, and no real
# deal, cost or quota comes near it; a typo of a few extra digits is refused instead of breaking totals and layout.
MAX_AMOUNT = Decimal("9999999999999.99")
AMOUNT_TOO_LARGE = _("This amount is too large: amounts go up to 9,999,999,999,999.99.")


def amount_too_large(value: Any) -> bool:
    """Whether a number is beyond MAX_AMOUNT (either sign): the one check forms, API, import and services share."""
    try:
        return abs(Decimal(str(value))) > MAX_AMOUNT
    except ArithmeticError:
        return False


def round_cents(value: Decimal) -> Decimal:
    """Half up to cents, as the books do (2.345 -> 2.35)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def is_reporting(currency: str | None, reporting: str) -> bool:
    """An empty currency means the reporting currency; codes compare case-insensitively."""
    return (currency or reporting).upper() == reporting.upper()


def convert_to_reporting(amount: Any, rate: Decimal | None) -> Decimal:
    """`amount` times `rate` (None: the reporting currency itself, 1:1), rounded to cents."""
    value = Decimal(str(amount))
    return round_cents(value if rate is None else value * rate)


def pick_rate(rates: Sequence[tuple[datetime.date, Decimal]], on_date: datetime.date) -> Decimal | None:
    """`rates` sorted by valid-from date ascending: the latest valid on `on_date`, else the earliest one (an amount
    dated before the first rate still converts); None without any rate."""
    if not rates:
        return None
    chosen = None
    for valid_from, rate in rates:
        if valid_from <= on_date:
            chosen = rate
        else:
            break
    return chosen if chosen is not None else rates[0][1]
