"""Number formats for 中文 pages. Django's zh_Hans locale groups nothing (no thousand separator), so
48091566 would print as-is; Chinese business software (纷享销客, 简道云, banks' statements) writes amounts
as 48,091,566. Dates and times keep Django's zh_Hans formats."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
