"""Lead conversion: account + contact + deal in one transaction, links both ways, activities moved."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Account, Activity, ActivityKind, Contact, Opportunity
from accounts.services.activities import activity_log
from crm.errors import AppError
from crm.models import Role
from leads.models import Lead, LeadStatus
from leads.services import conversion as services
from tests.factories_accounts import AccountFactory, ContactFactory
from tests.factories_leads import LeadFactory

pytestmark = pytest.mark.django_db


def test_convert_creates_account_contact_and_deal(tenant, member, in_tenant):
    rep = member()
    lead = LeadFactory(
        tenant=tenant,
        owner=rep.user,
        first_name="Lei",
        last_name="Li",
        email="li@widgets.cn",
        company="Widgets Ltd",
        status=LeadStatus.WORKING,
    )
    call = activity_log(tenant=tenant, actor=rep.user, kind=ActivityKind.CALL, subject="Intro", lead=lead)
    services.lead_convert(
        tenant=tenant, actor=rep.user, lead=lead, deal_name="Widgets pilot", deal_amount=Decimal("12000")
    )
    assert lead.status == LeadStatus.CONVERTED and lead.converted_at is not None
    assert lead.mql_at is None and lead.sql_at is None  # reached by the later timestamp (KPIS.md)
    account, contact, deal = lead.converted_account, lead.converted_contact, lead.converted_opportunity
    assert account.name == "Widgets Ltd" and account.domain == "widgets.cn" and account.owner == rep.user
    assert contact.account == account and contact.email == "li@widgets.cn"
    assert deal.lead_id == lead.pk and deal.account == account and deal.amount == Decimal("12000.00")
    assert deal.name == "Widgets pilot" and deal.owner == rep.user
    call.refresh_from_db()
    assert call.lead_id == lead.pk and call.account_id == account.pk and call.contact_id == contact.pk


def test_convert_links_existing_and_no_deal(tenant, member, in_tenant):
    rep = member()
    account = AccountFactory(tenant=tenant, owner=rep.user, name="Existing GmbH")
    contact = ContactFactory(tenant=tenant, account=account, owner=rep.user)
    lead = LeadFactory(tenant=tenant, owner=rep.user)
    services.lead_convert(
        tenant=tenant, actor=rep.user, lead=lead, account=account, contact=contact, create_deal=False
    )
    assert lead.converted_account == account and lead.converted_contact == contact
    assert lead.converted_opportunity is None
    assert Account.objects.count() == 1 and Contact.objects.count() == 1 and Opportunity.objects.count() == 0


def test_convert_is_all_or_nothing(tenant, member, in_tenant):
    rep = member()
    lead = LeadFactory(tenant=tenant, owner=rep.user, company="Rollback Inc")
    with pytest.raises(ValidationError):
        services.lead_convert(tenant=tenant, actor=rep.user, lead=lead, deal_amount="-5")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW
    assert not Account.objects.filter(name="Rollback Inc").exists()
    assert Contact.objects.count() == 0


def test_convert_refusals(tenant, member, other_tenant, in_tenant):
    rep = member()
    converted = LeadFactory(tenant=tenant, owner=rep.user, status=LeadStatus.CONVERTED)
    with pytest.raises(AppError):
        services.lead_convert(tenant=tenant, actor=rep.user, lead=converted)
    disqualified = LeadFactory(tenant=tenant, owner=rep.user, status=LeadStatus.DISQUALIFIED)
    with pytest.raises(AppError):
        services.lead_convert(tenant=tenant, actor=rep.user, lead=disqualified)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.lead_convert(
            tenant=tenant, actor=member().user, lead=LeadFactory(tenant=tenant, owner=rep.user)
        )
    with pytest.raises(PermissionDenied):
        services.lead_convert(
            tenant=tenant, actor=member(role=Role.OPS).user, lead=LeadFactory(tenant=tenant, owner=rep.user)
        )


def test_manager_converts_pool_lead_and_owns_it(tenant, member, in_tenant):
    manager = member(role=Role.SALES_MANAGER)
    lead = LeadFactory(tenant=tenant, owner=None, company="Pool Co")
    services.lead_convert(tenant=tenant, actor=manager.user, lead=lead, create_deal=False)
    assert lead.owner == manager.user
    assert Lead.objects.get(pk=lead.pk).converted_account.owner == manager.user
    assert Activity.objects.count() == 0


def test_convert_puts_the_contact_on_the_new_deal_as_primary(tenant, member, in_tenant):
    rep = member()
    lead = LeadFactory(tenant=tenant, owner=rep.user, company="Harbor Robotics", status=LeadStatus.WORKING)
    services.lead_convert(tenant=tenant, actor=rep.user, lead=lead, deal_name="Robots", deal_amount="1")
    links = list(lead.converted_opportunity.contact_roles.all())
    assert [(link.contact_id, link.is_primary) for link in links] == [(lead.converted_contact_id, True)]


def test_convert_links_an_accountless_contact_to_the_account_and_the_deal(tenant, member, in_tenant):
    rep = member()
    loose = ContactFactory(tenant=tenant, account=None, owner=rep.user, email="loose@example.test")
    lead = LeadFactory(tenant=tenant, owner=rep.user, email="loose@example.test", status=LeadStatus.WORKING)
    services.lead_convert(tenant=tenant, actor=rep.user, lead=lead, contact=loose, deal_amount="1")
    loose.refresh_from_db()
    assert loose.account_id == lead.converted_account_id
    assert [link.contact_id for link in lead.converted_opportunity.contact_roles.all()] == [loose.pk]
