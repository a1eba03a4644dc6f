"""The records demo seed: volume, every tier, subsidiaries, teams, contacts, rates, activities and tasks."""

from __future__ import annotations

import random

import pytest
from django.utils import timezone

from accounts.demo import accounts as accounts_demo
from accounts.demo import activities as activities_demo
from accounts.models import Account, AccountMember, Activity, ActivityKind, Contact, ExchangeRate, Tier
from accounts.selectors import activities as activities_selectors
from accounts.selectors import duplicates as duplicates_selectors
from accounts.selectors import history as history_selectors
from accounts.services import rates as rates_services
from crm.models import Role
from crm.tenancy import tenant_context

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


def test_seed_and_activities(tenant, demo_members):
    rng = random.Random(7)
    with tenant_context(tenant):
        accounts_demo.seed(tenant=tenant, members=demo_members, rng=rng)
        activities_demo.seed_activities(tenant=tenant, members=demo_members, rng=rng)
        assert Account.objects.count() > 200
        assert set(Account.objects.values_list("tier", flat=True)) == set(Tier.values)
        assert Account.objects.exclude(parent=None).count() >= 20
        assert AccountMember.objects.filter(access="read").exists()
        assert AccountMember.objects.filter(access="edit").exists()
        per_account = Contact.objects.filter(account__isnull=False).count() / Account.objects.count()
        assert 2 <= per_account <= 4.1
        assert Contact.objects.exclude(search_text="").count() == Contact.objects.count()
        currencies = set(ExchangeRate.objects.values_list("currency", flat=True))
        assert {"USD", "EUR"} <= currencies and tenant.currency not in currencies
        assert ExchangeRate.objects.filter(currency="USD").count() >= 13
        assert rates_services.to_reporting(tenant=tenant, amount=100, currency="USD", on_date=None) > 600
        done = Activity.objects.filter(done=True)
        assert done.count() > 1000
        oldest = done.order_by("occurred_at").first().occurred_at
        assert (timezone.now() - oldest).days >= 365
        for key in ("rep", "rep2", "manager", "cs"):
            buckets = activities_selectors.task_buckets(tenant=tenant, membership=demo_members[key])
            assert buckets.overdue and buckets.today and buckets.upcoming, key
        showcase = Account.objects.get(external_id="DEMO-SHOWCASE-1")
        history = history_selectors.history_for(tenant=tenant, obj=showcase)
        assert [e.action for e in history] == ["created", "updated", "updated"]
        assert {e.who.pk for e in history} == {
            demo_members["rep"].user_id,
            demo_members["manager"].user_id,
            demo_members["admin"].user_id,
        }
        assert duplicates_selectors.account_duplicates(
            tenant=tenant, name=showcase.name, exclude_id=showcase.pk
        )


def test_seed_lead_activities(tenant, demo_members):
    from tests.factories import LeadFactory

    rng = random.Random(3)
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, status="working", owner=demo_members["rep"].user)
        new = LeadFactory(tenant=tenant, status="new")
        latest = activities_demo.seed_lead_activities(
            tenant=tenant, members=demo_members, rng=rng, leads=[lead, new]
        )
        assert set(latest) == {lead.pk}
        assert Activity.objects.filter(lead=lead, done=True).count() >= 1
        assert not Activity.objects.filter(lead=new).exists()
        assert Activity.objects.filter(kind=ActivityKind.TASK, done=False, lead=lead).count() <= 1
