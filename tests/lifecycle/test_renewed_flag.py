"""Subscription.renewed and Subscription.renewal_won, kept by the database (lifecycle/migrations/0004_subscription_renewed.py), always equals the
rule of lifecycle.selectors.subscriptions.successor_exists: after creates, updates, soft and hard deletes, links,
bulk writes, a stale instance saved again, and a change of grace_days; per tenant; and it writes no history."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.apps import apps

from accounts.models import Opportunity, Stage, StageKind
from accounts.services.opportunities import opportunity_mark_won, opportunity_move_stage
from accounts.services.pipelines import pipeline_default
from crm.dates import tenant_today
from crm.models import Role
from crm.tenancy import tenant_context
from lifecycle.models import Subscription
from lifecycle.selectors.subscriptions import successor_exists
from lifecycle.services.settings import lifecycle_settings_get, lifecycle_settings_update
from tests.factories import TenantFactory
from tests.factories_accounts import AccountFactory
from tests.factories_lifecycle import SubscriptionFactory
from tests.lifecycle.cs_helpers import renewal_deal

pytestmark = pytest.mark.django_db

D = dt.date(2026, 1, 1)
DELETED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _days(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def assert_flags_follow_the_rule(tenant) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(tenant):
        grace = lifecycle_settings_get(tenant=tenant).grace_days
        rows = Subscription.objects.filter(tenant=tenant).annotate(rule=successor_exists(tenant, grace))
        wrong = [(s.pk, s.renewed, s.rule) for s in rows if s.renewed != s.rule]
    assert wrong == []


def renewed(sub: Subscription) -> bool:
    with tenant_context(sub.tenant):
        return Subscription.objects.get(pk=sub.pk).renewed


def test_an_implied_successor_marks_the_term_and_its_removal_clears_it(tenant):
    account = AccountFactory(tenant=tenant)
    term = SubscriptionFactory(account=account, start_date=_days(0), end_date=_days(365))
    assert renewed(term) is False
    # Starts 20 days after the end: within the default 30 grace days.
    nxt = SubscriptionFactory(account=account, start_date=_days(385), end_date=_days(750))
    assert renewed(term) is True
    assert renewed(nxt) is False
    with tenant_context(tenant):
        Subscription.objects.filter(pk=nxt.pk).update(start_date=_days(400))  # 35 days after: not a renewal
    assert renewed(term) is False
    with tenant_context(tenant):
        Subscription.objects.filter(pk=nxt.pk).update(start_date=_days(300))  # early renewal (90 days)
    assert renewed(term) is True
    with tenant_context(tenant):
        Subscription.objects.filter(pk=nxt.pk).update(deleted_at=DELETED)  # soft delete
    assert renewed(term) is False
    with tenant_context(tenant):
        Subscription.objects.filter(pk=nxt.pk).update(deleted_at=None)
    assert renewed(term) is True
    with tenant_context(tenant):
        Subscription.objects.filter(pk=nxt.pk).delete()  # hard delete
    assert renewed(term) is False
    assert_flags_follow_the_rule(tenant)


def test_a_link_marks_the_term_whatever_the_dates(tenant):
    account = AccountFactory(tenant=tenant)
    term = SubscriptionFactory(account=account, start_date=_days(0), end_date=_days(100))
    late = SubscriptionFactory(account=account, start_date=_days(500), end_date=_days(800))
    assert renewed(term) is False
    with tenant_context(tenant):
        late.renews_from = term
        late.save()
    assert renewed(term) is True
    with tenant_context(tenant):
        late.renews_from = None
        late.save()
    assert renewed(term) is False
    assert_flags_follow_the_rule(tenant)


def test_a_stale_instance_saved_again_keeps_the_true_flag(tenant):
    account = AccountFactory(tenant=tenant)
    term = SubscriptionFactory(account=account, start_date=_days(0), end_date=_days(365))
    SubscriptionFactory(account=account, start_date=_days(365), end_date=_days(730))
    assert term.renewed is False  # the instance in memory predates its successor
    with tenant_context(tenant):
        term.plan = "Renamed"
        term.save()  # writes renewed=False from memory; the statement trigger puts the truth back
    assert renewed(term) is True


def test_bulk_writes_and_a_change_of_grace_days(tenant):
    account = AccountFactory(tenant=tenant)
    with tenant_context(tenant):
        first, second = Subscription.objects.bulk_create(
            [
                Subscription(
                    tenant=tenant, account=account, currency="CNY", start_date=_days(0), end_date=_days(365)
                ),
                # 20 days after the first ends.
                Subscription(
                    tenant=tenant, account=account, currency="CNY", start_date=_days(385), end_date=_days(700)
                ),
            ]
        )
    assert renewed(first) is True
    with tenant_context(tenant):
        lifecycle_settings_update(tenant=tenant, actor=None, grace_days=10)
    assert renewed(first) is False
    assert_flags_follow_the_rule(tenant)
    with tenant_context(tenant):
        lifecycle_settings_update(tenant=tenant, actor=None, grace_days=25)
    assert renewed(first) is True
    assert_flags_follow_the_rule(tenant)


def test_random_histories_in_two_tenants_follow_the_rule():
    rng = random.Random(20261203)
    tenants = [TenantFactory(), TenantFactory()]
    with tenant_context(tenants[1]):
        lifecycle_settings_update(tenant=tenants[1], actor=None, grace_days=12)
    subs: list[Subscription] = []
    for tenant in tenants:
        accounts = [AccountFactory(tenant=tenant) for _ in range(4)]
        for _ in range(30):
            start = rng.randrange(0, 900)
            end = None if rng.random() < 0.1 else start + rng.choice([30, 90, 180, 365])
            subs.append(
                SubscriptionFactory(
                    account=rng.choice(accounts), start_date=_days(start), end_date=end and _days(end)
                )
            )
    for _ in range(60):
        sub = rng.choice(subs)
        with tenant_context(sub.tenant):
            move = rng.choice(["shift", "delete", "restore", "link"])
            qs = Subscription.objects.filter(pk=sub.pk)
            if move == "shift":
                shift = dt.timedelta(days=rng.randrange(-60, 60))
                row = qs.get()
                qs.update(start_date=row.start_date + shift, end_date=row.end_date and row.end_date + shift)
            elif move == "delete":
                qs.update(deleted_at=DELETED)
            elif move == "restore":
                qs.update(deleted_at=None)
            else:
                other = rng.choice([s for s in subs if s.tenant_id == sub.tenant_id and s.pk != sub.pk])
                qs.update(renews_from=other)
    for tenant in tenants:
        assert_flags_follow_the_rule(tenant)
        with tenant_context(tenant):
            assert Subscription.objects.filter(tenant=tenant, renewed=True).exists()


def test_random_inserts_of_many_terms_at_once_follow_the_rule(tenant):
    """An INSERT works out only what an insert can change (lifecycle 0010): the new terms' own flags, and the
    stored terms a new live term renews, by its link or by the dates. Batches of terms inserted in one statement
    each (live and deleted, open-ended, linked to a stored term of any account, renewing one another) keep every
    flag equal to the rule after each batch."""
    rng = random.Random(20261206)
    with tenant_context(tenant):
        lifecycle_settings_update(tenant=tenant, actor=None, grace_days=20)
    accounts = [AccountFactory(tenant=tenant) for _ in range(3)]
    stored: list[Subscription] = []
    for _batch in range(8):
        batch = []
        for _ in range(rng.randrange(1, 12)):
            start = rng.randrange(0, 900)
            end = None if rng.random() < 0.1 else start + rng.choice([30, 90, 180, 365])
            batch.append(
                Subscription(
                    tenant=tenant,
                    account=rng.choice(accounts),
                    currency="CNY",
                    start_date=_days(start),
                    end_date=end and _days(end),
                    deleted_at=DELETED if rng.random() < 0.15 else None,
                    renews_from=rng.choice(stored) if stored and rng.random() < 0.2 else None,
                )
            )
        with tenant_context(tenant):
            stored += Subscription.objects.bulk_create(batch)
        assert_flags_follow_the_rule(tenant)
    with tenant_context(tenant):
        assert Subscription.objects.filter(tenant=tenant, renewed=True).count() > 5


def test_the_flag_is_no_change_in_the_history(tenant):
    account = AccountFactory(tenant=tenant)
    term = SubscriptionFactory(account=account, start_date=_days(0), end_date=_days(365))
    SubscriptionEvent = apps.get_model("lifecycle", "SubscriptionEvent")
    with tenant_context(tenant):
        before = SubscriptionEvent.objects.filter(pgh_obj_id=term.pk).count()
    SubscriptionFactory(account=account, start_date=_days(365), end_date=_days(730))
    assert renewed(term) is True
    with tenant_context(tenant):
        assert SubscriptionEvent.objects.filter(pgh_obj_id=term.pk).count() == before


# --- renewal_won: the renewal deal's stage, kept by triggers on the deals and the stages ----------------------------


def won(sub: Subscription) -> bool:
    with tenant_context(sub.tenant):
        return Subscription.objects.get(pk=sub.pk).renewal_won


def test_renewal_won_follows_the_deal_through_the_services(tenant):
    account = AccountFactory(tenant=tenant)
    deal = renewal_deal(account)
    term = SubscriptionFactory(account=account, start_date=_days(0), end_date=_days(365))
    assert won(term) is False
    with tenant_context(tenant):
        Subscription.objects.filter(pk=term.pk).update(renewal_opportunity=deal)
    assert won(term) is False  # linked, still open
    with tenant_context(tenant):
        opportunity_mark_won(tenant=tenant, actor=None, opportunity=deal)
    assert won(term) is True
    with tenant_context(tenant):
        deal.refresh_from_db()
        first_open = (
            pipeline_default(tenant=tenant).stages.filter(kind=StageKind.OPEN).order_by("order").first()
        )
        opportunity_move_stage(tenant=tenant, actor=None, opportunity=deal, stage=first_open)
    assert won(term) is False  # reopened
    with tenant_context(tenant):
        deal.refresh_from_db()
        opportunity_mark_won(tenant=tenant, actor=None, opportunity=deal)
        Subscription.objects.filter(pk=term.pk).update(renewal_opportunity=None)
    assert won(term) is False  # unlinked


def test_renewal_won_follows_a_stage_that_changes_kind_and_a_deleted_deal(tenant):
    account = AccountFactory(tenant=tenant)
    deal = renewal_deal(account)
    term = SubscriptionFactory(
        account=account, start_date=_days(0), end_date=_days(365), renewal_opportunity=deal
    )
    assert won(term) is False
    with tenant_context(tenant):
        Stage.objects.filter(pk=deal.stage_id).update(kind=StageKind.WON)
    assert won(term) is True
    with tenant_context(tenant):
        Stage.objects.filter(pk=deal.stage_id).update(kind=StageKind.OPEN)
    assert won(term) is False
    with tenant_context(tenant):
        Stage.objects.filter(pk=deal.stage_id).update(kind=StageKind.WON)
        Opportunity.objects.filter(pk=deal.pk).delete()  # the term's link is set to NULL
    assert won(term) is False


def test_the_renewals_windows_read_the_flags(tenant, member):
    """A won renewal leaves its dated window for "won"; accepting the next term (a successor) empties both."""
    from lifecycle.selectors.renewals import renewal_base, renewal_counts
    from tests.lifecycle.cs_helpers import customer

    membership = member(role=Role.CS)
    account = customer(tenant)
    today = tenant_today(tenant)
    deal = renewal_deal(account)
    term = SubscriptionFactory(
        account=account,
        start_date=today - dt.timedelta(days=340),
        end_date=today + dt.timedelta(days=25),
        renewal_opportunity=deal,
    )
    with tenant_context(tenant):
        counts = renewal_counts(*renewal_base(tenant=tenant, membership=membership))
        assert (counts["30"], counts["won"]) == (1, 0)
        opportunity_mark_won(tenant=tenant, actor=None, opportunity=deal)
        counts = renewal_counts(*renewal_base(tenant=tenant, membership=membership))
        assert (counts["30"], counts["won"]) == (0, 1)
    SubscriptionFactory(
        account=account, start_date=term.end_date, end_date=term.end_date + dt.timedelta(days=365)
    )
    with tenant_context(tenant):
        counts = renewal_counts(*renewal_base(tenant=tenant, membership=membership))
    assert (counts["30"], counts["won"]) == (0, 0)
