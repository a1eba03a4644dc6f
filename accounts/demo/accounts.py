"""Demo accounts (every tier, parents and subsidiaries), account teams, contacts and exchange rates (monthly, 13+
months).

Volume goes in with bulk_create (history triggers still record the inserts); a few showcase records go through
the services so their pages show a real change history. Deterministic for a given `rng`.

Order (accounts/demo/__init__.py): accounts seed() -> opportunities seed() -> activities seed_activities()."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.demo.words import (
    DE_CORES,
    DE_FIRST,
    DE_KINDS,
    DE_LAST,
    DE_SUFFIX,
    EN_INDUSTRIES,
    EN_REGIONS,
    EN_TITLES,
    ZH_CITIES,
    ZH_CORES,
    ZH_GIVEN,
    ZH_INDUSTRIES,
    ZH_KINDS,
    ZH_REGIONS,
    ZH_SUFFIX,
    ZH_SURNAMES,
    ZH_TITLES,
    _lang,
)
from accounts.models import Account, AccountAccess, AccountMember, Contact, ExchangeRate, SizeBand, Tier
from accounts.services import accounts as accounts_services
from accounts.services import contacts as contacts_services
from crm import normalize as crm_normalize

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


def seed(*, tenant: Any, members: dict, rng: random.Random) -> None:
    """Accounts of every tier with subsidiaries, account teams, 2-4 contacts each, monthly exchange rates."""
    lang = _lang(tenant)
    now = timezone.now()
    owners = [members[k].user for k in ("rep", "rep2", "manager") if k in members]
    industries = ZH_INDUSTRIES if lang == "zh" else EN_INDUSTRIES
    regions = ZH_REGIONS if lang == "zh" else EN_REGIONS
    sizes_by_tier: dict[str, list[SizeBand]] = {
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
            core = crm_normalize.normalize_company_name(parent.name)
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
        account.search_text = accounts_services.account_search_text(account)
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
            contact.search_text = contacts_services.contact_search_text(contact)
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
    account = accounts_services.account_create(
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
    account = accounts_services.account_update(
        tenant=tenant, actor=manager, account=account, version=account.version, tier=Tier.STRATEGIC
    )
    accounts_services.account_update(
        tenant=tenant,
        actor=admin,
        account=account,
        version=account.version,
        size_band=SizeBand.XL,
        parent=accounts[0],
    )
    twin_account = accounts_services.account_create(
        tenant=tenant, actor=rep, name=twin, domain="", industry=accounts[0].industry, owner=rep
    )
    for target, email in ((account, f"contact@{domain}"), (twin_account, f"CONTACT@{domain}")):
        contacts_services.contact_create(
            tenant=tenant,
            actor=rep,
            account=target,
            first_name=first,
            last_name=last,
            email=email,
            phone=phone if target is account else "",
            title=title,
        )
