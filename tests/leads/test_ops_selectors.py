"""Selectors of the ops area: source quality (set-based funnel counts), campaign funnel and costs, role scoping."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Account, Opportunity, Stage, StageKind
from crm.models import Role
from leads.models import Campaign, LeadSource, ScoringRule, SourceKind, Territory
from leads.selectors import campaigns as campaigns_selectors
from leads.selectors import funnels as funnels_selectors
from leads.selectors import scoring as scoring_selectors
from leads.selectors import sources as sources_selectors
from leads.selectors import territories as territories_selectors
from tests.factories_leads import LeadFactory
from tests.factories_ops import (
    CampaignFactory,
    LeadSourceFactory,
    ScoringRuleFactory,
    TerritoryFactory,
    TerritoryMemberFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def deal(tenant, *, lead, stage, deleted_at=None):
    """A deal originated from `lead` (written directly: only its lead, stage and deletion matter here)."""
    account = Account.objects.create(tenant=tenant, name=f"Account of {lead.pk}")
    return Opportunity.objects.create(
        tenant=tenant,
        account=account,
        lead=lead,
        name="Deal",
        currency=tenant.currency,
        pipeline=stage.pipeline,
        stage=stage,
        probability=stage.probability,
        deleted_at=deleted_at,
    )


def won_stage(tenant):
    return Stage.objects.filter(tenant=tenant, kind=StageKind.WON).first()


def lost_stage(tenant):
    return Stage.objects.filter(tenant=tenant, kind=StageKind.LOST).first()


@pytest.fixture
def data(tenant, member, in_tenant):
    """Two sources (one per kind), leads at every step, deals won/lost/deleted."""
    rep = member(role=Role.SALES_REP, team="East")
    other_rep = member(role=Role.SALES_REP, team="West")
    inbound = LeadSourceFactory(tenant=tenant, name="Demo request", kind=SourceKind.INBOUND)
    incentive = LeadSourceFactory(tenant=tenant, name="Giveaway", kind=SourceKind.INCENTIVE)
    lead = lambda **kw: LeadFactory(tenant=tenant, **kw)  # noqa: E731
    # inbound: 4 leads: new; mql; converted straight from working (reached mql+sql); sql with a won deal
    lead(source=inbound, owner=rep.user)
    lead(source=inbound, owner=rep.user, mql_at=NOW)
    converted = lead(source=inbound, owner=other_rep.user, converted_at=NOW)
    sql_won = lead(source=inbound, owner=rep.user, sql_at=NOW)
    deal(tenant, lead=sql_won, stage=won_stage(tenant))
    deal(tenant, lead=sql_won, stage=won_stage(tenant))  # two wins count one lead
    deal(tenant, lead=converted, stage=lost_stage(tenant))
    # incentive: 3 leads, one mql, one with a won deal that is deleted, plus a deleted lead
    lead(source=incentive, owner=other_rep.user)
    lead(source=incentive, owner=rep.user, mql_at=NOW)
    gone = lead(source=incentive, owner=rep.user)
    deal(tenant, lead=gone, stage=won_stage(tenant), deleted_at=NOW)
    lead(source=incentive, owner=rep.user, mql_at=NOW, deleted_at=NOW)
    # no source, but a campaign of incentive kind: counts for the incentive kind
    campaign = CampaignFactory(tenant=tenant, source=None, source_kind=SourceKind.INCENTIVE)
    lead(source=None, campaign=campaign, owner=rep.user)
    return {
        "rep": rep,
        "other_rep": other_rep,
        "inbound": inbound,
        "incentive": incentive,
        "campaign": campaign,
    }


def by_name(quality):
    return {str(row.extra["name"]): row for row in quality.sources}


def test_source_quality_counts_and_rates(tenant, admin_member, data):
    quality = funnels_selectors.source_quality(tenant=tenant, membership=admin_member)
    rows = by_name(quality)
    inbound = rows["Demo request"]
    assert (inbound.leads, inbound.mql, inbound.sql, inbound.converted, inbound.won) == (4, 3, 2, 1, 1)
    assert inbound.lead_to_mql_rate == 0.75
    assert inbound.mql_to_sql_rate == pytest.approx(2 / 3)
    assert inbound.lead_conversion_rate == 0.25
    assert inbound.lead_to_win_rate == 0.25
    incentive = rows["Giveaway"]
    assert (incentive.leads, incentive.mql, incentive.won) == (3, 1, 0)
    assert rows["(no source)"].leads == 1
    kinds = {k.extra["kind"]: k for k in quality.kinds}
    assert kinds["inbound"].leads == 4
    assert kinds["incentive"].leads == 4  # 3 from the source, 1 from the campaign's kind
    assert quality.total.leads == 8


def test_rates_are_null_without_leads(tenant, admin_member, in_tenant):
    LeadSourceFactory(tenant=tenant, name="Empty")
    quality = funnels_selectors.source_quality(tenant=tenant, membership=admin_member)
    row = by_name(quality)["Empty"]
    assert row.leads == 0 and row.lead_to_mql_rate is None and row.mql_to_sql_rate is None
    assert all(k.lead_to_win_rate is None for k in quality.kinds)


def test_quality_period_uses_tenant_local_dates(tenant, admin_member, in_tenant):
    source = LeadSourceFactory(tenant=tenant, name="Web")
    tz = tenant.tzinfo  # Asia/Shanghai: 2026-03-01 00:30 local is still Feb 28 in UTC
    LeadFactory(tenant=tenant, source=source, created_at=datetime.datetime(2026, 3, 1, 0, 30, tzinfo=tz))
    LeadFactory(tenant=tenant, source=source, created_at=datetime.datetime(2026, 2, 28, 23, 30, tzinfo=tz))
    march = funnels_selectors.source_quality(
        tenant=tenant,
        membership=admin_member,
        created_from=datetime.date(2026, 3, 1),
        created_to=datetime.date(2026, 3, 31),
    )
    assert by_name(march)["Web"].leads == 1
    feb = funnels_selectors.source_quality(
        tenant=tenant, membership=admin_member, created_to=datetime.date(2026, 2, 28)
    )
    assert by_name(feb)["Web"].leads == 1


def test_quality_is_scoped_for_reps_and_managers(tenant, data, member):
    rep_quality = funnels_selectors.source_quality(tenant=tenant, membership=data["rep"])
    assert by_name(rep_quality)["Demo request"].leads == 3  # not other_rep's converted lead
    assert rep_quality.total.leads == 6
    manager = member(role=Role.SALES_MANAGER, team="West")
    manager_quality = funnels_selectors.source_quality(tenant=tenant, membership=manager)
    assert manager_quality.total.leads == 2  # other_rep is in West


def test_quality_query_count_is_constant(tenant, admin_member, data, django_assert_num_queries):
    with django_assert_num_queries(2):
        funnels_selectors.source_quality(tenant=tenant, membership=admin_member)
    for _ in range(5):
        LeadFactory(tenant=tenant, source=LeadSourceFactory(tenant=tenant), mql_at=NOW)
    with django_assert_num_queries(2):
        funnels_selectors.source_quality(tenant=tenant, membership=admin_member)


def test_campaign_funnel_and_cost(tenant, admin_member, member, in_tenant):
    rep = member(role=Role.SALES_REP)
    campaign = CampaignFactory(tenant=tenant, cost=Decimal("1000.00"))
    for kw in [{}, {"mql_at": NOW}, {"sql_at": NOW}, {"converted_at": NOW, "owner": rep.user}]:
        LeadFactory(tenant=tenant, campaign=campaign, **kw)
    won = LeadFactory(tenant=tenant, campaign=campaign, converted_at=NOW)
    deal(tenant, lead=won, stage=won_stage(tenant))
    LeadFactory(tenant=tenant, campaign=CampaignFactory(tenant=tenant))  # another campaign
    result = funnels_selectors.campaign_funnel(tenant=tenant, membership=admin_member, campaign=campaign)
    assert [s["count"] for s in result["steps"]] == [5, 4, 3, 2, 1]
    assert result["steps"][1]["share"] == 0.8
    assert result["cost_per_lead"] == Decimal("200.00")
    assert result["cost_per_mql"] == Decimal("250.00")
    assert result["cost_per_won"] == Decimal("1000.00")
    scoped = funnels_selectors.campaign_funnel(tenant=tenant, membership=rep, campaign=campaign)
    assert scoped["funnel"].leads == 1
    assert scoped["cost_scoped"] and scoped["cost_per_lead"] is None


def test_campaign_list_annotates_visible_counts(tenant, admin_member, member, in_tenant):
    rep = member(role=Role.SALES_REP)
    campaign = CampaignFactory(tenant=tenant)
    LeadFactory(tenant=tenant, campaign=campaign, owner=rep.user, mql_at=NOW)
    LeadFactory(tenant=tenant, campaign=campaign)
    LeadFactory(tenant=tenant, campaign=campaign, deleted_at=NOW)
    CampaignFactory(tenant=tenant, deleted_at=NOW)
    rows = list(campaigns_selectors.campaign_list(tenant=tenant, membership=admin_member))
    assert [(c.pk, c.n_leads, c.n_mql) for c in rows] == [(campaign.pk, 2, 1)]
    rows = list(campaigns_selectors.campaign_list(tenant=tenant, membership=rep))
    assert [(c.n_leads, c.n_mql) for c in rows] == [(1, 1)]


@pytest.mark.parametrize(
    ("role", "sources", "config"),
    [
        (Role.ADMIN, True, True),
        (Role.OPS, True, True),
        (Role.SALES_MANAGER, True, True),
        (Role.SALES_REP, True, False),
        (Role.CS, False, False),
    ],
)
def test_read_visibility_per_role(tenant, member, in_tenant, role, sources, config):
    membership = member(role=role)
    source = LeadSourceFactory(tenant=tenant)
    campaign = CampaignFactory(tenant=tenant)
    territory = TerritoryFactory(tenant=tenant)
    rule = ScoringRuleFactory(tenant=tenant)
    assert sources_selectors.source_list(tenant=tenant, membership=membership).exists() == sources
    assert campaigns_selectors.campaign_list(tenant=tenant, membership=membership).exists() == sources
    assert territories_selectors.territory_list(tenant=tenant, membership=membership).exists() == config
    assert scoring_selectors.scoring_rule_list(tenant=tenant, membership=membership).exists() == config
    for getter, model, obj, allowed in [
        (sources_selectors.source_get, LeadSource, source, sources),
        (campaigns_selectors.campaign_get, Campaign, campaign, sources),
        (territories_selectors.territory_get, Territory, territory, config),
        (scoring_selectors.scoring_rule_get, ScoringRule, rule, config),
    ]:
        if allowed:
            assert getter(tenant=tenant, membership=membership, pk=obj.pk) == obj
        else:
            with pytest.raises(model.DoesNotExist):
                getter(tenant=tenant, membership=membership, pk=obj.pk)


def test_deleted_sources_and_campaigns_are_hidden(tenant, admin_member, in_tenant):
    source = LeadSourceFactory(tenant=tenant, deleted_at=NOW)
    assert not sources_selectors.source_list(tenant=tenant, membership=admin_member).exists()
    with pytest.raises(LeadSource.DoesNotExist):
        sources_selectors.source_get(tenant=tenant, membership=admin_member, pk=source.pk)
    assert sources_selectors.source_get(
        tenant=tenant, membership=admin_member, pk=source.pk, include_deleted=True
    )
    assert not sources_selectors.source_choices(tenant=tenant).exists()


def test_territory_preview_does_not_advance(tenant, member, in_tenant):
    a, b = member(), member()
    territory = TerritoryFactory(tenant=tenant, regions=["East"], rr_position=1)
    TerritoryMemberFactory(tenant=tenant, territory=territory, user=a.user, position=0)
    TerritoryMemberFactory(tenant=tenant, territory=territory, user=b.user, position=1)
    for _ in range(2):
        preview = territories_selectors.territory_preview(
            tenant=tenant, region="east", industry="", size_band=""
        )
        assert (preview.territory, preview.next_user) == (territory, b.user)
    territory.refresh_from_db()
    assert territory.rr_position == 1
    assert (
        territories_selectors.territory_preview(
            tenant=tenant, region="West", industry="", size_band=""
        ).territory
        is None
    )


def test_territory_list_query_count_is_constant(
    tenant, admin_member, member, in_tenant, django_assert_num_queries
):
    def add(n):
        for _ in range(n):
            territory = TerritoryFactory(tenant=tenant)
            for _ in range(2):
                TerritoryMemberFactory(tenant=tenant, territory=territory, user=member().user)

    add(2)
    with django_assert_num_queries(2):
        rows = list(territories_selectors.territory_list(tenant=tenant, membership=admin_member))
        assert all(
            len(t.territory_members.all()) == 2 and t.territory_members.all()[0].user.email for t in rows
        )
    add(3)
    with django_assert_num_queries(2):
        rows = list(territories_selectors.territory_list(tenant=tenant, membership=admin_member))
        assert all(t.territory_members.all()[1].user.email for t in rows)
