"""Dashboard and freshness benchmark of issue 9 (`.venv/bin/python bench/kpi_pages.py`, `make bench-kpi-pages`).

Uses the benchmark database of bench/run.py (generated when missing, `--reuse` keeps it) and adds a tenant at 1%
of the big one (`bench-1pct`, `--leads / 100` leads with everything scaled alike) when it is not there.

1. Dashboards: one KPI recompute of each tenant, then every dashboard page (funnel, funnel by source kind,
   pipeline, reps, unit economics, forecast, quotas) as the ops member of each tenant, `--warmup` untimed and
   `--repeat` timed requests; prints per page the query count at 1% and at full size (they must be equal) and
   the p95 of each with their ratio (target: <= 1.2x), all in one run.
2. Freshness (`--freshness`, needs `--broker`; `--no-pages` skips part 1): a private Celery worker (`celery -A
   crm worker`, `--concurrency` processes, default 2 as docker-compose.yml runs it, started and stopped by this
   script) on the given Redis URL (use a database number nobody else uses, e.g.
   redis://127.0.0.1:6379/11); `--tries` times a deal of the measured tenant is moved to won through the
   deals service (the debounced recompute is queued exactly as a user's change queues it) and the pipeline page
   is read every 0.25 s until its "deals won" of the current month shows the new count; prints each delay, the
   median and the p95 (target: p95 <= 15 s).

Nothing here runs in the test suite; a tiny run checks the script works: `--leads 2000 --repeat 3 --tries 3`.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import BIG, MARK, has_data, out  # noqa: E402

ONE_PERCENT = "bench-1pct"
TARGET_P95_RATIO = 1.2
TARGET_FRESH_SECONDS = 15.0
PAGES = [
    ("funnel", "dashboards/funnel/"),
    ("funnel by source kind", "dashboards/funnel/?dimension=source_kind"),
    ("pipeline", "dashboards/pipeline/"),
    ("reps", "dashboards/reps/"),
    ("unit economics", "dashboards/unit-economics/"),
    ("forecast", "dashboards/forecast/"),
    ("quotas", "dashboards/quotas/"),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads of the large tenant (default 1M)")
    parser.add_argument("--reuse", action="store_true", help="reuse the generated data if it is there")
    parser.add_argument("--database", default="crm_bench", help="benchmark database name (default crm_bench)")
    parser.add_argument(
        "--repeat", type=int, default=20, help="timed requests per page and size (default 20)"
    )
    parser.add_argument("--warmup", type=int, default=2, help="untimed requests per page first (default 2)")
    parser.add_argument("--freshness", action="store_true", help="also run the freshness measurement")
    parser.add_argument("--broker", default="", help="Redis URL of the private worker's broker and cache")
    parser.add_argument("--tries", type=int, default=20, help="won deals of the freshness run (default 20)")
    parser.add_argument("--tenant", default=BIG, help="tenant of the freshness run (default the big one)")
    parser.add_argument("--timeout", type=float, default=300.0, help="give up on one try after (s)")
    parser.add_argument(
        "--concurrency", type=int, default=2, help="worker processes (default 2, as docker-compose.yml runs)"
    )
    parser.add_argument("--no-pages", action="store_true", help="skip the dashboards (freshness only)")
    return parser.parse_args(argv)


def setup_django(args: argparse.Namespace) -> bool:
    """bench.run.setup_django, keeping the broker: with --freshness tasks go to the private worker."""
    from bench import db

    url = db.bench_url(args.database)
    created = db.ensure_database(args.database, recreate=not args.reuse)
    os.environ["DATABASE_URL"] = url
    os.environ["DATABASE_OWNER_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    if args.freshness:
        os.environ["REDIS_URL"] = args.broker
        os.environ["KPI_RECOMPUTE_ON_CHANGE"] = "1"
    else:
        os.environ.pop("REDIS_URL", None)
    import logging
    import warnings

    import django

    django.setup()
    logging.getLogger("django.request").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="No directory at")
    out(f"benchmark database: {url.split('@')[-1]} ({'new' if created else 'reused'})")
    return created


def ensure_one_percent(leads: int) -> None:
    from django.db import connection

    from bench import generate as gen
    from crm.models import Tenant

    if Tenant.objects.filter(slug=ONE_PERCENT).exists():
        return
    began = time.monotonic()
    with gen.bulk_load():
        small = gen.generate_tenant(
            slug=ONE_PERCENT, name="Bench 1%", scale=gen.Scale(leads=max(leads // 100, 100)), seed=0.29
        )
        gen.write_history(small)
    gen.analyze()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    out(f"tenant {ONE_PERCENT} generated in {time.monotonic() - began:.0f} s")


def ops_client(slug: str):  # type: ignore[no-untyped-def]
    from bench.measure import client_for
    from crm.models import User

    return client_for(User.objects.get(email=f"ops@{slug}.test"))


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def run_pages(args: argparse.Namespace) -> bool:
    from bench.measure import measure
    from crm.models import Tenant
    from sales_ops.services.engine import kpi_recompute

    for slug in (ONE_PERCENT, BIG):
        began = time.monotonic()
        kpi_recompute(tenant=Tenant.objects.get(slug=slug))
        out(f"KPI recompute of {slug}: {time.monotonic() - began:.1f} s")
    clients = {slug: ops_client(slug) for slug in (ONE_PERCENT, BIG)}
    out()
    out(f"{'page':<24} {'queries 1%':>10} {'full':>5} {'p95 1% ms':>10} {'p95 full ms':>12} {'ratio':>6}")
    ok = True
    for name, path in PAGES:
        results = {
            slug: measure(
                name=name,
                role="ops",
                client=clients[slug],
                url=f"/t/{slug}/{path}",
                target_ms=0,
                repeat=args.repeat,
                warmup=args.warmup,
            )
            for slug in (ONE_PERCENT, BIG)
        }
        small, big = results[ONE_PERCENT], results[BIG]
        if small.status != 200 or big.status != 200:
            out(f"{name}: status {small.status} / {big.status}")
            ok = False
            continue
        ratio = p95(big.times) / p95(small.times)
        same = small.queries == big.queries
        ok = ok and same and ratio <= TARGET_P95_RATIO
        out(
            f"{name:<24} {small.queries:>10} {big.queries:>5} {p95(small.times):>10.1f} {p95(big.times):>12.1f}"
            f" {ratio:>6.2f}{'' if same else '  query counts differ'}"
        )
    out(
        f"dashboards: same query count at both sizes and p95 within {TARGET_P95_RATIO}x: "
        f"{'met' if ok else 'NOT met'}"
    )
    return ok


WON_RE = re.compile(r'data-testid="pipeline-opps_won">(?:<a [^>]*>)?([0-9,]+)<')


def won_shown(client, slug: str) -> int | None:  # type: ignore[no-untyped-def]
    html = client.get(f"/t/{slug}/dashboards/pipeline/").content.decode()
    found = WON_RE.search(html)
    return int(found.group(1).replace(",", "")) if found else None


def start_worker(args: argparse.Namespace) -> subprocess.Popen:
    env = dict(os.environ)
    log = open(ROOT / "var" / "bench-kpi-worker.log", "w")  # noqa: SIM115 -- closed with the process
    worker = subprocess.Popen(  # noqa: S603 -- this venv's celery, fixed arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "crm",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={args.concurrency}",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out(f"private worker pid {worker.pid} on {args.broker} (log var/bench-kpi-worker.log)")
    return worker


def stop_worker(worker: subprocess.Popen) -> None:
    """A warm shutdown (SIGTERM to the main process: it finishes the running task), then the group is killed."""
    worker.terminate()
    try:
        worker.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def run_freshness(args: argparse.Namespace) -> bool:
    from django.conf import settings

    from accounts.models import Opportunity, StageKind
    from accounts.services.opportunities import opportunity_move_stage
    from crm.dates import tenant_today
    from crm.models import Tenant, User
    from crm.tenancy import tenant_context
    from sales_ops.services.engine import kpi_recompute

    tenant = Tenant.objects.get(slug=args.tenant)
    admin = User.objects.get(email=f"admin@{args.tenant}.test")
    client = ops_client(args.tenant)
    kpi_recompute(tenant=tenant)
    out(
        f"debounce {settings.KPI_RECOMPUTE_DEBOUNCE_SECONDS} s (refresh of the current periods "
        f"{settings.KPI_REFRESH_DEBOUNCE_SECONDS} s); tenant {args.tenant}; {args.tries} tries"
    )
    (ROOT / "var").mkdir(exist_ok=True)
    worker = start_worker(args)
    delays: list[float] = []
    try:
        time.sleep(5)  # the worker connects
        with tenant_context(tenant):
            today = tenant_today(tenant)
            candidates = list(
                Opportunity.objects.filter(stage__kind=StageKind.OPEN, deleted_at=None)
                .select_related("pipeline")
                .order_by("pk")[: args.tries]
            )
        if len(candidates) < args.tries:
            raise SystemExit(f"tenant {args.tenant} has only {len(candidates)} open deals")
        for index, deal in enumerate(candidates, start=1):
            before = won_shown(client, args.tenant)
            with tenant_context(tenant):
                from django.db import transaction

                with transaction.atomic():
                    won = deal.pipeline.stages.filter(kind=StageKind.WON).order_by("order").first()
                    opportunity_move_stage(tenant=tenant, actor=admin, opportunity=deal, stage=won)
            began = time.monotonic()
            shown = before
            while shown == before and time.monotonic() - began < args.timeout:
                time.sleep(0.25)
                shown = won_shown(client, args.tenant)
            delay = time.monotonic() - began
            delays.append(delay)
            out(f"try {index:>2}: won deals of {today:%Y-%m} {before} -> {shown} after {delay:.1f} s")
    finally:
        stop_worker(worker)
    ok = p95(delays) <= TARGET_FRESH_SECONDS
    out(
        f"freshness: median {statistics.median(delays):.1f} s, p95 {p95(delays):.1f} s over {len(delays)} tries "
        f"(target p95 <= {TARGET_FRESH_SECONDS:.0f} s: {'met' if ok else 'NOT met'}); load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    from bench.run import generate, migrate, setup_fresh

    args = parse_args(argv)
    if args.freshness and not args.broker:
        raise SystemExit("--freshness needs --broker redis://host:port/<a database number nobody else uses>")
    created = setup_django(args)
    migrate()
    if not created and not has_data(args.database, args.leads):
        out(f"no complete benchmark data for this --leads ({MARK.format(leads=args.leads)}): starting over")
        setup_fresh(args)
        created = True
    if created:
        generate(args)
    ok = True
    if not args.no_pages:
        ensure_one_percent(args.leads)
        ok = run_pages(args)
    if args.freshness:
        ok = run_freshness(args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
