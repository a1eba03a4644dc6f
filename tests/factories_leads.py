"""Factories of the leads area (leads and lead settings); see tests/factories.py."""

from __future__ import annotations

import factory
from django.utils import timezone

from crm.normalize import company_key
from leads.models import Lead, LeadPoolEvent, LeadSettings, LeadStatus, PoolEventKind
from leads.selectors.duplicates import phone_tail as phone_tail_of
from leads.services.leads import lead_search_text
from tests.factories import TenantOwnedFactory

__all__ = ["LeadFactory", "LeadPoolEventFactory", "LeadSettingsFactory"]


class LeadFactory(TenantOwnedFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@example.test")
    phone = factory.Sequence(lambda n: f"+86 138 {n:08d}")
    company = factory.Sequence(lambda n: f"Company {n} Ltd")
    title = "CTO"
    region = "East"
    industry = "Software"
    status = LeadStatus.NEW
    owner = None
    source = None
    campaign = None
    search_text = factory.LazyAttribute(lambda o: lead_search_text(o))
    phone_tail = factory.LazyAttribute(lambda o: phone_tail_of(o.phone))
    company_key = factory.LazyAttribute(lambda o: company_key(o.company)[:200])


class LeadSettingsFactory(TenantOwnedFactory):
    class Meta:
        model = LeadSettings
        django_get_or_create = ("tenant",)

    pool_window_days = 30
    pool_claim_cap = 20


class LeadPoolEventFactory(TenantOwnedFactory):
    class Meta:
        model = LeadPoolEvent

    lead = factory.SubFactory(LeadFactory, tenant=factory.SelfAttribute("..tenant"))
    kind = PoolEventKind.RETURNED
    at = factory.LazyFunction(timezone.now)
