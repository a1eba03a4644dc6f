"""Demo deals: a second pipeline (Renewals), a few hundred deals per tenant over the last 14 months in every
stage, all three types, some in USD, with stage histories that move forward over days and weeks; won and lost
deals carry closed_at (and lost reasons), open ones expected close dates across the next two quarters. Volume
goes in with bulk_create; a few showcase deals go through the services so their pages show a real change
history. Deterministic for a given `rng`. Runs after the accounts seed (accounts, rates exist)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.demo.words import _lang
from accounts.models import (
    Account,
    Contact,
    ForecastCategory,
    Opportunity,
    OpportunityContact,
    OpportunityType,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
    Tier,
)
from accounts.services import opportunities as opportunities_services
from accounts.services import opportunity_contacts as opportunity_contacts_services
from accounts.services import pipelines as pipelines_services
from accounts.services.rates import reporting_converter
from crm.errors import AppError

DEALS_PER_TENANT = 360


RENEWAL_STAGES = [
    {"name": "Renewal due", "probability": "0.60", "kind": StageKind.OPEN},
    {"name": "Renewal quote", "probability": "0.75", "kind": StageKind.OPEN},
    {"name": "Contract sent", "probability": "0.90", "kind": StageKind.OPEN},
    {"name": "Renewed", "probability": "1", "kind": StageKind.WON},
    {"name": "Churned", "probability": "0", "kind": StageKind.LOST},
]


PRODUCTS = {
    "zh": [
        "MES 系统",
        "ERP 升级",
        "数据中台",
        "智能仓储",
        "CRM 实施",
        "质量追溯平台",
        "设备物联网",
        "财务云",
    ],
    "en": [
        "MES rollout",
        "ERP upgrade",
        "Data platform",
        "Smart warehouse",
        "CRM project",
        "QA traceability",
        "IoT monitoring",
        "Finance cloud",
    ],
}


EXPANSIONS = {"zh": ["扩容", "新增模块", "二期"], "en": ["expansion", "add-on modules", "phase 2"]}


LOST_REASONS = {
    "zh": ["价格过高", "选择了竞争对手", "预算冻结", "项目搁置", "功能不满足", "决策人变更"],
    "en": [
        "Price too high",
        "Chose a competitor",
        "Budget frozen",
        "Project on hold",
        "Missing feature",
        "Decision maker left",
    ],
}


CONTACT_ROLES = {
    "zh": ["决策人", "技术评估", "采购", "项目负责人"],
    "en": ["Decision maker", "Technical evaluator", "Procurement", "Project lead"],
}


# Amount ranges in CNY by tier (EUR tenants divide by 8).
AMOUNTS: dict[str, tuple[int, int]] = {
    Tier.KEY: (300_000, 2_500_000),
    Tier.STRATEGIC: (100_000, 800_000),
    Tier.STANDARD: (30_000, 250_000),
    Tier.LONG_TAIL: (8_000, 60_000),
}


def _renewals_pipeline(tenant: Any) -> Pipeline:
    existing = Pipeline.objects.filter(tenant=tenant, name="Renewals").first()
    if existing is not None:
        return existing
    return pipelines_services.pipeline_create(
        tenant=tenant, actor=None, name="Renewals", stages=RENEWAL_STAGES
    )


def _amount(tenant: Any, tier: str, rng: random.Random) -> Decimal:
    low, high = AMOUNTS.get(tier, AMOUNTS[Tier.STANDARD])
    value = rng.uniform(low, high)
    if tenant.currency != "CNY":
        value /= 8
    return Decimal(round(value, -3) or 1000)


def _forward(at: dt.datetime, rng: random.Random, low: int = 3, high: int = 30) -> dt.datetime:
    return at + dt.timedelta(days=rng.randint(low, high), hours=rng.randint(0, 8), minutes=rng.randint(0, 59))


def seed(*, tenant: Any, members: dict, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    """Deals in every stage of both pipelines with stage history, forecast categories and deal contacts."""
    lang = _lang(tenant)
    now = timezone.now()
    today = timezone.localtime(now, tenant.tzinfo).date()
    sellers = [members[k].user for k in ("rep", "rep2", "manager") if k in members]
    seller_ids = {u.pk for u in sellers}
    convert = reporting_converter(tenant=tenant)
    sales = pipelines_services.pipeline_default(tenant=tenant)
    renewals = _renewals_pipeline(tenant)
    stages = {
        p.pk: list(Stage.objects.filter(tenant=tenant, pipeline=p).order_by("order", "id"))
        for p in (sales, renewals)
    }
    accounts = list(
        Account.objects.filter(tenant=tenant, deleted_at=None).only("pk", "name", "owner_id", "tier")
    )
    if not accounts or not sellers:
        return
    foreign = "USD" if tenant.currency != "USD" else "EUR"
    products = PRODUCTS[lang]
    reasons = LOST_REASONS[lang]

    deals: list[Opportunity] = []
    histories: list[list[tuple[Stage | None, Stage, dt.datetime, Decimal]]] = []
    for index in range(DEALS_PER_TENANT):
        account = rng.choice(accounts)
        roll = rng.random()
        deal_type = (
            OpportunityType.NEW_BUSINESS
            if roll < 0.6
            else OpportunityType.EXPANSION
            if roll < 0.8
            else OpportunityType.RENEWAL
        )
        pipeline = renewals if deal_type == OpportunityType.RENEWAL and rng.random() < 0.85 else sales
        all_stages = stages[pipeline.pk]
        open_stages = [s for s in all_stages if s.kind == StageKind.OPEN]
        won = next(s for s in all_stages if s.kind == StageKind.WON)
        lost = next(s for s in all_stages if s.kind == StageKind.LOST)
        # Spread over 14 months; the first few deals of each stage are recent so every column has cards.
        age_days = rng.randint(3, 425)
        created = now - dt.timedelta(days=age_days, hours=rng.randint(0, 10))
        old_enough = age_days > 75
        outcome_roll = rng.random()
        if index < len(open_stages) * 4:
            outcome, target_index = "open", index % len(open_stages)
        elif old_enough and outcome_roll < 0.42:
            outcome, target_index = "won", None
        elif old_enough and outcome_roll < 0.82:
            outcome, target_index = "lost", None
        else:
            outcome, target_index = "open", rng.randrange(len(open_stages))
        if outcome == "open" and age_days < 10 * (target_index or 0) + 3:
            created = now - dt.timedelta(days=10 * (target_index or 0) + rng.randint(3, 40))
        amount = _amount(tenant, account.tier, rng)
        history: list[tuple[Stage | None, Stage, dt.datetime, Decimal]] = []
        at = created
        previous: Stage | None = None
        if outcome == "open":
            path = open_stages[: (target_index or 0) + 1]
        else:
            reached = (
                rng.randint(min(2, len(open_stages)), len(open_stages))
                if outcome == "won"
                else rng.randint(1, len(open_stages))
            )
            path = [*open_stages[:reached], won if outcome == "won" else lost]
        for step, stage in enumerate(path):
            if step > 0:
                step_at = _forward(at, rng, 4, 35 if stage.kind == StageKind.OPEN else 25)
                # never in the future: squeeze late steps between the previous one and now
                at = step_at if step_at < now - dt.timedelta(hours=1) else at + (now - at) / 2
            if step == 1 and rng.random() < 0.3:
                amount = (amount * Decimal(rng.choice(["0.9", "1.1", "1.2"]))).quantize(Decimal("1000"))
            history.append((previous, stage, at, amount))
            previous = stage
        final = path[-1]
        closed_at = at if final.kind != StageKind.OPEN else None
        currency = foreign if rng.random() < 0.15 else tenant.currency
        close_day = timezone.localtime(closed_at, tenant.tzinfo).date() if closed_at else None
        try:
            reporting = convert(amount, currency, close_day)
        except AppError:  # no rate at all: keep the amount as it is (demo only)
            reporting = amount
        if final.kind == StageKind.OPEN:
            expected = today + dt.timedelta(days=rng.randint(-10, 180))
            if final.probability >= Decimal("0.75"):
                forecast = ForecastCategory.COMMIT if rng.random() < 0.65 else ForecastCategory.BEST_CASE
            elif final.probability >= Decimal("0.5"):
                forecast = ForecastCategory.BEST_CASE if rng.random() < 0.5 else ForecastCategory.PIPELINE
            else:
                forecast = ForecastCategory.PIPELINE
        else:
            expected = (close_day or today) + dt.timedelta(
                days=rng.randint(-20, 20)
            )  # closed: close_day is set
            forecast = ForecastCategory.CLOSED if final.kind == StageKind.WON else ForecastCategory.OMITTED
        owner_id = account.owner_id if account.owner_id in seller_ids else rng.choice(sellers).pk
        if deal_type == OpportunityType.RENEWAL:
            name = f"{'续约' if lang == 'zh' else 'Renewal'} {created.year + 1}"
        elif deal_type == OpportunityType.EXPANSION:
            name = f"{rng.choice(products)} {rng.choice(EXPANSIONS[lang])}"
        else:
            name = rng.choice(products)
        deals.append(
            Opportunity(
                tenant=tenant,
                external_id=f"DEMO-O{index + 1:05d}",
                account_id=account.pk,
                name=name[:200],
                type=deal_type,
                amount=amount,
                currency=currency,
                amount_reporting=reporting,
                pipeline=pipeline,
                stage=final,
                probability=Decimal(1)
                if final.kind == StageKind.WON
                else Decimal(0)
                if final.kind == StageKind.LOST
                else final.probability,
                forecast_category=forecast,
                expected_close_date=expected,
                closed_at=closed_at,
                lost_reason=rng.choice(reasons) if final.kind == StageKind.LOST else "",
                owner_id=owner_id,
                created_at=created,
            )
        )
        histories.append(history)
    Opportunity.objects.bulk_create(deals, batch_size=500)

    changes = []
    for deal, history in zip(deals, histories, strict=True):
        for from_stage, to_stage, at, amount in history:
            probability = (
                Decimal(1)
                if to_stage.kind == StageKind.WON
                else Decimal(0)
                if to_stage.kind == StageKind.LOST
                else to_stage.probability
            )
            changes.append(
                StageChange(
                    tenant=tenant,
                    opportunity_id=deal.pk,
                    from_stage=from_stage,
                    to_stage=to_stage,
                    changed_at=at,
                    actor_id=deal.owner_id,
                    amount=amount,
                    probability=probability,
                )
            )
    StageChange.objects.bulk_create(changes, batch_size=2000)
    _seed_contacts(tenant=tenant, deals=deals, rng=rng, lang=lang)
    _seed_showcase(tenant=tenant, members=members, lang=lang, accounts=accounts, rng=rng)


def _seed_contacts(*, tenant: Any, deals: list[Opportunity], rng: random.Random, lang: str) -> None:
    by_account: dict[int, list[int]] = {}
    for pk, account_id in Contact.objects.filter(tenant=tenant, deleted_at=None).values_list(
        "pk", "account_id"
    ):
        by_account.setdefault(account_id, []).append(pk)
    rows = []
    for deal in deals:
        contacts = by_account.get(deal.account_id, [])
        if not contacts:
            continue
        picked = rng.sample(contacts, k=min(len(contacts), rng.randint(1, 2)))
        for position, contact_id in enumerate(picked):
            rows.append(
                OpportunityContact(
                    tenant=tenant,
                    opportunity_id=deal.pk,
                    contact_id=contact_id,
                    role=rng.choice(CONTACT_ROLES[lang]),
                    is_primary=position == 0,
                )
            )
    OpportunityContact.objects.bulk_create(rows, batch_size=1000)


def _seed_showcase(
    *, tenant: Any, members: dict, lang: str, accounts: list[Account], rng: random.Random
) -> None:
    """A few deals through the services (real change history on their pages): one won, one lost, one being
    negotiated with an amount change, each owned by the demo rep."""
    rep = members.get("rep")
    if rep is None:
        return
    mine = [a for a in accounts if a.owner_id == rep.user_id] or accounts
    now = timezone.now()
    title = "旗舰项目" if lang == "zh" else "Flagship"
    cny = tenant.currency == "CNY"
    specs = [
        ("won", mine[0], f"{title} A", Decimal(880_000 if cny else 110_000)),
        ("lost", mine[min(1, len(mine) - 1)], f"{title} B", Decimal(420_000 if cny else 52_000)),
        ("open", mine[min(2, len(mine) - 1)], f"{title} C", Decimal(650_000 if cny else 81_000)),
    ]
    contacts = dict(
        Contact.objects.filter(tenant=tenant, account_id__in=[spec[1].pk for spec in specs])
        .order_by("pk")
        .values_list("account_id", "pk")
    )
    for outcome, account, name, amount in specs:
        created = now - dt.timedelta(days=rng.randint(60, 120))
        deal = opportunities_services.opportunity_create(
            tenant=tenant,
            actor=rep.user,
            account=account,
            name=name,
            amount=amount,
            created_at=created,
            expected_close_date=timezone.localdate() + dt.timedelta(days=40),
        )
        if account.pk in contacts:
            opportunity_contacts_services.opportunity_contact_add(
                tenant=tenant,
                actor=rep.user,
                opportunity=deal,
                contact=Contact.objects.get(pk=contacts[account.pk]),
                role=CONTACT_ROLES[lang][0],
                is_primary=True,
            )
        at = created
        for stage_name in ("Needs analysis", "Proposal", "Negotiation"):
            at = _forward(at, rng, 5, 15)
            deal = opportunities_services.opportunity_move_stage(
                tenant=tenant, actor=rep.user, opportunity=deal, stage=stage_name, at=at
            )
        deal = opportunities_services.opportunity_update(
            tenant=tenant,
            actor=rep.user,
            opportunity=deal,
            version=deal.version,
            amount=amount * Decimal("1.1"),
            forecast_category=ForecastCategory.COMMIT,
        )
        if outcome == "won":
            opportunities_services.opportunity_mark_won(
                tenant=tenant, actor=rep.user, opportunity=deal, at=_forward(at, rng, 3, 10)
            )
        elif outcome == "lost":
            reason = LOST_REASONS[lang][1]
            opportunities_services.opportunity_mark_lost(
                tenant=tenant, actor=rep.user, opportunity=deal, reason=reason, at=_forward(at, rng, 3, 10)
            )
