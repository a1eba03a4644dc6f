"""Demo data of the acquisition set-up: lead sources of both kinds, 15 months of campaigns with costs, territories with
round-robin members, scoring rules. Runs before the leads seed, which creates the leads (using the sources,
campaigns, regions and industries below) and calls `leads_rescore_all` at the end.

acme is a Chinese tenant (names in Chinese), globex a German one (names in English/German).
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from crm.models import Tenant
from leads.models import Campaign, Channel, LeadSource, ScoringCategory, ScoringField, ScoringRule, SourceKind
from leads.services.territories import territory_create

INBOUND, INCENTIVE = SourceKind.INBOUND, SourceKind.INCENTIVE


# (key, acme name, globex name, kind, acme description, globex description)
SOURCES = [
    (
        "website",
        "官网咨询",
        "Website inquiry",
        INBOUND,
        "官网表单和在线客服",
        "Contact form and chat on the website",
    ),
    ("demo", "演示申请", "Demo request", INBOUND, "申请产品演示", "Asked for a product demo"),
    (
        "referral",
        "客户推荐",
        "Customer referral",
        INBOUND,
        "老客户推荐",
        "Recommended by an existing customer",
    ),
    ("tradeshow", "展会", "Trade show", INBOUND, "展会展台来访", "Visited our booth at a trade show"),
    (
        "whitepaper",
        "白皮书下载",
        "Whitepaper download",
        INCENTIVE,
        "下载白皮书留资",
        "Downloaded gated content",
    ),
    ("giveaway", "抽奖活动", "Giveaway", INCENTIVE, "参加抽奖留资", "Entered a prize draw"),
    ("webinar", "网络研讨会", "Webinar", INCENTIVE, "报名网络研讨会", "Registered for a webinar"),
]


# Regions and industries the leads (and accounts) of each demo tenant use; territories and rules match them.
DEMO_REGIONS = {
    "zh": ["上海", "江苏", "浙江", "安徽", "广东", "福建", "北京", "天津", "河北", "四川", "湖北"],
    "en": [
        "Germany",
        "Austria",
        "Switzerland",
        "Netherlands",
        "Belgium",
        "Sweden",
        "Denmark",
        "Norway",
        "France",
    ],
}


DEMO_INDUSTRIES = {
    "zh": ["制造业", "软件与信息服务", "零售", "物流", "医疗", "金融"],
    "en": ["Manufacturing", "Software", "Retail", "Logistics", "Healthcare", "Financial services"],
}


# What the leads seed should aim for so the quality report tells the real story: inbound leads are fewer but
# convert far better than incentive leads (share of leads; fractions reaching MQL, SQL (of MQL) and a won deal).
SOURCE_QUALITY = {
    INBOUND: {"share": 0.4, "mql": 0.55, "sql": 0.55, "won": 0.12},
    INCENTIVE: {"share": 0.6, "mql": 0.25, "sql": 0.3, "won": 0.02},
}


# (source key, channel, acme name, globex name, cost range in the tenant currency (CNY; EUR is / 7), days)
CAMPAIGN_TEMPLATES = [
    ("website", Channel.PAID_SEARCH, "百度搜索推广 {m}", "Google Ads {m}", (15000, 40000), 30),
    ("demo", Channel.CONTENT, "产品演示月 {m}", "Demo month {m}", (5000, 12000), 30),
    ("referral", Channel.REFERRAL, "老客户推荐奖励 {m}", "Customer referral bonus {m}", (8000, 20000), 60),
    ("tradeshow", Channel.EVENT, "工业博览会 {m}", "Hannover Messe {m}", (60000, 150000), 4),
    (
        "whitepaper",
        Channel.CONTENT,
        "白皮书：制造业数字化转型 {m}",
        "Whitepaper: Smart factory {m}",
        (6000, 15000),
        45,
    ),
    ("giveaway", Channel.SOCIAL, "微信抽奖活动 {m}", "LinkedIn giveaway {m}", (10000, 25000), 14),
    ("webinar", Channel.WEBINAR, "网络研讨会：降本增效 {m}", "Webinar: Lean operations {m}", (3000, 9000), 1),
]


TERRITORIES: dict[str, list[tuple[str, int, list[str], list[str], list[str], list[str]]]] = {
    "zh": [
        # (name, priority, regions, industries, size bands, member keys)
        ("重点客户", 5, [], [], ["1001-5000", "5000+"], ["manager"]),
        ("华东", 10, ["上海", "江苏", "浙江", "安徽"], [], [], ["rep", "rep2"]),
        ("华南", 20, ["广东", "福建"], [], [], ["rep2"]),
        ("华北", 30, ["北京", "天津", "河北"], [], [], ["rep", "manager"]),
    ],
    "en": [
        ("Key accounts", 5, [], [], ["1001-5000", "5000+"], ["manager"]),
        ("DACH", 10, ["Germany", "Austria", "Switzerland"], [], [], ["rep", "rep2"]),
        ("Benelux", 20, ["Netherlands", "Belgium", "Luxembourg"], [], [], ["rep2"]),
        ("Nordics", 30, ["Sweden", "Denmark", "Norway", "Finland"], [], [], ["rep", "manager"]),
    ],
}


# (field, zh value, en value, points)
SCORING_RULES = [
    (ScoringField.INDUSTRY, "制造业", "Manufacturing", 20),
    (ScoringField.INDUSTRY, "软件与信息服务", "Software", 15),
    (ScoringField.SIZE_BAND, "201-1000", "201-1000", 10),
    (ScoringField.SIZE_BAND, "1001-5000", "1001-5000", 15),
    (ScoringField.SIZE_BAND, "5000+", "5000+", 15),
    (ScoringField.SIZE_BAND, "1-10", "1-10", -10),
    (ScoringField.TITLE, "总监", "Director", 15),
    (ScoringField.TITLE, "经理", "Head", 15),
    (ScoringField.TITLE, "实习", "Intern", -20),
    (ScoringField.REGION, "上海", "Germany", 5),
    (ScoringField.SOURCE_KIND, "inbound", "inbound", 25),
    (ScoringField.SOURCE_KIND, "incentive", "incentive", 5),
    (ScoringField.RECENT_ACTIVITIES, "3", "3", 15),
    (ScoringField.RECENT_ACTIVITIES, "6", "6", 10),
]


ENGAGEMENT = {ScoringField.SOURCE_KIND, ScoringField.RECENT_ACTIVITIES}


def _lang(tenant: Tenant) -> str:
    return "zh" if tenant.default_locale.startswith("zh") else "en"


def _month_label(day: datetime.date, lang: str) -> str:
    return f"{day.year}年{day.month}月" if lang == "zh" else day.strftime("%b %Y")


def seed(*, tenant: Tenant, members: dict, rng: random.Random) -> None:
    """Sources, campaigns (15 months back from today), territories and scoring rules for one tenant."""
    lang = _lang(tenant)
    now = timezone.now()
    created = now - datetime.timedelta(days=480)
    sources = {
        key: LeadSource(
            tenant=tenant,
            name=zh if lang == "zh" else en,
            kind=kind,
            description=zh_text if lang == "zh" else en_text,
            created_at=created,
        )
        for key, zh, en, kind, zh_text, en_text in SOURCES
    }
    LeadSource.objects.bulk_create(sources.values())

    ops_user = members["ops"].user
    today = timezone.localdate(now, tenant.tzinfo)
    rate = Decimal(1) if tenant.currency == "CNY" else Decimal(1) / Decimal(7)
    campaigns: list[Campaign] = []
    # One to three campaigns a month, from 15 months ago up to this month (the current ones still running).
    for months_back in range(15, -1, -1):
        first = (today.replace(day=1) - datetime.timedelta(days=months_back * 30.44)).replace(day=1)
        for key, channel, zh, en, (low, high), days in rng.sample(CAMPAIGN_TEMPLATES, rng.randint(1, 3)):
            start = first + datetime.timedelta(days=rng.randint(0, 20))
            cost = (Decimal(rng.randint(low, high)) * rate).quantize(Decimal("100"))
            label = _month_label(start, lang)
            campaigns.append(
                Campaign(
                    tenant=tenant,
                    external_id=f"demo-{key}-{start:%Y%m}-{len(campaigns)}",
                    name=(zh if lang == "zh" else en).format(m=label),
                    channel=channel,
                    source=sources[key],
                    source_kind=sources[key].kind,
                    cost=cost,
                    currency=tenant.currency,
                    start_date=start,
                    end_date=start + datetime.timedelta(days=days - 1),
                    owner=ops_user,
                    created_at=created + datetime.timedelta(days=(15 - months_back) * 30),
                )
            )
    Campaign.objects.bulk_create(campaigns)

    for name, priority, regions, industries, size_bands, member_keys in TERRITORIES[lang]:
        territory_create(
            tenant=tenant,
            actor=members["ops"].user,
            name=name,
            priority=priority,
            regions=regions,
            industries=industries,
            size_bands=size_bands,
            member_ids=[members[k].user_id for k in member_keys],
        )

    ScoringRule.objects.bulk_create(
        ScoringRule(
            tenant=tenant,
            category=ScoringCategory.ENGAGEMENT if field in ENGAGEMENT else ScoringCategory.FIT,
            field=field,
            value=zh if lang == "zh" else en,
            points=points,
        )
        for field, zh, en, points in SCORING_RULES
    )
