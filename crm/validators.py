"""Sane bounds for dates and timestamps that users and files give (imports; the API through crm.api_fields), and
no control characters in text.

PostgreSQL stores years from 4713 BC, Python from year 1: a timestamp such as 0001-01-01T00:00:00 in a UTC+8 tenant
is stored as 1 BC and every later read of it fails ("timestamp too small"). Nothing a CRM records happened before
1900 or is planned after 2200, so every date and timestamp from outside is kept within that range, at its edge,
before it can reach the database.

- `date_in_range(value)`: whether a date or timestamp is within the range (a timestamp by its date as given, in
  the offset it was given with; 1900-01-01T00:00+08:00 is accepted although it is 1899 in UTC, which the
  database stores fine).
- `validate_sane_date` / `validate_sane_datetime`: Django validators (model fields, forms) that raise
  django.core.exceptions.ValidationError with a translated message naming the range. DRF fields accept them as
  they are: `serializers.DateField(validators=[validate_sane_date])` (DRF turns Django's ValidationError into a
  400 for the field).
- `SANE_DATE_VALIDATORS` / `SANE_DATETIME_VALIDATORS`: the lists to pass as `validators=` (DRF or Django).

Control characters (issue 11 item 10): a NUL, a bell or an escape in a name breaks exports, terminals and the
database (PostgreSQL refuses NUL in text); text from users may hold tabs and line breaks (multi-line fields keep
them, one-line fields fold them into spaces) and nothing else below U+0020, nor DEL. One pattern for every way in:
`validate_no_control_characters` (Django/DRF validator: every form field of crm.formstyle's forms), the API's JSON
parser (crm.parsers: every string of a body, a 400 on its field), and imports (imports.rows, a row error).
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MIN_DATE = datetime.date(1900, 1, 1)
MAX_DATE = datetime.date(2200, 12, 31)


def date_in_range(value: datetime.date | datetime.datetime) -> bool:
    day = value.date() if isinstance(value, datetime.datetime) else value
    return MIN_DATE <= day <= MAX_DATE


def out_of_range_message() -> str:
    """The translated reason for a date outside the range (names the range)."""
    return _("Use a date between %(min)s and %(max)s.") % {
        "min": MIN_DATE.isoformat(),
        "max": MAX_DATE.isoformat(),
    }


def validate_sane_date(value: Any) -> None:
    """Django/DRF validator: a date (or timestamp) within 1900-01-01 .. 2200-12-31; None passes (use
    required/null for presence)."""
    if value is None:
        return
    if not isinstance(value, datetime.date) or not date_in_range(value):
        raise ValidationError(out_of_range_message(), code="date_out_of_range")


def validate_sane_datetime(value: Any) -> None:
    """Django/DRF validator: a timestamp whose date is within 1900-01-01 .. 2200-12-31; None passes."""
    if value is None:
        return
    if not isinstance(value, datetime.datetime) or not date_in_range(value):
        raise ValidationError(out_of_range_message(), code="date_out_of_range")


SANE_DATE_VALIDATORS = [validate_sane_date]
SANE_DATETIME_VALIDATORS = [validate_sane_datetime]


# C0 control characters other than tab, line feed and carriage return; and DEL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_character_message(value: str) -> str | None:
    """The translated reason `value` cannot be stored (naming the first control character), or None."""
    match = CONTROL_CHARACTERS.search(value)
    if match is None:
        return None
    return _(
        "Remove the control character U+%(code)04X: text may contain tabs and line breaks, "
        "but no other control characters."
    ) % {"code": ord(match.group())}


def validate_no_control_characters(value: Any) -> None:
    """Django/DRF validator for text; other values pass."""
    if isinstance(value, str):
        message = control_character_message(value)
        if message is not None:
            raise ValidationError(message, code="control_character")


def check_no_control_characters(value: str, *, field: str) -> None:
    """For services: a ValidationError on `field` when `value` holds a control character."""
    if isinstance(value, str):
        message = control_character_message(value)
        if message is not None:
            raise ValidationError({field: message}, code="control_character")
