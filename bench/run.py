"""Benchmark of the sales workspace at a million leads: `make bench` (or `.venv/bin/python bench/run.py`).

Creates (or reuses) the separate database `crm_bench` on the PostgreSQL the app uses (DATABASE_URL, else the
embedded server), migrates it, generates one large tenant and one small one set-based, then measures the main
pages with Django's test Client as an admin, a sales manager and a rep and prints a table: median and p95 server
time, SQL query count, database time and the slowest statement. EXPLAIN (ANALYZE, BUFFERS) of the main inbox
queries shows whether they use an index (no Seq Scan over leads_lead). See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BIG = "bench"
SMALL = "bench-small"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads of the large tenant (default 1M)")
    parser.add_argument("--reuse", action="store_true", help="reuse the generated data if it is there")
    parser.add_argument("--database", default="crm_bench", help="benchmark database name (default crm_bench)")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per page (default 15)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed requests per page first (default 2)")
    parser.add_argument(
        "--deep", type=int, default=200, help="page number of the deep-page cases (default 200)"
    )
    parser.add_argument("--only", default="", help="measure only cases whose name matches this regex")
    parser.add_argument("--no-explain", action="store_true", help="skip the EXPLAIN section")
    parser.add_argument(
        "--plans",
        action="store_true",
        help="print full EXPLAIN plans (and the slowest statement of slow pages)",
    )
    parser.add_argument("--json", default="", help="also write the figures to this JSON file")
    parser.add_argument(
        "--owner-role",
        action="store_true",
        help="the two-role layout of production (crm/dbroles.py): the owner role (DATABASE_ADMIN_URL assuming "
        "DATABASE_OWNER_ROLE) owns the database, migrates it and loads the data; the pages run as the app role",
    )
    return parser.parse_args(argv)


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def setup_django(args: argparse.Namespace) -> bool:
    """Point the app at the benchmark database and start Django. True when the database is new."""
    from bench import db

    url = db.bench_url(args.database)
    created = db.ensure_database(args.database, recreate=not args.reuse)
    os.environ["DATABASE_URL"] = url
    if args.owner_role:
        # Production's layout: the owner role owns everything (an existing single-role database is adopted) and
        # the global search's SECURITY DEFINER function runs as it (crm/search_index.py).
        adopt_as_owner(args.database)
        os.environ.pop("DATABASE_OWNER_URL", None)
    else:
        # The single-role layout (the app role owns the database and migrates it): the data generator drops
        # indexes, disables triggers and vacuums, which the production app role may not.
        os.environ["DATABASE_OWNER_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    # Production-like request handling (no debug query log), and no shared broker or cache: tasks run in-process.
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    # The isolation check asks for pages it must not get (404s are the point), and static files are not built.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="No directory at")
    host = url.split("@")[-1]
    out(f"benchmark database: {host} ({'new' if created else 'reused'})")
    return created


def adopt_as_owner(database: str) -> None:
    """The owner role (crm/dbroles.py) and the database moved to it, as `python -m crm.dbroles` does."""
    from crm import dbroles

    admin = os.environ.get("DATABASE_ADMIN_URL", "")
    if not admin:
        raise SystemExit("--owner-role needs DATABASE_ADMIN_URL (a superuser URL)")
    owner = os.environ.get("DATABASE_OWNER_ROLE", dbroles.DEFAULT_OWNER_ROLE)
    app_role = urlsplit(os.environ["DATABASE_URL"]).username or dbroles.DEFAULT_APP_ROLE
    dbroles.ensure_owner_role(admin, owner_role=owner)
    dbroles.prepare_database(admin, database, app_role=app_role, owner_role=owner)


def migrate() -> None:
    from django.core.management import call_command

    began = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    out(f"migrated in {time.monotonic() - began:.0f} s")


def setup_fresh(args: argparse.Namespace) -> None:
    from django.db import connections

    from bench import db

    connections.close_all()
    db.ensure_database(args.database, recreate=True)
    if args.owner_role:
        adopt_as_owner(args.database)
    migrate()


MARK = "crm benchmark data complete: {leads} leads"


def has_data(database: str, leads: int) -> bool:
    """Generation finished (it marks the database last), for this number of leads."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [database]
        )
        row = cursor.fetchone()
    return bool(row) and row[0] == MARK.format(leads=leads)


def generate(args: argparse.Namespace) -> None:
    from django.db import connection

    from bench import generate as gen

    began = time.monotonic()
    with gen.bulk_load():
        big = gen.generate_tenant(
            slug=BIG, name="Bench Industries", scale=gen.Scale(leads=args.leads), seed=0.17
        )
        small = gen.generate_tenant(
            slug=SMALL,
            name="Bench Small",
            scale=gen.Scale(leads=2000, teams=2, reps_per_team=3, campaigns=8),
            seed=0.71,
        )
        gen.write_history(big)
        gen.write_history(small)
        gen.write_search_entries(big)
        gen.write_search_entries(small)
    gen.analyze()
    with connection.cursor() as cursor:
        cursor.execute(f'COMMENT ON DATABASE "{args.database}" IS %s', [MARK.format(leads=args.leads)])
    out(f"generated in {time.monotonic() - began:.0f} s")


# --- what is measured ---------------------------------------------------------------------------------------------


@dataclass
class World:
    tenant: Any
    admin: Any
    manager: Any
    rep: Any
    campaign_id: int
    team_rep_id: int
    lead_id: int
    rep_lead_id: int
    account_id: int
    email: str
    phone_digits: str
    phone_spaced: str
    month_from: str
    month_to: str


def load_world() -> World:
    from django.db.models import Count

    from accounts.models import Account, Opportunity
    from crm.dates import tenant_today
    from crm.models import Tenant, User
    from crm.tenancy import tenant_context
    from leads.models import Campaign, Lead

    tenant = Tenant.objects.get(slug=BIG)
    with tenant_context(tenant):
        admin = User.objects.get(email=f"admin@{BIG}.test")
        manager = User.objects.get(email=f"manager1@{BIG}.test")
        rep = User.objects.get(email=f"rep1-1@{BIG}.test")
        team_rep = User.objects.get(email=f"rep1-2@{BIG}.test")
        campaigns = list(
            Campaign.objects.filter(tenant=tenant).order_by("start_date").values_list("pk", flat=True)
        )
        rep_leads = Lead.objects.filter(tenant=tenant, owner=rep, status="working").order_by("-created_at")
        rep_lead = rep_leads.annotate(n=Count("activities")).order_by("-n", "-pk")[:1].get()
        other = Lead.objects.filter(tenant=tenant, status="sql").order_by("-created_at")[:1].get()
        parents = (
            Opportunity.objects.filter(
                tenant=tenant,
                account_id__in=Account.objects.filter(tenant=tenant).order_by("pk").values("pk")[:1000],
            )
            .values("account_id")
            .annotate(n=Count("pk"))
            .order_by("-n")[:1]
        )
        account_id = parents[0]["account_id"]
        sample = Lead.objects.filter(tenant=tenant).order_by("pk")[5000:5001].get()
        digits = re.sub(r"\D", "", sample.phone)
        national = digits[2:] if digits.startswith("86") else digits
    today = tenant_today(tenant)
    month_from = (today - datetime.timedelta(days=200)).replace(day=1)
    month_to = (month_from + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    return World(
        tenant=tenant,
        admin=admin,
        manager=manager,
        rep=rep,
        campaign_id=campaigns[len(campaigns) * 3 // 4],
        team_rep_id=team_rep.pk,
        lead_id=other.pk,
        rep_lead_id=rep_lead.pk,
        account_id=account_id,
        email=sample.email,
        phone_digits=digits[-8:],
        phone_spaced=f"{national[:3]} {national[3:7]} {national[7:]}",
        month_from=month_from.isoformat(),
        month_to=month_to.isoformat(),
    )


LIST_MS = 150
SEARCH_MS = 300


def cases(w: World, deep: int) -> list[dict]:
    """(name, role, url, target) of every measured page. `deep` marks a page reached by following Next links."""
    t = f"/t/{BIG}"
    api = f"/api/v1/t/{BIG}"
    inbox = f"{t}/leads/"
    found: list[dict] = []

    def add(
        name: str,
        role: str,
        url: str,
        target: float = LIST_MS,
        deep_pages: int = 0,
        api_: bool = False,
        headers: dict | None = None,
    ):  # type: ignore[no-untyped-def]
        found.append(
            {
                "name": name,
                "role": role,
                "url": url,
                "target": target,
                "deep": deep_pages,
                "api": api_,
                "headers": headers or {},
            }
        )

    add("inbox", "admin", inbox)
    add("inbox status=working", "admin", f"{inbox}?status=working")
    add("inbox status=new,mql (2)", "admin", f"{inbox}?status=new&status=mql")
    add("inbox source_kind=incentive", "admin", f"{inbox}?source_kind=incentive")
    add("inbox campaign", "admin", f"{inbox}?campaign={w.campaign_id}")
    add("inbox owner=rep", "admin", f"{inbox}?owner={w.rep.pk}")
    add("inbox owner=pool", "admin", f"{inbox}?owner=none")
    add("inbox region=Saxony", "admin", f"{inbox}?region=Saxony")
    add("inbox score 90..100", "admin", f"{inbox}?score_min=90")
    add("inbox score 40..60", "admin", f"{inbox}?score_min=40&score_max=60")
    add("inbox created one month", "admin", f"{inbox}?created_from={w.month_from}&created_to={w.month_to}")
    add("inbox status+kind+region", "admin", f"{inbox}?status=working&source_kind=inbound&region=Shanghai")
    add("search common 'zhang'", "admin", f"{inbox}?q=zhang", SEARCH_MS)
    add("search company 'tyrell robotics'", "admin", f"{inbox}?q=tyrell+robotics", SEARCH_MS)
    add("search email (one lead)", "admin", f"{inbox}?q={w.email}", SEARCH_MS)
    add("search phone digits", "admin", f"{inbox}?q={w.phone_digits}", SEARCH_MS)
    add("search no match 'xyzzyq'", "admin", f"{inbox}?q=xyzzyq", SEARCH_MS)
    for sort in ["-created", "created", "-score", "-activity", "company"]:
        add(f"inbox sort={sort}", "admin", f"{inbox}?sort={sort}")
    add(f"inbox page {deep}", "admin", inbox, deep_pages=deep)
    add(f"inbox sort=-score page {deep}", "admin", f"{inbox}?sort=-score", deep_pages=deep)
    add(f"inbox sort=company page {deep}", "admin", f"{inbox}?sort=company", deep_pages=deep)
    add("inbox (my)", "manager", inbox)
    add("inbox team", "manager", f"{inbox}?scope=team")
    add("inbox team status=working", "manager", f"{inbox}?scope=team&status=working")
    add("inbox team owner=rep", "manager", f"{inbox}?scope=team&owner={w.team_rep_id}")
    add("inbox team sort=-score", "manager", f"{inbox}?scope=team&sort=-score")
    add("inbox team sort=company", "manager", f"{inbox}?scope=team&sort=company")
    add("search team 'zhang'", "manager", f"{inbox}?scope=team&q=zhang", SEARCH_MS)
    add(f"inbox team page {deep}", "manager", f"{inbox}?scope=team", deep_pages=deep)
    add("inbox (my)", "rep", inbox)
    add("inbox status=working", "rep", f"{inbox}?status=working")
    add("inbox sort=-score", "rep", f"{inbox}?sort=-score")
    add("inbox sort=-activity", "rep", f"{inbox}?sort=-activity")
    add("inbox sort=company", "rep", f"{inbox}?sort=company")
    add("search 'zhang'", "rep", f"{inbox}?q=zhang", SEARCH_MS)
    add(f"inbox page {deep}", "rep", inbox, deep_pages=deep)
    add("lead page", "admin", f"{t}/leads/{w.lead_id}/")
    add("lead page", "rep", f"{t}/leads/{w.rep_lead_id}/")
    add("pool", "admin", f"{t}/pool/")
    add("pool", "manager", f"{t}/pool/")
    add("pool", "rep", f"{t}/pool/")
    add("deal board", "admin", f"{t}/deal-board/")
    add("deal board", "manager", f"{t}/deal-board/")
    add("deal board", "rep", f"{t}/deal-board/")
    add("deal list", "admin", f"{t}/deals/")
    add("deal list status=open", "admin", f"{t}/deals/?status=open")
    for sort in ["-amount", "name", "close"]:
        add(f"deal list sort={sort}", "admin", f"{t}/deals/?sort={sort}")
    add(f"deal list page {deep}", "admin", f"{t}/deals/", deep_pages=deep)
    add("deal list", "manager", f"{t}/deals/")
    add("deal list", "rep", f"{t}/deals/")
    add("account list", "admin", f"{t}/accounts/")
    add("account list tier=key", "admin", f"{t}/accounts/?tier=key")
    add("account search 'tyrell'", "admin", f"{t}/accounts/?q=tyrell", SEARCH_MS)
    add("account list", "manager", f"{t}/accounts/")
    add("account list", "rep", f"{t}/accounts/")
    add("account 360", "admin", f"{t}/accounts/{w.account_id}/")
    add("contact list", "admin", f"{t}/contacts/")
    add("API leads", "admin", f"{api}/leads/", api_=True)
    add("API leads status=working", "admin", f"{api}/leads/?status=working", api_=True)
    add("API leads q=zhang", "admin", f"{api}/leads/?q=zhang", SEARCH_MS, api_=True)
    add("API leads q=xyzzyq (no match)", "admin", f"{api}/leads/?q=xyzzyq", SEARCH_MS, api_=True)
    add(f"API leads page {deep}", "admin", f"{api}/leads/", deep_pages=deep, api_=True)
    add("API leads", "rep", f"{api}/leads/", api_=True)
    # Global search (the top bar): the dropdown htmx asks for as you type, for each role, and the API.
    rare = w.email.split("@")[0]
    searches = [
        ("common 'zhang'", "zhang"),
        ("rare (an email's name)", rare),
        ("phone '1xx xxxx xxxx'", w.phone_spaced),
        ("no match 'xyzzyq'", "xyzzyq"),
        ("中文 '张伟'", "张伟"),
    ]
    dropdown = {"HX-Request": "true"}
    for role in ("admin", "manager", "rep"):
        for label, query in searches:
            add(
                f"global search {label}",
                role,
                f"{t}/search/?{urlencode({'q': query, 'dropdown': '1'})}",
                SEARCH_MS,
                headers=dropdown,
            )
    add("global search page 'zhang'", "admin", f"{t}/search/?q=zhang", SEARCH_MS)
    add("API search 'zhang'", "admin", f"{api}/search/?q=zhang", SEARCH_MS, api_=True)
    add("API search no match 'xyzzyq'", "admin", f"{api}/search/?q=xyzzyq", SEARCH_MS, api_=True)
    return found


def load() -> str:
    """The machine's load average (1, 5, 15 min) and cores: timings mean little on a machine busy elsewhere."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


def check_isolation(w: World) -> list[str]:
    """RLS keeps the small tenant apart: its admin sees only its own leads and gets 404 for a big-tenant lead, and
    raw SQL in its transaction sees none of the big tenant's rows."""
    from django.db import connection

    from bench.measure import client_for
    from crm.models import Tenant, User
    from crm.tenancy import tenant_context

    problems = []
    small = Tenant.objects.get(slug=SMALL)
    small_admin = User.objects.get(email=f"admin@{SMALL}.test")
    client = client_for(small_admin)
    if client.get(f"/t/{SMALL}/leads/{w.lead_id}/").status_code != 404:
        problems.append("a big-tenant lead did not give 404 in the small tenant")
    if client.get(f"/t/{BIG}/leads/").status_code != 404:
        problems.append("the small tenant's admin could open the big tenant")
    with tenant_context(small), connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE tenant_id <> %s) FROM leads_lead", [small.pk])
        total, foreign = cursor.fetchone()
    if foreign:
        problems.append(f"raw SQL in the small tenant saw {foreign} foreign leads")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM leads_lead")
        (unscoped,) = cursor.fetchone()
    if unscoped:
        problems.append(f"raw SQL with no tenant saw {unscoped} leads")
    out(
        f"RLS isolation: small tenant sees {total:,} leads of its own, 0 foreign, 0 with no tenant: "
        + ("ok" if not problems else "FAILED: " + "; ".join(problems))
    )
    return problems


def row_counts(tenant: Any) -> str:
    from django.db import connection

    from crm.tenancy import tenant_context

    parts = []
    with tenant_context(tenant), connection.cursor() as cursor:
        for table in [
            "leads_lead",
            "accounts_account",
            "accounts_contact",
            "accounts_opportunity",
            "accounts_activity",
            "leads_leadevent",
        ]:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 -- table names from the literal list above
            parts.append(f"{table} {cursor.fetchone()[0]:,}")
    return ", ".join(parts)


def run_cases(args: argparse.Namespace, w: World) -> list:
    from bench.measure import client_for, follow_pages, measure

    clients = {"admin": client_for(w.admin), "manager": client_for(w.manager), "rep": client_for(w.rep)}
    only = re.compile(args.only) if args.only else None
    results = []
    header = (
        f"{'page':<36} {'role':<8} {'median':>8} {'p95':>8} {'app cpu':>8} {'queries':>7} {'db ms':>7} "
        f"{'slowest q':>9}  target"
    )
    out()
    out(f"load average before: {load()}")
    out(header)
    out("-" * len(header))
    for case in cases(w, args.deep):
        label = f"{case['name']} {case['role']}"
        if only and not only.search(label):
            continue
        client = clients[case["role"]]
        url = case["url"]
        note = ""
        if case["deep"]:
            reached = follow_pages(client, url, case["deep"], api=case["api"])
            if reached is None:
                out(f"{case['name']:<36} {case['role']:<8} (fewer than {case['deep']} pages)")
                continue
            url = reached
            note = f"reached by following {case['deep'] - 1} Next links"
        result = measure(
            name=case["name"],
            role=case["role"],
            client=client,
            url=url,
            target_ms=case["target"],
            repeat=args.repeat,
            warmup=args.warmup,
            note=note,
            headers=case["headers"],
        )
        results.append(result)
        flag = "ok" if result.ok else ("SLOW" if result.status == 200 else f"HTTP {result.status}")
        out(
            f"{result.name[:36]:<36} {result.role:<8} {result.median:>6.0f}ms {result.p95:>6.0f}ms "
            f"{result.cpu:>6.0f}ms {result.queries:>7} {result.db_ms:>7.0f} {result.slowest_ms:>7.0f}ms  "
            f"<{result.target_ms:.0f} {flag}"
        )
    out(f"load average after: {load()}")
    if args.plans:
        from bench.measure import explain

        for result in results:
            if result.ok or not result.slowest_sql:
                continue
            plan = explain(
                tenant=w.tenant, name=result.name, sql=result.slowest_sql, params=result.slowest_params
            )
            out()
            out(f"slowest statement of {result.name} ({result.role}), {result.slowest_ms:.0f} ms:")
            out("    " + result.slowest_sql[:2000])
            out("\n".join("    " + line for line in plan.lines))
    return results


# A Seq Scan under a LIMIT that stops after a few thousand rows is cheap; one that reads this many is not.
BIG_SCAN = 100_000
EXPLAINED = [
    ("inbox", "admin"),
    ("inbox status=working", "admin"),
    ("inbox source_kind=incentive", "admin"),
    ("inbox campaign", "admin"),
    ("inbox owner=rep", "admin"),
    ("inbox region=Saxony", "admin"),
    ("inbox score 90..100", "admin"),
    ("inbox created one month", "admin"),
    ("search common 'zhang'", "admin"),
    ("search email (one lead)", "admin"),
    ("search no match 'xyzzyq'", "admin"),
    ("inbox sort=-score", "admin"),
    ("inbox sort=-activity", "admin"),
    ("inbox sort=company", "admin"),
    ("inbox team", "manager"),
    ("inbox (my)", "rep"),
    ("pool", "admin"),
]


def run_explain(args: argparse.Namespace, w: World) -> list:
    from bench.measure import client_for, explain, lead_queries

    clients = {"admin": client_for(w.admin), "manager": client_for(w.manager), "rep": client_for(w.rep)}
    wanted = {(case["name"], case["role"]): case for case in cases(w, args.deep)}
    plans = []
    out()
    out("EXPLAIN (ANALYZE, BUFFERS) of the leads_lead statements of the main inbox pages")
    header = f"{'page':<36} {'role':<8} {'query':<6} {'exec':>8}  {'seq scan on leads?':<22} indexes"
    out(header)
    out("-" * len(header))
    for name, role in EXPLAINED:
        case = wanted[(name, role)]
        for _ms, sql, params in lead_queries(clients[role], case["url"])[:2]:
            kind = "rows"
            if sql.lstrip().upper().startswith("SELECT COUNT"):
                kind = "count"
            elif sql.lstrip().startswith('SELECT "leads_lead"."id" FROM'):
                kind = "ids"  # the capped count read as ids (lead_inbox_page, filter_search)
            plan = explain(tenant=w.tenant, name=f"{name} ({role}) {kind}", sql=sql, params=params)
            plans.append(plan)
            seq = f"SEQ SCAN {plan.lead_rows_scanned:,} rows" if not plan.uses_index_on_leads else "no"
            out(
                f"{name[:36]:<36} {role:<8} {kind:<6} {plan.execution_ms:>6.1f}ms  {seq:<22} "
                + ", ".join(plan.indexes)
            )
            if args.plans:
                out("\n".join("    " + line for line in plan.lines))
    return plans


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    created = setup_django(args)
    migrate()
    if not created and not has_data(args.database, args.leads):
        out("no complete benchmark data for this --leads: starting over")
        setup_fresh(args)
        created = True
    if created:
        from crm.dbroles import as_owner

        with as_owner():  # the owner role with --owner-role (it owns the tables); else nothing changes
            generate(args)
    from crm.models import Tenant

    world = load_world()
    out(f"tenant {BIG}: {row_counts(world.tenant)}")
    out(f"tenant {SMALL}: {row_counts(Tenant.objects.get(slug=SMALL))}")
    problems = check_isolation(world)
    results = run_cases(args, world)
    plans = [] if args.no_explain else run_explain(args, world)
    slow = [r for r in results if not r.ok]
    seq = [p for p in plans if not p.uses_index_on_leads]
    big_seq = [p for p in seq if p.lead_rows_scanned > BIG_SCAN]
    out()
    out(
        f"{len(results)} pages measured, {len(slow)} over target; {len(plans)} plans, {len(seq)} with a Seq Scan "
        f"on leads_lead, {len(big_seq)} of them reading more than {BIG_SCAN:,} rows; "
        f"{time.monotonic() - began:.0f} s in all"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "leads": args.leads,
                    "results": [r.as_dict() for r in results],
                    "plans": [
                        {
                            "name": p.name,
                            "execution_ms": p.execution_ms,
                            "seq_scan_tables": p.seq_scan_tables,
                            "indexes": p.indexes,
                        }
                        for p in plans
                    ],
                },
                indent=2,
            )
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
