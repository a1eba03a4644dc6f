"""Money arithmetic shared by every app: rounding to cents and converting an amount into the tenant's reporting
currency once the rate is known. Looking the rate up (the tenant's exchange-rate table) is the accounts app's job;
this module only does the arithmetic, so every conversion rounds the same way."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")


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
