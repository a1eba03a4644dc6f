"""Factories of the deals area: Pipeline, Stage, Opportunity, OpportunityContact, StageChange.

Children take their parent's tenant: pass the parent (`account=`, `opportunity=`, `pipeline=`) and the tenant
follows; pass only `tenant=` and the parent is built in that tenant.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import (
    Account,
    ForecastCategory,
    Opportunity,
    OpportunityContact,
    OpportunityType,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
)
from crm.tenancy import tenant_context
from tests.factories import TenantFactory, TenantOwnedFactory

__all__ = [
    "OpportunityContactFactory",
    "OpportunityFactory",
    "PipelineFactory",
    "StageChangeFactory",
    "StageFactory",
    "deal_account",
]


class _ChildFactory(TenantOwnedFactory):
    """A tenant-owned child: the tenant comes from `_parent_field` when that is given."""

    class Meta:
        abstract = True

    _parent_field = ""

    @classmethod
    def _generate(cls, strategy, params):  # type: ignore[no-untyped-def]
        parent = params.get(cls._parent_field)
        if parent is not None and "tenant" not in params:
            params["tenant"] = parent.tenant
        elif "tenant" not in params:
            params["tenant"] = TenantFactory()
        return super()._generate(strategy, params)


class PipelineFactory(TenantOwnedFactory):
    class Meta:
        model = Pipeline

    name = factory.Sequence(lambda n: f"Pipeline {n}")
    is_default = False
    order = factory.Sequence(lambda n: n + 1)


class StageFactory(_ChildFactory):
    class Meta:
        model = Stage

    _parent_field = "pipeline"
    pipeline = factory.SubFactory(PipelineFactory, tenant=factory.SelfAttribute("..tenant"))
    name = factory.Sequence(lambda n: f"Stage {n}")
    order = factory.Sequence(lambda n: n)
    probability = Decimal("0.300")
    kind = StageKind.OPEN


def _default_stage(opportunity):  # type: ignore[no-untyped-def]
    from accounts.services.pipelines import pipeline_default

    with tenant_context(opportunity.tenant):
        pipeline = pipeline_default(tenant=opportunity.tenant)
        return pipeline.stages.filter(kind=StageKind.OPEN).order_by("order", "id").first()


class OpportunityFactory(_ChildFactory):
    """A deal written directly (no service): for probes and fixtures. Use the services to test rules."""

    class Meta:
        model = Opportunity

    _parent_field = "account"
    account = factory.SubFactory(
        "tests.factories_accounts.AccountFactory", tenant=factory.SelfAttribute("..tenant")
    )
    name = factory.Sequence(lambda n: f"Deal {n}")
    type = OpportunityType.NEW_BUSINESS
    amount = Decimal("10000.00")
    currency = factory.LazyAttribute(lambda o: o.tenant.currency)
    amount_reporting = factory.LazyAttribute(lambda o: o.amount)
    stage = factory.LazyAttribute(_default_stage)
    pipeline = factory.LazyAttribute(lambda o: o.stage.pipeline)
    probability = factory.LazyAttribute(lambda o: o.stage.probability)
    forecast_category = ForecastCategory.PIPELINE
    expected_close_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=30))
    owner = factory.LazyAttribute(lambda o: o.account.owner)


class OpportunityContactFactory(_ChildFactory):
    class Meta:
        model = OpportunityContact

    _parent_field = "opportunity"
    opportunity = factory.SubFactory(OpportunityFactory, tenant=factory.SelfAttribute("..tenant"))
    contact = factory.SubFactory(
        "tests.factories_accounts.ContactFactory",
        tenant=factory.SelfAttribute("..tenant"),
        account=factory.SelfAttribute("..opportunity.account"),
    )
    role = "Decision maker"
    is_primary = False


class StageChangeFactory(_ChildFactory):
    class Meta:
        model = StageChange

    _parent_field = "opportunity"
    opportunity = factory.SubFactory(OpportunityFactory, tenant=factory.SelfAttribute("..tenant"))
    from_stage = None
    to_stage = factory.LazyAttribute(lambda o: o.opportunity.stage)
    changed_at = factory.LazyFunction(timezone.now)
    actor = None
    amount = factory.LazyAttribute(lambda o: o.opportunity.amount)
    probability = factory.LazyAttribute(lambda o: o.opportunity.probability)


_account_numbers = itertools.count(1)


def deal_account(tenant, owner=None, **fields):  # type: ignore[no-untyped-def]
    """An account to put deals on, written directly (independent of the records area's factories)."""
    fields.setdefault("name", f"Account {next(_account_numbers)}")
    with tenant_context(tenant):
        return Account.objects.create(tenant=tenant, owner=owner, **fields)
