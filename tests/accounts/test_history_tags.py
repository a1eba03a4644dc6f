"""Old/new values in the change history read like every other date on the pages (Y-m-d H:i, tenant time)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.template import Context, Template

from accounts.templatetags.history_tags import history_value


def test_datetimes_in_the_active_time_zone_and_dates_as_iso():
    moment = dt.datetime(2026, 11, 22, 18, 50, tzinfo=dt.UTC)
    rendered = Template(
        "{% load history_tags tz %}{% timezone 'Asia/Shanghai' %}{{ when|history_value }}{% endtimezone %}"
    ).render(Context({"when": moment}))
    assert rendered == "2026-11-23 02:50"
    assert history_value(dt.date(2027, 1, 6)) == "2027-01-06"


def test_other_values_pass_through():
    assert history_value("Proposal") == "Proposal"
    assert history_value(Decimal("0.500")) == Decimal("0.500")
    assert history_value(None) is None
