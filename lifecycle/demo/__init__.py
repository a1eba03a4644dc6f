"""Demo data of customer success: subscriptions (subscriptions.py), feedback and CS touches (feedback.py), then the
engines run once for the tenant so every page is full: the stage history, the renewal deals (due ones, and the
overdue ones they would have had), a few renewal deals moved along (one won: its next term waits to be accepted),
then health and the playbooks' tasks.

Runs after the accounts and leads seeds (it reads their won deals and activities); idempotent: a tenant that has
the demo subscriptions already is left as it is. Deterministic for a given `rng` and day."""

from __future__ import annotations

import datetime
import random
from typing import Any

from accounts.demo.words import _lang
from accounts.models import Opportunity, StageKind
from accounts.services.opportunities import opportunity_mark_won, opportunity_move_stage
from crm.dates import tenant_today
from lifecycle.demo import feedback as feedback_demo
from lifecycle.demo import subscriptions as subscriptions_demo
from lifecycle.models import Subscription
from lifecycle.services.health import health_recompute
from lifecycle.services.renewals import renewals_create_due
from lifecycle.services.settings import lifecycle_settings_get
from lifecycle.services.stages import lifecycle_recompute

# How far the demo's open renewal deals have got, by the days left to the end date (stage names of the default
# pipeline; the rest stay in the first stage).
RENEWAL_PROGRESS = (("Negotiation", 0.5), ("Proposal", 0.35), ("Needs analysis", 0.3))


def seed(*, tenant: Any, members: dict, rng: random.Random) -> None:
    if Subscription.objects.filter(subscriptions_demo.demo_subscriptions(tenant)).exists():
        return
    lang = _lang(tenant)
    today = tenant_today(tenant)
    seeded = subscriptions_demo.seed(tenant=tenant, today=today, lang=lang, rng=rng)
    feedback_demo.seed(tenant=tenant, seeded=seeded, members=members, lang=lang, rng=rng)
    lifecycle_recompute(tenant=tenant, today=today)
    _renewal_deals(tenant=tenant, members=members, today=today, rng=rng)
    health_recompute(tenant=tenant)


def _renewal_deals(*, tenant: Any, members: dict, today: datetime.date, rng: random.Random) -> None:
    """The deals the daily task makes (ends in the lead window), and those it made for the overdue terms while
    they were due; then CS moves some along and wins one (its next term waits on the renewals page)."""
    grace = lifecycle_settings_get(tenant=tenant).grace_days
    renewals_create_due(tenant=tenant, today=today - datetime.timedelta(days=grace))
    renewals_create_due(tenant=tenant, today=today)
    cs = members["cs"].user if "cs" in members else None
    deals = list(
        Opportunity.objects.filter(
            tenant=tenant,
            renewed_subscriptions__in=Subscription.objects.filter(
                subscriptions_demo.demo_subscriptions(tenant), end_date__isnull=False
            ),
            stage__kind=StageKind.OPEN,
        )
        .select_related("pipeline", "stage")
        .order_by("expected_close_date", "pk")
    )
    won = False
    for deal in deals:
        days_left = (deal.expected_close_date - today).days if deal.expected_close_date else 0
        if not won and 5 <= days_left <= 30:
            deal = opportunity_move_stage(tenant=tenant, actor=cs, opportunity=deal, stage="Negotiation")
            opportunity_mark_won(tenant=tenant, actor=cs, opportunity=deal)
            won = True
            continue
        for stage, chance in RENEWAL_PROGRESS:
            near = days_left <= 45 or stage == "Needs analysis"
            if near and rng.random() < chance:
                opportunity_move_stage(tenant=tenant, actor=cs, opportunity=deal, stage=stage)
                break
