"""The customer-success create forms stay one page whatever the number of accounts and contacts: the account is
picked by a search (accounts' picker), the subscription's "renews" lists the chosen account's terms only and the
feedback's contact the chosen account's contacts only (reloaded by htmx when another account is picked)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.models import Role
from crm.tenancy import tenant_context
from lifecycle.models import Feedback, Subscription
from tests.factories import TenantFactory
from tests.factories_accounts import AccountFactory, ContactFactory
from tests.factories_lifecycle import SubscriptionFactory

pytestmark = pytest.mark.django_db


def url(name, tenant):
    return reverse(f"lifecycle:{name}", kwargs={"slug": tenant.slug})


@pytest.fixture
def world(tenant):
    """Two customer accounts with two terms and two contacts each."""
    accounts = [
        AccountFactory(tenant=tenant, name=f"Customer {n}", lifecycle_stage="retention") for n in range(2)
    ]
    terms = {
        a.pk: [
            SubscriptionFactory(
                account=a,
                plan=f"{a.name} plan {k}",
                start_date=dt.date(2024 + k, 1, 1),
                end_date=dt.date(2025 + k, 1, 1),
            )
            for k in range(2)
        ]
        for a in accounts
    }
    contacts = {
        a.pk: [ContactFactory(tenant=tenant, account=a, last_name=f"{a.name} contact {k}") for k in range(2)]
        for a in accounts
    }
    return accounts, terms, contacts


def test_new_subscription_picks_the_account_by_search_and_lists_its_terms_only(
    tenant, member, client_for, world
):
    accounts, terms, _contacts = world
    client = client_for(member(role=Role.CS))
    body = client.get(url("subscription-create", tenant)).content.decode()
    # A search box, no option per account; no terms before an account is chosen.
    assert 'data-picker="id_account"' in body
    assert "Customer 0" not in body and "Customer 1" not in body
    assert "plan 0" not in body
    assert 'hx-trigger="change from:#id_account"' in body
    chosen = accounts[0]
    body = client.get(url("subscription-create", tenant), {"account": chosen.pk}).content.decode()
    assert 'value="Customer 0"' in body  # the picker shows the chosen account's name
    for term in terms[chosen.pk]:
        assert f'value="{term.pk}"' in body
    for term in terms[accounts[1].pk]:
        assert f'value="{term.pk}"' not in body


def test_a_term_of_another_account_cannot_be_renewed_from_here(tenant, member, client_for, world):
    accounts, terms, _contacts = world
    client = client_for(member(role=Role.CS))
    response = client.post(
        url("subscription-create", tenant),
        {
            "account": accounts[0].pk,
            "plan": "Next",
            "mrr": "100",
            "currency": "CNY",
            "start_date": "2027-01-01",
            "renews_from": terms[accounts[1].pk][0].pk,
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    with tenant_context(tenant):
        assert not Subscription.objects.filter(plan="Next").exists()
    response = client.post(
        url("subscription-create", tenant),
        {
            "account": accounts[0].pk,
            "plan": "Next",
            "mrr": "100",
            "currency": "CNY",
            "start_date": "2027-01-01",
            "renews_from": terms[accounts[0].pk][1].pk,
        },
    )
    assert response.status_code == 302
    with tenant_context(tenant):
        assert Subscription.objects.get(plan="Next").renews_from_id == terms[accounts[0].pk][1].pk


def test_an_account_of_another_tenant_lists_nothing(tenant, member, client_for, world):
    other = AccountFactory(tenant=TenantFactory(), name="Elsewhere", lifecycle_stage="retention")
    client = client_for(member(role=Role.CS))
    body = client.get(url("subscription-create", tenant), {"account": other.pk}).content.decode()
    assert "Elsewhere" not in body
    body = client.get(url("feedback-contacts", tenant), {"account": other.pk}).content.decode()
    assert "<option" in body and body.count("<option") == 1  # the empty choice only


def test_feedback_form_lists_the_chosen_accounts_contacts_only(tenant, member, client_for, world):
    accounts, _terms, contacts = world
    client = client_for(member(role=Role.CS))
    body = client.get(url("feedback-list", tenant)).content.decode()
    assert "contact 0" not in body  # no contact listed before an account is picked
    assert 'data-picker="fb_account"' in body
    fragment = client.get(url("feedback-contacts", tenant), {"account": accounts[1].pk}).content.decode()
    assert fragment.startswith("<select") and 'name="contact"' in fragment
    for contact in contacts[accounts[1].pk]:
        assert f'value="{contact.pk}"' in fragment
    for contact in contacts[accounts[0].pk]:
        assert f'value="{contact.pk}"' not in fragment
    # A contact of another account is refused; of the chosen one, saved.
    wrong = {"account": accounts[0].pk, "contact": contacts[accounts[1].pk][0].pk, "kind": "nps", "score": 9}
    response = client.post(url("feedback-create", tenant), {**wrong, "channel": "call"})
    assert response.status_code == 400
    right = {**wrong, "contact": contacts[accounts[0].pk][0].pk, "channel": "call"}
    assert client.post(url("feedback-create", tenant), right).status_code == 302
    with tenant_context(tenant):
        saved = Feedback.objects.get()
    assert (saved.account_id, saved.contact_id, saved.score) == (accounts[0].pk, right["contact"], 9)


def test_reps_cannot_read_the_contact_choices(tenant, member, client_for, world):
    accounts, _terms, _contacts = world
    client = client_for(member(role=Role.SALES_REP))
    assert client.get(url("feedback-contacts", tenant), {"account": accounts[0].pk}).status_code in (403, 404)


def test_the_money_of_the_created_term(tenant, member, client_for, world):
    accounts, _terms, _contacts = world
    client = client_for(member(role=Role.CS))
    client.post(
        url("subscription-create", tenant),
        {
            "account": accounts[1].pk,
            "plan": "X",
            "mrr": "12.50",
            "currency": "CNY",
            "start_date": "2027-01-01",
        },
    )
    with tenant_context(tenant):
        assert Subscription.objects.get(plan="X").mrr == Decimal("12.50")
