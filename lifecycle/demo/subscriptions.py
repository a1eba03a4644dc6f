"""Demo subscriptions: a contract story for most customer accounts (those with won deals), built from their deals.

Stories (each account gets one; a few are placed first so every window of the renewals page and every stage of
the lifecycle has accounts, whatever the rng draws):
- annual / semiannual: terms from the first win (plus a go-live delay), renewed term after term (renews_from)
  until the current one ends in the future; the MRR moves at renewals (expansion, contraction);
- monthly: one open-ended subscription;
- due_30 / due_60 / due_90 / overdue: terms co-termed to end in that window (a pro-rated first term, then whole
  terms up to the chosen end), no successor yet;
- churned: terms that ended months ago without a renewal (a churn reason);
- comeback: a short first contract that ended and churned, then a new contract later (one recent: onboarding);
- project: won deals only, no subscription (a customer by its deals; old ones lapse into churn).

MRR comes from the account's first won deal (its amount in the reporting currency over twelve months). Volume
goes in with bulk_create, one generation of renewals at a time (each term points at the one it renews).
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from accounts.models import Opportunity, StageKind
from lifecycle.demo.words import CHURN_REASONS, PLANS
from lifecycle.models import Subscription
from lifecycle.services.renewals import add_months

DAY = datetime.timedelta(days=1)
# Stories placed first, strictest eligibility (days since the first win) first: (story, accounts, min days).
PLACED = (
    ("comeback", 3, 150),
    ("churned", 5, 100),
    ("overdue", 3, 60),
    ("due_30", 4, 45),
    ("due_60", 3, 45),
    ("due_90", 3, 45),
)
DUE_OFFSETS = {"overdue": (-25, -2), "due_30": (2, 29), "due_60": (32, 59), "due_90": (62, 89)}
MRR_STEPS = ("1", "1", "1", "1.1", "1.2", "0.9")


@dataclass
class Customer:
    """An account with won deals, as the demo sees it."""

    account_id: int
    tier: str
    first_won: datetime.date
    first_amount: Decimal
    story: str = ""
    terms: list[Subscription] = field(default_factory=list)
    # Positions in `terms` that start a new contract (a come-back) instead of renewing the term before.
    new_contracts: set[int] = field(default_factory=set)


@dataclass
class Seeded:
    """What the subscription seed made, for the feedback and touch seeds that follow."""

    customers: list[Customer]
    today: datetime.date


def customers_of(tenant: Any) -> list[Customer]:
    """The accounts with won deals, oldest customer first: first win date (local) and its amount."""
    won = (
        Opportunity.objects.filter(
            tenant=tenant,
            deleted_at=None,
            account__deleted_at=None,
            stage__kind=StageKind.WON,
            closed_at__isnull=False,
        )
        .order_by("account_id", "closed_at", "pk")
        .values_list("account_id", "account__tier", "closed_at", "amount_reporting", "amount")
    )
    found: dict[int, Customer] = {}
    for account_id, tier, closed_at, reporting, amount in won:
        if account_id in found:
            continue
        found[account_id] = Customer(
            account_id=account_id,
            tier=tier,
            first_won=timezone.localtime(closed_at, tenant.tzinfo).date(),
            first_amount=reporting if reporting is not None else amount,
        )
    return sorted(found.values(), key=lambda c: (c.first_won, c.account_id))


def _mrr(tenant: Any, amount: Decimal) -> Decimal:
    floor = Decimal(100) if tenant.currency == "CNY" else Decimal(20)
    monthly = (amount / 12).quantize(Decimal(10) if tenant.currency == "CNY" else Decimal(1), ROUND_HALF_UP)
    return max(monthly, floor)


def _assign_stories(customers: list[Customer], today: datetime.date, rng: random.Random) -> None:
    order = list(customers)
    rng.shuffle(order)
    for story, count, min_days in PLACED:
        picked = 0
        for customer in order:
            if picked == count:
                break
            if not customer.story and (today - customer.first_won).days >= min_days:
                customer.story = story
                picked += 1
    for customer in order:
        if customer.story:
            continue
        roll = rng.random()
        if roll < 0.08:
            customer.story = "project"
        elif roll < 0.38 or customer.tier == "long_tail" and roll < 0.6:
            customer.story = "monthly"
        elif roll < 0.48:
            customer.story = "semiannual"
        else:
            customer.story = "annual"


def _boundaries(start: datetime.date, end: datetime.date, months: int) -> list[datetime.date]:
    """Term boundaries from `start` to `end`: whole terms of `months` counted back from `end`, the first term
    pro-rated (co-termed) when it would be shorter than a month."""
    steps = [end]
    while True:
        previous = add_months(end, -months * len(steps))
        if previous <= start + datetime.timedelta(days=30):
            break
        steps.append(previous)
    return [start, *reversed(steps)]


def _chain(
    tenant: Any,
    customer: Customer,
    bounds: list[datetime.date],
    *,
    plan: str,
    mrr: Decimal,
    rng: random.Random,
) -> list[Subscription]:
    terms = []
    for term_start, term_end in zip(bounds, bounds[1:], strict=False):
        terms.append(
            Subscription(
                tenant=tenant,
                account_id=customer.account_id,
                plan=plan,
                mrr=mrr,
                currency=tenant.currency,
                start_date=term_start,
                end_date=term_end,
            )
        )
        mrr = (mrr * Decimal(rng.choice(MRR_STEPS))).quantize(Decimal(1), ROUND_HALF_UP)
    return terms


def _terms_of(
    tenant: Any, customer: Customer, today: datetime.date, lang: str, rng: random.Random
) -> list[Subscription]:
    """The subscriptions of one customer's story (unsaved; `renews_from` wired by position in the chain)."""
    story = customer.story
    plans = PLANS[lang]
    mrr = _mrr(tenant, customer.first_amount)
    go_live = customer.first_won + DAY * rng.randint(0, 14)
    if go_live >= today:
        go_live = customer.first_won
    if story == "project":
        return []
    if story == "monthly":
        return [
            Subscription(
                tenant=tenant,
                account_id=customer.account_id,
                plan=plans["monthly"][customer.tier],
                mrr=mrr,
                currency=tenant.currency,
                start_date=go_live,
                end_date=None,
            )
        ]
    if story in ("annual", "semiannual"):
        months = 12 if story == "annual" else 6
        bounds = [go_live]
        while bounds[-1] <= today:
            bounds.append(add_months(go_live, months * len(bounds)))
        return _chain(tenant, customer, bounds, plan=plans[story][customer.tier], mrr=mrr, rng=rng)
    if story in DUE_OFFSETS:
        low, high = DUE_OFFSETS[story]
        end = today + DAY * rng.randint(low, high)
        months = 12 if rng.random() < 0.7 else 6
        bounds = _boundaries(go_live, end, months)
        rhythm = "annual" if months == 12 else "semiannual"
        return _chain(tenant, customer, bounds, plan=plans[rhythm][customer.tier], mrr=mrr, rng=rng)
    if story == "churned":
        days = (today - go_live).days
        end = today - DAY * rng.randint(40, max(40, min(300, days - 45)))
        bounds = _boundaries(go_live, end, 6 if days < 400 else 12)
        terms = _chain(tenant, customer, bounds, plan=plans["annual"][customer.tier], mrr=mrr, rng=rng)
        terms[-1].churn_reason = rng.choice(CHURN_REASONS[lang])
        return terms
    if story == "comeback":
        return _comeback(tenant, customer, go_live, today, lang, mrr, rng)
    raise ValueError(story)


def _comeback(
    tenant: Any,
    customer: Customer,
    go_live: datetime.date,
    today: datetime.date,
    lang: str,
    mrr: Decimal,
    rng: random.Random,
) -> list[Subscription]:
    plans = PLANS[lang]
    months = 6 if (today - go_live).days >= 260 else 3
    first_end = add_months(go_live, months)
    earliest = first_end + DAY * (30 + 15)  # after the default grace period: a real churn first
    latest = today - DAY * 5
    recent = today - DAY * rng.randint(20, 70)
    back = (
        recent
        if earliest <= recent <= latest
        else earliest + DAY * rng.randint(0, max(0, (latest - earliest).days))
    )
    back = min(back, latest)
    first = Subscription(
        tenant=tenant,
        account_id=customer.account_id,
        plan=plans["semiannual"][customer.tier],
        mrr=mrr,
        currency=tenant.currency,
        start_date=go_live,
        end_date=first_end,
        churn_reason=rng.choice(CHURN_REASONS[lang]),
    )
    again = Subscription(
        tenant=tenant,
        account_id=customer.account_id,
        plan=plans["monthly"][customer.tier],
        mrr=(mrr * Decimal("0.8")).quantize(Decimal(1), ROUND_HALF_UP),
        currency=tenant.currency,
        start_date=back,
        end_date=None,
    )
    # The come-back is a new contract, not a renewal of the old one.
    customer.new_contracts.add(1)
    return [first, again]


def seed(*, tenant: Any, today: datetime.date, lang: str, rng: random.Random) -> Seeded:
    """Subscriptions for the tenant's customers by story; returns the customers with their terms."""
    customers = customers_of(tenant)
    _assign_stories(customers, today, rng)
    for customer in customers:
        customer.terms = _terms_of(tenant, customer, today, lang, rng)
    _insert(tenant, customers)
    return Seeded(customers=customers, today=today)


def _insert(tenant: Any, customers: Iterable[Customer]) -> None:
    """bulk_create one generation at a time: a term's renews_from is the saved term before it in its chain."""
    number = 0
    generation = 0
    while True:
        batch = []
        for customer in customers:
            if generation >= len(customer.terms):
                continue
            term = customer.terms[generation]
            if generation and generation not in customer.new_contracts:
                term.renews_from = customer.terms[generation - 1]
            batch.append(term)
        if not batch:
            return
        for term in batch:
            number += 1
            term.external_id = f"DEMO-S{number:05d}"
        Subscription.objects.bulk_create(batch, batch_size=500)
        generation += 1


def demo_subscriptions(tenant: Any) -> Q:
    return Q(tenant=tenant, external_id__startswith="DEMO-S")
