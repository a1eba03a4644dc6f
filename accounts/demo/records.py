"""Demo data of the records area: accounts (every tier, parents and subsidiaries), account teams, contacts,
exchange rates (monthly, 13+ months), and thousands of activities and open tasks.

Volume goes in with bulk_create (history triggers still record the inserts); a few showcase records go through
the services so their pages show a real change history. Deterministic for a given `rng`.

Order (accounts/demo/__init__.py): seed() -> deals seed -> seed_activities(). Leads are seeded later by the
leads app, which calls seed_lead_activities(tenant=, members=, rng=, leads=) for theirs.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import (
    Account,
    AccountAccess,
    AccountMember,
    Activity,
    ActivityKind,
    Contact,
    ExchangeRate,
    Opportunity,
    SizeBand,
    Tier,
)
from accounts.services import records as services

DAY = datetime.timedelta(days=1)

# --- names --------------------------------------------------------------------------------------------------------

ZH_CITIES = [
    "上海",
    "北京",
    "深圳",
    "杭州",
    "苏州",
    "南京",
    "广州",
    "成都",
    "武汉",
    "天津",
    "宁波",
    "西安",
    "青岛",
    "厦门",
]
ZH_CORES = [
    "华信",
    "恒瑞",
    "中科",
    "东方",
    "远航",
    "金桥",
    "瑞丰",
    "博远",
    "天成",
    "汇通",
    "鼎盛",
    "永利",
    "宏达",
    "嘉禾",
    "星辰",
    "新锐",
    "诚泰",
    "海川",
    "云帆",
    "安康",
    "立邦",
    "启明",
    "锦程",
    "长城",
    "明德",
    "盛世",
    "华创",
    "同方",
]
ZH_KINDS = [
    "科技",
    "精密机械",
    "电子",
    "物流",
    "医疗器械",
    "新材料",
    "汽车零部件",
    "软件",
    "化工",
    "食品",
    "能源",
    "环保",
]
ZH_SUFFIX = ["有限公司", "股份有限公司", "集团有限公司"]
ZH_INDUSTRIES = [
    "制造业",
    "信息技术",
    "物流运输",
    "医疗健康",
    "零售",
    "能源",
    "金融服务",
    "汽车",
    "化工",
    "教育",
]
ZH_REGIONS = ["华东", "华北", "华南", "西南", "华中"]
ZH_SURNAMES = [
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "赵",
    "黄",
    "周",
    "吴",
    "徐",
    "孙",
    "胡",
    "朱",
    "高",
    "林",
    "何",
    "郭",
]
ZH_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
    "丽",
]
ZH_TITLES = ["采购经理", "IT总监", "总经理", "财务总监", "运营经理", "技术负责人", "采购专员", "副总裁"]

DE_CORES = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Schulz",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
    "Schwarz",
    "Nordwind",
    "Alpen",
    "Rhein",
    "Hansa",
    "Bavaria",
    "Elbe",
    "Brightline",
    "Northgate",
    "Silverline",
    "Bluewater",
    "Oakridge",
    "Redstone",
]
DE_KINDS = [
    "Maschinenbau",
    "Logistik",
    "Medizintechnik",
    "Software",
    "Elektronik",
    "Chemie",
    "Automotive",
    "Energie",
    "Systems",
    "Analytics",
    "Foods",
    "Robotics",
]
DE_SUFFIX = ["GmbH", "AG", "GmbH & Co. KG", "SE", "Ltd", "B.V."]
EN_INDUSTRIES = [
    "Manufacturing",
    "Software",
    "Logistics",
    "Healthcare",
    "Retail",
    "Energy",
    "Financial services",
    "Automotive",
    "Chemicals",
    "Education",
]
EN_REGIONS = ["DACH", "Nordics", "Benelux", "UK & Ireland", "France", "Iberia"]
DE_FIRST = [
    "Anna",
    "Lukas",
    "Lea",
    "Jonas",
    "Mia",
    "Felix",
    "Emma",
    "Paul",
    "Sophie",
    "Max",
    "Laura",
    "Tim",
    "Julia",
    "Oliver",
    "Hannah",
    "James",
    "Emily",
    "Thomas",
    "Sarah",
    "Daniel",
]
DE_LAST = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Koch",
    "Smith",
    "Brown",
    "Taylor",
    "Wilson",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
]
EN_TITLES = [
    "Head of Procurement",
    "CIO",
    "Managing Director",
    "CFO",
    "Operations Manager",
    "IT Lead",
    "Buyer",
    "VP Operations",
]

SUBJECTS = {
    "zh": {
        ActivityKind.CALL: ["电话沟通需求", "跟进报价", "确认预算", "技术交流电话", "回访客户", "确认决策人"],
        ActivityKind.EMAIL: ["发送产品资料", "报价单邮件", "会议纪要", "合同条款确认", "发送案例介绍"],
        ActivityKind.MEETING: ["现场拜访", "产品演示", "商务谈判", "季度业务回顾", "技术方案评审"],
        ActivityKind.NOTE: [
            "客户关注交付周期",
            "决策链：采购 + IT",
            "竞品：正在评估其他供应商",
            "预算在Q3释放",
        ],
        ActivityKind.TASK: [
            "准备报价单",
            "安排演示",
            "发送合同草稿",
            "跟进付款进度",
            "预约回访",
            "整理需求清单",
        ],
    },
    "en": {
        ActivityKind.CALL: [
            "Discovery call",
            "Follow-up on the quote",
            "Budget check",
            "Technical call",
            "Check-in call",
            "Confirm decision makers",
        ],
        ActivityKind.EMAIL: [
            "Sent product brochure",
            "Quote by email",
            "Meeting notes",
            "Contract terms",
            "Case study",
        ],
        ActivityKind.MEETING: [
            "On-site visit",
            "Product demo",
            "Negotiation",
            "Quarterly business review",
            "Solution workshop",
        ],
        ActivityKind.NOTE: [
            "Cares about delivery time",
            "Buying committee: procurement + IT",
            "Also evaluating a competitor",
            "Budget released in Q3",
        ],
        ActivityKind.TASK: [
            "Prepare the quote",
            "Schedule a demo",
            "Send the contract draft",
            "Chase the payment",
            "Book a follow-up",
            "Collect requirements",
        ],
    },
}
BODIES = {
    "zh": ["", "", "客户反馈积极，下周再跟进。", "需要补充技术资料。", "对价格较敏感。"],
    "en": [
        "",
        "",
        "Positive feedback, follow up next week.",
        "Needs more technical detail.",
        "Price sensitive.",
    ],
}

# Monthly rates into the reporting currency: (start, monthly drift) per reporting currency.
RATES = {
    "CNY": {
        "USD": Decimal("7.10"),
        "EUR": Decimal("7.75"),
        "HKD": Decimal("0.910"),
        "JPY": Decimal("0.0480"),
    },
    "EUR": {
        "USD": Decimal("0.920"),
        "CNY": Decimal("0.128"),
        "GBP": Decimal("1.170"),
        "CHF": Decimal("1.050"),
    },
    "USD": {"EUR": Decimal("1.08"), "CNY": Decimal("0.139"), "GBP": Decimal("1.27")},
}


def _lang(tenant: Any) -> str:
    return "zh" if tenant.currency == "CNY" or str(tenant.default_locale).startswith("zh") else "en"


def _company_name(lang: str, rng: random.Random, used: set[str]) -> str:
    for _attempt in range(50):
        if lang == "zh":
            name = rng.choice(ZH_CITIES) + rng.choice(ZH_CORES) + rng.choice(ZH_KINDS) + rng.choice(ZH_SUFFIX)
        else:
            name = f"{rng.choice(DE_CORES)} {rng.choice(DE_KINDS)} {rng.choice(DE_SUFFIX)}"
        if name not in used:
            used.add(name)
            return name
    name = f"{name} {len(used)}"
    used.add(name)
    return name


def _domain(name: str, index: int, lang: str) -> str:
    if lang == "zh":
        return f"corp{index:04d}.example.cn"
    core = "".join(ch for ch in name.split(" ")[0].lower() if ch.isascii() and ch.isalnum()) or "corp"
    return f"{core}{index:03d}.example.de"


def _person(lang: str, rng: random.Random) -> tuple[str, str]:
    """(first, last). Chinese names are written family name first, so the whole name goes in last_name."""
    if lang == "zh":
        given = rng.choice(ZH_GIVEN) + (rng.choice(ZH_GIVEN) if rng.random() < 0.6 else "")
        return "", rng.choice(ZH_SURNAMES) + given
    return rng.choice(DE_FIRST), rng.choice(DE_LAST)


def _pinyinish(first: str, last: str, index: int) -> str:
    """An ASCII mailbox for a (possibly Chinese) name: Chinese names give "contact<n>"."""
    ascii_part = "".join(
        ch for ch in f"{first}.{last}".lower() if ch.isascii() and (ch.isalnum() or ch == ".")
    )
    return (ascii_part.strip(".") or "contact") + str(index)


def _phone(lang: str, rng: random.Random) -> str:
    if lang == "zh":
        return f"+86 1{rng.choice('3578')}{rng.randint(0, 9)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
    return f"+49 {rng.randint(30, 89)} {rng.randint(100000, 9999999)}"


def _local_working_time(tenant: Any, day: datetime.date, rng: random.Random) -> datetime.datetime:
    local = datetime.datetime.combine(day, datetime.time(rng.randint(9, 17), rng.choice((0, 15, 30, 45))))
    return timezone.make_aware(local, tenant.tzinfo)


def _weekday_between(start: datetime.datetime, end: datetime.datetime, rng: random.Random) -> datetime.date:
    span = max((end - start).days, 0)
    day = (start + datetime.timedelta(days=rng.randint(0, span))).date()
    while day.weekday() >= 5:
        day -= DAY
    return day


# --- accounts, contacts, rates -----------------------------------------------------------------------------------


def seed(*, tenant: Any, members: dict, rng: random.Random) -> None:
    """Accounts of every tier with subsidiaries, account teams, 2-4 contacts each, monthly exchange rates."""
    lang = _lang(tenant)
    now = timezone.now()
    owners = [members[k].user for k in ("rep", "rep2", "manager") if k in members]
    industries = ZH_INDUSTRIES if lang == "zh" else EN_INDUSTRIES
    regions = ZH_REGIONS if lang == "zh" else EN_REGIONS
    sizes_by_tier = {
        Tier.KEY: [SizeBand.XL, SizeBand.XXL],
        Tier.STRATEGIC: [SizeBand.L, SizeBand.XL],
        Tier.STANDARD: [SizeBand.M, SizeBand.L, SizeBand.S],
        Tier.LONG_TAIL: [SizeBand.XS, SizeBand.S],
    }
    plan = [(Tier.KEY, 10), (Tier.STRATEGIC, 30), (Tier.STANDARD, 110), (Tier.LONG_TAIL, 70)]
    used: set[str] = set()
    index = 0

    def make(tier: str, parent: Account | None = None) -> Account:
        nonlocal index
        index += 1
        name = _company_name(lang, rng, used)
        if parent is not None:
            region = rng.choice(regions)
            core = services.normalize_company_name(parent.name)
            name = f"{core}{region}分公司" if lang == "zh" else f"{core} {region}"
            if name in used:
                name = f"{name} {index}"
            used.add(name)
        else:
            region = rng.choice(regions)
        owner = parent.owner if parent is not None and rng.random() < 0.8 else rng.choice(owners)
        created = now - datetime.timedelta(days=rng.randint(30, 720), hours=rng.randint(0, 23))
        account = Account(
            tenant=tenant,
            name=name,
            domain=_domain(name, index, lang),
            industry=parent.industry if parent is not None else rng.choice(industries),
            size_band=rng.choice(sizes_by_tier[tier]),
            region=region,
            tier=tier,
            owner=owner,
            parent=parent,
            external_id=f"DEMO-A{index:05d}",
            created_at=created,
        )
        account.search_text = services.account_search_text(account)
        return account

    parents = [make(tier) for tier, count in plan for _ in range(count)]
    Account.objects.bulk_create(parents, batch_size=500)
    children = []
    for parent in parents:
        if parent.tier == Tier.KEY:
            children += [make(Tier.STRATEGIC, parent) for _ in range(rng.randint(2, 3))]
        elif parent.tier == Tier.STRATEGIC and rng.random() < 0.3:
            children.append(make(Tier.STANDARD, parent))
    Account.objects.bulk_create(children, batch_size=500)
    accounts = parents + children

    # Account teams: reps help on each other's big accounts; some accounts are shared read-only.
    team_rows = []
    seen: set[tuple[int, int]] = set()
    helpers = [members[k].user for k in ("rep", "rep2", "manager", "cs") if k in members]
    for account in accounts:
        if account.tier in (Tier.KEY, Tier.STRATEGIC) and rng.random() < 0.6:
            for user in rng.sample(helpers, k=min(len(helpers), rng.randint(1, 2))):
                if user.pk == account.owner_id or (account.pk, user.pk) in seen:
                    continue
                seen.add((account.pk, user.pk))
                access = AccountAccess.READ if rng.random() < 0.35 else AccountAccess.EDIT
                team_rows.append(AccountMember(tenant=tenant, account=account, user=user, access=access))
    AccountMember.objects.bulk_create(team_rows, batch_size=500)

    contacts = []
    counter = 0
    for account in accounts:
        for _ in range(rng.randint(2, 4)):
            counter += 1
            first, last = _person(lang, rng)
            contact = Contact(
                tenant=tenant,
                account=account,
                first_name=first,
                last_name=last,
                email=f"{_pinyinish(first, last, counter)}@{account.domain}",
                phone=_phone(lang, rng),
                title=rng.choice(ZH_TITLES if lang == "zh" else EN_TITLES),
                owner=account.owner,
                external_id=f"DEMO-C{counter:05d}",
                created_at=account.created_at + datetime.timedelta(days=rng.randint(0, 20)),
            )
            contact.search_text = services.contact_search_text(contact)
            contacts.append(contact)
    Contact.objects.bulk_create(contacts, batch_size=1000)

    _seed_rates(tenant=tenant, rng=rng, now=now)
    _seed_showcase(tenant=tenant, members=members, lang=lang, accounts=accounts)


def _seed_rates(*, tenant: Any, rng: random.Random, now: datetime.datetime) -> None:
    """Rates on the first of every month from 14 months back to this month, as a small random walk."""
    today = timezone.localtime(now, tenant.tzinfo).date()
    first = today.replace(day=1)
    months = []
    year, month = first.year, first.month
    for _ in range(15):
        months.append(datetime.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    months.reverse()
    rows = []
    for currency, start in RATES.get(tenant.currency, RATES["USD"]).items():
        if currency == tenant.currency:
            continue
        value = start
        for valid_from in months:
            value = (value * Decimal(str(1 + rng.uniform(-0.015, 0.015)))).quantize(Decimal("0.00000001"))
            rows.append(ExchangeRate(tenant=tenant, currency=currency, valid_from=valid_from, rate=value))
    ExchangeRate.objects.bulk_create(rows)


def _seed_showcase(*, tenant: Any, members: dict, lang: str, accounts: list[Account]) -> None:
    """A few records made through the services (each stamps its actor into the history): an account with an
    edit history by three people, and a likely duplicate of it (with a duplicate contact) to try merging."""
    admin = members["admin"].user
    manager = members.get("manager", members["admin"]).user
    rep = members.get("rep", members["admin"]).user
    if lang == "zh":
        original, twin, domain = "上海华信科技股份有限公司", "上海华信科技", "huaxin-tech.example.cn"
        first, last, phone, title = "", "张伟", "+86 138 0013 8000", ZH_TITLES[0]
    else:
        original, twin, domain = (
            "Müller Maschinenbau GmbH",
            "Mueller Maschinenbau AG",
            "mueller-mb.example.de",
        )
        first, last, phone, title = "Anna", "Müller", "+49 89 1234567", EN_TITLES[0]
    account = services.account_create(
        tenant=tenant,
        actor=rep,
        name=original,
        domain=domain,
        industry=accounts[0].industry,
        region=accounts[0].region,
        tier=Tier.STANDARD,
        size_band=SizeBand.L,
        owner=rep,
        external_id="DEMO-SHOWCASE-1",
    )
    account = services.account_update(
        tenant=tenant, actor=manager, account=account, version=account.version, tier=Tier.STRATEGIC
    )
    services.account_update(
        tenant=tenant,
        actor=admin,
        account=account,
        version=account.version,
        size_band=SizeBand.XL,
        parent=accounts[0],
    )
    twin_account = services.account_create(
        tenant=tenant, actor=rep, name=twin, domain="", industry=accounts[0].industry, owner=rep
    )
    for target, email in ((account, f"contact@{domain}"), (twin_account, f"CONTACT@{domain}")):
        services.contact_create(
            tenant=tenant,
            actor=rep,
            account=target,
            first_name=first,
            last_name=last,
            email=email,
            phone=phone if target is account else "",
            title=title,
        )


# --- activities ---------------------------------------------------------------------------------------------------


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
