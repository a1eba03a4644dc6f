"""KPI benchmark: a full KPI recompute of the benchmark tenant (`.venv/bin/python bench/kpi.py`, `make bench-kpi`).

Uses the benchmark database of bench/run.py (generated when missing, `--reuse` keeps it): 1,000,000 leads,
300,000 deals, 1,000,000 activities, 100,000 accounts at full size (`--leads N` scales everything). The generator
makes no contracts, so the first run adds them set-based to the big tenant: a 12-month subscription for every
account with a won deal (from its first won deal's local date), renewed for most accounts (some with expansion
or contraction), NPS/CSAT answers, then the lifecycle stage history and the health scores (timed, printed).

Then, after one untimed warm-up recompute and a weekly forecast snapshot (so forecast_accuracy has work):
- the engine: `kpi_recompute` of the tenant (every family's INSERT ... SELECT, the set bookkeeping and the atomic
  swap), wall time per family and in all;
- plain SQL: the same aggregates as one SELECT per metric family (each family's statement without its INSERT,
  counted in the database: no rows travel, under the session settings the engine's statements run with, i.e.
  KPI_RECOMPUTE_WORK_MEM), wall time per family and in all;
- the ratio of the two (the issue's target: engine within 1.5x of plain SQL and under 2 minutes) and the number
  of snapshot rows written.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import BIG, generate, has_data, migrate, out, setup_django, setup_fresh  # noqa: E402

TARGET_RATIO = 1.5
TARGET_SECONDS = 120

SUBSCRIPTIONS_SQL = """
WITH won AS (
    SELECT o.account_id, min((o.closed_at AT TIME ZONE %(tz)s)::date) AS first_won,
           round(avg(o.amount_reporting) / 12, 2) AS mrr
    FROM accounts_opportunity o JOIN accounts_stage s ON s.id = o.stage_id
    WHERE o.tenant_id = %(tenant)s AND s.kind = 'won' AND o.deleted_at IS NULL AND o.closed_at IS NOT NULL
    GROUP BY o.account_id
), terms AS (
    SELECT account_id, first_won AS start_date, (first_won + interval '12 months')::date AS end_date,
           GREATEST(mrr, 1) AS mrr, 1 AS term, random() AS fate FROM won
    UNION ALL
    -- 70%% renew for a second term (a third of them up 20%%, a tenth down 25%%), the others churn.
    SELECT account_id, (first_won + interval '12 months')::date, (first_won + interval '24 months')::date,
           GREATEST(mrr, 1) * (CASE WHEN random() < 0.33 THEN 1.2 WHEN random() < 0.1 THEN 0.75 ELSE 1 END), 2,
           random() FROM won WHERE random() < 0.7
)
INSERT INTO lifecycle_subscription (tenant_id, external_id, account_id, plan, mrr, currency, start_date, end_date,
    churn_reason, deleted_at, version, created_at, updated_at, renewed, renewal_won)
SELECT %(tenant)s, '', account_id, CASE term WHEN 1 THEN 'Standard' ELSE 'Standard (renewal)' END, round(mrr, 2),
       %(currency)s, start_date, end_date, '', NULL, 1, now(), now(), false, false
FROM terms
"""

FEEDBACK_SQL = """
INSERT INTO lifecycle_feedback (tenant_id, external_id, account_id, kind, score, comment, channel, received_at,
    survey_nonce, created_at, updated_at)
SELECT %(tenant)s, '', s.account_id, k.kind,
       CASE k.kind WHEN 'nps' THEN floor(random() * 11)::int ELSE 1 + floor(random() * 5)::int END,
       '', 'survey', (s.start_date + (random() * 300)::int)::timestamp AT TIME ZONE %(tz)s, '', now(), now()
FROM lifecycle_subscription s CROSS JOIN (VALUES ('nps'), ('csat')) AS k(kind)
WHERE s.tenant_id = %(tenant)s AND s.deleted_at IS NULL AND random() < 0.5
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads of the large tenant (default 1M)")
    parser.add_argument("--reuse", action="store_true", help="reuse the generated data if it is there")
    parser.add_argument("--database", default="crm_bench", help="benchmark database name (default crm_bench)")
    # bench/run.py's setup reads it: the single-role layout (the app role owns the benchmark database).
    parser.set_defaults(owner_role=False)
    return parser.parse_args(argv)


def prepare_lifecycle(tenant) -> None:  # type: ignore[no-untyped-def]
    """Contracts, feedback, stage history and health of the big tenant, once (skipped when it has contracts)."""
    from django.db import connection

    from crm.tenancy import tenant_context
    from lifecycle.models import Subscription
    from lifecycle.services.health import health_recompute
    from lifecycle.services.stages import lifecycle_recompute

    with tenant_context(tenant):
        if Subscription.objects.filter(tenant=tenant).exists():
            return
        began = time.monotonic()
        params = {"tenant": tenant.pk, "tz": tenant.time_zone, "currency": tenant.currency}
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(0.42)")
            cursor.execute(SUBSCRIPTIONS_SQL, params)
            subscriptions = cursor.rowcount
            cursor.execute(FEEDBACK_SQL, params)
            feedback = cursor.rowcount
    out(
        f"contracts: {subscriptions:,} subscriptions, {feedback:,} feedback in {time.monotonic() - began:.1f} s"
    )
    began = time.monotonic()
    # The health recompute it would queue also runs the onboarding playbooks (tasks for thousands of accounts):
    # the scores are computed below without them.
    with tenant_context(tenant), mock.patch("lifecycle.services.health.health_schedule_recompute"):
        changes = lifecycle_recompute(tenant=tenant)
    out(f"lifecycle stage history: {changes:,} changes in {time.monotonic() - began:.1f} s")
    began = time.monotonic()
    with tenant_context(tenant):
        scores = health_recompute(tenant=tenant, playbooks=False)
    out(f"health scores: {scores:,} in {time.monotonic() - began:.1f} s")
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute("ANALYZE lifecycle_subscription")
        cursor.execute("ANALYZE lifecycle_lifecyclechange")
        cursor.execute("ANALYZE lifecycle_feedback")
        cursor.execute("ANALYZE lifecycle_healthscore")


def plain_statements() -> dict[str, Callable[[], str]]:
    """Each engine family's statement as a plain SELECT (its INSERT taken off), by family name."""
    from sales_ops.services import activities, customers, deals, forecasts, leads

    return {
        "leads": leads._sql,
        "deals": deals._sql,
        "stages": lambda: deals.STAGE_SQL,
        "activities": activities._sql,
        "forecasts": lambda: forecasts.ACCURACY_SQL,
        "lifecycle": customers.stock_sql,
        "renewals": customers.renewals_sql,
        "feedback": customers.feedback_sql,
        "health": customers.health_sql,
    }


INSERT_HEAD = re.compile(r"INSERT INTO sales_ops_kpisnapshot \([^)]*\)\s*")


def as_plain_select(sql: str) -> str:
    """`WITH ... INSERT INTO t (...) SELECT ...` -> `SELECT count(*) FROM (WITH ... SELECT ...) q`: the same
    aggregates, computed in full, without writing or sending the rows."""
    select, found = INSERT_HEAD.subn("", sql, count=1)
    if found != 1:
        raise SystemExit("a family statement has no INSERT INTO sales_ops_kpisnapshot to take off")
    return f"SELECT count(*) FROM ({select}) AS q"  # noqa: S608 -- the engine's own statement; values are bound


def run_engine(tenant):  # type: ignore[no-untyped-def]
    """One timed full recompute; returns (seconds in all, {family: seconds}, rows written)."""
    from sales_ops.services import engine

    timings: dict[str, float] = {}
    original = list(engine.FAMILIES)

    def timed(name: str, write):  # type: ignore[no-untyped-def]
        def run(bounds):  # type: ignore[no-untyped-def]
            began = time.monotonic()
            try:
                return write(bounds)
            finally:
                timings[name] = time.monotonic() - began

        return run

    engine.FAMILIES[:] = [(name, timed(name, write)) for name, write in original]
    try:
        began = time.monotonic()
        snapshot_set = engine.kpi_recompute(tenant=tenant)
        total = time.monotonic() - began
    finally:
        engine.FAMILIES[:] = original
    if snapshot_set is None:
        raise SystemExit("another recompute of the benchmark tenant holds its lock")
    return total, timings, snapshot_set


def run_plain(tenant, snapshot_set):  # type: ignore[no-untyped-def]
    """The same aggregates as plain SQL, one statement per family; returns (seconds in all, {family: seconds})."""
    from django.db import connection
    from django.utils import timezone

    from crm.tenancy import tenant_context
    from sales_ops.services import engine

    timings: dict[str, float] = {}
    with tenant_context(tenant):
        bounds = engine.calendar_bounds(tenant, snapshot_set, timezone.now())
        params = bounds.params()
        from lifecycle.services.health import CUSTOMER_STAGES

        params["customer_stages"] = list(CUSTOMER_STAGES)
    began_all = time.monotonic()
    for name, build in plain_statements().items():
        # The session settings the engine runs its family statements with (work_mem), in this transaction.
        with tenant_context(tenant), engine.statement_settings(), connection.cursor() as cursor:
            began = time.monotonic()
            cursor.execute(as_plain_select(build()), params)
            cursor.fetchone()
            timings[name] = time.monotonic() - began
    return time.monotonic() - began_all, timings


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
        generate(args)
    from django.conf import settings

    from crm.models import Tenant
    from crm.tenancy import tenant_context
    from sales_ops.services.engine import kpi_recompute
    from sales_ops.services.forecasts import forecast_snapshot_take

    # The benchmark calls the engine itself; saves of the preparation must not queue in-process recomputes.
    settings.KPI_RECOMPUTE_ON_CHANGE = False
    tenant = Tenant.objects.get(slug=BIG)
    prepare_lifecycle(tenant)
    warm = time.monotonic()
    kpi_recompute(tenant=tenant)
    with tenant_context(tenant):
        snapshots = forecast_snapshot_take(tenant=tenant)
    out(f"warm-up recompute and forecast snapshot ({snapshots:,} rows) in {time.monotonic() - warm:.1f} s")

    engine_total, engine_times, snapshot_set = run_engine(tenant)
    plain_total, plain_times = run_plain(tenant, snapshot_set)
    out()
    out(f"{'family':<12} {'engine s':>9} {'plain SQL s':>12} {'ratio':>6}")
    for name, seconds in engine_times.items():
        plain = plain_times.get(name, 0.0)
        ratio = seconds / plain if plain else float("nan")
        out(f"{name:<12} {seconds:>9.2f} {plain:>12.2f} {ratio:>6.2f}")
    ratio = engine_total / plain_total if plain_total else float("nan")
    out(f"{'all':<12} {engine_total:>9.2f} {plain_total:>12.2f} {ratio:>6.2f}")
    out()
    ok = ratio <= TARGET_RATIO and engine_total <= TARGET_SECONDS
    out(
        f"full KPI recompute of tenant {BIG} ({args.leads:,} leads): engine {engine_total:.1f} s, plain SQL "
        f"{plain_total:.1f} s ({ratio:.2f}x; target <= {TARGET_RATIO}x and <= {TARGET_SECONDS} s: "
        f"{'met' if ok else 'NOT met'}); {snapshot_set.row_count:,} snapshot rows written; "
        f"{time.monotonic() - began:.0f} s in all"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
