"""Dates and numbers for 中文 pages: one format everywhere (issue 12, "one product"), "2026年12月2日" and
"2026年12月2日 14:05", as Chinese business software (纷享销客, 钉钉) writes them; Django's zh_Hans SHORT_DATE_FORMAT
("Y/m/d") and the ISO dates templates wrote by hand are gone from the pages. Typed dates keep Django's input
formats.

Numbers: Django's zh_Hans locale groups nothing (no thousand separator), so 48091566 would print as-is; Chinese
business software (纷享销客, 简道云, banks' statements) writes amounts as 48,091,566."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

DATE_FORMAT = "Y年n月j日"
SHORT_DATE_FORMAT = "Y年n月j日"
DATETIME_FORMAT = "Y年n月j日 H:i"
SHORT_DATETIME_FORMAT = "Y年n月j日 H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "n月j日"
YEAR_MONTH_FORMAT = "Y年n月"
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
FIRST_DAY_OF_WEEK = 1  # 星期一: the date pickers start the week on Monday (as Django's zh_Hans does)
