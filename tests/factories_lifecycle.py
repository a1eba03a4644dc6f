"""Factories of the lifecycle app (subscriptions) and helpers for hand-made timelines; see tests/factories.py.
Children inherit their parent's tenant."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from accounts.models import Account, Opportunity, StageKind
from crm.tenancy import tenant_context
from lifecycle.models import (
    LifecycleCause,
    LifecycleChange,
    LifecycleFlowCount,
    LifecycleSettings,
    Subscription,
)
from tests.factories import TenantFactory, TenantOwnedFactory
from tests.factories_deals import OpportunityFactory

__all__ = [
    "LifecycleChangeFactory",
    "LifecycleFlowCountFactory",
    "LifecycleSettingsFactory",
    "SubscriptionFactory",
    "won_deal",
]


class SubscriptionFactory(TenantOwnedFactory):
    """A subscription written directly (no service); pass `account=` and the tenant follows."""

    class Meta:
        model = Subscription

    account = factory.SubFactory(
        "tests.factories_accounts.AccountFactory", tenant=factory.SelfAttribute("..tenant")
    )
    plan = factory.Sequence(lambda n: f"Plan {n}")
    mrr = Decimal("1000.00")
    currency = factory.LazyAttribute(lambda o: o.tenant.currency)
    start_date = dt.date(2025, 1, 1)
    end_date = None

    @classmethod
    def _generate(cls, strategy, params):  # type: ignore[no-untyped-def]
        account = params.get("account")
        if account is not None and "tenant" not in params:
            params["tenant"] = account.tenant
        elif "tenant" not in params:
            params["tenant"] = TenantFactory()
        return super()._generate(strategy, params)


def won_deal(account: Account, closed_at: dt.datetime, **kwargs: object) -> Opportunity:
    """A deal of `account` in its default pipeline's won stage, closed at `closed_at` (aware)."""
    from accounts.services.pipelines import pipeline_default

    with tenant_context(account.tenant):
        stage = pipeline_default(tenant=account.tenant).stages.get(kind=StageKind.WON)
    return OpportunityFactory(
        account=account, stage=stage, closed_at=closed_at, created_at=closed_at, **kwargs
    )


class LifecycleSettingsFactory(TenantOwnedFactory):
    """The tenant's lifecycle settings (one row per tenant)."""

    class Meta:
        model = LifecycleSettings
        django_get_or_create = ("tenant",)


class LifecycleChangeFactory(TenantOwnedFactory):
    """A stage change of an account (normally written by the engine)."""

    class Meta:
        model = LifecycleChange

    account = factory.SubFactory(
        "tests.factories_accounts.AccountFactory", tenant=factory.SelfAttribute("..tenant")
    )
    from_stage = ""
    to_stage = "acquisition"
    date = factory.Sequence(lambda n: dt.date(2024, 1, 1) + dt.timedelta(days=n))
    cause = LifecycleCause.CREATED
    computed_at = factory.LazyFunction(lambda: dt.datetime.now(dt.UTC))


class LifecycleFlowCountFactory(TenantOwnedFactory):
    """A kept count of stage changes (normally written by the database's triggers); months far in the past so a
    factory row never meets a key the triggers write."""

    class Meta:
        model = LifecycleFlowCount

    month = factory.Sequence(lambda n: dt.date(1950 + n // 12, n % 12 + 1, 1))
    from_stage = ""
    to_stage = "acquisition"
    account_stage = "acquisition"
    account_owner_id = None
    n = 1
