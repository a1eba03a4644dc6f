"""Query counts that must not grow with the data: each page or endpoint is read at a small and at a larger data
size (more rows of everything it shows) and must run the same number of queries both times (no N+1)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountMember, Contact, ExchangeRate, OpportunityContact, Stage
from accounts.services import accounts as accounts_services
from accounts.services import activities as activities_services
from accounts.services import contacts as contacts_services
from accounts.services import opportunities as opportunities_services
from accounts.services import opportunity_contacts as opportunity_contacts_services
from accounts.services import pipelines as pipelines_services
from crm.models import Role
from crm.tenancy import tenant_context
from tests.factories_deals import deal_account

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


@pytest.fixture
def rep(member):
    return member(role=Role.SALES_REP, team="East")


@pytest.fixture
def admin(admin_member):
    return admin_member


def _page(name, tenant, **kwargs):
    return reverse(f"accounts:{name}", kwargs={"slug": tenant.slug, **kwargs})


def _api(tenant, path):
    return f"/api/v1/t/{tenant.slug}/{path}"


def _count(client, url, params=None, **headers):
    """Queries of one GET (which must succeed)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {}, **headers)
    assert response.status_code == 200, response.status_code
    return len(queries)


def _same_count_at_two_sizes(client, url, grow, params=None, **headers):
    """Warm up, count at the small size, grow the data, count again: the two counts must be equal."""
    client.get(url, params or {}, **headers)
    small = _count(client, url, params, **headers)
    grow()
    large = _count(client, url, params, **headers)
    assert small == large, f"{url}: {small} queries with little data, {large} with more"
    return small


def _deal(tenant, actor, account, **kwargs):
    kwargs.setdefault("name", f"Deal {next(_numbers)}")
    kwargs.setdefault("amount", Decimal("1000"))
    with tenant_context(tenant):
        return opportunities_services.opportunity_create(
            tenant=tenant, actor=actor, account=account, **kwargs
        )


def _contact(tenant, account, actor):
    with tenant_context(tenant):
        return contacts_services.contact_create(
            tenant=tenant,
            actor=actor,
            account=account,
            first_name="Li",
            last_name=f"Na {next(_numbers)}",
            email=f"li{next(_numbers)}@example.com",
        )


def _activity(tenant, actor, **links):
    with tenant_context(tenant):
        activities_services.activity_log(
            tenant=tenant,
            actor=actor,
            kind="call",
            subject=f"Call {next(_numbers)}",
            occurred_at=timezone.now() - dt.timedelta(hours=next(_numbers)),
            **links,
        )


# --- deals area -------------------------------------------------------------------------------------------------


def test_pipeline_list_page(tenant, admin, client_for):
    def grow():
        with tenant_context(tenant):
            for index in range(3):
                pipeline = pipelines_services.pipeline_create(
                    tenant=tenant, actor=admin.user, name=f"Line {index}"
                )
                pipelines_services.stage_create(
                    tenant=tenant, actor=admin.user, pipeline=pipeline, name="Demo", probability="0.4"
                )

    _same_count_at_two_sizes(client_for(admin), _page("pipeline-list", tenant), grow)


def test_pipeline_detail_page(tenant, admin, client_for):
    account = deal_account(tenant, owner=admin.user)
    with tenant_context(tenant):
        pipeline = pipelines_services.pipeline_default(tenant=tenant)
    _deal(tenant, admin.user, account)

    def grow():
        with tenant_context(tenant):
            for index in range(3):
                pipelines_services.stage_create(
                    tenant=tenant,
                    actor=admin.user,
                    pipeline=pipeline,
                    name=f"Step {index}",
                    probability="0.3",
                )
        for stage_name in ("Proposal", "Negotiation", "Closed won", "Qualification"):
            _deal(tenant, admin.user, account, stage=stage_name)

    _same_count_at_two_sizes(client_for(admin), _page("pipeline-detail", tenant, pk=pipeline.pk), grow)


def test_board_show_more_column(tenant, rep, client_for):
    account = deal_account(tenant, owner=rep.user)
    for _index in range(22):
        _deal(tenant, rep.user, account)
    with tenant_context(tenant):
        qualification = Stage.objects.get(pipeline__is_default=True, name="Qualification")

    def grow():
        other = deal_account(tenant, owner=rep.user)
        for _index in range(20):
            _deal(tenant, rep.user, other)

    count = _same_count_at_two_sizes(
        client_for(rep),
        _page("opportunity-board-column", tenant),
        grow,
        {"stage": qualification.pk, "offset": 20},
        HTTP_HX_REQUEST="true",
    )
    # session, user, tenant, savepoint, set tenant, membership, the stage, the filter's pipeline and stage
    # checks, the cards with account and owner, the column's count (server-side), reset, release
    assert count == 13


def test_deal_retrieve_api(tenant, rep, api_client_for):
    account = deal_account(tenant, owner=rep.user)
    deal = _deal(tenant, rep.user, account)

    def grow():
        for stage_name in ("Needs analysis", "Proposal", "Negotiation"):
            with tenant_context(tenant):
                opportunities_services.opportunity_move_stage(
                    tenant=tenant, actor=rep.user, opportunity=deal, stage=stage_name
                )
        for _index in range(3):
            contact = _contact(tenant, account, rep.user)
            with tenant_context(tenant):
                opportunity_contacts_services.opportunity_contact_add(
                    tenant=tenant, actor=rep.user, opportunity=deal, contact=contact
                )
            _deal(tenant, rep.user, account)

    _same_count_at_two_sizes(api_client_for(rep), _api(tenant, f"opportunities/{deal.pk}/"), grow)


def test_deal_contacts_api(tenant, rep, api_client_for):
    account = deal_account(tenant, owner=rep.user)
    deal = _deal(tenant, rep.user, account)
    first = _contact(tenant, account, rep.user)
    with tenant_context(tenant):
        opportunity_contacts_services.opportunity_contact_add(
            tenant=tenant, actor=rep.user, opportunity=deal, contact=first
        )

    def grow():
        for index in range(5):
            contact = _contact(tenant, account, rep.user)
            with tenant_context(tenant):
                opportunity_contacts_services.opportunity_contact_add(
                    tenant=tenant, actor=rep.user, opportunity=deal, contact=contact, is_primary=index == 4
                )

    _same_count_at_two_sizes(api_client_for(rep), _api(tenant, f"opportunities/{deal.pk}/contacts/"), grow)
    with tenant_context(tenant):
        assert OpportunityContact.objects.filter(opportunity=deal).count() == 6


# --- money ------------------------------------------------------------------------------------------------------


def _add_rates(tenant, currencies, days):
    with tenant_context(tenant):
        ExchangeRate.objects.bulk_create(
            [
                ExchangeRate(
                    tenant=tenant,
                    currency=currency,
                    valid_from=dt.date(2025, 1, 1) + dt.timedelta(days=day),
                    rate=Decimal("7") + Decimal(day) / 100,
                )
                for currency in currencies
                for day in days
            ]
        )


def test_exchange_rate_list_page(tenant, admin, client_for):
    _add_rates(tenant, ["USD"], range(2))
    _same_count_at_two_sizes(
        client_for(admin),
        _page("rate-list", tenant),
        lambda: _add_rates(tenant, ["EUR", "JPY", "GBP"], range(2, 12)),
    )


def test_exchange_rate_list_api(tenant, admin, api_client_for):
    _add_rates(tenant, ["USD"], range(2))
    _same_count_at_two_sizes(
        api_client_for(admin),
        _api(tenant, "exchange-rates/"),
        lambda: _add_rates(tenant, ["EUR", "JPY", "GBP"], range(2, 12)),
    )


# --- records pages (their selectors are being reworked for visibility: these run last) ---------------------------


def test_contact_page(tenant, rep, member, client_for):
    account = deal_account(tenant, owner=rep.user)
    contact = _contact(tenant, account, rep.user)
    _activity(tenant, rep.user, contact=contact, account=account)

    def grow():
        colleague = member(role=Role.SALES_REP, team="East")
        for _index in range(4):
            _activity(tenant, rep.user, contact=contact, account=account)
            _activity(tenant, colleague.user, contact=contact)
            deal = _deal(tenant, rep.user, account)
            with tenant_context(tenant):
                opportunity_contacts_services.opportunity_contact_add(
                    tenant=tenant, actor=rep.user, opportunity=deal, contact=contact
                )
                contacts_services.contact_update(
                    tenant=tenant,
                    actor=rep.user,
                    contact=contact,
                    version=None,
                    title=f"Head of IT {next(_numbers)}",
                )

    _same_count_at_two_sizes(client_for(rep), _page("contact-detail", tenant, pk=contact.pk), grow)


def test_account_360_page(tenant, rep, member, client_for):
    account = deal_account(tenant, owner=rep.user)
    _contact(tenant, account, rep.user)
    _deal(tenant, rep.user, account)
    _activity(tenant, rep.user, account=account)

    def grow():
        with tenant_context(tenant):
            child = deal_account(tenant, owner=rep.user, parent=account)
        for _index in range(4):
            colleague = member(role=Role.SALES_REP, team="East")
            with tenant_context(tenant):
                AccountMember.objects.create(tenant=tenant, account=account, user=colleague.user)
            contact = _contact(tenant, account, rep.user)
            deal = _deal(tenant, rep.user, account, stage="Proposal")
            with tenant_context(tenant):
                opportunity_contacts_services.opportunity_contact_add(
                    tenant=tenant, actor=rep.user, opportunity=deal, contact=contact
                )
                accounts_services.account_update(
                    tenant=tenant,
                    actor=rep.user,
                    account=account,
                    version=None,
                    industry=f"EV {next(_numbers)}",
                )
            _activity(tenant, rep.user, account=account, contact=contact)
            _activity(tenant, colleague.user, account=account, opportunity=deal)
            _deal(tenant, rep.user, child)
        with tenant_context(tenant):
            assert Contact.objects.filter(account=account).count() == 5

    _same_count_at_two_sizes(client_for(rep), _page("account-detail", tenant, pk=account.pk), grow)
