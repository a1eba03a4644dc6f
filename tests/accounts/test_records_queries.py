"""Exact query counts of every records list page, detail page and list endpoint, the same whatever the number
of rows (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.selectors import accounts as accounts_selectors
from accounts.selectors import history as history_selectors
from accounts.services import accounts as accounts_services
from crm.models import Role
from crm.tenancy import tenant_context
from tests.factories import (
    AccountFactory,
    AccountMemberFactory,
    ActivityFactory,
    ContactFactory,
    ExchangeRateFactory,
)
from tests.factories_accounts import make_deal

pytestmark = pytest.mark.django_db


def grow(tenant, owner, n):
    """n accounts, each with a parent, contacts, a deal, activities, a team member and open tasks."""
    parent = AccountFactory(tenant=tenant, owner=owner)
    for _ in range(n):
        account = AccountFactory(tenant=tenant, owner=owner, parent=parent)
        contact = ContactFactory(account=account, owner=owner)
        make_deal(account=account, owner=owner)
        ActivityFactory(account=account, owner=owner, contact=contact)
        ActivityFactory(
            account=account, owner=owner, kind="task", done=False, occurred_at=None, due_at=timezone.now()
        )
        AccountMemberFactory(account=account, user=owner)
        ExchangeRateFactory(tenant=tenant, currency="USD")
    return parent


def count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


PAGES = ["account-list", "contact-list", "task-list"]
API = ["accounts/", "contacts/", "activities/", "exchange-rates/"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP])
def test_list_pages_and_endpoints_do_not_grow_with_rows(
    tenant, member, admin_member, client_for, api_client_for, role
):
    someone = admin_member if role == Role.ADMIN else member(role=role, team="East")
    client, api = client_for(someone), api_client_for(someone)
    grow(tenant, someone.user, 2)
    urls = [reverse(f"accounts:{name}", kwargs={"slug": tenant.slug}) for name in PAGES]
    urls += [f"/api/v1/t/{tenant.slug}/{path}" for path in API]
    before = {url: count(api if "/api/" in url else client, url) for url in urls}
    grow(tenant, someone.user, 5)
    after = {url: count(api if "/api/" in url else client, url) for url in urls}
    assert before == after


# Per request: session, user, tenant, membership and transaction bookkeeping (~4 for pages, 3 for tokens),
# then the page's own reads: rows + capped count + filter choices (lists), the 360's sections, history names.
EXPECTED = {
    "account-list": 13,
    "account-list-filtered": 13,
    # The 360's deal totals are one aggregate over every visible deal (not sums over the rows shown).
    # lifecycle's panels (accounts.panels) add 6 to the account page: lifecycle settings, the account's
    # subscriptions (whether a term is renewed is stored: no second settings read), stage history, first customer
    # date, feedback, health; the first request also creates the tenant's lifecycle settings (savepoint, insert,
    # release: 3 more, once per tenant).
    "account-detail": 22 + 6 + 3,
    "account-detail-parent": 21 + 6,  # no parent: no account names to resolve in its history
    "contact-list": 13,
    "contact-detail": 16 + 1,  # lifecycle's panel: the contact's feedback
    "task-list": 11,  # the bucket counts (one aggregate) and a page per non-empty bucket (issue 12 item 3)
    "api-accounts": 9,
    "api-contacts": 9,
    "api-activities": 9,
    "api-rates": 9,
    "api-account-history": 13,
}


def test_exact_counts(tenant, member, client_for, api_client_for, django_assert_num_queries):
    rep = member(role=Role.SALES_REP, team="East")
    parent = grow(tenant, rep.user, 4)
    with tenant_context(tenant):
        account = accounts_selectors.account_list(tenant=tenant, membership=rep).exclude(pk=parent.pk).first()
        contact = account.contacts.first()
    client, api = client_for(rep), api_client_for(rep)
    urls = {
        "account-list": reverse("accounts:account-list", kwargs={"slug": tenant.slug}),
        "account-list-filtered": reverse("accounts:account-list", kwargs={"slug": tenant.slug})
        + "?q=comp&tier=standard&sort=-created",
        "account-detail": reverse("accounts:account-detail", kwargs={"slug": tenant.slug, "pk": account.pk}),
        "account-detail-parent": reverse(
            "accounts:account-detail", kwargs={"slug": tenant.slug, "pk": parent.pk}
        ),
        "contact-list": reverse("accounts:contact-list", kwargs={"slug": tenant.slug}),
        "contact-detail": reverse("accounts:contact-detail", kwargs={"slug": tenant.slug, "pk": contact.pk}),
        "task-list": reverse("accounts:task-list", kwargs={"slug": tenant.slug}),
        "api-accounts": f"/api/v1/t/{tenant.slug}/accounts/",
        "api-contacts": f"/api/v1/t/{tenant.slug}/contacts/",
        "api-activities": f"/api/v1/t/{tenant.slug}/activities/",
        "api-rates": f"/api/v1/t/{tenant.slug}/exchange-rates/",
        "api-account-history": f"/api/v1/t/{tenant.slug}/accounts/{account.pk}/history/",
    }
    got = {name: count(api if name.startswith("api") else client, url) for name, url in urls.items()}
    assert got == EXPECTED


def test_history_is_one_query_per_model_whatever_the_number_of_changes(
    tenant, member, django_assert_num_queries
):
    # admins: a rep may only make themselves the owner (issue 11), and these change the owner every time
    people = [member(role=Role.ADMIN).user for _ in range(4)]
    parents = [AccountFactory(tenant=tenant) for _ in range(4)]
    with tenant_context(tenant):
        account = accounts_services.account_create(tenant=tenant, actor=people[0], name="Acme")
        for i in range(8):
            account = accounts_services.account_update(
                tenant=tenant,
                actor=people[i % 4],
                account=account,
                version=account.version,
                owner=people[(i + 1) % 4],
                parent=parents[i % 4],
                name=f"Acme {i}",
            )
        # merge look-up, events (with their context), users, accounts
        with django_assert_num_queries(4):
            history = history_selectors.history_for(tenant=tenant, obj=account)
        assert len(history) == 9
        assert history[-1].changes[0][0] == "name"
        assert {label for label, _old, _new in history[-1].changes} == {"name", "owner", "parent"}
