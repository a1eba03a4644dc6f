"""Factories of the ops area (lead sources, campaigns, territories, scoring rules); see tests/factories.py."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory

from crm.dates import tenant_today
from leads.models import (
    Campaign,
    Channel,
    LeadSource,
    ScoringCategory,
    ScoringField,
    ScoringRule,
    SourceKind,
    Territory,
    TerritoryMember,
)
from tests.factories import TenantOwnedFactory, UserFactory

__all__ = [
    "CampaignFactory",
    "LeadSourceFactory",
    "ScoringRuleFactory",
    "TerritoryFactory",
    "TerritoryMemberFactory",
]


class LeadSourceFactory(TenantOwnedFactory):
    class Meta:
        model = LeadSource

    name = factory.Sequence(lambda n: f"Source {n}")
    kind = SourceKind.INBOUND


class CampaignFactory(TenantOwnedFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    channel = Channel.EVENT
    source_kind = SourceKind.INBOUND
    cost = Decimal("1000.00")
    currency = "CNY"
    start_date = factory.LazyAttribute(lambda o: tenant_today(o.tenant) - datetime.timedelta(days=30))
    end_date = factory.LazyAttribute(lambda o: o.start_date + datetime.timedelta(days=14))


class TerritoryFactory(TenantOwnedFactory):
    class Meta:
        model = Territory

    name = factory.Sequence(lambda n: f"Territory {n}")
    priority = 100
    regions = factory.LazyFunction(list)
    industries = factory.LazyFunction(list)
    size_bands = factory.LazyFunction(list)


class TerritoryMemberFactory(TenantOwnedFactory):
    """Pass `territory=` (the tenant follows) or `tenant=` (a territory is built in it)."""

    class Meta:
        model = TerritoryMember

    territory = factory.SubFactory(TerritoryFactory, tenant=factory.SelfAttribute("..tenant"))
    user = factory.SubFactory(UserFactory)
    position = factory.Sequence(lambda n: n)

    @classmethod
    def _generate(cls, strategy, params):  # type: ignore[no-untyped-def]
        if params.get("territory") is not None and "tenant" not in params:
            params["tenant"] = params["territory"].tenant
        return super()._generate(strategy, params)


class ScoringRuleFactory(TenantOwnedFactory):
    class Meta:
        model = ScoringRule

    category = ScoringCategory.FIT
    field = ScoringField.INDUSTRY
    value = "Software"
    points = 10
