"""Import benchmark (`make bench-imports`, `.venv/bin/python -m bench.imports --leads 20000 --activities 50000`).

In a database of its own (`crm_bench_imports`, created afresh each run), a tenant with ten members imports:
1. a leads CSV of `--leads` rows (default 100,000): names, 中文 companies, emails, statuses, owners, sources,
   historical timestamps;
2. an activities CSV of `--activities` rows (default 1,000,000) on those leads (calls, emails, meetings, notes);
3. with `--feedback N`, an accounts CSV (one account per 50 answers) and a feedback CSV of N NPS/CSAT answers on
   them (no target; `--one-by-one` writes every row through import_row, as before the set writes, to compare);
4. with `--subscriptions N`, `--deals N`, `--quotas N` or `--campaigns N`, files of those kinds (subscriptions and
   deals on the accounts, which are then one per 50 of the largest of feedback, subscriptions and deals, or
   `--accounts N`; quotas one per member and month), held to the leads' bar of 5,000 rows per second.

Each file is generated to disk, streamed in (as an upload is: stored to the media folder, read row by row) and
run by the import runner exactly as the worker runs it (`imports.services.import_job_run`, chunk by chunk, every
row through the kinds' services and their rules). Printed for each: rows per second of the import, rows per
second of PostgreSQL's COPY of the same file into a plain table of text columns (the floor any import is
measured against), the ratio, and the process's peak RSS after the phase (resource.getrusage; it only grows, so
a flat figure across file sizes shows memory does not grow with the file). The load average is printed too: this
machine is shared, so compare figures taken at similar loads. `--reimport` imports each file a second time, as a
team re-importing a corrected export does: every row then updates the record the first import made.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MEMBERS = 10
TARGET_LEADS = 5_000
TARGET_ACTIVITIES = 10_000
COMPANIES = ["北京字节跳动科技有限公司", "上海华为技术有限公司", "Harbor Tech", "Alpen Software", "深圳腾讯"]
STATUSES = ["new", "new", "working", "mql", "sql", "disqualified"]
SOURCES = ["Website", "Referral", "Webinar"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument(
        "--feedback",
        type=int,
        default=0,
        help="also import this many NPS/CSAT answers, on accounts imported first (one per 50 answers)",
    )
    for kind in ("subscriptions", "deals", "quotas", "campaigns"):
        parser.add_argument(f"--{kind}", type=int, default=0, help=f"also import this many {kind}")
    parser.add_argument(
        "--accounts",
        type=int,
        default=0,
        help="the accounts the feedback, subscriptions and deals are on (default: one per 50 of the largest)",
    )
    parser.add_argument(
        "--one-by-one",
        action="store_true",
        help="write every row through the kinds' import_row, as before the set writes (to compare)",
    )
    parser.add_argument("--database", default="crm_bench_imports")
    parser.add_argument("--keep-files", action="store_true", help="keep the generated CSV files")
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="do not stand in for autovacuum's ANALYZE on a server that runs without autovacuum",
    )
    parser.add_argument(
        "--reimport",
        action="store_true",
        help="also import each file a second time (every row then updates the record it made) and print that rate",
    )
    parser.add_argument(
        "--changed",
        action="store_true",
        help="with --reimport: the deals' second file changes every amount and moves the open deals a stage on",
    )
    parser.add_argument(
        "--statements",
        action="store_true",
        help="also print the time of the import's database statements per 1,000 rows (a slower run)",
    )
    return parser.parse_args(argv)


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def server_cpu_seconds() -> float | None:
    """CPU time (user + system) of the PostgreSQL server's processes on this machine, from /proc: every process
    named postgres, with the time of its children that ended (a closed connection's backend is counted by the
    postmaster that reaped it). None where no such process is visible (a server on another machine)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, found = 0, False
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        if stat[stat.index("(") + 1 : stat.rindex(")")] != "postgres":
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        # utime, stime, cutime, cstime: fields 14-17 of proc(5), the 12th-15th after the name
        total += sum(int(value) for value in fields[11:15])
        found = True
    return total / tick if found else None


def process_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuClock:
    """CPU time per row of an import, in this process (every thread) and in the database server, and what that
    allows: with both at full use, the machine's cores give at most cores / (CPU per row) rows per second."""

    def __init__(self) -> None:
        self.process, self.server = process_cpu_seconds(), server_cpu_seconds()
        self.process_end, self.server_end = self.process, self.server

    def stop(self) -> None:
        self.process_end, self.server_end = process_cpu_seconds(), server_cpu_seconds()

    def report(self, kind: str, rows: int) -> None:
        if not rows:
            return
        process = (self.process_end - self.process) / rows * 1e6
        server_now = self.server_end
        if self.server is None or server_now is None:
            out(
                f"  {kind}: CPU per row: import process {process:.0f} µs; database server not on this machine"
            )
            return
        server = (server_now - self.server) / rows * 1e6
        cores = os.cpu_count() or 1
        out(
            f"  {kind}: CPU per row: import process {process:.0f} µs, PostgreSQL {server:.0f} µs, together "
            f"{process + server:.0f} µs: {cores} cores kept fully busy would give at most "
            f"{cores * 1e6 / (process + server):,.0f} rows/s"
        )


def setup_django(database: str) -> None:
    from bench import db

    url = db.bench_url(database)
    db.ensure_database(database, recreate=True)
    os.environ["DATABASE_URL"] = url
    os.environ["DATABASE_OWNER_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.pop("REDIS_URL", None)
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="crm-bench-imports-media-")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def write_leads(path: Path, count: int, emails: list[str]) -> None:
    rng = random.Random(10)  # noqa: S311 -- reproducible sample data, not secrets
    start = datetime.datetime(2024, 1, 1, 9, 0)  # noqa: DTZ001 (wall-clock times in the tenant's zone)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "external_id",
                "first_name",
                "last_name",
                "email",
                "company",
                "status",
                "source",
                "owner_email",
                "created_at",
            ]
        )
        for n in range(count):
            created = start + datetime.timedelta(minutes=n * 7 % (600 * 24 * 60))
            writer.writerow(
                [
                    f"L-{n}",
                    "小明" if n % 3 == 0 else "Jan",
                    f"王{n}" if n % 2 else f"Wolf{n}",
                    f"lead{n}@example.cn",
                    rng.choice(COMPANIES),
                    rng.choice(STATUSES),
                    rng.choice(SOURCES),
                    emails[n % len(emails)],
                    created.isoformat(sep=" ", timespec="minutes"),
                ]
            )


def write_activities(path: Path, count: int, leads: int, emails: list[str]) -> None:
    rng = random.Random(20)  # noqa: S311 -- reproducible sample data, not secrets
    start = datetime.datetime(2024, 1, 1, 9, 0)  # noqa: DTZ001
    kinds = ["call", "email", "meeting", "note"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["external_id", "kind", "subject", "owner_email", "occurred_at", "done", "lead_external_id"]
        )
        for n in range(count):
            writer.writerow(
                [
                    f"A-{n}",
                    kinds[n % 4],
                    "跟进电话" if n % 2 else "Follow-up",
                    emails[n % len(emails)],
                    (start + datetime.timedelta(minutes=n % (600 * 24 * 60))).isoformat(
                        sep=" ", timespec="minutes"
                    ),
                    "true",
                    f"L-{rng.randrange(leads)}",
                ]
            )


def write_accounts(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "name", "industry"])
        for n in range(count):
            writer.writerow([f"ACC-{n}", f"{COMPANIES[n % len(COMPANIES)]} {n}", ""])


def write_feedback(path: Path, count: int, accounts: int) -> None:
    rng = random.Random(30)  # noqa: S311 -- reproducible sample data, not secrets
    start = datetime.datetime(2024, 1, 1, 9, 0)  # noqa: DTZ001
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "account_external_id", "kind", "score", "comment", "received_at"])
        for n in range(count):
            nps = n % 3 != 0
            writer.writerow(
                [
                    f"F-{n}",
                    f"ACC-{rng.randrange(accounts)}",
                    "nps" if nps else "csat",
                    rng.randint(0, 10) if nps else rng.randint(1, 5),
                    "很满意" if n % 4 == 0 else "",
                    (start + datetime.timedelta(minutes=n * 13 % (600 * 24 * 60))).isoformat(
                        sep=" ", timespec="minutes"
                    ),
                ]
            )


def write_subscriptions(path: Path, count: int, accounts: int) -> None:
    rng = random.Random(31)  # noqa: S311 -- reproducible sample data, not secrets
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["external_id", "account_external_id", "plan", "mrr", "currency", "start_date", "end_date"]
        )
        for n in range(count):
            start = datetime.date(2020, 1, 1) + datetime.timedelta(days=n % 2000)
            end = start + datetime.timedelta(days=365) if n % 4 else None
            writer.writerow(
                [
                    f"S-{n}",
                    f"ACC-{rng.randrange(accounts)}",
                    "专业版" if n % 3 else "Enterprise",
                    f"{rng.randint(100, 50000)}.{n % 100:02d}",
                    "CNY",
                    start.isoformat(),
                    end.isoformat() if end else "",
                ]
            )


DEAL_STAGES = ["Qualification", "Proposal", "Closed won", "Closed lost"]


# --changed: where the second file moves each deal (the open ones a stage on; the closed ones stay).
DEAL_MOVES = {"Qualification": "Proposal", "Proposal": "Closed won"}


def write_deals(path: Path, count: int, accounts: int, emails: list[str], changed: bool = False) -> None:
    """`changed`: the same deals, each with another amount and the open ones a stage on (a move each)."""
    rng = random.Random(32)  # noqa: S311 -- reproducible sample data, not secrets
    start = datetime.datetime(2023, 1, 1, 9, 0)  # noqa: DTZ001
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["external_id", "account_external_id", "name", "stage", "amount", "currency", "owner_email"]
            + ["created_at", "closed_at", "lost_reason"]
        )
        for n in range(count):
            stage = DEAL_STAGES[n % len(DEAL_STAGES)]
            if changed:
                stage = DEAL_MOVES.get(stage, stage)
            created = start + datetime.timedelta(minutes=n * 7 % (900 * 24 * 60))
            closed = created + datetime.timedelta(days=30) if stage.startswith("Closed") else None
            writer.writerow(
                [
                    f"D-{n}",
                    f"ACC-{rng.randrange(accounts)}",
                    f"{COMPANIES[n % len(COMPANIES)]} deal {n}",
                    stage,
                    rng.randint(1000, 900000) + (1 if changed else 0),
                    "CNY",
                    emails[n % len(emails)],
                    created.isoformat(sep=" ", timespec="minutes"),
                    closed.isoformat(sep=" ", timespec="minutes") if closed else "",
                    "Price" if stage == "Closed lost" else "",
                ]
            )


def write_quotas(path: Path, count: int, emails: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "owner_email", "team", "period_start", "amount"])
        for n in range(count):
            # One quota per member and month, from January 1900 (the dates' range ends in 2200: at most 3,612
            # months for each of the ten members).
            months = n // len(emails)
            writer.writerow(
                [
                    f"Q-{n}",
                    emails[n % len(emails)],
                    "",
                    datetime.date(1900 + months // 12, months % 12 + 1, 1).isoformat(),
                    f"{(n % 97 + 1) * 1000}",
                ]
            )


def write_campaigns(path: Path, count: int) -> None:
    channels = ["email", "event", "paid_search", "social", "webinar"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["external_id", "name", "channel", "source_kind", "cost", "currency", "start_date", "end_date"]
        )
        for n in range(count):
            start = datetime.date(2020, 1, 1) + datetime.timedelta(days=n % 2000)
            writer.writerow(
                [
                    f"C-{n}",
                    f"活动 {n}",
                    channels[n % len(channels)],
                    "",
                    f"{n % 5000}.50",
                    "CNY",
                    start.isoformat(),
                    (start + datetime.timedelta(days=30)).isoformat(),
                ]
            )


def copy_rate(path: Path) -> float:
    """Rows per second of COPY of the file into a plain table of text columns (then dropped)."""
    from django.db import connection, transaction

    with path.open("r", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    rows = 0
    with transaction.atomic(), connection.cursor() as cursor:
        columns = ", ".join(f'"{name}" text' for name in header)
        cursor.execute(f"CREATE TEMP TABLE bench_plain ({columns}) ON COMMIT DROP")
        began = time.perf_counter()
        with (
            path.open("rb") as handle,
            cursor.copy("COPY bench_plain FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            while block := handle.read(1 << 20):
                copy.write(block)
        elapsed = time.perf_counter() - began
        cursor.execute("SELECT count(*) FROM bench_plain")
        rows = cursor.fetchone()[0]
    return rows / elapsed


class StatementClock:
    """Times each database statement of the import (psycopg's execute, COPY and commit), grouped by its text."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.on = False

    def add(self, key: str, began: float) -> None:
        if self.on:
            self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - began
            self.calls[key] = self.calls.get(key, 0) + 1

    def install(self) -> None:
        import contextlib
        import re

        import psycopg

        clock = self
        execute, copy, commit = psycopg.Cursor.execute, psycopg.Cursor.copy, psycopg.Connection.commit

        def key_of(query: object) -> str:
            text = query.decode() if isinstance(query, bytes) else str(query)
            text = re.sub(r"SELECT set_config\('pghistory.context_id'.*?true\); ", "", text)
            return re.sub(r"\s+", " ", text).strip()[:100]

        def timed_execute(self, query, params=None, **kwargs):  # type: ignore[no-untyped-def]
            began = time.perf_counter()
            try:
                return execute(self, query, params, **kwargs)
            finally:
                clock.add(key_of(query), began)

        @contextlib.contextmanager
        def timed_copy(self, statement, *args, **kwargs):  # type: ignore[no-untyped-def]
            began = time.perf_counter()
            with copy(self, statement, *args, **kwargs) as block:
                yield block
            clock.add(key_of(statement) + " (with the rows' formatting)", began)

        def timed_commit(self):  # type: ignore[no-untyped-def]
            began = time.perf_counter()
            try:
                return commit(self)
            finally:
                clock.add("COMMIT (deferred foreign-key checks)", began)

        psycopg.Cursor.execute = timed_execute  # type: ignore[method-assign]
        psycopg.Cursor.copy = timed_copy  # type: ignore[method-assign,assignment]
        psycopg.Connection.commit = timed_commit  # type: ignore[method-assign]

    def report(self, rows: int, wall: float) -> None:
        total = sum(self.seconds.values())
        out(f"  database statements: {total:.1f} s of the import's {wall:.1f} s; per 1,000 rows:")
        for key, seconds in sorted(self.seconds.items(), key=lambda item: -item[1])[:12]:
            out(f"    {seconds * 1000 * 1000 / rows:7.1f} ms  x{self.calls[key]:<6} {key}")
        self.seconds.clear()
        self.calls.clear()


CLOCK = StatementClock()


class AnalyzeStandIn:
    """Autovacuum's ANALYZE, where the server runs without autovacuum (this machine's PostgreSQL has
    `autovacuum = off`): after a chunk, the kind's table is analyzed when its rows grew by autovacuum's default
    threshold since the last analyze (50 rows plus 10%) and, as autovacuum's launcher visits a database once per
    `autovacuum_naptime` (1 minute by default, read from the server), at most once per naptime; the first chunk
    that crosses the threshold is analyzed at once (the planner gets statistics early). Without statistics the
    planner takes a table of a million rows for a few hundred and picks plans no production server would
    (bench/README.md "Imports"). Its time is part of the import's (autovacuum takes a core there, too)."""

    def __init__(self) -> None:
        self.tables: list[str] = []
        self.rows_at_last = 0
        self.since_last = 0
        self.runs = 0
        self.seconds = 0.0
        self.naptime = 60.0
        self.last_run: float | None = None

    def start(self, tables: list[str]) -> None:
        self.tables, self.rows_at_last, self.since_last, self.runs, self.seconds = tables, 0, 0, 0, 0.0
        self.last_run = None

    def chunk_done(self, rows: int) -> None:
        from django.db import connection

        self.since_last += rows
        if not self.tables or self.since_last < 50 + 0.1 * self.rows_at_last:
            return
        began = time.perf_counter()
        if self.last_run is not None and began - self.last_run < self.naptime:
            return  # autovacuum's launcher has not come back to this database yet
        self.last_run = began
        with connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        self.seconds += time.perf_counter() - began
        self.runs += 1
        self.rows_at_last += self.since_last
        self.since_last = 0

    def install(self) -> bool:
        """Hooks into the runner's chunks when the server's autovacuum is off; says whether it did."""
        from django.db import connection

        from imports import services

        with connection.cursor() as cursor:
            cursor.execute("SHOW autovacuum")
            if cursor.fetchone()[0] == "on":
                return False
            cursor.execute("SELECT setting::float FROM pg_settings WHERE name = 'autovacuum_naptime'")
            self.naptime = cursor.fetchone()[0]  # seconds
        run_chunk = services._run_chunk
        write_plan = services._write_plan

        def counted(**kwargs):  # type: ignore[no-untyped-def]
            run_chunk(**kwargs)
            self.chunk_done(len(kwargs["chunk"]))

        def written(tenant, job, plan, added):  # type: ignore[no-untyped-def]
            # A chunk written behind (imports.services._Writer), in the writer's thread and connection.
            write_plan(tenant, job, plan, added)
            self.chunk_done(len(plan.chunk))

        services._run_chunk = counted
        services._write_plan = written
        return True


ANALYZE = AnalyzeStandIn()
TABLES = {
    "leads": ["leads_lead"],
    "activities": ["accounts_activity"],
    "accounts": ["accounts_account"],
    "feedback": ["lifecycle_feedback"],
    "subscriptions": ["lifecycle_subscription"],
    "opportunities": ["accounts_opportunity", "accounts_stagechange"],
    "quotas": ["sales_ops_quota"],
    "campaigns": ["leads_campaign"],
}


def import_rate(tenant, membership, kind: str, path: Path) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    from django.core.files import File

    from crm.tenancy import tenant_context
    from imports import services
    from imports.models import ImportJob

    with tenant_context(tenant), path.open("rb") as handle:
        job = services.import_job_create(
            tenant=tenant,
            actor=membership.user,
            membership=membership,
            kind=kind,
            file_name=path.name,
            upload=File(handle, name=path.name),
            preview=True,  # stored, not delivered: the run below is timed on its own
        )
        ImportJob.objects.filter(pk=job.pk).update(status="queued")
    # The tasks the job queues (the one KPI, lifecycle and health recompute at its end) run on a worker, not in
    # the import: kept aside here and run after the import's clock stops, timed on their own.
    from crm.celery import BrokerSafeTask

    queued: list[tuple[object, object, object]] = []

    def keep(self, args=None, kwargs=None, **options):  # type: ignore[no-untyped-def]
        queued.append((self, args, kwargs))

    original = BrokerSafeTask.apply_async
    BrokerSafeTask.apply_async = keep  # type: ignore[method-assign]
    ANALYZE.start(TABLES.get(kind, []))
    try:
        began = time.perf_counter()
        cpu = CpuClock()
        CLOCK.on = True
        services.import_job_run(tenant=tenant, job_id=job.pk)
        elapsed = time.perf_counter() - began
        cpu.stop()
    finally:
        CLOCK.on = False
        BrokerSafeTask.apply_async = original  # type: ignore[method-assign]
    began = time.perf_counter()
    for task, args, kwargs in queued:
        task.apply(args, kwargs)  # type: ignore[attr-defined]
    after = time.perf_counter() - began
    names = sorted({task.name for task, _args, _kwargs in queued})  # type: ignore[attr-defined]
    out(
        f"  {kind}: {len(queued)} task(s) queued by the job ({', '.join(names)}), run after it in {after:.1f} s"
    )
    with tenant_context(tenant):
        job.refresh_from_db()
    cpu.report(kind, job.processed)
    if ANALYZE.runs:
        out(
            f"  {kind}: ANALYZE of {', '.join(ANALYZE.tables)} ran {ANALYZE.runs} times as the table grew "
            f"(at most once per autovacuum_naptime of {ANALYZE.naptime:.0f} s; {ANALYZE.seconds:.1f} s of the "
            "import; autovacuum is off on this server)"
        )
    if CLOCK.seconds:
        CLOCK.report(job.processed, elapsed)
    return job.processed / elapsed, job


def _target(rate: float, target: int | None) -> str:
    if target is None:
        return "no target"
    return f"target {target:,}: {'met' if rate >= target else 'NOT met'}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_django(args.database)
    if args.statements:
        CLOCK.install()
    if args.no_analyze or not ANALYZE.install():
        ANALYZE.tables = []
    from bench.generate import PASSWORD
    from crm import services as crm_services
    from crm.models import Membership, Role, User
    from crm.tenancy import tenant_context
    from leads.models import LeadSource

    tenant = crm_services.tenant_create(
        slug="bench-imports",
        name="Bench Imports",
        time_zone="Asia/Shanghai",
        currency="CNY",
        admin_email="admin@bench-imports.test",
        admin_password=PASSWORD,
    )
    emails = [f"rep{n}@bench-imports.test" for n in range(MEMBERS)]
    with tenant_context(tenant):
        admin = Membership.objects.select_related("user").get(tenant=tenant, role=Role.ADMIN)
        users = User.objects.bulk_create(
            [User(email=email, full_name=email.split("@")[0]) for email in emails]
        )
        Membership.objects.bulk_create(
            [Membership(tenant=tenant, user=user, role=Role.SALES_REP) for user in users]
        )
        for name in SOURCES:
            LeadSource.objects.get_or_create(tenant=tenant, name=name, defaults={"kind": "inbound"})

    folder = Path(tempfile.mkdtemp(prefix="crm-bench-imports-"))
    load = os.getloadavg()
    out(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")
    out(f"peak RSS after set-up: {peak_rss_mb():.0f} MB")
    if args.one_by_one:
        from imports.registry import RowImporter, all_kinds

        for registered in all_kinds():
            registered.importer.import_many = RowImporter.import_many  # type: ignore[method-assign]
        out("every row written one by one (--one-by-one)")
    accounts = args.accounts or max(1, max(args.feedback, args.subscriptions, args.deals) // 50)
    with_accounts = bool(args.feedback or args.subscriptions or args.deals)
    results = []
    kinds: tuple[tuple[str, int, int | None, Callable[[Path], None]], ...] = (
        ("leads", args.leads, TARGET_LEADS, lambda p: write_leads(p, args.leads, emails)),
        (
            "activities",
            args.activities,
            TARGET_ACTIVITIES,
            lambda p: write_activities(p, args.activities, args.leads, emails),
        ),
        ("accounts", accounts if with_accounts else 0, None, lambda p: write_accounts(p, accounts)),
        ("feedback", args.feedback, None, lambda p: write_feedback(p, args.feedback, accounts)),
        (
            "subscriptions",
            args.subscriptions,
            TARGET_LEADS,
            lambda p: write_subscriptions(p, args.subscriptions, accounts),
        ),
        ("opportunities", args.deals, TARGET_LEADS, lambda p: write_deals(p, args.deals, accounts, emails)),
        ("quotas", args.quotas, TARGET_LEADS, lambda p: write_quotas(p, args.quotas, emails)),
        ("campaigns", args.campaigns, TARGET_LEADS, lambda p: write_campaigns(p, args.campaigns)),
    )
    for kind, count, target, write in kinds:
        if not count:
            continue
        path = folder / f"{kind}.csv"
        write(path)
        size = path.stat().st_size / (1024 * 1024)
        rate, job = import_rate(tenant, admin, kind, path)
        copy = copy_rate(path)
        load = os.getloadavg()
        line = (
            f"{kind:<10} {count:>9,} rows ({size:,.0f} MB): import {rate:>8,.0f} rows/s "
            f"({_target(rate, target)}), COPY {copy:>9,.0f} rows/s, "
            f"COPY/import {copy / rate:,.0f}x; created {job.created:,} failed {job.failed:,}; "  # type: ignore[attr-defined]
            f"peak RSS {peak_rss_mb():.0f} MB; load {load[0]:.2f}"
        )
        out(line)
        results.append(line)
        if job.failed:  # type: ignore[attr-defined]
            out(f"  first errors: {job.row_errors[:3]}")  # type: ignore[attr-defined]
        if args.reimport:
            if args.changed and kind == "opportunities":
                write_deals(path, args.deals, accounts, emails, changed=True)
            again, job = import_rate(tenant, admin, kind, path)
            changed = " (changed)" if args.changed and kind == "opportunities" else ""
            line = (
                f"{kind:<10} {count:>9,} rows imported again{changed}: {again:>8,.0f} rows/s; "
                f"updated {job.updated:,} created {job.created:,} failed {job.failed:,}; "  # type: ignore[attr-defined]
                f"peak RSS {peak_rss_mb():.0f} MB; load {os.getloadavg()[0]:.2f}"
            )
            out(line)
            results.append(line)
            if job.failed:  # type: ignore[attr-defined]
                out(f"  first errors: {job.row_errors[:3]}")  # type: ignore[attr-defined]
        if not args.keep_files:
            path.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
