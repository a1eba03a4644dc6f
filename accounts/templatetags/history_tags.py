"""Display of old/new values in a record's change history (accounts/partials/_timeline.html)."""

from __future__ import annotations

import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format

register = template.Library()


@register.filter(expects_localtime=True)
def history_value(value: Any) -> Any:
    """Dates and times the way every other date on the pages reads (the language's SHORT_DATETIME_FORMAT /
    SHORT_DATE_FORMAT, crm/formats: "23 Nov 2026 14:05", "2026年11月23日 14:05"; in the tenant's time zone that the
    template activates); other values unchanged."""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return date_format(value, "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    return value
