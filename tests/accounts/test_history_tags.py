"""Old/new values in the change history read like every other date on the pages (the language's short date and
time format of crm/formats, tenant time)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.template import Context, Template
from django.utils import translation

from accounts.templatetags.history_tags import history_value


def test_datetimes_in_the_active_time_zone_and_dates_in_the_languages_format():
    moment = dt.datetime(2026, 11, 22, 18, 50, tzinfo=dt.UTC)
    template = Template(
        "{% load history_tags tz %}{% timezone 'Asia/Shanghai' %}{{ when|history_value }}{% endtimezone %}"
    )
    with translation.override("en"):
        assert template.render(Context({"when": moment})) == "23 Nov 2026 02:50"
        assert history_value(dt.date(2027, 1, 6)) == "6 Jan 2027"
    with translation.override("zh-hans"):
        assert template.render(Context({"when": moment})) == "2026年11月23日 02:50"
        assert history_value(dt.date(2027, 1, 6)) == "2027年1月6日"


def test_other_values_pass_through():
    assert history_value("Proposal") == "Proposal"
    assert history_value(Decimal("0.500")) == Decimal("0.500")
    assert history_value(None) is None
