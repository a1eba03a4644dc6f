"""Display helpers of the lead pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

STATUS_CLASSES = {
    "new": "text-bg-info",
    "working": "text-bg-primary",
    "mql": "text-bg-warning",
    "sql": "lead-badge-sql",
    "converted": "text-bg-success",
    "disqualified": "text-bg-secondary",
}


@register.filter
def status_class(status: str) -> str:
    return STATUS_CLASSES.get(status, "text-bg-light")


@register.filter
def selected_in(value: Any, selected: Any) -> bool:
    """Whether a choice value is among the selected values of a (multiple) filter field."""
    if selected in (None, ""):
        return False
    values = selected if isinstance(selected, list | tuple) else [selected]
    return str(value) in {str(v) for v in values}


@register.filter
def score_class(score: int | None) -> str:
    score = score or 0
    if score >= 70:
        return "lead-score-hot"
    if score >= 40:
        return "lead-score-warm"
    return "lead-score-cold"


@register.filter
def bar_width(value: int, maximum: int) -> int:
    """A 0..100 step (multiple of 5) for the CSS bar classes (no inline styles under the CSP)."""
    if not maximum:
        return 0
    return min(100, round(value * 20 / maximum) * 5)
