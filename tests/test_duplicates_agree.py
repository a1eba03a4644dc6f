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
