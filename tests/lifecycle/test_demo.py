"""The customer-success demo seed (after the accounts demo): every stage, renewals in every window and overdue,
at-risk accounts with reasons, churned and come-back accounts, survey answers, playbook tasks; idempotent."""

from __future__ import annotations

import random

import pytest
from django.db.models import Count

from accounts.demo import seed as accounts_seed
from accounts.models import Account, Activity, LifecycleStageName
from crm.demo import demo_seeders
from crm.models import Role
from crm.tenancy import tenant_context
from lifecycle import demo
from lifecycle.models import (
    Feedback,
    FeedbackChannel,
    FeedbackKind,
    HealthScore,
    LifecycleCause,
    LifecycleChange,
    PlaybookRun,
    Subscription,
)
from lifecycle.selectors.health import at_risk_list, health_reasons
from lifecycle.selectors.renewals import renewal_base, renewal_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_members(tenant, admin_member, member):
    members = {"admin": admin_member}
    for key, role, team in [
        ("manager", Role.SALES_MANAGER, "Sales East"),
        ("rep", Role.SALES_REP, "Sales East"),
        ("rep2", Role.SALES_REP, "Sales East"),
        ("ops", Role.OPS, "Revenue Ops"),
        ("cs", Role.CS, "Customer Success"),
    ]:
        members[key] = member(role=role, team=team)
    return members


def test_registered_after_accounts_and_leads_before_imports():
    order = [seeder.app_label for seeder in demo_seeders()]
    assert order.index("accounts") < order.index("leads") < order.index("lifecycle") < order.index("imports")


def test_seed_fills_every_customer_success_page(tenant, demo_members):
    rng = random.Random(5)
    with tenant_context(tenant):
        accounts_seed(tenant=tenant, members=demo_members, rng=rng)
        demo.seed(tenant=tenant, members=demo_members, rng=rng)

        stages = dict(Account.objects.values_list("lifecycle_stage").annotate(n=Count("pk")))
        assert set(stages) == set(LifecycleStageName.values), stages
        assert all(n >= 3 for n in stages.values()), stages

        subscriptions = Subscription.objects.filter(tenant=tenant)
        assert subscriptions.filter(end_date=None).exists()  # open-ended
        assert subscriptions.filter(renews_from__isnull=False).exists()  # ended and renewed
        assert subscriptions.exclude(churn_reason="").exists()  # ended without renewal
        assert subscriptions.values("plan").distinct().count() >= 4  # monthly, 6-month and annual plans
        customers = Account.objects.exclude(lifecycle_stage=LifecycleStageName.ACQUISITION)
        subscribed = customers.filter(subscriptions__isnull=False).distinct().count()
        assert subscribed / customers.count() > 0.7  # most customers

        qs, bounds = renewal_base(tenant=tenant, membership=demo_members["cs"])
        counts = renewal_counts(qs, bounds)
        assert all(counts[window] >= 1 for window in ("overdue", "30", "60", "90", "won")), counts
        # The renewal deals exist for what is due and overdue, some of them moved along.
        due = qs.filter(bounds.q("30") | bounds.q("60") | bounds.q("90") | bounds.q("overdue"))
        assert not due.filter(renewal_opportunity__isnull=True).exists()
        assert due.exclude(renewal_opportunity__stage__name="Qualification").exists()

        churned = LifecycleChange.objects.filter(cause=LifecycleCause.CHURNED).values("account_id")
        came_back = LifecycleChange.objects.filter(cause=LifecycleCause.CAME_BACK).values("account_id")
        assert Account.objects.filter(lifecycle_stage=LifecycleStageName.CHURN, pk__in=churned).exists()
        assert Account.objects.filter(pk__in=came_back).exclude(lifecycle_stage="churn").exists()

        at_risk = list(at_risk_list(tenant=tenant, membership=demo_members["cs"]))
        assert len(at_risk) >= 5
        assert all(health_reasons(score.components) for score in at_risk)
        assert HealthScore.objects.filter(score__gte=70).exists()  # and healthy ones

        feedback = Feedback.objects.filter(tenant=tenant)
        assert feedback.filter(kind=FeedbackKind.NPS).count() > 50
        assert feedback.filter(kind=FeedbackKind.CSAT).exists()
        surveys = feedback.filter(channel=FeedbackChannel.SURVEY)
        assert surveys.count() >= 3 and not surveys.filter(survey_nonce="").exists()
        assert feedback.exclude(comment="").exists()

        # Playbook tasks of the at-risk and onboarding episodes, some for the cs member.
        assert PlaybookRun.objects.filter(trigger="at_risk").exists()
        assert PlaybookRun.objects.filter(trigger="onboarding").exists()
        runs = PlaybookRun.objects.values_list("account_id", flat=True)
        tasks = Activity.objects.filter(kind="task", done=False, account_id__in=runs)
        assert tasks.filter(owner=demo_members["cs"].user).exists()


def test_seed_twice_changes_nothing(tenant, demo_members):
    rng = random.Random(9)
    with tenant_context(tenant):
        accounts_seed(tenant=tenant, members=demo_members, rng=rng)
        demo.seed(tenant=tenant, members=demo_members, rng=rng)
        counts = (
            Subscription.objects.count(),
            Feedback.objects.count(),
            Activity.objects.count(),
            PlaybookRun.objects.count(),
            LifecycleChange.objects.count(),
        )
        demo.seed(tenant=tenant, members=demo_members, rng=random.Random(9))
        assert counts == (
            Subscription.objects.count(),
            Feedback.objects.count(),
            Activity.objects.count(),
            PlaybookRun.objects.count(),
            LifecycleChange.objects.count(),
        )
