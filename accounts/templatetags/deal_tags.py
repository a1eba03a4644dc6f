"""Display helpers of the deal pages: amounts grouped the same way in every language (the zh-hans locale
formats do not group thousands, and Chinese money is written grouped by thousands too)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def amount(value: Decimal | float | int | None, decimals: int = 0) -> str:
    if value is None or value == "":
        return "—"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{number:,.{int(decimals)}f}"


@register.filter
def percent(value: Decimal | float | None) -> str:
    """A probability fraction (0..1) as a whole percentage."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)) * 100:.0f}%"
