"""Exact query counts of the deal list, the board and the deal page: they do not grow with the number of deals,
stage changes or contacts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Contact
from accounts.services import opportunities as opportunities_services
from accounts.services import opportunity_contacts as opportunity_contacts_services
from crm.models import Role
from crm.tenancy import tenant_context
from tests.factories_deals import deal_account

pytestmark = pytest.mark.django_db

# Per request: session + user, tenant, the tenant_context settings, membership, the menu's tenant switcher.
LIST_QUERIES = 16
# The board and the deal page read the company's lost reason list once (the lost modal's choices; on the deal
# page the edit form and the lost form share the read).
BOARD_QUERIES = 18
DETAIL_QUERIES = 24


@pytest.fixture
def manager(member):
    return member(role=Role.SALES_MANAGER, team="East")


@pytest.fixture
def rep(member):
    return member(role=Role.SALES_REP, team="East")


def add_deals(tenant, actor, count, *, stage="Proposal"):
    account = deal_account(tenant, owner=actor)
    with tenant_context(tenant):
        for index in range(count):
            deal = opportunities_services.opportunity_create(
                tenant=tenant,
                actor=actor,
                account=account,
                name=f"D{index}",
                amount=Decimal(100 + index),
                stage=stage,
            )
            contact = Contact.objects.create(tenant=tenant, account=account, first_name=f"C{index}")
            opportunity_contacts_services.opportunity_contact_add(
                tenant=tenant, actor=actor, opportunity=deal, contact=contact, role="Buyer"
            )
    return deal


def test_list_query_count_is_fixed(tenant, manager, rep, client_for, django_assert_num_queries):
    client = client_for(manager)
    url = reverse("accounts:opportunity-list", kwargs={"slug": tenant.slug})
    add_deals(tenant, rep.user, 2)
    client.get(url)
    with django_assert_num_queries(LIST_QUERIES):
        client.get(url, {"sort": "-amount", "close": "this_quarter"})
    add_deals(tenant, rep.user, 12)
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(url, {"sort": "-amount", "close": "this_quarter"})
    assert response.status_code == 200


def test_board_query_count_is_fixed(tenant, manager, rep, client_for, django_assert_num_queries):
    client = client_for(manager)
    url = reverse("accounts:opportunity-board", kwargs={"slug": tenant.slug})
    add_deals(tenant, rep.user, 2)
    client.get(url)
    with django_assert_num_queries(BOARD_QUERIES):
        client.get(url)
    add_deals(tenant, rep.user, 12, stage="Qualification")
    add_deals(tenant, manager.user, 25, stage="Negotiation")
    with django_assert_num_queries(BOARD_QUERIES):
        response = client.get(url)
    assert sum(len(c.cards) for c in response.context["columns"]) == 2 + 12 + 20


def test_detail_query_count_is_fixed(tenant, rep, client_for, django_assert_num_queries):
    client = client_for(rep)
    deal = add_deals(tenant, rep.user, 1)
    url = reverse("accounts:opportunity-detail", kwargs={"slug": tenant.slug, "pk": deal.pk})
    client.get(url)
    with django_assert_num_queries(DETAIL_QUERIES):
        client.get(url)
    with tenant_context(tenant):
        for stage in ("Needs analysis", "Negotiation", "Proposal", "Qualification"):
            deal = opportunities_services.opportunity_move_stage(
                tenant=tenant, actor=rep.user, opportunity=deal, stage=stage
            )
        for index in range(3):
            contact = Contact.objects.create(tenant=tenant, account=deal.account, first_name=f"Extra {index}")
            opportunity_contacts_services.opportunity_contact_add(
                tenant=tenant, actor=rep.user, opportunity=deal, contact=contact
            )
    with django_assert_num_queries(DETAIL_QUERIES):
        response = client.get(url)
    # Created in Proposal, then four moves: five stage changes.
    assert len(response.context["opportunity"].history) == 5
    assert len(response.context["opportunity"].contact_links) == 4
