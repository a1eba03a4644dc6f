"""Benchmark data: one large tenant (a million leads by default) and one small one, generated set-based.

Every table is filled by `INSERT ... SELECT ... FROM generate_series(...)` inside the tenant's transaction (row-level
security applies, `SET LOCAL app.tenant_id` comes from tenant_context), in chunks so progress shows and no single
transaction grows huge. Python creates only the handful of rows a tenant starts with (users, teams, memberships,
sources, campaigns) through the ORM and the tenancy services, exactly as sign-up does.

The spread follows what a sales team sees after two years: more leads recently than long ago, statuses that
depend on age (old leads are converted or disqualified, new ones are new), consistent status timestamps, a public
pool, owners skewed over ~50 reps in teams, campaigns that ran when their leads came in, sources of both kinds.
Every row also gets its django-pghistory insert event, as in production (written set-based, see bulk_load).
"""

from __future__ import annotations

import datetime
import importlib
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import connection, models
from django.utils import timezone

from crm import search_index
from crm import services as crm_services
from crm.models import Membership, Role, Team, Tenant, User
from crm.tenancy import tenant_context
from leads.models import Campaign, Channel, LeadSource, SourceKind

PASSWORD = "bench-pass-1234"  # noqa: S105 -- the logins of a throw-away benchmark database
CHUNK = 100_000
DAYS = 730  # two years of history

FIRST_NAMES = [
    "wei",
    "fang",
    "na",
    "min",
    "jing",
    "li",
    "qiang",
    "lei",
    "jun",
    "yang",
    "yong",
    "yan",
    "jie",
    "juan",
    "tao",
    "ming",
    "chao",
    "xiuying",
    "xia",
    "ping",
    "gang",
    "anna",
    "ben",
    "clara",
    "david",
    "emma",
    "felix",
    "greta",
    "hannah",
    "jonas",
    "lena",
    "lukas",
    "maria",
    "max",
    "nina",
    "oliver",
    "paul",
    "sophie",
    "tom",
    "laura",
]
LAST_NAMES = [
    "wang",
    "li",
    "zhang",
    "liu",
    "chen",
    "yang",
    "huang",
    "zhao",
    "wu",
    "zhou",
    "xu",
    "sun",
    "ma",
    "zhu",
    "hu",
    "guo",
    "he",
    "gao",
    "lin",
    "luo",
    "zheng",
    "liang",
    "xie",
    "song",
    "tang",
    "han",
    "feng",
    "deng",
    "cao",
    "peng",
    "muller",
    "schmidt",
    "schneider",
    "fischer",
    "weber",
    "meyer",
    "wagner",
    "becker",
    "schulz",
    "hoffmann",
    "koch",
    "richter",
    "klein",
    "wolf",
    "schroder",
    "neumann",
    "schwarz",
    "braun",
    "zimmermann",
    "kruger",
    "hartmann",
    "lange",
    "werner",
    "krause",
    "lehmann",
    "smith",
    "jones",
    "brown",
    "taylor",
    "wilson",
]
COMPANY_WORDS = [
    "Huaxin",
    "Hengtong",
    "Ruifeng",
    "Boyuan",
    "Tiancheng",
    "Dingxin",
    "Huizhi",
    "Jiahe",
    "Tongchuang",
    "Hongda",
    "Jinqiao",
    "Xingchen",
    "Yunfan",
    "Zhengtai",
    "Zhongke",
    "Lianchuang",
    "Xinyuan",
    "Haina",
    "Dongfang",
    "Jincheng",
    "Taihe",
    "Yuanjing",
    "Anxun",
    "Qiming",
    "Nordstern",
    "Alpen",
    "Rhein",
    "Elbe",
    "Isar",
    "Weser",
    "Brandt",
    "Falken",
    "Adler",
    "Lowen",
    "Berg",
    "Tal",
    "Quelle",
    "Bruck",
    "Stern",
    "Licht",
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Vandelay",
    "Hooli",
    "Pied",
    "Dunder",
    "Sterling",
    "Gringotts",
    "Oceanic",
    "Monarch",
    "Aperture",
    "Black Mesa",
]
TRADES = [
    "Technology",
    "Precision",
    "Information",
    "Logistics",
    "Medical",
    "Electronics",
    "Materials",
    "Automation",
    "Software",
    "Supply Chain",
    "Retail",
    "Energy",
    "Foods",
    "Chemicals",
    "Textiles",
    "Machinery",
    "Consulting",
    "Robotics",
    "Optics",
    "Packaging",
    "Pharma",
    "Solar",
    "Cloud",
    "Data",
    "Security",
]
SUFFIXES = ["Co., Ltd.", "GmbH", "Inc.", "Group", "AG", "Holdings"]
TITLES = [
    "Purchasing Manager",
    "IT Director",
    "Head of Operations",
    "CEO",
    "Sales Manager",
    "CFO",
    "Engineering Lead",
    "Intern",
    "Engineer",
    "Procurement Officer",
    "CTO",
    "Project Manager",
    "Office Manager",
    "Plant Manager",
]
REGIONS = [
    "Shanghai",
    "Jiangsu",
    "Zhejiang",
    "Guangdong",
    "Beijing",
    "Sichuan",
    "Hubei",
    "Fujian",
    "Bavaria",
    "Berlin",
    "Hesse",
    "Saxony",
]
INDUSTRIES = [
    "Manufacturing",
    "Software",
    "Retail",
    "Logistics",
    "Finance",
    "Healthcare",
    "Energy",
    "Education",
    "Construction",
    "Automotive",
]
SIZE_BANDS = ["1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+"]
EMAIL_DOMAINS = ["qq.com", "163.com", "gmail.com", "outlook.com", "web.de", "company.cn"]
DISQUALIFY_REASONS = ["No budget", "Not a fit", "Duplicate", "No response", "Student", "Competitor"]
LOST_REASONS = ["Price", "Competitor", "No decision", "Timing", "Features"]
SOURCES = [
    ("Website demo request", SourceKind.INBOUND),
    ("Inbound inquiry", SourceKind.INBOUND),
    ("Customer referral", SourceKind.INBOUND),
    ("Partner referral", SourceKind.INBOUND),
    ("Trade show", SourceKind.INBOUND),
    ("Organic search", SourceKind.INBOUND),
    ("Giveaway", SourceKind.INCENTIVE),
    ("Webinar", SourceKind.INCENTIVE),
    ("Whitepaper download", SourceKind.INCENTIVE),
    ("Trial coupon", SourceKind.INCENTIVE),
    ("Survey reward", SourceKind.INCENTIVE),
    ("Event lucky draw", SourceKind.INCENTIVE),
]
CHANNELS = [c.value for c in Channel]


@dataclass
class Scale:
    """Row counts of one tenant; everything but leads follows the ratios of the issue (1M leads: 100k accounts,
    200k contacts, 300k deals, 1M activities)."""

    leads: int
    teams: int = 5
    reps_per_team: int = 10
    campaigns: int = 60

    @property
    def accounts(self) -> int:
        return max(10, self.leads // 10)

    @property
    def contacts(self) -> int:
        return max(20, self.leads // 5)

    @property
    def deals(self) -> int:
        return max(30, self.leads * 3 // 10)

    @property
    def activities(self) -> int:
        return max(100, self.leads)


@dataclass
class People:
    admin: User
    managers: list[User] = field(default_factory=list)
    reps: list[User] = field(default_factory=list)
    ops: User | None = None


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _execute(sql: str, params: dict | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.rowcount


def _fast_transaction() -> None:
    """Bulk loading: no need to wait for the WAL flush of every chunk (a crash loses only benchmark rows)."""
    _execute("SET LOCAL synchronous_commit = off")
    _execute("SET LOCAL gin_pending_list_limit = '32MB'")


def _chunks(total: int) -> list[tuple[int, int]]:
    return [(start, min(start + CHUNK - 1, total)) for start in range(1, total + 1, CHUNK)]


def _timed(label: str, total: int, fill) -> None:  # type: ignore[no-untyped-def]
    """Run `fill(start, stop)` for every chunk, one transaction each, with progress."""
    began = time.monotonic()
    for start, stop in _chunks(total):
        fill(start, stop)
        _say(f"  {label}: {stop:,}/{total:,} ({time.monotonic() - began:.0f} s)")


# --- the tenant, its people, sources and campaigns (ORM) --------------------------------------------------------


def create_people(*, slug: str, name: str, scale: Scale) -> tuple[Tenant, People]:
    """The tenant (through the sign-up service: default pipeline and all), teams of reps with a manager each, an
    ops member. One password hash for all (argon2 is slow on purpose)."""
    tenant = crm_services.tenant_create(
        slug=slug,
        name=name,
        time_zone="Asia/Shanghai",
        currency="CNY",
        admin_email=f"admin@{slug}.test",
        admin_password=PASSWORD,
        admin_name="Bench Admin",
    )
    hashed = make_password(PASSWORD)
    with tenant_context(tenant):
        admin = Membership.objects.select_related("user").get(role=Role.ADMIN).user
        people = People(admin=admin)
        users, memberships = [], []
        for t in range(1, scale.teams + 1):
            team = Team.objects.create(tenant=tenant, name=f"Sales team {t}")
            manager = User(email=f"manager{t}@{slug}.test", full_name=f"Manager {t}", password=hashed)
            users.append(manager)
            memberships.append((manager, Role.SALES_MANAGER, team))
            people.managers.append(manager)
            for r in range(1, scale.reps_per_team + 1):
                rep = User(email=f"rep{t}-{r}@{slug}.test", full_name=f"Rep {t}-{r}", password=hashed)
                users.append(rep)
                memberships.append((rep, Role.SALES_REP, team))
                people.reps.append(rep)
        ops = User(email=f"ops@{slug}.test", full_name="Ops", password=hashed)
        users.append(ops)
        memberships.append((ops, Role.OPS, None))
        people.ops = ops
        User.objects.bulk_create(users)
        Membership.objects.bulk_create(
            [Membership(tenant=tenant, user=user, role=role, team=team) for user, role, team in memberships]
        )
    return tenant, people


def create_sources_and_campaigns(*, tenant: Tenant, scale: Scale) -> tuple[list[int], list[int], list[int]]:
    """Sources of both kinds and campaigns spread over the two years (each runs ~60 days, one starts every
    ~12 days). Returns source ids, campaign ids (oldest first) and each campaign's source id."""
    today = timezone.localdate()
    with tenant_context(tenant):
        sources = LeadSource.objects.bulk_create(
            [LeadSource(tenant=tenant, name=name, kind=kind) for name, kind in SOURCES]
        )
        step = DAYS / scale.campaigns
        campaigns = []
        for i in range(scale.campaigns):
            source = sources[(i * 7) % len(sources)]
            start = today - datetime.timedelta(days=DAYS - int(i * step))
            campaigns.append(
                Campaign(
                    tenant=tenant,
                    name=f"Campaign {i + 1:03d} {source.name}",
                    channel=CHANNELS[i % len(CHANNELS)],
                    source=source,
                    source_kind=source.kind,
                    cost=1000 + (i * 137) % 9000,
                    currency=tenant.currency,
                    start_date=start,
                    end_date=start + datetime.timedelta(days=60),
                )
            )
        campaigns = Campaign.objects.bulk_create(campaigns)
    return [s.pk for s in sources], [c.pk for c in campaigns], [c.source_id for c in campaigns]


# --- set-based rows ---------------------------------------------------------------------------------------------


# Picks an element of an array parameter with a uniform random number r in [0, 1).
def _pick(array: str, r: str) -> str:
    return f"({array})[1 + floor({r} * cardinality({array}))::int]"


LEADS_SQL = f"""
INSERT INTO leads_lead (
    tenant_id, created_at, updated_at, external_id, first_name, last_name, email, phone, company, title, region,
    industry, size_band, status, score, score_reasons, disqualify_reason, working_at, mql_at, sql_at,
    converted_at, disqualified_at, last_activity_at, pooled_at, claimed_at, deleted_at, version, search_text,
    campaign_id, owner_id, source_id, assigned_at
)
SELECT %(tenant)s, created_at, coalesce(last_activity_at, created_at), '', first_name, last_name, email, phone,
    company, title, region, industry, size_band, status, score, '[]'::jsonb,
    CASE WHEN status = 'disqualified' THEN {_pick("%(disqualify_reasons)s::text[]", "r_reason")} ELSE '' END,
    working_at, mql_at, sql_at, converted_at, disqualified_at, last_activity_at,
    CASE WHEN owner_id IS NULL AND r_pool < 0.6 THEN created_at + (now() - created_at) * r_pool END,
    CASE WHEN owner_id IS NOT NULL AND status IN ('new', 'working', 'mql', 'sql') AND r_reason < 0.04
         THEN created_at + interval '1 hour' END,
    NULL, 1,
    lower(concat_ws(' ', first_name, last_name, company, email, phone, regexp_replace(phone, '\\D', '', 'g'))),
    campaign_id, owner_id, source_id,
    CASE WHEN owner_id IS NOT NULL THEN created_at + interval '5 minutes' END
FROM (
    SELECT *,
        CASE WHEN status IN ('new', 'working', 'mql', 'sql') AND r_pool < 0.08 THEN NULL
             ELSE (%(reps)s::bigint[])[1 + floor(power(r_owner, 1.4) * cardinality(%(reps)s::bigint[]))::int] END AS owner_id,
        CASE WHEN status = 'new' THEN
                 CASE WHEN r_act < 0.2 THEN least(now(), created_at + r_t1 * interval '2 days') END
             WHEN r_act < 0.85 THEN least(now(), coalesce(converted_at, disqualified_at, sql_at, mql_at, working_at)
                                                 + r_t4 * interval '12 days')
        END AS last_activity_at
    FROM (
        SELECT *,
            CASE WHEN status <> 'new' AND (status <> 'disqualified' OR r_t4 < 0.5)
                 THEN least(now(), created_at + r_t1 * interval '4 days') END AS working_at,
            CASE WHEN status IN ('mql', 'sql', 'converted')
                 THEN least(now(), created_at + (r_t1 * 4 + 1 + r_t2 * 20) * interval '1 day') END AS mql_at,
            CASE WHEN status IN ('sql', 'converted')
                 THEN least(now(), created_at + (r_t1 * 4 + 2 + r_t2 * 20 + r_t3 * 25) * interval '1 day') END
                 AS sql_at,
            CASE WHEN status = 'converted'
                 THEN least(now(), created_at + (r_t1 * 4 + 3 + r_t2 * 20 + r_t3 * 25 + r_t4 * 30) * interval '1 day')
                 END AS converted_at,
            CASE WHEN status = 'disqualified'
                 THEN least(now(), created_at + (r_t1 * 30 + 1) * interval '1 day') END AS disqualified_at,
            CASE WHEN campaign_id IS NULL THEN {_pick("%(sources)s::bigint[]", "r_src")}
                 ELSE (%(campaign_sources)s::bigint[])[campaign_index] END AS source_id
        FROM (
            SELECT *,
                CASE WHEN age_days < 3 THEN
                         CASE WHEN r_status < 0.7 THEN 'new' WHEN r_status < 0.95 THEN 'working' ELSE 'mql' END
                     WHEN age_days < 30 THEN
                         CASE WHEN r_status < 0.25 THEN 'new' WHEN r_status < 0.55 THEN 'working'
                              WHEN r_status < 0.7 THEN 'mql' WHEN r_status < 0.78 THEN 'sql'
                              WHEN r_status < 0.83 THEN 'converted' ELSE 'disqualified' END
                     ELSE
                         CASE WHEN r_status < 0.06 THEN 'new' WHEN r_status < 0.2 THEN 'working'
                              WHEN r_status < 0.3 THEN 'mql' WHEN r_status < 0.36 THEN 'sql'
                              WHEN r_status < 0.5 THEN 'converted' ELSE 'disqualified' END
                END AS status,
                CASE WHEN campaign_index IS NOT NULL THEN (%(campaigns)s::bigint[])[campaign_index] END AS campaign_id
            FROM (
                SELECT *,
                    extract(epoch FROM now() - created_at) / 86400 AS age_days,
                    CASE WHEN r_camp < 0.65 THEN greatest(1, least(cardinality(%(campaigns)s::bigint[]),
                        floor((%(days)s - extract(epoch FROM now() - created_at) / 86400)
                              / %(days)s * cardinality(%(campaigns)s::bigint[]))::int - floor(r_camp * 6)::int + 1))
                    END AS campaign_index,
                    {_pick("%(first_names)s::text[]", "r_first")} AS first_name,
                    {_pick("%(last_names)s::text[]", "r_last")} AS last_name,
                    {_pick("%(words)s::text[]", "r_co1")} || ' ' || {_pick("%(trades)s::text[]", "r_co2")} || ' '
                        || {_pick("%(suffixes)s::text[]", "r_co3")} AS company,
                    {_pick("%(titles)s::text[]", "r_title")} AS title,
                    (%(regions)s::text[])[1 + floor(power(r_region, 1.6) * cardinality(%(regions)s::text[]))::int] AS region,
                    {_pick("%(industries)s::text[]", "r_ind")} AS industry,
                    {_pick("%(sizes)s::text[]", "r_size")} AS size_band,
                    least(100, floor(power(r_score, 1.3) * 101))::int AS score,
                    '+86 1' || lpad(((g::bigint * 7919 + %(salt)s) %% 1000000000)::text, 10, '3') AS phone
                FROM (
                    SELECT g,
                        now() - (1 - sqrt(random())) * %(days)s * interval '1 day' AS created_at,
                        random() AS r_status, random() AS r_owner, random() AS r_pool, random() AS r_src,
                        random() AS r_camp, random() AS r_region, random() AS r_ind, random() AS r_size,
                        random() AS r_score, random() AS r_first, random() AS r_last, random() AS r_co1,
                        random() AS r_co2, random() AS r_co3, random() AS r_title, random() AS r_act,
                        random() AS r_t1, random() AS r_t2, random() AS r_t3, random() AS r_t4,
                        random() AS r_reason, random() AS r_mail
                    FROM generate_series(%(start)s, %(stop)s) AS g
                ) a
            ) b
        ) c
    ) d
) e
CROSS JOIN LATERAL (
    SELECT lower(first_name || '.' || last_name || e.g) || '@' || {_pick("%(domains)s::text[]", "e.r_mail")} AS email
) m
"""  # noqa: S608 -- SQL text from module constants; every value is a bound %(name)s parameter

ACCOUNTS_SQL = f"""
INSERT INTO accounts_account (
    tenant_id, created_at, updated_at, external_id, name, domain, industry, size_band, region, tier,
    lifecycle_stage, deleted_at, version, search_text, merged_into_id, owner_id, parent_id
)
SELECT %(tenant)s, created_at, created_at, '', name, domain, industry, size_band, region,
    CASE WHEN r_tier < 0.03 THEN 'key' WHEN r_tier < 0.13 THEN 'strategic' WHEN r_tier < 0.63 THEN 'standard'
         ELSE 'long_tail' END,
    CASE WHEN r_stage < 0.45 THEN 'acquisition' WHEN r_stage < 0.55 THEN 'conversion'
         WHEN r_stage < 0.9 THEN 'retention' ELSE 'churn' END,
    NULL, 1, lower(name || ' ' || domain), NULL,
    CASE WHEN r_owner < 0.1 THEN {_pick("%(managers)s::bigint[]", "r_owner * 10")}
         ELSE (%(reps)s::bigint[])[1 + floor(power(r_owner2, 1.4) * cardinality(%(reps)s::bigint[]))::int] END,
    NULL
FROM (
    SELECT *,
        {_pick("%(cities)s::text[]", "r_n1")} || ' ' || {_pick("%(words)s::text[]", "r_n2")} || ' ' || {_pick("%(trades)s::text[]", "r_n3")}
            || ' ' || {_pick("%(suffixes)s::text[]", "r_n4")} AS name,
        lower(replace({_pick("%(words)s::text[]", "r_n2")}, ' ', '')) || g || '.example.com' AS domain,
        {_pick("%(industries)s::text[]", "r_ind")} AS industry,
        {_pick("%(sizes)s::text[]", "r_size")} AS size_band,
        (%(regions)s::text[])[1 + floor(power(r_region, 1.6) * cardinality(%(regions)s::text[]))::int] AS region
    FROM (
        SELECT g, now() - (1 - sqrt(random())) * %(days)s * interval '1 day' AS created_at,
            random() AS r_tier, random() AS r_stage, random() AS r_owner, random() AS r_owner2,
            random() AS r_n1, random() AS r_n2, random() AS r_n3, random() AS r_n4, random() AS r_ind,
            random() AS r_size, random() AS r_region
        FROM generate_series(%(start)s, %(stop)s) AS g
    ) a
) b
"""  # noqa: S608 -- SQL text from module constants; every value is a bound %(name)s parameter

# Some accounts belong to a group: the first 1% are parents of 5% of the others.
ACCOUNT_PARENTS_SQL = """
UPDATE accounts_account AS a SET parent_id = p.id
FROM (
    SELECT id, (%(first)s + floor(random() * greatest(1, %(count)s / 100)))::bigint AS parent
    FROM accounts_account WHERE tenant_id = %(tenant)s AND id >= %(first)s + %(count)s / 100 AND random() < 0.05
) AS pick
JOIN accounts_account AS p ON p.id = pick.parent
WHERE a.id = pick.id
"""

CONTACTS_SQL = f"""
INSERT INTO accounts_contact (
    tenant_id, created_at, updated_at, external_id, first_name, last_name, email, phone, title, deleted_at,
    version, search_text, account_id, merged_into_id, owner_id
)
SELECT %(tenant)s, created_at, created_at, '', first_name, last_name, email, phone, title, NULL, 1,
    lower(concat_ws(' ', first_name, last_name, email, phone, regexp_replace(phone, '\\D', '', 'g'))),
    account_id, NULL, owner_id
FROM (
    SELECT x.*, acc.owner_id, greatest(acc.created_at, x.created_at0) AS created_at,
        lower(x.first_name || '.' || x.last_name || x.g) || '@' || acc.domain AS email
    FROM (
        SELECT g, (%(first_account)s + floor(random() * %(accounts)s))::bigint AS account_id,
            now() - random() * %(days)s * interval '1 day' AS created_at0,
            {_pick("%(first_names)s::text[]", "random()")} AS first_name,
            {_pick("%(last_names)s::text[]", "random()")} AS last_name,
            {_pick("%(titles)s::text[]", "random()")} AS title,
            '+49 15' || lpad(((g::bigint * 104729 + %(salt)s) %% 1000000000)::text, 9, '7') AS phone
        FROM generate_series(%(start)s, %(stop)s) AS g
    ) x
    JOIN accounts_account acc ON acc.id = x.account_id
) y
"""  # noqa: S608 -- SQL text from module constants; every value is a bound %(name)s parameter

DEALS_SQL = f"""
INSERT INTO accounts_opportunity (
    tenant_id, created_at, updated_at, external_id, name, type, amount, currency, amount_reporting, probability,
    forecast_category, expected_close_date, closed_at, lost_reason, deleted_at, version, account_id, lead_id,
    owner_id, pipeline_id, stage_id, next_step, source_id, campaign_id
)
SELECT %(tenant)s, created_at, created_at, '', account_name || ' – ' || type_label, type,
    amount, %(currency)s, amount, probability,
    CASE WHEN kind = 'won' THEN 'closed' WHEN kind = 'lost' THEN 'omitted'
         WHEN probability >= 0.75 THEN 'commit' WHEN probability >= 0.5 THEN 'best_case' ELSE 'pipeline' END,
    CASE WHEN kind = 'open' THEN (now() + (r_close * 150 - 20) * interval '1 day')::date
         ELSE (created_at + (10 + r_close * 140) * interval '1 day')::date END,
    CASE WHEN kind <> 'open' THEN least(now(), created_at + (10 + r_close * 140) * interval '1 day') END,
    CASE WHEN kind = 'lost' THEN {_pick("%(lost_reasons)s::text[]", "r_close")} ELSE '' END,
    NULL, 1, account_id, lead_id, owner_id, %(pipeline)s, stage_id, '', source_id, campaign_id
FROM (
    SELECT x.*, acc.name AS account_name,
        CASE WHEN x.r_owner < 0.85 THEN acc.owner_id ELSE {_pick("%(reps)s::bigint[]", "x.r_owner2")} END AS owner_id,
        CASE WHEN x.kind = 'open' THEN least(now() - interval '1 day',
                 greatest(acc.created_at, now() - x.r_created * 120 * interval '1 day'))
             ELSE greatest(acc.created_at, now() - x.r_created * %(days)s * interval '1 day') END AS created_at,
        CASE WHEN x.type = 'new_business' AND x.r_lead < 0.4 THEN l.id END AS lead_id,
        CASE WHEN x.type = 'new_business' AND x.r_lead < 0.4 THEN l.source_id END AS source_id,
        CASE WHEN x.type = 'new_business' AND x.r_lead < 0.4 THEN l.campaign_id END AS campaign_id,
        round((exp(x.r_amount * 4 + 7))::numeric, -2) AS amount
    FROM (
        SELECT *,
            (%(stage_ids)s::bigint[])[stage_index] AS stage_id, (%(stage_kinds)s::text[])[stage_index] AS kind,
            (%(stage_probabilities)s::text[])[stage_index]::numeric AS probability,
            CASE WHEN r_type < 0.7 THEN 'new_business' WHEN r_type < 0.9 THEN 'renewal' ELSE 'expansion' END AS type,
            CASE WHEN r_type < 0.7 THEN 'New business' WHEN r_type < 0.9 THEN 'Renewal' ELSE 'Expansion' END
                AS type_label
        FROM (
            SELECT g, (%(first_account)s + floor(random() * %(accounts)s))::bigint AS account_id,
                (%(first_lead)s + floor(random() * %(leads)s))::bigint AS lead_pick,
                CASE WHEN r < 0.08 THEN 1 WHEN r < 0.14 THEN 2 WHEN r < 0.19 THEN 3 WHEN r < 0.22 THEN 4
                     WHEN r < 0.55 THEN 5 ELSE 6 END AS stage_index,
                random() AS r_type, random() AS r_owner, random() AS r_owner2, random() AS r_close,
                random() AS r_created, random() AS r_lead, random() AS r_amount
            FROM (SELECT g, random() AS r FROM generate_series(%(start)s, %(stop)s) AS g) s
        ) a
    ) x
    JOIN accounts_account acc ON acc.id = x.account_id
    LEFT JOIN leads_lead l ON l.id = x.lead_pick AND l.status = 'converted'
) y
"""  # noqa: S608 -- SQL text from module constants; every value is a bound %(name)s parameter

ACTIVITIES_SQL = f"""
INSERT INTO accounts_activity (
    tenant_id, created_at, updated_at, external_id, kind, subject, body, occurred_at, due_at, done, deleted_at,
    account_id, lead_id, owner_id, contact_id, opportunity_id, outcome
)
SELECT %(tenant)s, coalesce(occurred_at, due_at - interval '3 days'), coalesce(occurred_at, due_at - interval '3 days'),
    '', kind, initcap(kind) || ' ' || subject, '', occurred_at, due_at, done, NULL,
    account_id, lead_id, owner_id, NULL, opportunity_id, ''
FROM (
    SELECT y.*,
        CASE WHEN done THEN least(now(), since + (now() - since) * power(r_when, 0.6)) END AS occurred_at,
        CASE WHEN kind = 'task' THEN
                 CASE WHEN done THEN least(now(), since + (now() - since) * power(r_when, 0.6)) + interval '1 day'
                      ELSE now() + (r_when * 30 - 10) * interval '1 day' END END AS due_at
    FROM (
        SELECT x.kind, x.subject, x.r_when,
            x.kind <> 'task' OR x.r_done < 0.6 AS done,
            coalesce(l.owner_id, o.owner_id, acc.owner_id, {_pick("%(reps)s::bigint[]", "x.r_done")}) AS owner_id,
            l.id AS lead_id, o.id AS opportunity_id, coalesce(o.account_id, acc.id) AS account_id,
            coalesce(l.created_at, o.created_at, acc.created_at) AS since
        FROM (
            SELECT g, r_link,
                CASE WHEN r_kind < 0.35 THEN 'call' WHEN r_kind < 0.65 THEN 'email' WHEN r_kind < 0.8 THEN 'meeting'
                     WHEN r_kind < 0.9 THEN 'note' ELSE 'task' END AS kind,
                {_pick("%(subjects)s::text[]", "r_subject")} AS subject,
                CASE WHEN r_link < 0.5 THEN (%(first_lead)s + floor(r_target * %(leads)s))::bigint END AS lead_id,
                CASE WHEN r_link >= 0.5 AND r_link < 0.85
                     THEN (%(first_account)s + floor(r_target * %(accounts)s))::bigint END AS account_id,
                CASE WHEN r_link >= 0.85 THEN (%(first_deal)s + floor(r_target * %(deals)s))::bigint END AS deal_id,
                r_when, r_done
            FROM (
                SELECT g, random() AS r_link, random() AS r_kind, random() AS r_subject, random() AS r_target,
                    random() AS r_when, random() AS r_done
                FROM generate_series(%(start)s, %(stop)s) AS g
            ) a
        ) x
        LEFT JOIN leads_lead l ON l.id = x.lead_id
        LEFT JOIN accounts_account acc ON acc.id = x.account_id
        LEFT JOIN accounts_opportunity o ON o.id = x.deal_id
    ) y
) z
"""  # noqa: S608 -- SQL text from module constants; every value is a bound %(name)s parameter

POOL_EVENTS_SQL = """
INSERT INTO leads_leadpoolevent (tenant_id, created_at, updated_at, kind, at, idle_days, lead_id, user_id)
SELECT %(tenant)s, at, at, kind, at, idle_days, lead_id, user_id
FROM (
    SELECT 'returned' AS kind, pooled_at AS at, 30 AS idle_days, id AS lead_id,
        (%(reps)s::bigint[])[1 + floor(random() * cardinality(%(reps)s::bigint[]))::int] AS user_id
    FROM leads_lead WHERE tenant_id = %(tenant)s AND pooled_at IS NOT NULL
    UNION ALL
    SELECT 'claimed', claimed_at, NULL, id, owner_id
    FROM leads_lead WHERE tenant_id = %(tenant)s AND claimed_at IS NOT NULL
) ev
"""

SUBJECTS = [
    "intro",
    "follow-up",
    "pricing question",
    "demo",
    "proposal review",
    "contract",
    "onboarding",
    "check-in",
    "renewal",
    "technical questions",
    "reference call",
    "quote sent",
    "needs analysis",
]
CITIES = [
    "Shanghai",
    "Suzhou",
    "Hangzhou",
    "Nanjing",
    "Shenzhen",
    "Guangzhou",
    "Beijing",
    "Chengdu",
    "Wuhan",
    "Munich",
    "Berlin",
    "Hamburg",
    "Frankfurt",
    "Stuttgart",
    "Leipzig",
    "Cologne",
]


BULK_TABLES = [
    "leads_lead",
    "leads_leadevent",
    "leads_leadpoolevent",
    "accounts_account",
    "accounts_accountevent",
    "accounts_contact",
    "accounts_contactevent",
    "accounts_opportunity",
    "accounts_opportunityevent",
    "accounts_activity",
    "accounts_activityevent",
    "crm_search_entry",
]


def _history_models() -> list[tuple[type[models.Model], type[models.Model]]]:
    """(tracked model, its django-pghistory event model) pairs."""
    pairs = []
    for model in apps.get_models():
        names = {f.name for f in model._meta.concrete_fields}
        if "pgh_obj" in names:
            pairs.append((model._meta.get_field("pgh_obj").remote_field.model, model))
    return pairs


@contextmanager
def bulk_load() -> Iterator[None]:
    """Load the way one restores a dump: secondary indexes dropped and rebuilt once at the end (a rebuild is far
    cheaper than maintaining 15 indexes, two of them trigram GIN, row by row), and the row-by-row history triggers
    off while `write_history` adds the same insert events set-based. Constraints (primary, unique, foreign keys)
    stay on. The end state has exactly the indexes the migrations created."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
            WHERE t.relname = ANY(%s) AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            """,
            [BULK_TABLES],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        for model, _event in _history_models():
            cursor.execute(f'ALTER TABLE "{model._meta.db_table}" DISABLE TRIGGER USER')
    try:
        yield
    finally:
        began = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '1GB'")
            for model, _event in _history_models():
                cursor.execute(f'ALTER TABLE "{model._meta.db_table}" ENABLE TRIGGER USER')
            for _name, definition in indexes:
                cursor.execute(definition)
            cursor.execute("RESET maintenance_work_mem")
        _say(f"  {len(indexes)} indexes rebuilt: {time.monotonic() - began:.0f} s")


def write_history(tenant: Tenant) -> None:
    """The insert event of every row, as django-pghistory's trigger writes it (stamped with the row's creation)."""
    for model, event in _history_models():
        columns = [f.column for f in event._meta.concrete_fields if not f.name.startswith("pgh_")]
        quoted = ", ".join(f'"{c}"' for c in columns)
        began = time.monotonic()
        with tenant_context(tenant):
            _fast_transaction()
            rows = _execute(
                f'INSERT INTO "{event._meta.db_table}" ({quoted}, pgh_created_at, pgh_label, pgh_obj_id, '  # noqa: S608 -- table and column names from the models' _meta; the tenant is bound
                f"pgh_context_id) SELECT {quoted}, created_at, 'insert', id, NULL "
                f'FROM "{model._meta.db_table}" WHERE tenant_id = %(tenant)s',
                {"tenant": tenant.pk},
            )
        _say(f"  history {event._meta.db_table}: {rows:,} ({time.monotonic() - began:.0f} s)")


def write_search_entries(tenant: Tenant) -> None:
    """The global search's entries (crm_search_entry), which the triggers would have written row by row: the same
    set-based INSERT ... SELECT as the migrations that added the triggers (their user triggers are off here)."""
    leads_migration = importlib.import_module("leads.migrations.0011_search_entry_triggers")
    accounts_migration = importlib.import_module("accounts.migrations.0010_search_entry_triggers")
    sources = [("lead", leads_migration.BACKFILL_SQL), *accounts_migration.BACKFILL.items()]
    for kind, select_sql in sources:
        began = time.monotonic()
        with tenant_context(tenant), connection.cursor() as cursor:
            _fast_transaction()
            rows = search_index.backfill(cursor, select_sql, kind=kind, tenant_ids=[tenant.pk])
        _say(f"  search entries {kind}: {rows:,} ({time.monotonic() - began:.0f} s)")


def _id_range(table: str, tenant: Tenant) -> tuple[int, int]:
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id), count(*) FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608 -- callers pass literal table names; the tenant is bound
        first, count = cursor.fetchone()
    return int(first or 0), int(count or 0)


def generate_tenant(*, slug: str, name: str, scale: Scale, seed: float) -> Tenant:
    """Create one tenant with `scale` rows, everything set-based. Returns the tenant."""
    _say(
        f"tenant {slug}: {scale.leads:,} leads, {scale.accounts:,} accounts, {scale.contacts:,} contacts, "
        f"{scale.deals:,} deals, {scale.activities:,} activities"
    )
    tenant, people = create_people(slug=slug, name=name, scale=scale)
    sources, campaigns, campaign_sources = create_sources_and_campaigns(tenant=tenant, scale=scale)
    reps = [u.pk for u in people.reps]
    managers = [u.pk for u in people.managers]
    common = {
        "tenant": tenant.pk,
        "days": DAYS,
        "reps": reps,
        "managers": managers,
        "first_names": [n.capitalize() for n in FIRST_NAMES],
        "last_names": [n.capitalize() for n in LAST_NAMES],
        "words": COMPANY_WORDS,
        "trades": TRADES,
        "suffixes": SUFFIXES,
        "titles": TITLES,
        "regions": REGIONS,
        "industries": INDUSTRIES,
        "sizes": SIZE_BANDS,
        "salt": int(seed * 1_000_000) % 1000,
    }

    def in_tenant(sql: str, params: dict, start: int, stop: int) -> None:
        with tenant_context(tenant):
            _fast_transaction()
            _execute("SELECT setseed(%s)", [((seed * 1000 + start) % 1000) / 1000])
            _execute(sql, {**common, **params, "start": start, "stop": stop})

    _timed(
        "leads",
        scale.leads,
        lambda a, b: in_tenant(
            LEADS_SQL,
            {
                "sources": sources,
                "campaigns": campaigns,
                "campaign_sources": campaign_sources,
                "disqualify_reasons": DISQUALIFY_REASONS,
                "domains": EMAIL_DOMAINS,
            },
            a,
            b,
        ),
    )
    with tenant_context(tenant), connection.cursor() as cursor:
        from leads.services.duplicates import lead_fill_duplicate_keys

        # The duplicate keys (phone tail, normalized company) the services derive, so duplicate checks measure
        # the real index paths.
        lead_fill_duplicate_keys(tenant_id=tenant.pk, cursor=cursor)
    _timed("accounts", scale.accounts, lambda a, b: in_tenant(ACCOUNTS_SQL, {"cities": CITIES}, a, b))
    first_account, accounts = _id_range("accounts_account", tenant)
    with tenant_context(tenant):
        _fast_transaction()
        _execute(ACCOUNT_PARENTS_SQL, {"tenant": tenant.pk, "first": first_account, "count": accounts})
    _timed(
        "contacts",
        scale.contacts,
        lambda a, b: in_tenant(CONTACTS_SQL, {"first_account": first_account, "accounts": accounts}, a, b),
    )
    first_lead, leads = _id_range("leads_lead", tenant)
    with tenant_context(tenant):
        from accounts.models import Pipeline, Stage

        pipeline = Pipeline.objects.get(tenant=tenant, is_default=True)
        stages = list(Stage.objects.filter(tenant=tenant, pipeline=pipeline).order_by("order", "id"))
    _timed(
        "deals",
        scale.deals,
        lambda a, b: in_tenant(
            DEALS_SQL,
            {
                "first_account": first_account,
                "accounts": accounts,
                "first_lead": first_lead,
                "leads": leads,
                "pipeline": pipeline.pk,
                "currency": tenant.currency,
                "stage_ids": [s.pk for s in stages],
                "stage_kinds": [s.kind for s in stages],
                "stage_probabilities": [str(s.probability) for s in stages],
                "lost_reasons": LOST_REASONS,
            },
            a,
            b,
        ),
    )
    first_deal, deals = _id_range("accounts_opportunity", tenant)
    _timed(
        "activities",
        scale.activities,
        lambda a, b: in_tenant(
            ACTIVITIES_SQL,
            {
                "first_lead": first_lead,
                "leads": leads,
                "first_account": first_account,
                "accounts": accounts,
                "first_deal": first_deal,
                "deals": deals,
                "subjects": SUBJECTS,
            },
            a,
            b,
        ),
    )
    with tenant_context(tenant):
        _fast_transaction()
        _execute(POOL_EVENTS_SQL, {"tenant": tenant.pk, "reps": reps})
    return tenant


def analyze() -> None:
    """Fresh statistics and visibility maps (index-only scans), as autovacuum would have after a while."""
    began = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    _say(f"  vacuum analyze: {time.monotonic() - began:.0f} s")
