"""Demo activities: thousands of calls, emails, meetings and notes, and open tasks, in working hours of the
tenant's zone. Deterministic for a given `rng`.

Leads are seeded later by the leads app, which calls seed_lead_activities(tenant=, members=, rng=, leads=) for
theirs."""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.utils import timezone

from accounts.demo.words import BODIES, SUBJECTS, _lang
from accounts.models import Account, Activity, ActivityKind, Contact, Opportunity

DAY = datetime.timedelta(days=1)


def _local_working_time(tenant: Any, day: datetime.date, rng: random.Random) -> datetime.datetime:
    local = datetime.datetime.combine(day, datetime.time(rng.randint(9, 17), rng.choice((0, 15, 30, 45))))
    return timezone.make_aware(local, tenant.tzinfo)


def _weekday_between(start: datetime.datetime, end: datetime.datetime, rng: random.Random) -> datetime.date:
    span = max((end - start).days, 0)
    day = (start + datetime.timedelta(days=rng.randint(0, span))).date()
    while day.weekday() >= 5:
        day -= DAY
    return day


def _activity(
    tenant: Any,
    *,
    kind: str,
    lang: str,
    rng: random.Random,
    owner: Any,
    at: datetime.datetime | None = None,
    due: datetime.datetime | None = None,
    done: bool = True,
    **links: Any,
) -> Activity:
    return Activity(
        tenant=tenant,
        kind=kind,
        subject=rng.choice(SUBJECTS[lang][kind]),
        body=rng.choice(BODIES[lang]),
        owner=owner,
        occurred_at=at if done else None,
        due_at=due,
        done=done,
        created_at=at or (due - datetime.timedelta(days=rng.randint(1, 10)) if due else timezone.now()),
        **links,
    )


DONE_KINDS = (
    [ActivityKind.CALL] * 5 + [ActivityKind.EMAIL] * 5 + [ActivityKind.MEETING] * 2 + [ActivityKind.NOTE] * 2
)


def seed_activities(*, tenant: Any, members: dict, rng: random.Random) -> None:
    """Thousands of done calls/emails/meetings/notes over the last 12+ months on accounts, contacts and deals,
    plus open tasks (overdue, today, upcoming) for every seller and cs."""
    lang = _lang(tenant)
    now = timezone.now()
    year_ago = now - datetime.timedelta(days=400)
    accounts = list(
        Account.objects.filter(tenant=tenant, deleted_at=None).only("pk", "owner_id", "created_at")
    )
    contacts_by_account: dict[int, list[int]] = {}
    for pk, account_id in Contact.objects.filter(tenant=tenant, deleted_at=None).values_list(
        "pk", "account_id"
    ):
        contacts_by_account.setdefault(account_id, []).append(pk)
    deals = list(
        Opportunity.objects.filter(tenant=tenant, deleted_at=None).only(
            "pk", "account_id", "owner_id", "created_at", "closed_at"
        )
    )
    sellers = [members[k].user for k in ("rep", "rep2", "manager") if k in members]
    users = {u.pk: u for u in sellers + [m.user for m in members.values()]}
    rows: list[Activity] = []

    def owner_for(owner_id: int | None) -> Any:
        return users.get(owner_id) or rng.choice(sellers)

    for account in accounts:
        start = max(account.created_at, year_ago)
        contact_ids = contacts_by_account.get(account.pk, [])
        for _ in range(rng.randint(4, 12)):
            at = _local_working_time(tenant, _weekday_between(start, now - DAY, rng), rng)
            rows.append(
                _activity(
                    tenant,
                    kind=rng.choice(DONE_KINDS),
                    lang=lang,
                    rng=rng,
                    owner=owner_for(account.owner_id),
                    at=at,
                    account_id=account.pk,
                    contact_id=rng.choice(contact_ids) if contact_ids and rng.random() < 0.7 else None,
                )
            )
    for deal in deals:
        end = deal.closed_at or now - DAY
        contact_ids = contacts_by_account.get(deal.account_id, [])
        for _ in range(rng.randint(2, 6)):
            at = _local_working_time(
                tenant, _weekday_between(deal.created_at, max(end, deal.created_at), rng), rng
            )
            at = min(at, now - datetime.timedelta(hours=1))
            rows.append(
                _activity(
                    tenant,
                    kind=rng.choice(DONE_KINDS),
                    lang=lang,
                    rng=rng,
                    owner=owner_for(deal.owner_id),
                    at=at,
                    account_id=deal.account_id,
                    opportunity_id=deal.pk,
                    contact_id=rng.choice(contact_ids) if contact_ids and rng.random() < 0.6 else None,
                )
            )
    rows += _open_tasks(tenant=tenant, members=members, rng=rng, lang=lang, accounts=accounts, deals=deals)
    Activity.objects.bulk_create(rows, batch_size=2000)


def _open_tasks(
    *, tenant: Any, members: dict, rng: random.Random, lang: str, accounts: list, deals: list
) -> list[Activity]:
    today = timezone.localtime(timezone.now(), tenant.tzinfo).date()
    tasks = []
    for key in ("rep", "rep2", "manager", "cs", "admin"):
        if key not in members:
            continue
        user = members[key].user
        own_accounts = [a.pk for a in accounts if a.owner_id == user.pk] or [a.pk for a in accounts[:20]]
        own_deals = [d for d in deals if d.owner_id == user.pk and d.closed_at is None]
        plan = [(-rng.randint(1, 10), 4), (0, 3), (rng.randint(1, 25), 6)]
        for offset_base, count in plan:
            for _ in range(count):
                offset = (
                    offset_base
                    if offset_base == 0
                    else (-rng.randint(1, 12) if offset_base < 0 else rng.randint(1, 25))
                )
                due = _local_working_time(tenant, today + datetime.timedelta(days=offset), rng)
                links: dict[str, Any] = {"account_id": rng.choice(own_accounts)}
                if own_deals and rng.random() < 0.5:
                    deal = rng.choice(own_deals)
                    links = {"account_id": deal.account_id, "opportunity_id": deal.pk}
                tasks.append(
                    _activity(
                        tenant,
                        kind=ActivityKind.TASK,
                        lang=lang,
                        rng=rng,
                        owner=user,
                        due=due,
                        done=False,
                        **links,
                    )
                )
    return tasks


def seed_lead_activities(
    *, tenant: Any, members: dict, rng: random.Random, leads: list
) -> dict[int, datetime.datetime]:
    """Activities on the given leads (for the leads app's demo, which runs after the accounts one): 1-5 done
    calls/emails/meetings/notes between each worked lead's creation and its conversion (or now), and an open
    task on some leads still being worked. New leads get nothing. Bulk-inserted.

    Returns {lead id: latest occurred_at} so the caller can set Lead.last_activity_at in one pass."""
    lang = _lang(tenant)
    now = timezone.now()
    sellers = [members[k].user for k in ("rep", "rep2", "manager") if k in members] or [members["admin"].user]
    users = {m.user.pk: m.user for m in members.values()}
    today = timezone.localtime(now, tenant.tzinfo).date()
    rows: list[Activity] = []
    latest: dict[int, datetime.datetime] = {}
    for lead in leads:
        if getattr(lead, "status", "") == "new":
            continue
        owner = users.get(lead.owner_id) or rng.choice(sellers)
        end = lead.converted_at or lead.disqualified_at or now - datetime.timedelta(hours=1)
        start = min(lead.created_at, end)
        for _ in range(rng.randint(1, 5)):
            at = _local_working_time(tenant, _weekday_between(start, end, rng), rng)
            at = min(max(at, start), end)
            rows.append(
                _activity(
                    tenant,
                    kind=rng.choice(DONE_KINDS),
                    lang=lang,
                    rng=rng,
                    owner=owner,
                    at=at,
                    lead_id=lead.pk,
                )
            )
            latest[lead.pk] = max(latest.get(lead.pk, at), at)
        if lead.status in ("working", "mql", "sql") and lead.owner_id and rng.random() < 0.3:
            due = _local_working_time(tenant, today + datetime.timedelta(days=rng.randint(-3, 10)), rng)
            rows.append(
                _activity(
                    tenant,
                    kind=ActivityKind.TASK,
                    lang=lang,
                    rng=rng,
                    owner=owner,
                    due=due,
                    done=False,
                    lead_id=lead.pk,
                )
            )
    Activity.objects.bulk_create(rows, batch_size=2000)
    return latest
