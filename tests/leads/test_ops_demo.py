"""The ops demo seed: both source kinds, 12+ months of campaigns, territories with members, scoring rules."""

from __future__ import annotations

import datetime
import random

import pytest
from django.utils import timezone

from crm.models import Role
from leads.demo import setup as demo
from leads.models import Campaign, Lead, LeadSource, ScoringRule, SourceKind, Territory
from leads.services import assignment as services

pytestmark = pytest.mark.django_db


@pytest.fixture
def members(admin_member, member):
    return {
        "admin": admin_member,
        "manager": member(role=Role.SALES_MANAGER, team="Sales East"),
        "rep": member(role=Role.SALES_REP, team="Sales East"),
        "rep2": member(role=Role.SALES_REP, team="Sales East"),
        "ops": member(role=Role.OPS),
        "cs": member(role=Role.CS),
    }


def test_seed_for_a_chinese_tenant(tenant, members, in_tenant):
    tenant.default_locale = "zh-hans"
    demo.seed(tenant=tenant, members=members, rng=random.Random(1))
    kinds = set(LeadSource.objects.values_list("kind", flat=True))
    assert kinds == {SourceKind.INBOUND, SourceKind.INCENTIVE}
    assert LeadSource.objects.filter(name="官网咨询", kind=SourceKind.INBOUND).exists()
    campaigns = Campaign.objects.all()
    assert campaigns.count() >= 16
    oldest = min(c.start_date for c in campaigns)
    assert oldest <= timezone.localdate() - datetime.timedelta(days=365)
    assert all(
        c.cost > 0 and c.end_date >= c.start_date and c.source_kind == c.source.kind for c in campaigns
    )
    assert list(Territory.objects.values_list("name", flat=True)) == ["重点客户", "华东", "华南", "华北"]
    east = Territory.objects.get(name="华东")
    assert [m.user_id for m in east.territory_members.order_by("position")] == [
        members["rep"].user_id,
        members["rep2"].user_id,
    ]
    assert ScoringRule.objects.filter(category="fit").exists()
    assert ScoringRule.objects.filter(category="engagement").exists()
    # The seeded territories route a Shanghai lead to the East China reps, in turn.
    lead = Lead.objects.create(tenant=tenant, region="上海", size_band="51-200")
    assert services.lead_assign_by_rules(tenant=tenant, lead=lead) == members["rep"].user


def test_seed_for_a_german_tenant(other_tenant):
    from crm.tenancy import tenant_context
    from tests.factories import MembershipFactory

    with tenant_context(other_tenant):
        members = {
            key: MembershipFactory(tenant=other_tenant, role=role)
            for key, role in [
                ("admin", Role.ADMIN),
                ("manager", Role.SALES_MANAGER),
                ("rep", Role.SALES_REP),
                ("rep2", Role.SALES_REP),
                ("ops", Role.OPS),
                ("cs", Role.CS),
            ]
        }
        demo.seed(tenant=other_tenant, members=members, rng=random.Random(2))
        assert set(Territory.objects.values_list("name", flat=True)) == {
            "Key accounts",
            "DACH",
            "Benelux",
            "Nordics",
        }
        assert LeadSource.objects.filter(name="Whitepaper download", kind=SourceKind.INCENTIVE).exists()
        assert {c.currency for c in Campaign.objects.all()} == {"EUR"}
