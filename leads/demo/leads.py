"""Demo data of the leads area: a few thousand leads over 13+ months in every status with consistent status
timestamps, owners rep / rep2 / manager and a public pool (with returns and claims over the last weeks), sources
of both kinds and campaigns, converted leads (~9% of the leads, each with its source or campaign, inbound ones
more often) linked to the demo accounts and deals, won and lost, so lead_to_win_rate and the won figures per
source and campaign have data,
~20 showcase conversions through the real service, activities on leads, and a few duplicates to merge.

Runs after the accounts/deals demo and leads/demo/setup.py (sources, campaigns, territories, scoring rules).
Fast: bulk inserts and set-based updates; the showcase conversions go through leads.services.conversion.lead_convert.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import ngettext

from accounts.demo.activities import seed_lead_activities
from accounts.models import Contact, Opportunity, OpportunityType
from accounts.services.activities import activity_notes_create_for_leads_dated
from accounts.services.opportunities import opportunities_link_leads
from leads.demo.lead_words import (
    EN,
    SIZE_WEIGHTS,
    ZH,
    demo_company,
    demo_email,
    demo_lang,
    demo_person,
    weighted_choice,
)
from leads.models import Campaign, Lead, LeadPoolEvent, LeadSettings, LeadSource, LeadStatus, PoolEventKind
from leads.services.conversion import lead_convert
from leads.services.leads import lead_set_derived
from leads.services.scoring import leads_rescore_all

LEADS_PER_TENANT = 1900


SHOWCASE_CONVERSIONS = 20


LINKED_SHARE = 0.95  # share of the demo's new-business deals that originated from a lead


HOUR = datetime.timedelta(hours=1)


DAY = datetime.timedelta(days=1)


def _walk(
    lead: Lead, final: str, now: datetime.datetime, rng: random.Random, *, skip_mql: bool = False
) -> None:
    """Stamp the status timestamps from created_at towards `final` (strictly increasing); a step that would land
    in the future stops the walk there (the lead stays at the last status reached)."""
    steps: dict[str, tuple[float, int]] = {
        LeadStatus.WORKING: (0.05, 3),
        LeadStatus.MQL: (1, 18),
        LeadStatus.SQL: (2, 25),
        LeadStatus.CONVERTED: (3, 35),
    }
    order: list[str] = [LeadStatus.WORKING, LeadStatus.MQL, LeadStatus.SQL, LeadStatus.CONVERTED]
    target = (
        final
        if final != LeadStatus.DISQUALIFIED
        else rng.choice([LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.MQL])
    )
    at = lead.created_at
    lead.status = LeadStatus.NEW
    if target != LeadStatus.NEW:
        for status in order[: order.index(target) + 1]:
            if skip_mql and status in (LeadStatus.MQL, LeadStatus.SQL):
                continue
            low, high = steps[status]
            nxt = at + datetime.timedelta(days=rng.uniform(low, high))
            if nxt >= now - HOUR:
                break
            setattr(lead, f"{status}_at", nxt)
            lead.status = status
            at = nxt
    if final == LeadStatus.DISQUALIFIED:
        nxt = at + datetime.timedelta(days=rng.uniform(0.5, 20))
        if nxt < now - HOUR:
            lead.disqualified_at = nxt
            lead.status = LeadStatus.DISQUALIFIED


def seed(*, tenant, members: dict, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    lang = demo_lang(tenant)
    words = ZH if lang == "zh" else EN
    now = timezone.now()
    sellers = [members[k].user for k in ("rep", "rep2", "manager") if k in members]
    seller_weights = [5, 4, 2][: len(sellers)]
    sources = list(LeadSource.objects.filter(tenant=tenant))
    campaigns = list(Campaign.objects.filter(tenant=tenant).select_related("source"))
    LeadSettings.objects.get_or_create(tenant=tenant, defaults={"pool_window_days": 30, "pool_claim_cap": 20})

    leads: list[Lead] = []
    for number in range(LEADS_PER_TENANT):
        # More recent months have more leads; a few are from today.
        age = min(rng.expovariate(1 / 150), 420) if number >= 40 else rng.uniform(0, 2)
        lead = _new_lead(
            tenant,
            words,
            lang,
            rng,
            number,
            created=now - datetime.timedelta(days=age, hours=rng.uniform(0, 8)),
        )
        _attribute(lead, sources, campaigns, rng)
        final = _final_status(age, rng)
        _walk(lead, final, now, rng, skip_mql=final == LeadStatus.CONVERTED and rng.random() < 0.15)
        if lead.status == LeadStatus.DISQUALIFIED:
            lead.disqualify_reason = rng.choice(words["reasons"])
        lead.owner = weighted_choice(rng, list(zip(sellers, seller_weights, strict=False)))
        leads.append(lead)
    # Converted leads in bulk mirror the demo's deals (below); "converted" from the walk stays at sql here.
    # A walk that skipped mql and sql stays at working: a lead's status always has its timestamp.
    for lead in leads:
        if lead.status == LeadStatus.CONVERTED:
            lead.status = LeadStatus.SQL if lead.sql_at else LeadStatus.WORKING
            lead.converted_at = None

    linked = _leads_for_demo_deals(tenant, words, lang, rng, now, len(leads), sources, campaigns)
    leads += linked
    leads += _duplicates(leads, words, lang, rng, now)
    for lead in leads:
        lead_set_derived(lead)
        lead.assigned_at = lead.created_at if lead.owner_id else None
    Lead.objects.bulk_create(leads, batch_size=1000)
    _link_deals(tenant, linked)

    _seed_activities(tenant, members, rng, leads, now)
    _pool(tenant, leads, members, rng, now)
    _showcase(tenant, members, rng, now)
    leads_rescore_all(tenant=tenant)


def _new_lead(
    tenant: Any, words: dict, lang: str, rng: random.Random, number: int, *, created: datetime.datetime
) -> Lead:
    first, last = demo_person(words, lang, rng)
    company = demo_company(words, lang, rng) if rng.random() < 0.95 else ""
    return Lead(
        tenant=tenant,
        external_id=f"demo-lead-{number}",
        first_name=first,
        last_name=last,
        email=demo_email(first, last, company, number, lang, words, rng) if rng.random() < 0.9 else "",
        phone=words["phone"](rng) if rng.random() < 0.8 else "",
        company=company,
        title=rng.choice(words["titles"]),
        region=rng.choice(words["regions"]),
        industry=rng.choice(words["industries"]),
        size_band=weighted_choice(rng, SIZE_WEIGHTS),
        created_at=created,
    )


def _attribute(lead: Lead, sources: list, campaigns: list, rng: random.Random) -> None:
    """Half of the leads come through a campaign running when they were created (its source), others straight
    from a source."""
    created_day = lead.created_at.date()
    running = [
        c for c in campaigns if c.start_date <= created_day <= c.end_date + datetime.timedelta(days=14)
    ]
    if running and rng.random() < 0.55:
        campaign = rng.choice(running)
        lead.campaign = campaign
        lead.source = campaign.source
    elif sources:
        lead.source = rng.choice(sources)


def _attribute_converted(lead: Lead, sources: list, campaigns: list, rng: random.Random) -> None:
    """A lead that became a deal: through a campaign running when it was created (40%), else straight from a
    source; inbound sources and campaigns bring buyers more often than incentive ones (quality vs quantity)."""
    weight = {"inbound": 3, "incentive": 1}
    created_day = lead.created_at.date()
    running = [
        c for c in campaigns if c.start_date <= created_day <= c.end_date + datetime.timedelta(days=14)
    ]
    if running and rng.random() < 0.4:
        campaign = weighted_choice(rng, [(c, weight.get(c.source_kind, 1)) for c in running])
        lead.campaign = campaign
        lead.source = campaign.source
    elif sources:
        lead.source = weighted_choice(rng, [(s, weight.get(s.kind, 1)) for s in sources])


def _final_status(age_days: float, rng: random.Random) -> str:
    if age_days < 2:
        return weighted_choice(rng, [(LeadStatus.NEW, 6), (LeadStatus.WORKING, 3), (LeadStatus.MQL, 1)])
    if age_days < 45:
        return weighted_choice(
            rng,
            [
                (LeadStatus.NEW, 10),
                (LeadStatus.WORKING, 30),
                (LeadStatus.MQL, 20),
                (LeadStatus.SQL, 12),
                (LeadStatus.DISQUALIFIED, 20),
                (LeadStatus.CONVERTED, 8),
            ],
        )
    return weighted_choice(
        rng,
        [
            (LeadStatus.NEW, 3),
            (LeadStatus.WORKING, 10),
            (LeadStatus.MQL, 10),
            (LeadStatus.SQL, 5),
            (LeadStatus.DISQUALIFIED, 60),
            (LeadStatus.CONVERTED, 12),
        ],
    )


def _leads_for_demo_deals(
    tenant: Any,
    words: dict,
    lang: str,
    rng: random.Random,
    now: datetime.datetime,
    start_no: int,
    sources: list,
    campaigns: list,
) -> list[Lead]:
    """Converted leads behind most of the demo's new-business deals: the lead converted just before the deal was
    created, into the deal's account and one of its contacts, owned by the deal's owner."""
    deals = list(
        Opportunity.objects.filter(
            tenant=tenant, type=OpportunityType.NEW_BUSINESS, lead__isnull=True, deleted_at=None
        )
        .select_related("account")
        .order_by("created_at", "pk")
    )
    contacts: dict[int, Any] = {}
    for contact in Contact.objects.filter(
        tenant=tenant, account_id__in={d.account_id for d in deals}, deleted_at=None
    ).order_by("pk"):
        contacts.setdefault(contact.account_id, contact)
    linked = []
    for offset, deal in enumerate(d for d in deals if rng.random() < LINKED_SHARE):
        converted_at = deal.created_at - datetime.timedelta(minutes=rng.randint(5, 180))
        span = rng.uniform(12, 80)
        lead = _new_lead(
            tenant, words, lang, rng, start_no + offset, created=converted_at - datetime.timedelta(days=span)
        )
        contact = contacts.get(deal.account_id)
        if contact is not None:
            lead.first_name, lead.last_name = contact.first_name, contact.last_name
            lead.email, lead.phone = contact.email or lead.email, contact.phone or lead.phone
            lead.converted_contact = contact
        lead.company = deal.account.name
        _attribute_converted(lead, sources, campaigns, rng)
        lead.owner_id = deal.owner_id
        lead.converted_account = deal.account
        lead.converted_opportunity = deal
        lead.status = LeadStatus.CONVERTED
        lead.working_at = lead.created_at + datetime.timedelta(days=rng.uniform(0.05, 2))
        if rng.random() < 0.85:
            lead.mql_at = lead.working_at + (converted_at - lead.working_at) * rng.uniform(0.15, 0.4)
            lead.sql_at = lead.mql_at + (converted_at - lead.mql_at) * rng.uniform(0.3, 0.8)
        lead.converted_at = converted_at
        lead._deal_id = deal.pk  # type: ignore[attr-defined]
        linked.append(lead)
    return linked


def _link_deals(tenant: Any, linked: list[Lead]) -> None:
    """Point the deals back at their lead (Opportunity.lead: lead_to_win_rate) and give them its source and
    campaign, in batched bulk updates."""
    opportunities_link_leads(
        tenant=tenant,
        links=[(lead._deal_id, lead.pk) for lead in linked],  # type: ignore[attr-defined]
    )


def _duplicates(
    leads: list[Lead], words: dict, lang: str, rng: random.Random, now: datetime.datetime
) -> list[Lead]:
    """A handful of recent near-duplicates (same email in other case, same phone, same company with another legal
    form) so the lead page shows possible duplicates to merge."""
    candidates = [
        lead
        for lead in leads
        if lead.email and lead.phone and lead.company and lead.status != LeadStatus.CONVERTED
    ]
    copies = []
    for number, original in enumerate(rng.sample(candidates, min(8, len(candidates)))):
        created = now - datetime.timedelta(days=rng.uniform(0.2, 6))
        copy = Lead(
            tenant=original.tenant,
            external_id=f"demo-dup-{number}",
            first_name=original.first_name,
            last_name=original.last_name,
            email=original.email.upper() if number % 3 == 0 else (original.email if number % 3 == 1 else ""),
            phone=original.phone if number % 3 != 0 else "",
            company=original.company.replace("有限公司", "").replace("GmbH", "").strip()
            if number % 2
            else original.company,
            title=original.title,
            region=original.region,
            industry=original.industry,
            size_band=original.size_band,
            source=original.source,
            campaign=original.campaign,
            owner=original.owner,
            created_at=created,
            status=LeadStatus.NEW,
        )
        copies.append(copy)
    return copies


def _seed_activities(
    tenant: Any, members: dict, rng: random.Random, leads: list[Lead], now: datetime.datetime
) -> None:
    """Activities on worked leads (seeded by the accounts demo), then last_activity_at from them."""
    latest = seed_lead_activities(tenant=tenant, members=members, rng=rng, leads=leads)
    changed = []
    for lead in leads:
        if lead.pk in latest:
            lead.last_activity_at = latest[lead.pk]
            changed.append(lead)
    Lead.objects.bulk_update(changed, ["last_activity_at"], batch_size=1000)


def _pool(tenant: Any, leads: list[Lead], members: dict, rng: random.Random, now: datetime.datetime) -> None:
    """Apply the pool rule to the seeded history: an open lead idle for more than the window went back to the
    pool when its window ran out (returns spread over past weeks, each with its timeline note); some were
    claimed again by reps. Leads still owned and idle are recently reassigned, so the first daily run does not
    sweep half the demo into the pool at once."""
    window = datetime.timedelta(days=30)
    reps = [members[k].user for k in ("rep", "rep2") if k in members]
    events, notes, pooled, reassigned, claimed = [], [], [], [], []
    with translation.override(tenant.default_locale or "en"):
        for lead in leads:
            if (
                lead.status not in (LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.MQL, LeadStatus.SQL)
                or not lead.owner_id
            ):
                continue
            clock = max(filter(None, [lead.last_activity_at, lead.assigned_at, lead.created_at]))
            if clock + window >= now:
                continue
            returned_at = clock + window + datetime.timedelta(hours=rng.uniform(1, 20))
            if rng.random() < 0.25 and returned_at < now - 3 * DAY:
                reassigned.append(lead)  # a manager handed it on recently instead
                lead.assigned_at = now - datetime.timedelta(days=rng.uniform(1, 20))
                continue
            days = (returned_at - clock).days
            events.append(
                LeadPoolEvent(
                    tenant=tenant,
                    lead=lead,
                    kind=PoolEventKind.RETURNED,
                    user_id=lead.owner_id,
                    at=returned_at,
                    idle_days=days,
                )
            )
            subject = ngettext(
                "Returned to pool after %(days)d day without activity",
                "Returned to pool after %(days)d days without activity",
                days,
            ) % {"days": days}
            notes.append((lead.pk, subject, returned_at))
            lead.owner, lead.pooled_at, lead.assigned_at = None, returned_at, None
            pooled.append(lead)
    # Reps claimed some pooled leads back in the last weeks (kept under the cap, worked since).
    recent = [
        (lead, lead.pooled_at)
        for lead in pooled
        if lead.pooled_at is not None and lead.pooled_at > now - datetime.timedelta(days=50)
    ]
    for lead, pooled_at in rng.sample(recent, min(len(recent) // 3, 12 * len(reps))):
        rep = rng.choice(reps)
        at = pooled_at + datetime.timedelta(days=rng.uniform(0.5, 10))
        if at >= now - HOUR:
            continue
        lead.owner, lead.claimed_at, lead.assigned_at, lead.pooled_at = rep, at, at, None
        lead.last_activity_at = max(filter(None, [lead.last_activity_at, at]))
        events.append(LeadPoolEvent(tenant=tenant, lead=lead, kind=PoolEventKind.CLAIMED, user=rep, at=at))
        claimed.append(lead)
    Lead.objects.bulk_update(
        pooled + reassigned,
        ["owner", "pooled_at", "assigned_at", "claimed_at", "last_activity_at"],
        batch_size=1000,
    )
    LeadPoolEvent.objects.bulk_create(events, batch_size=2000)
    activity_notes_create_for_leads_dated(tenant=tenant, notes=notes)


def _showcase(tenant: Any, members: dict, rng: random.Random, now: datetime.datetime) -> None:
    """About twenty recent sql leads converted through the real service: new account, contact and deal."""
    candidates = list(
        Lead.objects.filter(
            tenant=tenant,
            status=LeadStatus.SQL,
            owner__isnull=False,
            deleted_at=None,
            company__gt="",
            created_at__gte=now - datetime.timedelta(days=120),
        )
        .exclude(external_id__startswith="demo-dup-")
        .select_related("owner")
        .order_by("-created_at")[: SHOWCASE_CONVERSIONS * 2]
    )
    amounts = [Decimal(v) for v in (48000, 96000, 150000, 220000, 360000)]
    if tenant.currency != "CNY":
        amounts = [(a / 7).quantize(Decimal("100")) for a in amounts]
    for lead in rng.sample(candidates, min(SHOWCASE_CONVERSIONS, len(candidates))):
        reached = max(
            t for t in (lead.created_at, lead.working_at, lead.mql_at, lead.sql_at) if t is not None
        )
        at = max(min(now - HOUR, reached + datetime.timedelta(days=rng.uniform(1, 10))), reached)
        lead_convert(
            tenant=tenant,
            actor=lead.owner,
            lead=lead,
            create_deal=rng.random() < 0.9,
            deal_amount=rng.choice(amounts),
            deal_close_date=(now + datetime.timedelta(days=rng.randint(20, 120))).date(),
            at=at,
        )
