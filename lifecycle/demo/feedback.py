"""Demo feedback and customer-success touches.

NPS about every quarter and some CSAT answers over the last twelve months from each subscribed customer while it
was one, with a tenant-wide upward trend (detractors a year ago, more promoters now); about one answer in eight
came through a survey link (channel survey, its link's nonce). A few accounts are made at risk on purpose (their
latest NPS fell to a detractor score and CS left tasks overdue), a few others have fresh check-ins, so the at-risk
list shows reasons and the health scores spread."""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.db.models import Max
from django.utils import timezone

from accounts.models import Activity, ActivityKind, Contact
from lifecycle.demo.subscriptions import Customer, Seeded
from lifecycle.demo.words import CHECK_INS, COMMENTS, OVERDUE_TASKS
from lifecycle.models import Feedback, FeedbackChannel, FeedbackKind

DAY = datetime.timedelta(days=1)
AT_RISK_ACCOUNTS = 8
HEALTHY_ACCOUNTS = 15
CHANNELS = [FeedbackChannel.CALL] * 3 + [FeedbackChannel.EMAIL] * 3 + [FeedbackChannel.MEETING]


def _local(tenant: Any, day: datetime.date, rng: random.Random) -> datetime.datetime:
    at = datetime.datetime.combine(day, datetime.time(rng.randint(9, 17), rng.choice((0, 10, 25, 40))))
    return timezone.make_aware(at, tenant.tzinfo)


def _band(kind: str, score: int) -> str:
    if kind == FeedbackKind.NPS:
        return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
    return "promoter" if score == 5 else "passive" if score >= 3 else "detractor"


def _customer_window(customer: Customer, today: datetime.date) -> tuple[datetime.date, datetime.date] | None:
    """The days the account was a subscriber within the last year (the first contract to the last end)."""
    if not customer.terms:
        return None
    first = max(customer.terms[0].start_date + DAY * 20, today - DAY * 360)
    ends = [t.end_date for t in customer.terms]
    last = today if None in ends else min(today, max(e for e in ends if e is not None))
    if first >= last:
        return None
    return first, last


def seed(*, tenant: Any, seeded: Seeded, members: dict, lang: str, rng: random.Random) -> list[int]:
    """Feedback rows and the at-risk / healthy touches; returns the accounts made at risk."""
    today = seeded.today
    contacts: dict[int, list[int]] = {}
    ids = [c.account_id for c in seeded.customers]
    for pk, account_id in (
        Contact.objects.filter(tenant=tenant, deleted_at=None, account_id__in=ids)
        .order_by("pk")
        .values_list("pk", "account_id")
    ):
        contacts.setdefault(account_id, []).append(pk)
    at_risk = _pick_at_risk(tenant, seeded, rng)
    rows: list[Feedback] = []
    for customer in seeded.customers:
        window = _customer_window(customer, today)
        if window is None:
            continue
        rows.extend(
            _answers(
                tenant,
                customer,
                window,
                contacts.get(customer.account_id, []),
                lang=lang,
                falls=customer.account_id in at_risk,
                rng=rng,
            )
        )
    # A few survey answers whatever the draw.
    missing = max(0, 3 - sum(row.channel == FeedbackChannel.SURVEY for row in rows))
    for row in rows[::7][:missing]:
        row.channel = FeedbackChannel.SURVEY
    for row in rows:
        if row.channel == FeedbackChannel.SURVEY:
            row.survey_nonce = f"{rng.getrandbits(72):018x}"
        else:
            row.created_by = members["cs"].user if "cs" in members else None
    Feedback.objects.bulk_create(rows, batch_size=1000)
    _touches(tenant, seeded, members, at_risk, lang, rng)
    return sorted(at_risk)


def _answers(
    tenant: Any,
    customer: Customer,
    window: tuple[datetime.date, datetime.date],
    contacts: list[int],
    *,
    lang: str,
    falls: bool,
    rng: random.Random,
) -> list[Feedback]:
    first, last = window
    span = (last - first).days
    base = rng.uniform(5.5, 9.5)
    answers: list[tuple[str, datetime.date, int]] = []
    day = first + DAY * rng.randint(0, min(30, span))
    while day <= last:
        # The tenant's trend: a year ago answers ran about 1.5 points lower than now.
        age = (last - day).days
        drift = -1.5 * min(age, 360) / 360 + 0.3
        score = round(base + drift + rng.gauss(0, 1.1))
        answers.append((FeedbackKind.NPS, day, max(0, min(10, score))))
        if rng.random() < 0.35:
            csat_day = day + DAY * rng.randint(5, 40)
            if csat_day <= last:
                csat = round(1 + (base + drift) / 10 * 4 + rng.gauss(0, 0.6))
                answers.append((FeedbackKind.CSAT, csat_day, max(1, min(5, csat))))
        day += DAY * rng.randint(75, 110)
    if falls:
        # At risk on purpose: a good answer a few months ago, a detractor score lately.
        recent = max(first, last - DAY * rng.randint(5, 25))
        answers = [a for a in answers if a[1] < recent - DAY * 30]
        answers.append((FeedbackKind.NPS, max(first, recent - DAY * rng.randint(60, 100)), rng.randint(7, 9)))
        answers.append((FeedbackKind.NPS, recent, rng.randint(2, 5)))
    rows = []
    for kind, on, score in answers:
        comment = ""
        if rng.random() < 0.45 or falls:
            comment = rng.choice(COMMENTS[lang][_band(kind, score)])
        channel = FeedbackChannel.SURVEY if rng.random() < 0.12 else rng.choice(CHANNELS)
        rows.append(
            Feedback(
                tenant=tenant,
                account_id=customer.account_id,
                contact_id=rng.choice(contacts) if contacts else None,
                kind=kind,
                score=score,
                comment=comment,
                channel=channel,
                received_at=_local(tenant, on, rng),
            )
        )
    return rows


def _pick_at_risk(tenant: Any, seeded: Seeded, rng: random.Random) -> set[int]:
    """Current subscribers whose last touch is the oldest (no touch at all first): their health is already weak."""
    current = [
        c
        for c in seeded.customers
        if c.terms
        and c.story not in ("churned", "comeback")
        and any(t.end_date is None or t.end_date > seeded.today for t in c.terms)
    ]
    last_touch = dict(
        Activity.objects.filter(
            tenant=tenant, deleted_at=None, done=True, account_id__in=[c.account_id for c in current]
        )
        .values("account_id")
        .annotate(last=Max("occurred_at"))
        .values_list("account_id", "last")
    )
    never = timezone.now() - datetime.timedelta(days=10_000)
    current.sort(key=lambda c: (last_touch.get(c.account_id) or never, c.account_id))
    return {c.account_id for c in current[:AT_RISK_ACCOUNTS]}


def _touches(
    tenant: Any, seeded: Seeded, members: dict, at_risk: set[int], lang: str, rng: random.Random
) -> None:
    """Overdue CS tasks on the at-risk accounts, recent check-in calls on some healthy ones."""
    cs = members["cs"].user if "cs" in members else None
    now = timezone.now()
    rows = []
    for account_id in sorted(at_risk):
        for _n in range(rng.randint(1, 2)):
            due = now - DAY * rng.randint(3, 20)
            rows.append(
                Activity(
                    tenant=tenant,
                    kind=ActivityKind.TASK,
                    subject=rng.choice(OVERDUE_TASKS[lang]),
                    owner=cs,
                    account_id=account_id,
                    due_at=due,
                    done=False,
                    created_at=due - DAY * rng.randint(5, 15),
                )
            )
    healthy = [
        c.account_id
        for c in seeded.customers
        if c.account_id not in at_risk
        and c.terms
        and any(t.end_date is None or t.end_date > seeded.today for t in c.terms)
    ]
    for account_id in rng.sample(healthy, k=min(HEALTHY_ACCOUNTS, len(healthy))):
        for _n in range(rng.randint(2, 4)):
            at = now - DAY * rng.randint(1, 40) - datetime.timedelta(hours=rng.randint(0, 6))
            rows.append(
                Activity(
                    tenant=tenant,
                    kind=rng.choice([ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL]),
                    subject=rng.choice(CHECK_INS[lang]),
                    owner=cs,
                    account_id=account_id,
                    occurred_at=at,
                    done=True,
                    created_at=at,
                )
            )
    Activity.objects.bulk_create(rows, batch_size=1000)
