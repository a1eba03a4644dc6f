"""Won deals attributed to source and campaign (issue 12, item 2): a deal originated from a lead carries the lead's
source and campaign (conversion in the browser, the API and the service, opportunities import with
lead_external_id, the migration's backfill); the Lead sources and Campaigns pages and their API show won count,
won amount and won rate (KPIS.md lead_to_win_rate) per source and campaign, checked against a hand-computed
fixture."""

from __future__ import annotations

import importlib
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Opportunity, Stage, StageKind
from crm.models import Role
from crm.tenancy import tenant_context
from imports.models import ImportJob
from imports.services import import_job_create
from leads.models import LeadStatus, SourceKind
from leads.services.conversion import lead_convert
from tests.factories_accounts import AccountFactory
from tests.factories_leads import LeadFactory
from tests.factories_ops import CampaignFactory, LeadSourceFactory

pytestmark = pytest.mark.django_db


def _stage(tenant, kind):
    return Stage.objects.filter(tenant=tenant, kind=kind, pipeline__name="Sales").first()


def _deal(tenant, lead, kind, amount, *, deleted=False):
    """A closed deal originated from `lead`, in the reporting currency (amount_reporting = amount)."""
    stage = _stage(tenant, kind)
    account = Account.objects.create(tenant=tenant, name=f"Account {lead.pk} {amount}")
    return Opportunity.objects.create(
        tenant=tenant,
        account=account,
        lead=lead,
        source_id=lead.source_id,
        campaign_id=lead.campaign_id,
        name="Deal",
        amount=Decimal(amount),
        amount_reporting=Decimal(amount),
        currency=tenant.currency,
        pipeline=stage.pipeline,
        stage=stage,
        probability=stage.probability,
        closed_at=timezone.now(),
        deleted_at=timezone.now() if deleted else None,
    )


@pytest.fixture
def figures(tenant, member, in_tenant):
    """By hand: Web (inbound) has 4 leads, W1 (campaign Expo) won 1,000.00, W2 (Expo) lost 700, W3 won 250.50
    and 100.00 (one lead, two won deals: counted once, both amounts), W4 open; Giveaway (incentive) has 3 leads,
    G1 won 40.00 and a deleted won deal of 999 (not counted); one lead without a source.

    Web: won 2 of 4 = 50.0%, 1,350.50. Giveaway: 1 of 3 = 33.3%, 40.00. (no source): 0 of 1, 0.00.
    All: 3 of 8 = 37.5%, 1,390.50. Campaign Expo: 1 of 2 = 50.0%, 1,000.00."""
    owner = member(role=Role.SALES_REP).user
    web = LeadSourceFactory(tenant=tenant, name="Web", kind=SourceKind.INBOUND)
    giveaway = LeadSourceFactory(tenant=tenant, name="Giveaway", kind=SourceKind.INCENTIVE)
    expo = CampaignFactory(tenant=tenant, name="Expo", source=web, source_kind=SourceKind.INBOUND)
    leads = {}
    for key, source, campaign in [
        ("W1", web, expo),
        ("W2", web, expo),
        ("W3", web, None),
        ("W4", web, None),
        ("G1", giveaway, None),
        ("G2", giveaway, None),
        ("G3", giveaway, None),
        ("N1", None, None),
    ]:
        leads[key] = LeadFactory(tenant=tenant, owner=owner, source=source, campaign=campaign)
    _deal(tenant, leads["W1"], StageKind.WON, "1000.00")
    _deal(tenant, leads["W2"], StageKind.LOST, "700.00")
    _deal(tenant, leads["W3"], StageKind.WON, "250.50")
    _deal(tenant, leads["W3"], StageKind.WON, "100.00")
    _deal(tenant, leads["G1"], StageKind.WON, "40.00")
    _deal(tenant, leads["G1"], StageKind.WON, "999.00", deleted=True)
    return SimpleNamespace(web=web, giveaway=giveaway, expo=expo, leads=leads)


def _cells(html: str, row_marker: str, name: str) -> dict[str, str]:
    """The won cells (won, won-amount, won-rate) of the table row that names `name`."""
    for row in html.split(row_marker)[1:]:
        row = row.split("</tr>", 1)[0]
        if f">{name}<" in row or f">{name} " in row or f"{name}\n" in row:
            return {
                key: re.sub(r"<[^>]+>|\s+", " ", value).strip()
                for key, value in re.findall(
                    r'data-testid="(won|won-amount|won-rate)">(.*?)</(?:td|span|div)>', row
                )
            }
    raise AssertionError(f"no row for {name}")


def test_sources_page_shows_won_count_amount_and_rate(tenant, member, client_for, figures):
    ops = member(role=Role.OPS)
    response = client_for(ops).get(reverse("leads:source-list", kwargs={"slug": tenant.slug}))
    assert response.status_code == 200
    html = response.content.decode()
    marker = 'data-testid="source-row"'
    assert _cells(html, marker, "Web") == {"won": "2", "won-amount": "1,350.50 CNY", "won-rate": "50.0%"}
    assert _cells(html, marker, "Giveaway") == {"won": "1", "won-amount": "40.00 CNY", "won-rate": "33.3%"}
    assert _cells(html, marker, "(no source)") == {"won": "0", "won-amount": "0.00 CNY", "won-rate": "0.0%"}
    total = response.context["quality"].total
    assert (total.leads, total.won, total.won_amount) == (8, 3, Decimal("1390.50"))
    assert total.lead_to_win_rate == 3 / 8
    kinds = {k.extra["kind"]: (k.won, k.won_amount) for k in response.context["quality"].kinds}
    assert kinds == {"inbound": (2, Decimal("1350.50")), "incentive": (1, Decimal("40.00"))}


def test_campaigns_page_shows_won_count_amount_and_rate(tenant, member, client_for, figures):
    ops = member(role=Role.OPS)
    client = client_for(ops)
    response = client.get(reverse("leads:campaign-list", kwargs={"slug": tenant.slug}))
    html = response.content.decode()
    assert _cells(html, 'data-testid="campaign-row"', "Expo") == {
        "won": "1",
        "won-amount": "1,000.00 CNY",
        "won-rate": "· 50.0%",
    }
    detail = client.get(reverse("leads:campaign-detail", kwargs={"slug": tenant.slug, "pk": figures.expo.pk}))
    assert detail.context["funnel"]["funnel"].won_amount == Decimal("1000.00")
    assert "1,000.00 CNY" in detail.content.decode()


def test_sources_and_campaigns_api_give_the_won_figures(tenant, member, api_client_for, figures):
    client = api_client_for(member(role=Role.OPS))
    base = f"/api/v1/t/{tenant.slug}"
    quality = client.get(f"{base}/lead-sources/quality/").json()
    web = next(row for row in quality["sources"] if row["name"] == "Web")
    assert (web["leads"], web["won"], web["won_amount"], web["lead_to_win_rate"]) == (4, 2, "1350.50", 0.5)
    none = next(row for row in quality["sources"] if row["id"] is None)
    assert (none["won"], none["won_amount"], none["lead_to_win_rate"]) == (0, "0.00", 0.0)
    assert (quality["total"]["won"], quality["total"]["won_amount"]) == (3, "1390.50")
    campaigns = client.get(f"{base}/campaigns/").json()["results"]
    expo = next(row for row in campaigns if row["name"] == "Expo")
    assert (expo["n_leads"], expo["n_won"], expo["won_amount"], expo["lead_to_win_rate"]) == (
        2,
        1,
        "1000.00",
        0.5,
    )
    funnel = client.get(f"{base}/campaigns/{figures.expo.pk}/funnel/").json()
    assert (funnel["won"], funnel["won_amount"]) == (1, "1000.00")


def test_a_rep_sees_the_won_figures_of_their_own_leads_only(tenant, member, client_for, figures):
    rep = member(role=Role.SALES_REP)
    mine = LeadFactory(tenant=tenant, owner=rep.user, source=figures.web)
    with tenant_context(tenant):
        _deal(tenant, mine, StageKind.WON, "5.00")
    response = client_for(rep).get(reverse("leads:source-list", kwargs={"slug": tenant.slug}))
    rows = {
        str(row.extra["name"]): (row.leads, row.won, row.won_amount)
        for row in response.context["quality"].sources
    }
    assert rows["Web"] == (1, 1, Decimal("5.00"))


def test_conversion_carries_the_leads_source_and_campaign(tenant, member, in_tenant):
    rep = member(role=Role.SALES_REP)
    source = LeadSourceFactory(tenant=tenant)
    campaign = CampaignFactory(tenant=tenant, source=source)
    lead = LeadFactory(tenant=tenant, owner=rep.user, company="Huaxin", source=source, campaign=campaign)
    lead = lead_convert(tenant=tenant, actor=rep.user, lead=lead, deal_amount="1200")
    deal = Opportunity.objects.get(lead=lead)
    assert (deal.source_id, deal.campaign_id) == (source.pk, campaign.pk)
    # The attribution stays with the deal when the lead is re-sourced later.
    lead.source = LeadSourceFactory(tenant=tenant)
    lead.save()
    deal.refresh_from_db()
    assert deal.source_id == source.pk


def test_conversion_in_the_browser_and_the_api_carries_source_and_campaign(
    tenant, member, client_for, api_client_for
):
    rep = member(role=Role.SALES_REP)
    source = LeadSourceFactory(tenant=tenant)
    campaign = CampaignFactory(tenant=tenant, source=source)
    page_lead = LeadFactory(
        tenant=tenant, owner=rep.user, company="Page Co", source=source, campaign=campaign
    )
    response = client_for(rep).post(
        reverse("leads:lead-convert", kwargs={"slug": tenant.slug, "pk": page_lead.pk}),
        {
            "account_choice": "new",
            "account_name": "Page Co",
            "contact_choice": "new",
            "deal_name": "Pilot",
            "deal_amount": "5000",
            "deal_currency": "CNY",
        },
    )
    assert response.status_code == 302
    api_lead = LeadFactory(tenant=tenant, owner=rep.user, company="Api Co", source=source, campaign=None)
    client = api_client_for(rep)
    response = client.post(
        f"/api/v1/t/{tenant.slug}/leads/{api_lead.pk}/convert/",
        {"deal_name": "Api deal", "deal_amount": "999.00"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    deal_id = response.json()["converted_opportunity"]
    with tenant_context(tenant):
        page_deal = Opportunity.objects.get(lead=page_lead)
        assert page_lead.__class__.objects.get(pk=page_lead.pk).status == LeadStatus.CONVERTED
        assert (page_deal.source_id, page_deal.campaign_id) == (source.pk, campaign.pk)
    body = client.get(f"/api/v1/t/{tenant.slug}/opportunities/{deal_id}/").json()
    assert (body["lead"], body["source"], body["campaign"]) == (api_lead.pk, source.pk, None)


def test_import_with_lead_external_id_carries_source_and_campaign(
    tenant, admin_member, django_capture_on_commit_callbacks
):
    source = LeadSourceFactory(tenant=tenant)
    campaign = CampaignFactory(tenant=tenant, source=source)
    lead = LeadFactory(tenant=tenant, external_id="L-1", source=source, campaign=campaign)
    AccountFactory(tenant=tenant, external_id="A-1", owner=admin_member.user)
    text = (
        "external_id,account_external_id,lead_external_id,name,stage,amount,created_at,closed_at\n"
        "O-1,A-1,L-1,From the lead,Closed won,9000,2025-01-10T00:00:00Z,2025-03-15T00:00:00Z\n"
        "O-2,A-1,,No lead,Closed won,100,2025-01-10T00:00:00Z,2025-03-15T00:00:00Z\n"
    )
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant):
        job = import_job_create(
            tenant=tenant,
            actor=admin_member.user,
            membership=admin_member,
            kind="opportunities",
            file_name="deals.csv",
            content=text.encode(),
        )
    with tenant_context(tenant):
        job = ImportJob.objects.get(pk=job.pk)
    assert (job.created, job.failed) == (2, 0), job.row_errors
    with tenant_context(tenant):
        from_lead = Opportunity.objects.get(external_id="O-1")
        assert (from_lead.lead_id, from_lead.source_id, from_lead.campaign_id) == (
            lead.pk,
            source.pk,
            campaign.pk,
        )
        assert Opportunity.objects.filter(external_id="O-2", source=None, campaign=None).exists()


def test_the_migration_backfills_deals_from_their_lead(tenant):
    with tenant_context(tenant):
        source = LeadSourceFactory(tenant=tenant)
        campaign = CampaignFactory(tenant=tenant, source=source)
        lead = LeadFactory(tenant=tenant, source=source, campaign=campaign)
        bare = LeadFactory(tenant=tenant, source=None, campaign=None)
        deal = _deal(tenant, lead, StageKind.WON, "10.00")
        other = _deal(tenant, bare, StageKind.LOST, "10.00")
        Opportunity.objects.filter(pk=deal.pk).update(source=None, campaign=None)
    migration = importlib.import_module("accounts.migrations.0007_deal_source_campaign")
    migration.backfill_from_leads(django_apps, SimpleNamespace(connection=connection))
    with tenant_context(tenant):
        assert Opportunity.objects.filter(pk=deal.pk, source=source, campaign=campaign).exists()
        assert Opportunity.objects.filter(pk=other.pk, source=None, campaign=None).exists()
