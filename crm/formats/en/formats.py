"""Dates and numbers on English pages: one format everywhere (issue 12, "one product"). Django's en locale mixes
"Oct. 8, 2026" (DATE_FORMAT), "10/08/2026" (SHORT_DATE_FORMAT, month first, read wrongly by half the world) and
the ISO dates templates wrote by hand; every page now shows "8 Oct 2026" and "8 Oct 2026 14:05" (24-hour clock,
as the time pickers take it). Typed dates keep Django's input formats (ISO first: what <input type=date> sends).
Weeks start on Monday (Django's en says Sunday), as in 中文 and ISO 8601: the date
pickers (crm/templatetags/datepicker.py) show Monday first in both languages."""

from django.conf.locale.en.formats import *  # noqa: F403

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y H:i"
SHORT_DATETIME_FORMAT = "j M Y H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
THOUSAND_SEPARATOR = ","
DECIMAL_SEPARATOR = "."
NUMBER_GROUPING = 3
FIRST_DAY_OF_WEEK = 1  # Monday
