"""Leads and accounts answer the duplicate question the same way for the same company: both normalize names with
crm.normalize (one suffix list). A company typed into a lead form is found among leads exactly when, typed into
an account form, it is found among accounts."""

from __future__ import annotations

import pytest

from accounts.selectors.duplicates import account_duplicates
from leads.selectors.duplicates import lead_duplicates
from tests.factories_accounts import AccountFactory
from tests.factories_leads import LeadFactory

pytestmark = pytest.mark.django_db

# (stored name, typed name, the same company?)
CASES = [
    ("上海华信科技股份有限公司", "上海华信科技有限公司", True),
    ("北京华信科技有限公司", "北京华信科技", True),
    ("腾讯科技集团", "腾讯科技有限公司", True),
    ("深圳腾飞电子有限公司", "北京华信科技有限公司", False),
    ("Shanghai Huaxin Technology Co., Ltd.", "Shanghai Huaxin Technology Ltd", True),
    ("Müller GmbH & Co. KG", "Müller GmbH", True),
    ("Becker Robotics B.V.", "Becker Robotics BV", True),
    ("Alibaba Group Holding Ltd", "Alibaba Group", True),
    ("Initech Corporation", "Initech Inc.", True),
    ("Acme Industrial Inc.", "Globex Corporation", False),
    ("Stark Logistics GmbH", "Wayne Robotics AG", False),
]


@pytest.mark.parametrize(("stored", "typed", "same"), CASES)
def test_lead_and_account_duplicate_checks_agree(in_tenant, admin_member, stored, typed, same):
    lead = LeadFactory(tenant=in_tenant, company=stored)
    account = AccountFactory(tenant=in_tenant, name=stored)
    found_lead = lead.pk in {
        d.lead.pk for d in lead_duplicates(tenant=in_tenant, membership=None, company=typed)
    }
    found_account = account.pk in {a.pk for a in account_duplicates(tenant=in_tenant, name=typed)}
    assert (found_lead, found_account) == (same, same)


# Realistic names (issue 12, item 10): what must and must not be suggested as the same company. Different companies
# that share a region, a line of business or words score up to 0.56 ("NORDIC DATA SYSTEMS" / "NORDIC ENERGY
# SYSTEMS"); the old threshold of 0.3 flagged such pairs at 0.33-0.40.
# (stored name, typed name, the same company?)
TUNED = [
    # (stored, typed, same company?)
    ("北京字节跳动科技有限公司", "字节跳动", True),
    ("字节跳动", "北京字节跳动科技有限公司", True),
    ("上海华信科技股份有限公司", "上海华信科技有限公司", True),
    ("北京华信科技有限公司", "北京华信科技", True),
    ("腾讯科技（深圳）有限公司", "腾讯科技有限公司", True),
    ("腾讯科技集团", "腾讯科技有限公司", True),
    ("阿里巴巴（中国）有限公司", "阿里巴巴", True),
    ("上海市华信科技有限公司", "华信科技", True),
    ("杭州海康威视数字技术股份有限公司", "海康威视数字技术", True),
    ("深圳市大疆创新科技有限公司", "大疆创新科技", True),
    ("华为技术有限公司", "华为技术", True),
    ("ACME工业", "ＡＣＭＥ 工业", True),
    ("Acme Corp", "ＡＣＭＥ　Ｃｏｒｐｏｒａｔｉｏｎ", True),
    ("北京科技有限公司", "上海科技有限公司", False),
    ("深圳腾飞电子有限公司", "北京华信科技有限公司", False),
    ("上海华信科技有限公司", "上海华信电子有限公司", False),
    ("上海华信科技有限公司", "上海腾飞科技有限公司", False),
    ("北京华信科技有限公司", "北京华润置地有限公司", False),
    ("杭州海康威视数字技术股份有限公司", "杭州海尔电器有限公司", False),
    ("北京京东世纪贸易有限公司", "北京百度网讯科技有限公司", False),
    ("苏州科达科技股份有限公司", "苏州科沃斯机器人股份有限公司", False),
    ("Acme Corp", "ACME Corporation", True),
    ("Dragon Technology Ltd", "Dragon Tech Ltd", True),
    ("Acme Corp", "Apex Corp", False),
    ("Shanghai Huaxin Technology Co., Ltd.", "Shanghai Huaxin Technology Ltd", True),
    ("Müller GmbH & Co. KG", "Müller GmbH", True),
    ("Becker Robotics B.V.", "Becker Robotics BV", True),
    ("Alibaba Group Holding Ltd", "Alibaba Group", True),
    ("Initech Corporation", "Initech Inc.", True),
    ("Globex GmbH", "GLOBEX  gmbh", True),
    ("Stark Industries Inc", "Stark Industries", True),
    ("Acme Industrial Inc.", "Globex Corporation", False),
    ("Stark Logistics GmbH", "Wayne Robotics AG", False),
    ("Shanghai Huaxin Technology Co., Ltd.", "Shanghai Tengfei Electronics Co., Ltd.", False),
    ("Berlin Software Solutions GmbH", "Berlin Logistics Solutions GmbH", False),
    ("Nordic Data Systems AB", "Nordic Energy Systems AB", False),
    ("Acme Industrial Inc.", "Acme Logistics Inc.", False),
    ("Acme Corp", "Acmex Inc", False),
    ("Müller Maschinenbau GmbH", "Müller Elektronik GmbH", False),
]


@pytest.mark.parametrize(("stored", "typed", "same"), TUNED)
def test_duplicate_suggestions_on_realistic_names(in_tenant, admin_member, stored, typed, same):
    lead = LeadFactory(tenant=in_tenant, company=stored)
    account = AccountFactory(tenant=in_tenant, name=stored)
    found_lead = lead.pk in {
        d.lead.pk for d in lead_duplicates(tenant=in_tenant, membership=None, company=typed)
    }
    found_account = account.pk in {a.pk for a in account_duplicates(tenant=in_tenant, name=typed)}
    assert (found_lead, found_account) == (same, same)


def test_the_python_trigram_similarity_is_pg_trgm(in_tenant):
    """crm.normalize.company_match scores in Python what pg_trgm's similarity() gives for the same keys."""
    from django.db import connection

    from crm.normalize import company_key, trigram_similarity

    with connection.cursor() as cursor:
        for stored, typed, _same in TUNED:
            a, b = company_key(stored), company_key(typed)
            cursor.execute("SELECT similarity(%s, %s)", [a, b])
            assert trigram_similarity(a, b) == pytest.approx(cursor.fetchone()[0], abs=1e-6), (a, b)
