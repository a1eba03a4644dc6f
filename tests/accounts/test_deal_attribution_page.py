"""The deal page shows where the deal came from (issue 12): the source and campaign it carries from its lead,
linked to the lead list of that source and to the campaign page for the roles that may open them, named without
a link for customer success (who may not), and "(no source)" / "(no campaign)" for a deal born without a lead."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import Account, LifecycleStageName, Opportunity
from accounts.services import opportunities as opportunities_services
from crm.models import Role
from crm.tenancy import tenant_context
from leads.services.conversion import lead_convert
from tests.factories_deals import deal_account
from tests.factories_leads import LeadFactory
from tests.factories_ops import CampaignFactory, LeadSourceFactory

pytestmark = pytest.mark.django_db


def _facts(html: str, testid: str) -> str:
    match = re.search(rf'<dd[^>]*data-testid="{testid}"[^>]*>(.*?)</dd>', html, re.S)
    assert match, testid
    return match.group(1)


@pytest.fixture
def converted_deal(tenant, member):
    rep = member(role=Role.SALES_REP, team="East")
    with tenant_context(tenant):
        source = LeadSourceFactory(tenant=tenant, name="Trade fair 展会")
        campaign = CampaignFactory(tenant=tenant, name="Expo Shanghai 2026", source=source)
        lead = LeadFactory(tenant=tenant, owner=rep.user, source=source, campaign=campaign, company="Haier")
        lead_convert(tenant=tenant, actor=rep.user, lead=lead, deal_amount="1200")
        deal = Opportunity.objects.get(lead=lead)
    return rep, deal, source, campaign


def test_deal_page_links_source_and_campaign(tenant, client_for, converted_deal):
    rep, deal, source, campaign = converted_deal
    html = (
        client_for(rep)
        .get(reverse("accounts:opportunity-detail", args=[tenant.slug, deal.pk]))
        .content.decode()
    )
    source_cell = _facts(html, "deal-source")
    campaign_cell = _facts(html, "deal-campaign")
    leads_url = reverse("leads:lead-list", args=[tenant.slug])
    assert f'href="{leads_url}?source={source.pk}"' in source_cell
    assert "Trade fair 展会" in source_cell
    campaign_url = reverse("leads:campaign-detail", args=[tenant.slug, campaign.pk])
    assert f'href="{campaign_url}"' in campaign_cell
    assert "Expo Shanghai 2026" in campaign_cell
    lead_url = reverse("leads:lead-detail", args=[tenant.slug, deal.lead_id])
    assert f'href="{lead_url}"' in html


def test_deal_page_names_source_without_links_for_customer_success(
    tenant, member, client_for, converted_deal
):
    _, deal, _, _ = converted_deal
    with tenant_context(tenant):
        Account.objects.filter(pk=deal.account_id).update(lifecycle_stage=LifecycleStageName.RETENTION)
    cs = member(role=Role.CS)
    response = client_for(cs).get(reverse("accounts:opportunity-detail", args=[tenant.slug, deal.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Trade fair 展会" in _facts(html, "deal-source")
    assert "href" not in _facts(html, "deal-source")
    assert "Expo Shanghai 2026" in _facts(html, "deal-campaign")
    assert "href" not in _facts(html, "deal-campaign")


def test_deal_without_lead_says_no_source_in_both_languages(tenant, member, client_for):
    rep = member(role=Role.SALES_REP, team="East")
    with tenant_context(tenant):
        account = deal_account(tenant, owner=rep.user, name="Alibaba Cloud")
        deal = opportunities_services.opportunity_create(
            tenant=tenant, actor=rep.user, account=account, name="Direct", amount="10"
        )
    client = client_for(rep)
    page = reverse("accounts:opportunity-detail", args=[tenant.slug, deal.pk])
    html = client.get(page).content.decode()
    assert "(no source)" in _facts(html, "deal-source")
    assert "(no campaign)" in _facts(html, "deal-campaign")
    rep.user.language = "zh-hans"
    rep.user.save(update_fields=["language"])
    html = client.get(page).content.decode()
    assert '<dt class="col-6">线索来源</dt>' in html
    assert "（无来源）" in _facts(html, "deal-source")
    assert "（无市场活动）" in _facts(html, "deal-campaign")
