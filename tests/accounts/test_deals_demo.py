"""The deals demo seed on a fresh tenant: volume, every stage, types, currencies, histories, showcase deals."""

from __future__ import annotations

import random

import pytest
from django.db.models import Count, Max, Min
from django.utils import timezone

from accounts.demo import accounts as accounts_demo
from accounts.demo import opportunities as opportunities_demo
from accounts.models import Opportunity, OpportunityContact, Pipeline, StageChange, StageKind
from crm.models import Membership, Role
from crm.tenancy import tenant_context
from tests.conftest import make_tenant
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _members(tenant):
    with tenant_context(tenant):
        admin = Membership.objects.select_related("user").get(role=Role.ADMIN)
    east = TeamFactory(tenant=tenant, name="Sales East")
    members = {"admin": admin}
    for key, role, team in [
        ("manager", Role.SALES_MANAGER, east),
        ("rep", Role.SALES_REP, east),
        ("rep2", Role.SALES_REP, east),
        ("ops", Role.OPS, None),
        ("cs", Role.CS, None),
    ]:
        members[key] = MembershipFactory(tenant=tenant, user=UserFactory(), role=role, team=team)
    return members


@pytest.mark.parametrize("currency", ["CNY", "EUR"])
def test_demo_seed_fills_both_pipelines(currency):
    tenant = make_tenant(f"demo-{currency.lower()}", currency=currency)
    members = _members(tenant)
    rng = random.Random(7)
    with tenant_context(tenant):
        accounts_demo.seed(tenant=tenant, members=members, rng=rng)
        opportunities_demo.seed(tenant=tenant, members=members, rng=rng)
        deals = Opportunity.objects.filter(tenant=tenant)
        assert deals.count() == opportunities_demo.DEALS_PER_TENANT + 3
        assert set(Pipeline.objects.values_list("name", flat=True)) == {"Sales", "Renewals"}
        sales_stages = set(Pipeline.objects.get(name="Sales").stages.values_list("pk", flat=True))
        used = set(deals.values_list("stage_id", flat=True))
        assert sales_stages <= used  # every stage of the default pipeline has deals
        assert set(deals.values_list("type", flat=True)) == {"new_business", "renewal", "expansion"}
        assert deals.exclude(currency=currency).exists()
        span = deals.aggregate(first=Min("created_at"), last=Max("created_at"))
        assert (timezone.now() - span["first"]).days >= 365
        closed = deals.exclude(stage__kind=StageKind.OPEN)
        assert not closed.filter(closed_at__isnull=True).exists()
        assert not deals.filter(stage__kind=StageKind.LOST, lost_reason="").exists()
        assert not deals.filter(stage__kind=StageKind.OPEN, closed_at__isnull=False).exists()
        assert not deals.filter(closed_at__gt=timezone.now()).exists()
        # every deal has a history that starts at its creation and moves forward
        per_deal = StageChange.objects.values("opportunity_id").annotate(
            n=Count("id"), first=Min("changed_at")
        )
        assert len(per_deal) == deals.count()
        assert max(row["n"] for row in per_deal) >= 4
        assert OpportunityContact.objects.filter(is_primary=True).count() > 100
        owners = set(deals.values_list("owner_id", flat=True))
        assert {members["rep"].user_id, members["rep2"].user_id, members["manager"].user_id} <= owners
        assert deals.filter(external_id__startswith="DEMO-O").count() == opportunities_demo.DEALS_PER_TENANT
