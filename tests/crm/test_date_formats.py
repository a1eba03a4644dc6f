"""One date and number format per language (issue 12, "one product"): the campaign list and page, the lead list
and the deal page show "8 Oct 2026" in English and "2026年10月8日" in 中文 (crm/formats), never the ISO date the
templates used to hand-write, Django's "Oct. 8, 2026" or "10/08/2026"; amounts are grouped by thousands in both;
date pickers carry the page's language (<body {% datepicker_attrs %}>: the flatpickr locale, Monday first and the
formats above in flatpickr's tokens, for static/js/datepicker.js); the fiscal year start is a month name."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from crm.models import Role
from crm.templatetags.datepicker import datepicker_attrs, flatpickr_format
from crm.tenancy import tenant_context
from tests.factories_leads import LeadFactory
from tests.factories_ops import CampaignFactory

pytestmark = pytest.mark.django_db

FORMATS = {
    "en": {"start": "8 Oct 2026", "end": "22 Oct 2026", "created": "2 Dec 2026", "cost": "1,234,567"},
    "zh-hans": {
        "start": "2026年10月8日",
        "end": "2026年10月22日",
        "created": "2026年12月2日",
        "cost": "1,234,567",
    },
}
# What the pages showed before: ISO by hand, Django's en DATE_FORMAT and SHORT_DATE_FORMAT, zh's SHORT_DATE_FORMAT.
OLD_FORMATS = ["2026-10-08", "Oct. 8, 2026", "10/08/2026", "2026/10/08", "2026-12-02"]


@pytest.fixture
def admin(member):
    return member(role=Role.ADMIN)


@pytest.fixture
def campaign(tenant, admin):
    with tenant_context(tenant):
        campaign = CampaignFactory(
            tenant=tenant,
            name="Autumn expo",
            start_date=datetime.date(2026, 10, 8),
            end_date=datetime.date(2026, 10, 22),
            cost=Decimal("1234567.00"),
        )
        lead = LeadFactory(tenant=tenant, owner=admin.user, campaign=campaign, company="Haier")
        # Noon in the tenant's zone on 2 Dec: the same day in every zone the tests use.
        lead.__class__.all_tenants.filter(pk=lead.pk).update(
            created_at=datetime.datetime(2026, 12, 2, 4, 0, tzinfo=datetime.UTC)
        )
    return campaign


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_campaign_and_lead_pages_use_the_languages_format(tenant, admin, client_for, campaign, language):
    admin.user.language = language
    admin.user.save(update_fields=["language"])
    client = client_for(admin)
    expected = FORMATS[language]

    listing = _page(client, reverse("leads:campaign-list", args=[tenant.slug]))
    detail = _page(client, reverse("leads:campaign-detail", args=[tenant.slug, campaign.pk]))
    leads = _page(client, reverse("leads:lead-list", args=[tenant.slug]))
    for html in (listing, detail):
        assert expected["start"] in html
        assert expected["end"] in html
        assert expected["cost"] in html
    assert expected["created"] in leads
    for html in (listing, detail, leads):
        for old in OLD_FORMATS:
            assert old not in html, old
    assert f'<html lang="{language}">' in leads
    for date_input in re.findall(r'<input[^>]*type="date"[^>]*>', leads):
        assert f'lang="{language}"' in date_input


@pytest.mark.parametrize(("language", "january"), [("en", "January"), ("zh-hans", "一月")])
def test_fiscal_year_start_is_a_month_name(tenant, admin, client_for, language, january):
    admin.user.language = language
    admin.user.save(update_fields=["language"])
    html = _page(client_for(admin), reverse("crm:tenant-settings", args=[tenant.slug]))
    select = re.search(r'<select name="fiscal_year_start_month".*?</select>', html, re.S)
    assert select
    assert '<option value="1"' in select.group(0)
    assert re.search(rf'<option value="1"[^>]*>{january}</option>', select.group(0))


def test_a_time_in_the_tenants_zone_uses_the_format(tenant, admin, client_for, campaign):
    """A datetime (the lead's Created on its page) reads "2 Dec 2026 12:00" (Asia/Shanghai) / "2026年12月2日 12:00"."""
    with tenant_context(tenant):
        lead = campaign.leads.get()
    tenant.time_zone = "Asia/Shanghai"
    tenant.save(update_fields=["time_zone"])
    client = client_for(admin)
    url = reverse("leads:lead-detail", args=[tenant.slug, lead.pk])
    assert "2 Dec 2026 12:00" in _page(client, url)
    admin.user.language = "zh-hans"
    admin.user.save(update_fields=["language"])
    assert "2026年12月2日 12:00" in _page(client, url)


@pytest.mark.parametrize(
    ("django_format", "flatpickr"),
    [
        ("j M Y", "j M Y"),
        ("j M Y H:i", "j M Y H:i"),
        ("Y年n月j日", "Y年n月j日"),
        ("Y年n月j日 H:i", "Y年n月j日 H:i"),
        ("D, d/m/y H:i:s", "D, d/m/y H:i:S"),  # Django's seconds "s" are flatpickr's "S"
        ("l j F Y", "l j F Y"),
        (r"j \d\e F", r"j \d\e F"),  # escaped letters stay escaped
    ],
)
def test_flatpickr_format_translates_djangos_tokens(django_format, flatpickr):
    assert flatpickr_format(django_format) == flatpickr


@pytest.mark.parametrize("django_format", ["N j, Y", "g:i A", "jS F Y", "c"])
def test_flatpickr_format_refuses_what_the_picker_cannot_show(django_format):
    with pytest.raises(ValueError, match="cannot show"):
        flatpickr_format(django_format)


@pytest.mark.parametrize(
    ("language", "attrs"),
    [
        (
            "en",
            'data-datepicker-locale="en" data-datepicker-first-day="1" data-datepicker-date-format="j M Y" '
            'data-datepicker-datetime-format="j M Y H:i"',
        ),
        (
            "zh-hans",
            'data-datepicker-locale="zh" data-datepicker-first-day="1" data-datepicker-date-format="Y年n月j日" '
            'data-datepicker-datetime-format="Y年n月j日 H:i"',
        ),
    ],
)
def test_datepicker_attrs_follow_the_language(language, attrs):
    with translation.override(language):
        assert datepicker_attrs() == attrs


def test_every_language_has_a_date_picker():
    """A language added to LANGUAGES gets formats the picker can show, Monday first."""
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            assert 'data-datepicker-first-day="1"' in datepicker_attrs(), code


@pytest.mark.parametrize(("language", "locale"), [("en", "en"), ("zh-hans", "zh")])
def test_pages_load_the_date_picker_in_their_language(tenant, admin, client_for, language, locale):
    admin.user.language = language
    admin.user.save(update_fields=["language"])
    html = _page(client_for(admin), reverse("leads:lead-list", args=[tenant.slug]))
    body = re.search(r"<body[^>]*>", html)
    assert body
    assert f'data-datepicker-locale="{locale}"' in body.group(0)
    for asset in ("vendor/flatpickr/flatpickr.min.js", "vendor/flatpickr/l10n/zh.js", "js/datepicker.js"):
        assert f'<script src="{settings.STATIC_URL}{asset}" defer></script>' in html
    assert f'<link rel="stylesheet" href="{settings.STATIC_URL}vendor/flatpickr/flatpickr.min.css">' in html


def test_the_vendor_copy_brings_the_date_picker():
    """static/vendor is not committed: `make assets` (scripts/copy_vendor.sh) copies flatpickr from node_modules,
    the version package.json pins."""
    root = settings.BASE_DIR
    script = (root / "scripts" / "copy_vendor.sh").read_text()
    for source in (
        "flatpickr/dist/flatpickr.min.js",
        "flatpickr/dist/flatpickr.min.css",
        "flatpickr/dist/l10n/zh.js",
    ):
        assert f"node_modules/{source}" in script
    assert '"flatpickr": "4.6.13"' in (root / "package.json").read_text()
