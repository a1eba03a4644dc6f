"""The account's stage, owner and liveness copied onto lifecycle rows (migration 0006): kept by the database through
every way an account changes, and the lifecycle page's numbers read through them equal the same numbers read by
joining the visible accounts, for every role that opens the page (works-on shares and deals included)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from accounts.models import Account, AccountAccess
from accounts.selectors.visibility import account_queryset
from accounts.services.accounts import account_delete, account_restore, account_update
from crm.dates import tenant_today
from crm.models import Role
from crm.tenancy import tenant_context
from lifecycle.models import LifecycleChange, Subscription
from lifecycle.selectors.overview import FLOWS, STAGES_WITH_MRR, lifecycle_summary, month_starts
from lifecycle.selectors.subscriptions import active_on
from tests.factories_accounts import AccountFactory, AccountMemberFactory
from tests.factories_deals import OpportunityFactory
from tests.factories_lifecycle import LifecycleChangeFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

STALE_SQL = """
SELECT count(*) FROM {table} r JOIN accounts_account a ON a.id = r.account_id
WHERE (r.account_stage, r.account_owner_id, r.account_live)
      IS DISTINCT FROM (a.lifecycle_stage, a.owner_id, a.deleted_at IS NULL)
"""


def stale_rows() -> dict[str, int]:
    found = {}
    with connection.cursor() as cursor:
        for table in ("lifecycle_lifecyclechange", "lifecycle_subscription"):
            cursor.execute(STALE_SQL.format(table=table))
            found[table] = cursor.fetchone()[0]
    return found


def _with_rows(tenant, stage, owner=None, mrr="100"):  # type: ignore[no-untyped-def]
    account = AccountFactory(tenant=tenant, lifecycle_stage=stage, owner=owner)
    today = tenant_today(tenant)
    LifecycleChangeFactory(tenant=tenant, account=account, date=today, from_stage="", to_stage=stage)
    SubscriptionFactory(account=account, mrr=Decimal(mrr), start_date=today - dt.timedelta(days=10))
    return account


def test_copies_follow_every_change_of_the_account(tenant, member):
    rep = member(role=Role.SALES_REP)
    other = member(role=Role.SALES_REP)
    with tenant_context(tenant):
        account = _with_rows(tenant, "retention", owner=rep.user)
        second = _with_rows(tenant, "conversion", owner=rep.user)
        assert stale_rows() == {"lifecycle_lifecyclechange": 0, "lifecycle_subscription": 0}
        sub = Subscription.objects.get(account=account)
        assert (sub.account_stage, sub.account_owner_id, sub.account_live) == ("retention", rep.user_id, True)

        account_update(
            tenant=tenant, actor=None, account=account, version=None, owner=other.user
        )  # reassigned
        Account.objects.filter(pk=second.pk).update(
            lifecycle_stage="churn"
        )  # the stage engine's kind of write
        assert stale_rows() == {"lifecycle_lifecyclechange": 0, "lifecycle_subscription": 0}
        assert Subscription.objects.get(account=second).account_stage == "churn"

        account_delete(tenant=tenant, actor=None, account=account)  # soft delete: rows leave the numbers
        assert not Subscription.objects.get(account=account).account_live
        assert not LifecycleChange.objects.get(account=account).account_live
        account_restore(tenant=tenant, actor=None, account=Account.objects.get(pk=account.pk))
        assert stale_rows() == {"lifecycle_lifecyclechange": 0, "lifecycle_subscription": 0}

        # A term moved to another account, and a model save that sends the copies it loaded (stale ones).
        sub = Subscription.objects.get(account=account)
        sub.account = second
        sub.save()
        assert Subscription.objects.get(pk=sub.pk).account_stage == "churn"
        stale = Subscription.objects.get(pk=sub.pk)
        Account.objects.filter(pk=second.pk).update(lifecycle_stage="retention")
        stale.plan = "Edited"
        stale.save()  # carries account_stage "churn" from before
        assert Subscription.objects.get(pk=sub.pk).account_stage == "retention"
        assert stale_rows() == {"lifecycle_lifecyclechange": 0, "lifecycle_subscription": 0}


def test_copies_are_not_history(tenant, member):
    rep = member(role=Role.SALES_REP)
    other = member(role=Role.SALES_REP)
    event = apps.get_model("lifecycle", "SubscriptionEvent")
    with tenant_context(tenant):
        account = _with_rows(tenant, "retention", owner=rep.user)
        before = event.objects.count()
        account_update(tenant=tenant, actor=None, account=account, version=None, owner=other.user)
        assert event.objects.count() == before


def _joined(tenant, membership):  # type: ignore[no-untyped-def]
    """The page's numbers the straightforward way: join the visible accounts."""
    visible = account_queryset(tenant=tenant, membership=membership)
    today = tenant_today(tenant)
    mrr = {
        row["lifecycle_stage"]: row["mrr"]
        for row in visible.filter(lifecycle_stage__in=STAGES_WITH_MRR)
        .filter(active_on(today, prefix="subscriptions__"))
        .order_by()
        .values("lifecycle_stage")
        .annotate(mrr=Sum("subscriptions__mrr"))
    }
    firsts = month_starts(tenant=tenant)
    flows = {
        row["month"]: row
        for row in LifecycleChange.objects.filter(
            tenant=tenant, account_id__in=visible.values("pk"), date__gte=firsts[0]
        )
        .order_by()
        .annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(**{flow.key: Count("pk", filter=flow.q) for flow in FLOWS})
    }
    counts = dict(visible.order_by().values_list("lifecycle_stage").annotate(n=Count("pk")))
    return counts, mrr, flows


@pytest.mark.parametrize("role", [Role.CS, Role.SALES_MANAGER, Role.ADMIN, Role.OPS])
def test_numbers_through_the_copies_equal_the_join(tenant, member, role):
    viewer = member(role=role, team="East")
    east = member(role=Role.SALES_REP, team="East")
    west = member(role=Role.SALES_REP, team="West")
    months = month_starts(tenant=tenant, months=3)
    with tenant_context(tenant):
        made = []
        for n, (stage, owner) in enumerate(
            [
                ("acquisition", west.user),
                ("acquisition", viewer.user),
                ("conversion", east.user),
                ("conversion", west.user),
                ("retention", west.user),
                ("retention", None),
                ("churn", east.user),
                ("acquisition", None),
            ]
        ):
            account = AccountFactory(tenant=tenant, lifecycle_stage=stage, owner=owner)
            for k, month in enumerate(months):
                LifecycleChangeFactory(
                    tenant=tenant,
                    account=account,
                    date=month.replace(day=2 + k),
                    from_stage=["", "acquisition", "conversion"][k],
                    to_stage=["acquisition", "conversion", stage][k] if k < 2 else stage,
                )
            SubscriptionFactory(
                account=account, mrr=Decimal(100 + n), start_date=tenant_today(tenant) - dt.timedelta(days=5)
            )
            made.append(account)
        # Works-on: a share of an acquisition account to the viewer (edit), a team member's deal on a west account,
        # and a deleted account that nobody may count.
        AccountMemberFactory(tenant=tenant, account=made[0], user=viewer.user, access=AccountAccess.EDIT)
        OpportunityFactory(tenant=tenant, account=made[3], owner=east.user)
        account_delete(tenant=tenant, actor=None, account=made[4])

        summary = lifecycle_summary(tenant=tenant, membership=viewer)
        counts, mrr, flows = _joined(tenant, viewer)
    assert {row["key"]: row["count"] for row in summary["stages"]} == {
        key: counts.get(key, 0) for key in ("acquisition", "conversion", "retention", "churn")
    }
    assert {row["key"]: row["mrr"] for row in summary["stages"] if row["mrr"] is not None} == {
        key: mrr.get(key) or Decimal(0) for key in STAGES_WITH_MRR
    }
    for row in summary["flows"]:
        expected = flows.get(row["month"], {})
        assert {flow.key: row[flow.key] for flow in FLOWS} == {
            flow.key: expected.get(flow.key, 0) for flow in FLOWS
        }
    assert sum(row["count"] for row in summary["stages"]) > 0


ROLLUP_DIFF_SQL = """
SELECT count(*) FROM (
    (SELECT tenant_id, date_trunc('month', date)::date AS month, from_stage, to_stage, account_stage,
            account_owner_id, count(*)::int AS n
     FROM lifecycle_lifecyclechange WHERE account_live GROUP BY 1, 2, 3, 4, 5, 6
     EXCEPT
     SELECT tenant_id, month, from_stage, to_stage, account_stage, account_owner_id, n FROM lifecycle_lifecycleflowcount)
    UNION ALL
    (SELECT tenant_id, month, from_stage, to_stage, account_stage, account_owner_id, n FROM lifecycle_lifecycleflowcount
     EXCEPT
     SELECT tenant_id, date_trunc('month', date)::date, from_stage, to_stage, account_stage, account_owner_id,
            count(*)::int
     FROM lifecycle_lifecyclechange WHERE account_live GROUP BY 1, 2, 3, 4, 5, 6)
) d
"""


def rollup_differences() -> int:
    with connection.cursor() as cursor:
        cursor.execute(ROLLUP_DIFF_SQL)
        return cursor.fetchone()[0]


def test_flow_counts_follow_the_stage_changes(tenant, member):
    from lifecycle.models import LifecycleFlowCount
    from lifecycle.services.stages import lifecycle_recompute
    from tests.factories_lifecycle import won_deal

    rep = member(role=Role.SALES_REP)
    other = member(role=Role.SALES_REP)
    with tenant_context(tenant):
        first = _with_rows(tenant, "retention", owner=rep.user)
        second = _with_rows(tenant, "conversion", owner=rep.user)
        assert LifecycleFlowCount.objects.count() > 0 and rollup_differences() == 0
        account_update(tenant=tenant, actor=None, account=first, version=None, owner=other.user)
        assert rollup_differences() == 0
        account_delete(tenant=tenant, actor=None, account=second)
        assert rollup_differences() == 0
        account_restore(tenant=tenant, actor=None, account=Account.objects.get(pk=second.pk))
        LifecycleChange.objects.filter(account=first).update(
            date=tenant_today(tenant) - dt.timedelta(days=70)
        )
        assert rollup_differences() == 0
        # The engine rewrites the derived history (deletes and inserts rows of its accounts).
        third = AccountFactory(tenant=tenant, owner=rep.user)
        won_deal(third, closed_at=timezone_now() - dt.timedelta(days=40))
        lifecycle_recompute(tenant=tenant)
        assert LifecycleChange.objects.filter(account=third).exists()
        assert rollup_differences() == 0
        LifecycleChange.objects.filter(account=second).delete()
        assert rollup_differences() == 0
        assert not LifecycleFlowCount.objects.filter(n=0).exists()


def timezone_now():  # type: ignore[no-untyped-def]
    from django.utils import timezone

    return timezone.now()
