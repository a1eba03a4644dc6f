"""Display helpers of the lead figures (source quality, campaign funnels): rates as percentages and money, "—" when there is no value (KPIS.md)."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()

EMPTY = "—"


@register.filter
def pct(rate: float | None, digits: int = 1) -> str:
    if rate is None:
        return EMPTY
    return f"{number_format(rate * 100, decimal_pos=digits)}%"


@register.filter
def money(amount: Decimal | float | None, currency: str = "") -> str:
    if amount is None:
        return EMPTY
    # Grouped the same way in every language (the zh-hans locale formats do not group thousands).
    return f"{Decimal(amount):,.2f} {currency}".strip()


@register.filter
def per(amount: Decimal | None, count: int | None) -> Decimal | None:
    """amount / count, None when there is nothing to divide by."""
    if amount is None or not count:
        return None
    return (Decimal(amount) / count).quantize(Decimal("0.01"))


@register.filter
def rate(count: int | None, total: int | None) -> float | None:
    """count / total as a fraction (for |pct), None when there is nothing to divide by (KPIS.md)."""
    if count is None or not total:
        return None
    return count / total
