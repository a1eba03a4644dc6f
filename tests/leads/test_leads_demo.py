"""The leads demo seed (after the accounts/deals and ops demos): volume, every status with consistent timestamps,
owners and the pool, both source kinds and campaigns, conversions linked both ways, activities, duplicates."""

from __future__ import annotations

import datetime
import random

import pytest
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.demo import seed as accounts_seed
from accounts.models import Activity, Opportunity
from crm.models import Role
from crm.tenancy import tenant_context
from leads.demo import leads as demo
from leads.demo import setup as ops_demo
from leads.models import Lead, LeadPoolEvent, LeadSource, LeadStatus, PoolEventKind
from leads.selectors.duplicates import lead_duplicates
from leads.selectors.pool import pool_health

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_members(tenant, admin_member, member):
    members = {"admin": admin_member}
    for key, role, team in [
        ("manager", Role.SALES_MANAGER, "Sales East"),
        ("rep", Role.SALES_REP, "Sales East"),
        ("rep2", Role.SALES_REP, "Sales East"),
        ("ops", Role.OPS, "Revenue Ops"),
        ("cs", Role.CS, "Customer Success"),
    ]:
        members[key] = member(role=role, team=team)
    return members


def test_seed(tenant, demo_members):
    tenant.default_locale = "zh-hans"
    rng = random.Random(11)
    now = timezone.now()
    with tenant_context(tenant):
        accounts_seed(tenant=tenant, members=demo_members, rng=rng)
        ops_demo.seed(tenant=tenant, members=demo_members, rng=rng)
        demo.seed(tenant=tenant, members=demo_members, rng=rng)
        leads = Lead.objects.filter(tenant=tenant)
        assert leads.count() > 2000
        statuses = dict(leads.values_list("status").annotate(n=Count("pk")))
        assert set(statuses) == set(LeadStatus.values)
        assert leads.aggregate(
            oldest=Count("pk", filter=Q(created_at__lt=now - datetime.timedelta(days=365)))
        )["oldest"]
        # Timestamps are consistent: new < working < mql < sql < converted, and each status has its stamp.
        assert not leads.filter(working_at__lt=F("created_at")).exists()
        assert not leads.filter(mql_at__lt=F("working_at")).exists()
        assert not leads.filter(sql_at__lt=F("mql_at")).exists()
        assert not leads.filter(converted_at__lt=F("sql_at")).exists()
        assert not leads.filter(converted_at__lt=F("working_at")).exists()
        assert not leads.filter(status=LeadStatus.CONVERTED, converted_at__isnull=True).exists()
        assert (
            not leads.filter(status=LeadStatus.DISQUALIFIED)
            .filter(Q(disqualified_at__isnull=True) | Q(disqualify_reason=""))
            .exists()
        )
        assert leads.filter(
            status=LeadStatus.CONVERTED, mql_at__isnull=True, working_at__isnull=False
        ).exists()
        assert not leads.filter(created_at__gt=now).exists()
        # Owners, the pool, claims.
        owners = set(leads.exclude(owner=None).values_list("owner_id", flat=True))
        assert owners == {demo_members[k].user_id for k in ("rep", "rep2", "manager")}
        pool = leads.filter(owner=None, status__in=["new", "working", "mql", "sql"])
        assert pool.count() > 20 and not pool.filter(pooled_at__isnull=True).exists()
        assert LeadPoolEvent.objects.filter(kind=PoolEventKind.CLAIMED).exists()
        health = pool_health(tenant=tenant, membership=demo_members["manager"])
        assert sum(w["returned"] for w in health.weeks) > 0
        assert Activity.objects.filter(lead__in=pool, kind="note", owner=None).exists()
        # Sources of both kinds and campaigns.
        assert set(leads.exclude(source=None).values_list("source__kind", flat=True)) == {
            "inbound",
            "incentive",
        }
        assert leads.exclude(campaign=None).count() > 500
        # Conversions: linked to accounts and deals, deals point back (lead_to_win_rate).
        converted = leads.filter(status=LeadStatus.CONVERTED)
        assert converted.count() > 100
        assert not converted.filter(converted_account=None).exists()
        linked_deals = Opportunity.objects.filter(lead__isnull=False)
        assert linked_deals.count() > 100
        assert not linked_deals.exclude(lead__converted_opportunity_id=F("pk")).exists()
        assert linked_deals.filter(stage__kind="won").exists()
        # A realistic funnel (issue 12, item 2): 8-15% of the leads converted, their deals won and lost, each
        # deal carrying its lead's source and campaign, and every source with won deals to report.
        share = converted.count() / leads.count()
        assert 0.08 <= share <= 0.15, share
        assert not linked_deals.exclude(source_id=F("lead__source_id")).exists()
        assert (
            not linked_deals.filter(lead__campaign__isnull=False)
            .exclude(campaign_id=F("lead__campaign_id"))
            .exists()
        )
        assert linked_deals.filter(stage__kind="lost").exists()
        assert not converted.filter(source=None, campaign=None).exists()
        won_by_source = dict(
            linked_deals.filter(stage__kind="won").values_list("source__name").annotate(n=Count("pk"))
        )
        assert set(won_by_source) == set(LeadSource.objects.values_list("name", flat=True)), won_by_source
        assert linked_deals.filter(stage__kind="won", campaign__isnull=False).exists()
        # Activities and last activity, scores, duplicates.
        assert Activity.objects.filter(lead__isnull=False, kind="call").count() > 500
        assert leads.filter(last_activity_at__isnull=False).count() > 1000
        assert leads.filter(score__gt=0).count() > 1000
        duplicate = leads.get(external_id="demo-dup-1")
        assert lead_duplicates(
            tenant=tenant,
            membership=demo_members["admin"],
            email=duplicate.email,
            phone=duplicate.phone,
            company=duplicate.company,
            exclude_id=duplicate.pk,
        )
        # Open leads still owned are within the pool window: the first daily run does not sweep the demo.
        from leads.services.pool import leads_return_stale_to_pool

        assert leads_return_stale_to_pool(tenant=tenant) < 20


def test_seed_german_tenant(other_tenant, member):
    members = {"admin": None}
    with tenant_context(other_tenant):
        from crm.models import Membership

        members["admin"] = Membership.objects.select_related("user").get(role=Role.ADMIN)
    for key, role in [
        ("manager", Role.SALES_MANAGER),
        ("rep", Role.SALES_REP),
        ("rep2", Role.SALES_REP),
        ("ops", Role.OPS),
        ("cs", Role.CS),
    ]:
        members[key] = member(role=role, tenant=other_tenant)
    rng = random.Random(3)
    with tenant_context(other_tenant):
        accounts_seed(tenant=other_tenant, members=members, rng=rng)
        ops_demo.seed(tenant=other_tenant, members=members, rng=rng)
        demo.seed(tenant=other_tenant, members=members, rng=rng)
        lead = Lead.objects.filter(tenant=other_tenant, status=LeadStatus.NEW).exclude(company="").first()
        assert lead.company.isascii() or "ü" in lead.company or "ö" in lead.company or "ä" in lead.company
        assert Lead.objects.filter(tenant=other_tenant, region="Germany").exists()
