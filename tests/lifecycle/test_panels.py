"""Lifecycle on the account, contact and deal pages (accounts.panels filled by lifecycle): what each role sees,
read-only for reps, 404 for another rep's account as before, and the panels' fixed query cost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.models import Role
from tests.factories_accounts import AccountFactory, ContactFactory
from tests.factories_cs import FeedbackFactory, HealthScoreFactory
from tests.factories_lifecycle import LifecycleChangeFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def account_url(tenant, account):
    return reverse("accounts:account-detail", kwargs={"slug": tenant.slug, "pk": account.pk})


@pytest.fixture
def rep(member):
    return member(role=Role.SALES_REP)


@pytest.fixture
def customer_account(tenant, rep):
    account = AccountFactory(tenant=tenant, owner=rep.user, lifecycle_stage="retention", name="Panel Co")
    SubscriptionFactory(
        tenant=tenant,
        account=account,
        plan="Gold",
        mrr=Decimal("500"),
        start_date=dt.date(2024, 3, 1),
        end_date=None,
    )
    LifecycleChangeFactory(
        tenant=tenant,
        account=account,
        from_stage="",
        to_stage="acquisition",
        date=dt.date(2024, 1, 1),
        cause="created",
    )
    LifecycleChangeFactory(
        tenant=tenant,
        account=account,
        from_stage="acquisition",
        to_stage="conversion",
        date=dt.date(2024, 3, 1),
        cause="first_won_deal",
    )
    HealthScoreFactory(tenant=tenant, account=account, score=35)
    FeedbackFactory(tenant=tenant, account=account, score=4, comment="Slow support")
    return account


def test_cs_sees_stage_history_mrr_subscriptions_health_and_feedback(
    tenant, member, client_for, customer_account
):
    page = client_for(member(role=Role.CS)).get(account_url(tenant, customer_account)).content.decode()
    for testid in (
        "account-lifecycle",
        "lifecycle-history",
        "account-mrr",
        "account-subscriptions",
        "account-health",
        "health-components",
        "account-feedback",
    ):
        assert f'data-testid="{testid}"' in page, testid
    assert "First won deal" in page and "1 Mar 2024" in page  # the page's date format (crm/formats)
    assert "500.00" in page and "Gold" in page
    assert 'data-testid="health-at-risk"' in page  # 35 is under the default threshold of 40
    assert "Slow support" in page
    assert 'data-testid="account-subscription-new"' in page  # cs edits subscriptions
    assert 'data-testid="account-feedback-form"' in page


def test_rep_reads_their_own_accounts_subscriptions_and_gets_404_for_another_reps(
    tenant, member, client_for, rep, customer_account
):
    client = client_for(rep)
    page = client.get(account_url(tenant, customer_account)).content.decode()
    assert 'data-testid="account-subscriptions"' in page and "Gold" in page
    assert 'data-testid="account-subscription-new"' not in page
    assert 'data-testid="account-feedback-form"' not in page
    other = AccountFactory(tenant=tenant, owner=member(role=Role.SALES_REP).user, lifecycle_stage="retention")
    SubscriptionFactory(tenant=tenant, account=other, plan="Hidden plan")
    assert client.get(account_url(tenant, other)).status_code == 404


def test_panel_queries_do_not_grow_with_the_data(
    tenant, member, client_for, customer_account, django_assert_num_queries
):
    client = client_for(member(role=Role.CS))
    url = account_url(tenant, customer_account)
    client.get(url)  # the tenant's lifecycle settings are created on first use
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for day in range(5):
        SubscriptionFactory(tenant=tenant, account=customer_account, plan=f"Extra {day}")
        FeedbackFactory(tenant=tenant, account=customer_account)
        LifecycleChangeFactory(
            tenant=tenant,
            account=customer_account,
            from_stage="conversion",
            to_stage="retention",
            date=dt.date(2025, 1, 1) + dt.timedelta(days=day),
            cause="onboarding_done",
        )
    with django_assert_num_queries(len(before.captured_queries)):
        client.get(url)


def test_contact_page_feedback_and_survey_link_for_cs_only(tenant, member, client_for, rep, customer_account):
    contact = ContactFactory(tenant=tenant, account=customer_account)
    FeedbackFactory(tenant=tenant, account=customer_account, contact=contact, comment="Contact said hi")
    url = reverse("accounts:contact-detail", kwargs={"slug": tenant.slug, "pk": contact.pk})
    cs_page = client_for(member(role=Role.CS)).get(url).content.decode()
    assert 'data-testid="contact-feedback"' in cs_page and "Contact said hi" in cs_page
    assert 'data-testid="contact-survey"' in cs_page
    rep_page = client_for(rep).get(url).content.decode()
    assert 'data-testid="contact-feedback"' in rep_page
    assert 'data-testid="contact-survey"' not in rep_page


def test_an_open_renewal_deal_shows_the_subscription_it_renews_and_a_won_one_the_next_term(
    tenant, member, client_for, rep
):
    from accounts.models import Opportunity, StageKind
    from accounts.services.pipelines import pipeline_default
    from crm.tenancy import tenant_context
    from lifecycle.services.renewals import subscription_create_renewal_deal

    account = AccountFactory(tenant=tenant, owner=rep.user, lifecycle_stage="retention", name="Renew Co")
    subscription = SubscriptionFactory(
        tenant=tenant,
        account=account,
        plan="Gold",
        mrr=Decimal("500"),
        start_date=dt.date(2025, 1, 1),
        end_date=dt.date(2026, 1, 1),
    )
    with tenant_context(tenant):
        deal = subscription_create_renewal_deal(tenant=tenant, subscription_id=subscription.pk)
    url = reverse("accounts:opportunity-detail", kwargs={"slug": tenant.slug, "pk": deal.pk})
    client = client_for(member(role=Role.CS))
    page = client.get(url).content.decode()
    assert 'data-testid="renewal-subscription"' in page and "1 Jan 2026" in page
    assert 'data-testid="next-term"' not in page
    with tenant_context(tenant):
        won = pipeline_default(tenant=tenant).stages.get(kind=StageKind.WON)
        Opportunity.objects.filter(pk=deal.pk).update(stage=won)
    page = client.get(url).content.decode()
    assert 'data-testid="next-term-form"' in page and 'data-testid="renewal-subscription"' not in page
    # A rep sees the subscription of their own account's renewal, read only (no accept form once won).
    rep_page = client_for(rep).get(url).content.decode()
    assert 'data-testid="next-term"' in rep_page and 'data-testid="next-term-form"' not in rep_page
