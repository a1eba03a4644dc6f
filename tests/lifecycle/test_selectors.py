"""Reads of the lifecycle app."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm.tenancy import tenant_context
from lifecycle.selectors.stages import first_customer_dates
from tests.factories_accounts import AccountFactory
from tests.factories_lifecycle import SubscriptionFactory, won_deal

pytestmark = pytest.mark.django_db


def test_first_customer_date_is_the_earlier_of_first_won_deal_and_first_subscription(
    tenant, django_assert_num_queries
):
    by_deal, by_subscription, both, never, deleted = (AccountFactory(tenant=tenant) for _ in range(5))
    won_deal(by_deal, dt.datetime(2026, 3, 31, 17, 30, tzinfo=dt.UTC))  # April 1st in Shanghai
    SubscriptionFactory(account=by_subscription, start_date=dt.date(2025, 5, 1))
    won_deal(both, dt.datetime(2025, 6, 1, 4, tzinfo=dt.UTC))
    SubscriptionFactory(account=both, start_date=dt.date(2025, 5, 20))
    won_deal(deleted, dt.datetime(2025, 6, 1, 4, tzinfo=dt.UTC), deleted_at=timezone.now())
    ids = [a.pk for a in (by_deal, by_subscription, both, never, deleted)]
    with tenant_context(tenant), django_assert_num_queries(1):
        dates = first_customer_dates(tenant=tenant, account_ids=ids)
    assert dates == {
        by_deal.pk: dt.date(2026, 4, 1),
        by_subscription.pk: dt.date(2025, 5, 1),
        both.pk: dt.date(2025, 5, 20),
        never.pk: None,
        deleted.pk: None,
    }
