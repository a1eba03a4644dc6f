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
from crm.normalize import (
    company_key,
    normalize_company_name,
    normalize_domain,
    phone_digits,
    trigram_similarity,
)

# (typed name, what the accounts app pinned as its core, what the leads app pinned as its key)
PINNED = [
    ("Müller GmbH & Co. KG", "Müller", "MÜLLER"),
    ("Becker Robotics B.V.", "Becker Robotics", "BECKER ROBOTICS"),
    ("Acme Co., Ltd.", "Acme", "ACME"),
    # The key drops a Chinese name's region (issue 12, item 10): the trade name alone finds the registered name.
    ("上海华信科技股份有限公司", "上海华信科技", "华信科技"),
    ("Shanghai Huaxin Technology Co., Ltd.", "Shanghai Huaxin Technology", "SHANGHAI HUAXIN TECHNOLOGY"),
    ("华信科技有限公司", "华信科技", "华信科技"),
    ("Dragon Tech Ltd.", "Dragon Tech", "DRAGON TECH"),
]


@pytest.mark.parametrize(("name", "core", "key"), PINNED)
def test_company_core_and_key(name, core, key):
    assert normalize_company_name(name) == core
    assert company_key(name) == key


# (name, its key): full-width forms, bracketed and leading regions, spaces next to Chinese characters; a name that
# is only a region and a line of business keeps its region.
KEYS = [
    ("ＡＣＭＥ　Ｃｏｒｐ．", "ACME"),
    ("北京字节跳动科技有限公司", "字节跳动科技"),
    ("上海市华信科技有限公司", "华信科技"),
    ("腾讯科技（深圳）有限公司", "腾讯科技"),
    ("阿里巴巴(中国)有限公司", "阿里巴巴"),
    ("ACME 工业", "ACME工业"),
    ("北京科技有限公司", "北京科技"),
    ("上海信息技术有限公司", "上海信息技术"),
    ("中国平安保险", "平安保险"),
]


@pytest.mark.parametrize(("name", "key"), KEYS)
def test_company_key_folds_width_and_drops_a_chinese_region(name, key):
    assert company_key(name) == key


def test_trigram_similarity_is_pg_trgm_similarity():
    """The values pg_trgm's similarity() gives for these pairs (SELECT similarity(a, b))."""
    assert trigram_similarity("字节跳动科技", "字节跳动") == 0.5
    assert trigram_similarity("ACME", "APEX") == pytest.approx(1 / 9)
    assert trigram_similarity("NORDIC DATA SYSTEMS", "NORDIC ENERGY SYSTEMS") == pytest.approx(0.5555556)
    assert trigram_similarity("", "") == 0.0


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
