"""The ground floor's plain helpers: one company-name normalizer for leads and accounts, domains, phones, money
and the tenant's today. Pure functions: no database."""

from __future__ import annotations

import datetime
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from crm.dates import tenant_month_bounds, tenant_today
from crm.money import convert_to_reporting, is_reporting, pick_rate, round_cents
from crm.normalize import company_key, normalize_company_name, normalize_domain, phone_digits

# (typed name, what the accounts app pinned as its core, what the leads app pinned as its key)
PINNED = [
    ("Müller GmbH & Co. KG", "Müller", "MÜLLER"),
    ("Becker Robotics B.V.", "Becker Robotics", "BECKER ROBOTICS"),
    ("Acme Co., Ltd.", "Acme", "ACME"),
    ("上海华信科技股份有限公司", "上海华信科技", "上海华信科技"),
    ("Shanghai Huaxin Technology Co., Ltd.", "Shanghai Huaxin Technology", "SHANGHAI HUAXIN TECHNOLOGY"),
    ("华信科技有限公司", "华信科技", "华信科技"),
    ("Dragon Tech Ltd.", "Dragon Tech", "DRAGON TECH"),
]


@pytest.mark.parametrize(("name", "core", "key"), PINNED)
def test_company_core_and_key(name, core, key):
    assert normalize_company_name(name) == core
    assert company_key(name) == key


# Spellings of one company that both apps must see as the same (the union of both apps' suffix lists).
SAME_COMPANY = [
    ("Shenzhen Widgets Co., Ltd.", "Shenzhen Widgets Ltd", "shenzhen widgets"),
    ("上海华信科技股份有限公司", "上海华信科技有限公司", "上海华信科技集团"),
    ("Alibaba Group Holding Ltd", "Alibaba Group", "ALIBABA"),
    ("Globex SARL", "Globex S.A.", "Globex SAS"),
    ("腾讯集团", "腾讯公司", "腾讯有限责任公司"),
    ("Initech Corporation", "Initech Corp.", "Initech Inc"),
]


@pytest.mark.parametrize("spellings", SAME_COMPANY)
def test_spellings_of_one_company_share_the_key(spellings):
    assert len({company_key(name) for name in spellings}) == 1


def test_a_name_that_is_only_a_legal_form_stays():
    assert normalize_company_name("Ltd") == "Ltd"
    assert normalize_company_name("信公司") == "信公司"  # two characters at least remain of a Chinese name
    assert normalize_company_name("  Acme   Industrial  GmbH ") == "Acme Industrial"
    assert company_key("") == "" and normalize_company_name("") == ""


def test_domain_and_phone():
    assert normalize_domain("HTTPS://www.Example.com/about") == "example.com"
    assert normalize_domain("sales@acme.cn") == "acme.cn"
    assert normalize_domain("acme.de.") == "acme.de"
    assert phone_digits("+86 (138) 0013-8000") == "8613800138000"
    assert phone_digits("") == ""


def test_money():
    assert round_cents(Decimal("2.345")) == Decimal("2.35")
    assert convert_to_reporting("10", None) == Decimal("10.00")
    assert convert_to_reporting(Decimal("10.005"), Decimal("7.1")) == Decimal("71.04")
    assert is_reporting("", "CNY") and is_reporting("cny", "CNY") and not is_reporting("USD", "CNY")
    day = datetime.date
    rates = [(day(2026, 1, 1), Decimal("7")), (day(2026, 6, 1), Decimal("8"))]
    assert pick_rate(rates, day(2026, 3, 1)) == Decimal("7")
    assert pick_rate(rates, day(2026, 6, 1)) == Decimal("8")
    assert pick_rate(rates, day(2025, 1, 1)) == Decimal("7")  # before the first rate: the earliest
    assert pick_rate([], day(2026, 1, 1)) is None


def test_tenant_today_and_month(monkeypatch):
    moment = datetime.datetime(2026, 1, 31, 17, 30, tzinfo=datetime.UTC)  # 01:30 on Feb 1st in Shanghai
    monkeypatch.setattr(timezone, "now", lambda: moment)
    shanghai = SimpleNamespace(tzinfo=ZoneInfo("Asia/Shanghai"))
    berlin = SimpleNamespace(tzinfo=ZoneInfo("Europe/Berlin"))
    assert tenant_today(shanghai) == datetime.date(2026, 2, 1)
    assert tenant_today(berlin) == datetime.date(2026, 1, 31)
    first, next_first, start, end = tenant_month_bounds(shanghai)
    assert (first, next_first) == (datetime.date(2026, 2, 1), datetime.date(2026, 3, 1))
    assert start == datetime.datetime(2026, 2, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert end == datetime.datetime(2026, 3, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
