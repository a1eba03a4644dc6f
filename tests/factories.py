"""factory_boy factories. Children inherit their parent's tenant; creation runs inside that tenant's context."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from crm.models import (
    Invitation,
    Membership,
    MembershipStatus,
    OutboxMessage,
    Role,
    SearchEntry,
    Team,
    Tenant,
    User,
    ValueListItem,
)
from crm.tenancy import tenant_context

PASSWORD = "test-pass-1234"


class TenantFactory(DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())
    time_zone = "Asia/Shanghai"
    currency = "CNY"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)


class TenantOwnedFactory(DjangoModelFactory):
    """Base for tenant-owned models: `tenant` is required (or inherited from a parent) and creation happens
    inside tenant_context so the scoped manager and RLS accept it."""

    class Meta:
        abstract = True

    tenant = factory.SubFactory(TenantFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):  # type: ignore[no-untyped-def]
        with tenant_context(kwargs["tenant"]):
            return super()._create(model_class, *args, **kwargs)

    @classmethod
    def _get_or_create(cls, model_class, *args, **kwargs):  # type: ignore[no-untyped-def]
        with tenant_context(kwargs["tenant"]):
            return super()._get_or_create(model_class, *args, **kwargs)


class TeamFactory(TenantOwnedFactory):
    class Meta:
        model = Team
        django_get_or_create = ("tenant", "name")

    name = factory.Sequence(lambda n: f"Team {n}")


class MembershipFactory(TenantOwnedFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.SALES_REP
    status = MembershipStatus.ACTIVE
    team = None


class InvitationFactory(TenantOwnedFactory):
    """An open invitation of a new, invited membership."""

    class Meta:
        model = Invitation

    membership = factory.SubFactory(
        MembershipFactory, tenant=factory.SelfAttribute("..tenant"), status=MembershipStatus.INVITED
    )
    invited_by = None


# App factories live in their own modules (one owner each); importing them here keeps one place to find every
# factory (the cross-tenant probe scans this module).
from tests.factories_accounts import *  # noqa: E402,F403
from tests.factories_cs import *  # noqa: E402,F403
from tests.factories_deals import *  # noqa: E402,F403
from tests.factories_imports import *  # noqa: E402,F403
from tests.factories_leads import *  # noqa: E402,F403
from tests.factories_lifecycle import *  # noqa: E402,F403
from tests.factories_ops import *  # noqa: E402,F403
from tests.factories_sales_ops import *  # noqa: E402,F403


class OutboxMessageFactory(TenantOwnedFactory):
    """A task call waiting in the outbox (crm.outbox)."""

    class Meta:
        model = OutboxMessage

    task = "sales_ops.tasks.recompute_kpis"
    args = factory.LazyAttribute(lambda message: [message.tenant.pk])
    key = factory.Sequence(lambda n: f"{n:064x}")


class SearchEntryFactory(TenantOwnedFactory):
    """A global search entry (crm_search_entry), as the triggers write them; its record id is no real record's."""

    class Meta:
        model = SearchEntry

    kind = "lead"
    record_id = factory.Sequence(lambda n: 10**12 + n)
    text = factory.Sequence(lambda n: f"probe entry {n}")


class ValueListItemFactory(TenantOwnedFactory):
    """A value a company added to one of its lists (crm.value_lists)."""

    class Meta:
        model = ValueListItem

    list_key = "channel"
    value = factory.Sequence(lambda n: f"channel-value-{n}")
    label = factory.Sequence(lambda n: f"Channel label {n}")
