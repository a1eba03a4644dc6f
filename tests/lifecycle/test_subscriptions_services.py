"""Subscription services (validation, optimistic locking, soft delete and restore), term length in months, and the
contract history classification (new, renewal, expansion, contraction, churn)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crm.errors import ConflictError
from crm.models import Role
from lifecycle.models import Subscription
from lifecycle.selectors.subscriptions import ContractEvent, classify_contracts, contract_history
from lifecycle.services.renewals import add_months, renewal_amount, term_months
from lifecycle.services.subscriptions import (
    subscription_create,
    subscription_delete,
    subscription_restore,
    subscription_update,
)
from tests.factories_accounts import AccountFactory
from tests.factories_lifecycle import SubscriptionFactory

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (D(2025, 1, 1), D(2026, 1, 1), 12),
        (D(2025, 1, 31), D(2025, 2, 28), 1),
        (D(2025, 1, 15), D(2025, 4, 14), 3),  # 2 months + 30 of 31 days
        (D(2025, 1, 1), D(2025, 2, 14), 1),  # 1 month + 13 of 28 days
        (D(2025, 1, 1), D(2025, 2, 15), 2),  # 1 month + 14 of 28 days: half rounds up
        (D(2025, 1, 1), D(2025, 1, 10), 1),  # at least one month
        (D(2024, 2, 29), D(2025, 2, 28), 12),
        (D(2025, 3, 1), D(2027, 3, 1), 24),
    ],
)
def test_term_months_counts_calendar_months_rounded(start, end, months):
    assert term_months(start, end) == months


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(D(2025, 1, 31), 1) == D(2025, 2, 28)
    assert add_months(D(2025, 11, 30), 3) == D(2026, 2, 28)


def test_renewal_amount_is_mrr_times_term_months(tenant):
    sub = Subscription(mrr=Decimal("1234.50"), start_date=D(2025, 1, 1), end_date=D(2026, 1, 1))
    assert renewal_amount(sub) == Decimal("14814.00")
    assert renewal_amount(Subscription(mrr=Decimal("10"), start_date=D(2025, 1, 1), end_date=None)) == 0


def test_create_validates_every_field_at_once(in_tenant, admin_member):
    account = AccountFactory(tenant=in_tenant)
    with pytest.raises(ValidationError) as caught:
        subscription_create(
            tenant=in_tenant,
            actor=admin_member.user,
            account=account,
            start_date="2025-05-01",
            end_date="2025-04-01",
            mrr="-5",
            currency="euro",
        )
    assert set(caught.value.message_dict) == {"end_date", "mrr", "currency"}


def test_create_takes_the_tenant_currency(in_tenant, admin_member):
    account = AccountFactory(tenant=in_tenant)
    sub = subscription_create(
        tenant=in_tenant, actor=admin_member.user, account=account, start_date=D(2025, 1, 1), mrr="99.999"
    )
    assert (sub.currency, sub.mrr, sub.end_date, sub.version) == ("CNY", Decimal("100.00"), None, 1)


def test_update_with_a_stale_version_conflicts_and_keeps_the_row(in_tenant, admin_member):
    sub = SubscriptionFactory(tenant=in_tenant, mrr=Decimal("100"))
    subscription_update(tenant=in_tenant, actor=admin_member.user, subscription=sub, version=1, mrr="150")
    with pytest.raises(ConflictError) as caught:
        subscription_update(tenant=in_tenant, actor=admin_member.user, subscription=sub, version=1, mrr="90")
    assert "Someone else changed this subscription" in str(caught.value)
    assert caught.value.extra["current"]["mrr"] == "150.00"
    assert caught.value.extra["current"]["version"] == 2
    sub.refresh_from_db()
    assert (sub.mrr, sub.version) == (Decimal("150.00"), 2)


def test_soft_delete_and_restore(in_tenant, admin_member):
    sub = SubscriptionFactory(tenant=in_tenant)
    subscription_delete(tenant=in_tenant, actor=admin_member.user, subscription=sub)
    assert Subscription.objects.get(pk=sub.pk).deleted_at is not None
    with pytest.raises(Subscription.DoesNotExist):
        subscription_update(
            tenant=in_tenant, actor=admin_member.user, subscription=sub, version=None, plan="x"
        )
    subscription_restore(tenant=in_tenant, actor=admin_member.user, subscription=sub)
    restored = Subscription.objects.get(pk=sub.pk)
    assert restored.deleted_at is None and restored.version == 3


def _sub(pk, start, end, mrr, renews_from=None, reason=""):
    sub = Subscription(
        pk=pk, start_date=start, end_date=end, mrr=Decimal(mrr), churn_reason=reason, currency="CNY"
    )
    sub.renews_from_id = renews_from
    return sub


def test_contract_history_classifies_each_term():
    terms = [
        _sub(1, D(2023, 1, 1), D(2024, 1, 1), "100"),
        _sub(2, D(2024, 1, 1), D(2025, 1, 1), "100", renews_from=1),  # same MRR: renewal
        _sub(3, D(2025, 1, 1), D(2026, 1, 1), "150", renews_from=2),  # up: expansion
        _sub(
            4, D(2025, 12, 20), D(2026, 6, 1), "120"
        ),  # implied renewal of 3 (starts 12 days before its end)
        _sub(5, D(2026, 2, 1), D(2026, 3, 1), "10"),  # new: starts after 4 began, renews nothing
    ]
    history = classify_contracts(terms, today=D(2026, 7, 1), grace_days=30)
    kinds = [(e.subscription.pk, e.kind) for e in history]
    assert kinds == [
        (1, ContractEvent.NEW),
        (2, ContractEvent.RENEWAL),
        (3, ContractEvent.EXPANSION),
        (4, ContractEvent.CONTRACTION),
        (5, ContractEvent.NEW),
        (5, ContractEvent.CHURN),
        (4, ContractEvent.CHURN),
    ]
    contraction = history[3]
    assert (contraction.previous_mrr, contraction.mrr_change) == (Decimal("150"), Decimal("-30"))


def test_churn_line_carries_the_reason_and_waits_for_the_end_date():
    terms = [_sub(1, D(2025, 1, 1), D(2026, 1, 1), "100", reason="Budget cut")]
    assert [e.kind for e in classify_contracts(terms, today=D(2025, 12, 31), grace_days=30)] == ["new"]
    history = classify_contracts(terms, today=D(2026, 1, 1), grace_days=30)
    assert [(e.kind, e.date, e.reason) for e in history] == [
        ("new", D(2025, 1, 1), ""),
        ("churn", D(2026, 1, 1), "Budget cut"),
    ]


def test_contract_history_selector_respects_visibility(in_tenant, member):
    rep = member(role=Role.SALES_REP)
    other = member(role=Role.SALES_REP)
    account = AccountFactory(tenant=in_tenant, owner=other.user)
    SubscriptionFactory(tenant=in_tenant, account=account)
    assert contract_history(tenant=in_tenant, membership=rep, account=account) == []
    assert len(contract_history(tenant=in_tenant, membership=other, account=account)) == 1
