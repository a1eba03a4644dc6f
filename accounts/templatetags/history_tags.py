"""Display of old/new values in a record's change history (accounts/partials/_timeline.html)."""

from __future__ import annotations

import datetime
from typing import Any

from django import template
from django.utils import timezone

register = template.Library()


@register.filter(expects_localtime=True)
def history_value(value: Any) -> Any:
    """Dates and times the way every other date on the pages reads (2026-11-23 14:05, in the tenant's time zone
    that the template activates), not the locale's long format; other values unchanged."""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
