"""Factories of the records area (accounts, account team, contacts, activities, rates, merges);
see tests/factories.py. Children inherit their parent's tenant."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from accounts.models import (
    Account,
    AccountAccess,
    AccountMember,
    Activity,
    ActivityKind,
    Contact,
    ExchangeRate,
    MergeEntity,
    MergeRecord,
    Tier,
)
from accounts.services.accounts import account_search_text
from accounts.services.contacts import contact_search_text
from tests.factories import TenantFactory, TenantOwnedFactory

__all__ = [
    "make_deal",
    "AccountFactory",
    "AccountMemberFactory",
    "ActivityFactory",
    "ContactFactory",
    "ExchangeRateFactory",
    "MergeRecordFactory",
]


class _ChildFactory(TenantOwnedFactory):
    """A child record: pass the parent (`account=`) and the tenant follows; pass only `tenant=` and the parent
    is built in that tenant."""

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


class AccountFactory(TenantOwnedFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Company {n}")
    domain = factory.Sequence(lambda n: f"company{n}.example")
    industry = "Manufacturing"
    region = "East"
    tier = Tier.STANDARD
    owner = None
    search_text = factory.LazyAttribute(lambda o: account_search_text(o))


class AccountMemberFactory(_ChildFactory):
    class Meta:
        model = AccountMember

    _parent_field = "account"
    account = factory.SubFactory(AccountFactory, tenant=factory.SelfAttribute("..tenant"))
    user = factory.SubFactory("tests.factories.UserFactory")
    access = AccountAccess.EDIT


class ContactFactory(_ChildFactory):
    class Meta:
        model = Contact

    _parent_field = "account"
    account = factory.SubFactory(AccountFactory, tenant=factory.SelfAttribute("..tenant"))
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")
    email = factory.Sequence(lambda n: f"person{n}@example.test")
    phone = ""
    search_text = factory.LazyAttribute(lambda o: contact_search_text(o))


class ActivityFactory(_ChildFactory):
    class Meta:
        model = Activity

    _parent_field = "account"
    account = factory.SubFactory(AccountFactory, tenant=factory.SelfAttribute("..tenant"))
    kind = ActivityKind.CALL
    subject = factory.Sequence(lambda n: f"Call {n}")
    done = True
    occurred_at = factory.LazyFunction(timezone.now)


class ExchangeRateFactory(TenantOwnedFactory):
    class Meta:
        model = ExchangeRate

    currency = "USD"
    valid_from = factory.Sequence(lambda n: datetime.date(2020, 1, 1) + datetime.timedelta(days=n))
    rate = "7.10000000"


class MergeRecordFactory(TenantOwnedFactory):
    class Meta:
        model = MergeRecord

    entity = MergeEntity.ACCOUNT
    survivor_id = factory.Sequence(lambda n: 1_000_000 + n)
    merged_id = factory.Sequence(lambda n: 2_000_000 + n)
    snapshot = factory.LazyFunction(dict)


def make_deal(*, account: Account, owner=None, name: str = "Deal", amount: str = "1000", **fields):  # type: ignore[no-untyped-def]
    """A deal on `account` in the tenant's first open stage, written directly (records tests only need one to
    exist; the deals area's own factories and services cover deal rules)."""
    from accounts.models import Opportunity, Stage
    from crm.tenancy import tenant_context

    with tenant_context(account.tenant):
        stage = Stage.objects.filter(kind="open").order_by("pipeline__order", "order").first()
        if stage is None:
            from accounts.models import Pipeline

            pipeline = Pipeline.objects.create(tenant=account.tenant, name="Test pipeline", is_default=False)
            stage = Stage.objects.create(
                tenant=account.tenant, pipeline=pipeline, name="Open", probability="0.1"
            )
        values = {
            "tenant": account.tenant,
            "account": account,
            "name": name,
            "amount": amount,
            "amount_reporting": amount,
            "currency": account.tenant.currency,
            "pipeline": stage.pipeline,
            "stage": stage,
            "probability": stage.probability,
            "owner": owner,
            **fields,
        }
        return Opportunity.objects.create(**values)
