"""The date pickers in the page's language (issue 12, "one product": date inputs in the page's language).

    <body {% datepicker_attrs %}>

puts on <body> what static/js/datepicker.js needs to turn every <input type=date> and <input type=datetime-local>
into a flatpickr calendar (static/vendor/flatpickr, copied by scripts/copy_vendor.sh): the flatpickr locale of
the page's language, the first day of the week and the date and date-time formats the pages show (crm/formats:
"8 Oct 2026" / "2026年10月8日", FIRST_DAY_OF_WEEK Monday in both), written in flatpickr's tokens. The input the
form submits keeps the ISO value (YYYY-MM-DD, YYYY-MM-DDTHH:MM); only the text a person reads and types follows
the language.
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.formats import get_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language

register = template.Library()

# Django's date-format characters that flatpickr knows, and flatpickr's character for each
# (https://flatpickr.js.org/formatting/): the same letters but for the seconds.
TOKENS = {
    "d": "d",  # day, two digits
    "j": "j",  # day, no leading zero
    "D": "D",  # weekday, short
    "l": "l",  # weekday, full
    "m": "m",  # month, two digits
    "n": "n",  # month, no leading zero
    "M": "M",  # month, short name
    "F": "F",  # month, full name
    "Y": "Y",  # year, four digits
    "y": "y",  # year, two digits
    "H": "H",  # hour 00-23
    "i": "i",  # minutes
    "s": "S",  # seconds, two digits
}
# flatpickr's locale files by the page's language (LANGUAGES): English is built into flatpickr.
LOCALES = {"zh-hans": "zh"}


def flatpickr_format(django_format: str) -> str:
    """A Django date format ("j M Y", "Y年n月j日 H:i") in flatpickr's tokens. Letters Django reads as a token that
    flatpickr does not know raise ValueError (a format nobody checked would show the wrong text); other characters
    and backslash-escaped letters are kept as written."""
    out: list[str] = []
    escaped = False
    for char in django_format:
        if escaped:
            out.append("\\" + char if char.isascii() and char.isalpha() else char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in TOKENS:
            out.append(TOKENS[char])
        elif char.isascii() and char.isalpha():
            raise ValueError(
                f"the date format {django_format!r} uses {char!r}, which the date picker cannot show"
            )
        else:
            out.append(char)
    return "".join(out)


@register.simple_tag
def datepicker_attrs() -> SafeString:
    """data-datepicker-* attributes for <body>, in the current language."""
    language = (get_language() or settings.LANGUAGE_CODE).lower()
    return format_html(
        'data-datepicker-locale="{}" data-datepicker-first-day="{}" data-datepicker-date-format="{}" '
        'data-datepicker-datetime-format="{}"',
        LOCALES.get(language, "en"),
        get_format("FIRST_DAY_OF_WEEK"),
        flatpickr_format(get_format("SHORT_DATE_FORMAT")),
        flatpickr_format(get_format("SHORT_DATETIME_FORMAT")),
    )
