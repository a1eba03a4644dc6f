"""Demo data of the sales workspace: accounts first (with contacts, teams and rates), then deals, then activities."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db.models import Max, Min, OuterRef, Subquery
from django.utils import timezone

from accounts.demo import accounts as account_demo
from accounts.demo import activities as activity_demo
from accounts.demo import opportunities as opportunity_demo
from accounts.models import Account, LifecycleStageName, Opportunity, StageKind
from crm.history import history_actor

ONBOARDING_DAYS = 90
LAPSE_DAYS = 365


def seed(*, tenant, members: dict, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    account_demo.seed(tenant=tenant, members=members, rng=rng)
    opportunity_demo.seed(tenant=tenant, members=members, rng=rng)
    activity_demo.seed_activities(tenant=tenant, members=members, rng=rng)
    _provisional_lifecycle(tenant=tenant)


def _provisional_lifecycle(*, tenant) -> None:  # type: ignore[no-untyped-def]
    """Place demo accounts in a lifecycle stage from their won deals (KPIS.md rules without subscriptions), so
    customer pages have customers before the lifecycle engine exists. Set-based: three UPDATEs."""
    won = Opportunity.objects.filter(tenant=tenant, account=OuterRef("pk"), stage__kind=StageKind.WON)
    first_won = won.order_by().values("account").annotate(v=Min("closed_at")).values("v")
    last_won = won.order_by().values("account").annotate(v=Max("closed_at")).values("v")
    accounts = Account.objects.filter(tenant=tenant).annotate(
        first_won=Subquery(first_won), last_won=Subquery(last_won)
    )
    now = timezone.now()
    customers = accounts.filter(first_won__isnull=False)
    ids = dict.fromkeys(LifecycleStageName.values, None)
    ids[LifecycleStageName.CHURN] = customers.filter(last_won__lte=now - timedelta(days=LAPSE_DAYS))
    ids[LifecycleStageName.CONVERSION] = customers.filter(
        first_won__gt=now - timedelta(days=ONBOARDING_DAYS), last_won__gt=now - timedelta(days=LAPSE_DAYS)
    )
    ids[LifecycleStageName.RETENTION] = customers.filter(
        first_won__lte=now - timedelta(days=ONBOARDING_DAYS), last_won__gt=now - timedelta(days=LAPSE_DAYS)
    )
    # A system change: booked to no one (the transaction's last context would otherwise credit a demo rep).
    with history_actor(None, reason="lifecycle"):
        for stage, qs in ids.items():
            if qs is not None:
                Account.objects.filter(tenant=tenant, pk__in=qs.values("pk")).update(lifecycle_stage=stage)
