"""Subscription pages per role (cs edits, a rep reads their own accounts' only, another rep gets 404), the
conflict message of a stale edit, delete with undo, and the exact query count of the list page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.models import Role
from crm.tenancy import tenant_context
from lifecycle.models import Subscription
from tests.factories_accounts import AccountFactory
from tests.factories_lifecycle import SubscriptionFactory

pytestmark = pytest.mark.django_db


def url(name, tenant, **kwargs):
    return reverse(f"lifecycle:{name}", kwargs={"slug": tenant.slug, **kwargs})


@pytest.fixture
def rep(member):
    return member(role=Role.SALES_REP)


@pytest.fixture
def own_sub(tenant, rep):
    account = AccountFactory(
        tenant=tenant, owner=rep.user, lifecycle_stage="retention", name="Rep's customer"
    )
    return SubscriptionFactory(tenant=tenant, account=account, plan="Gold", mrr=Decimal("500"))


def test_cs_creates_and_edits_a_subscription(tenant, member, client_for, own_sub):
    cs = member(role=Role.CS)
    client = client_for(cs)
    response = client.post(
        url("subscription-create", tenant),
        {
            "account": own_sub.account_id,
            "plan": "Platinum",
            "mrr": "800",
            "currency": "CNY",
            "start_date": "2026-01-01",
            "end_date": "2027-01-01",
        },
    )
    assert response.status_code == 302
    with tenant_context(tenant):
        created = Subscription.objects.get(plan="Platinum")
    assert response["Location"] == url("subscription-detail", tenant, pk=created.pk)
    response = client.post(
        url("subscription-edit", tenant, pk=created.pk),
        {"plan": "Platinum", "mrr": "900", "currency": "CNY", "start_date": "2026-01-01", "version": 1},
    )
    assert response.status_code == 302
    with tenant_context(tenant):
        created.refresh_from_db()
    assert (created.mrr, created.end_date, created.version) == (Decimal("900.00"), None, 2)


def test_bad_input_keeps_what_was_typed(tenant, member, client_for, own_sub):
    client = client_for(member(role=Role.CS))
    response = client.post(
        url("subscription-create", tenant),
        {
            "account": own_sub.account_id,
            "plan": "Typed",
            "mrr": "1",
            "start_date": "2026-02-01",
            "end_date": "2026-01-01",
        },
    )
    assert response.status_code == 200
    assert "The end date must be after the start date." in response.content.decode()
    assert 'value="Typed"' in response.content.decode()


def test_a_stale_edit_shows_the_conflict_and_keeps_the_input(tenant, member, client_for, own_sub):
    client = client_for(member(role=Role.CS))
    with tenant_context(tenant):
        Subscription.objects.filter(pk=own_sub.pk).update(version=5, plan="Changed by someone")
    response = client.post(
        url("subscription-edit", tenant, pk=own_sub.pk),
        {"plan": "Mine", "mrr": "500", "currency": "CNY", "start_date": "2025-01-01", "version": 1},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Someone else changed this subscription since you opened it." in body
    assert "Changed by someone" in body and 'value="Mine"' in body
    assert 'name="version" value="5"' in body


def test_rep_reads_their_own_accounts_subscriptions_only(tenant, member, client_for, rep, own_sub):
    other_account = AccountFactory(tenant=tenant, owner=member(role=Role.SALES_REP).user)
    theirs = SubscriptionFactory(tenant=tenant, account=other_account, plan="Hidden plan")
    client = client_for(rep)
    listing = client.get(url("subscription-list", tenant)).content.decode()
    assert "Gold" in listing and "Hidden plan" not in listing
    assert client.get(url("subscription-detail", tenant, pk=own_sub.pk)).status_code == 200
    assert client.get(url("subscription-detail", tenant, pk=theirs.pk)).status_code == 404
    # Read only: no write page, no write action, even on their own account.
    assert client.get(url("subscription-edit", tenant, pk=own_sub.pk)).status_code == 404
    assert client.get(url("subscription-create", tenant)).status_code == 404
    assert client.post(url("subscription-delete", tenant, pk=own_sub.pk)).status_code == 404


def test_cs_does_not_see_prospects_subscriptions(tenant, member, client_for):
    prospect = AccountFactory(tenant=tenant, lifecycle_stage="acquisition")
    sub = SubscriptionFactory(tenant=tenant, account=prospect)
    assert (
        client_for(member(role=Role.CS)).get(url("subscription-detail", tenant, pk=sub.pk)).status_code == 404
    )


def test_delete_and_undo(tenant, member, client_for, own_sub):
    client = client_for(member(role=Role.CS))
    response = client.post(url("subscription-delete", tenant, pk=own_sub.pk))
    assert response["Location"] == url("subscription-list", tenant) + f"?deleted={own_sub.pk}"
    banner = client.get(response["Location"]).content.decode()
    assert 'data-testid="deleted-banner"' in banner
    assert client.get(url("subscription-detail", tenant, pk=own_sub.pk)).status_code == 404
    assert client.post(url("subscription-restore", tenant, pk=own_sub.pk)).status_code == 302
    assert client.get(url("subscription-detail", tenant, pk=own_sub.pk)).status_code == 200


def test_list_filters(tenant, admin_member, client_for, own_sub):
    SubscriptionFactory(
        tenant=tenant,
        account=own_sub.account,
        plan="Ended one",
        start_date=dt.date(2020, 1, 1),
        end_date=dt.date(2021, 1, 1),
    )
    client = client_for(admin_member)
    body = client.get(url("subscription-list", tenant), {"status": "ended"}).content.decode()
    assert "Ended one" in body and "Gold" not in body
    body = client.get(url("subscription-list", tenant), {"ending_before": "2021-06-01"}).content.decode()
    assert "Ended one" in body and "Gold" not in body
    body = client.get(url("subscription-list", tenant), {"account": 987654321}).content.decode()
    assert "No subscriptions match." in body


def test_list_page_query_count(tenant, member, client_for, django_assert_num_queries):
    cs = member(role=Role.CS)
    for index in range(6):
        account = AccountFactory(tenant=tenant, lifecycle_stage="retention", owner=cs.user)
        SubscriptionFactory(tenant=tenant, account=account, plan=f"Plan {index}")
    client = client_for(cs)
    client.get(url("subscription-list", tenant))  # warm the session and the settings row
    # the account filter lists only the chosen account (none here: no query), never the whole table; whether a
    # term is renewed is stored (Subscription.renewed): no grace-days setting to read
    with django_assert_num_queries(11):
        response = client.get(url("subscription-list", tenant))
    assert response.content.decode().count('data-testid="subscription-row"') == 6


def test_subscription_partial_for_the_account_page(tenant, admin_member, rf, own_sub):
    from django.template.loader import render_to_string

    from lifecycle.selectors.subscriptions import contract_history, subscriptions_for_account

    with tenant_context(tenant):
        rows = subscriptions_for_account(tenant=tenant, membership=admin_member, account=own_sub.account)
        history = contract_history(tenant=tenant, membership=admin_member, account=own_sub.account)
        html = render_to_string(
            "lifecycle/partials/_subscription_list.html",
            {
                "account": own_sub.account,
                "subscriptions": rows,
                "history": history,
                "can_edit_subscriptions": True,
                "current_tenant": tenant,
            },
        )
    assert "Gold" in html and 'data-testid="contract-new"' in html
