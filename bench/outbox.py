"""Task outbox benchmark (`.venv/bin/python -m bench.outbox`): what keeping tasks in PostgreSQL costs while Redis is
down, and what the relay costs (crm/outbox.py).

Uses its own database (default `crm_bench_outbox`, created like bench/run.py's, dropped and made again each run),
`--tenants` bare tenant rows (the relay visits every active tenant, one at a time, as row-level security requires)
and a broker faked at its boundary (Celery's send raises while "down", does nothing while "up"). Prints:

1. a send refused by the broker and kept in the outbox, in its own transaction: distinct calls, then the same call
   again (the conflict on the tenant's key keeps one row);
2. the relay's sweep with an empty outbox over all tenants (beat's run every 5 minutes);
3. the relay sending `--rows` waiting calls of one tenant and deleting them.

The load average is printed before and after: the machine is shared, wall times grow with it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import load, migrate, out, setup_django  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="crm_bench_outbox")
    parser.add_argument("--tenants", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args(argv)
    args.reuse = False
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out(f"load average {load()}")
    setup_django(args)
    migrate()
    import logging

    logging.getLogger("crm.outbox").setLevel(logging.ERROR)  # one warning per kept call otherwise

    import kombu.exceptions
    from celery.app.task import Task

    from crm.models import OutboxMessage, Tenant
    from crm.outbox import outbox_relay, outbox_relay_tenant
    from crm.tenancy import tenant_context
    from sales_ops.tasks import recompute_kpis

    Tenant.objects.bulk_create(
        Tenant(slug=f"bench-outbox-{n}", name=f"Outbox {n}") for n in range(args.tenants)
    )
    tenant = Tenant.objects.get(slug="bench-outbox-0")
    broker = {"up": False}

    def send(task, args=None, kwargs=None, **options):  # type: ignore[no-untyped-def]
        if not broker["up"]:
            raise kombu.exceptions.OperationalError("Connection refused.")

    with mock.patch.object(Task, "apply_async", send):
        timings = []
        for n in range(args.rows):
            began = time.perf_counter()
            recompute_kpis.delay(tenant.pk, n)
            timings.append((time.perf_counter() - began) * 1000)
        out(
            f"kept in the outbox, {args.rows} distinct calls: median {statistics.median(timings):.2f} ms, "
            f"p95 {statistics.quantiles(timings, n=20)[18]:.2f} ms per send"
        )
        timings = []
        for _n in range(args.rows):
            began = time.perf_counter()
            recompute_kpis.delay(tenant.pk, 0)
            timings.append((time.perf_counter() - began) * 1000)
        with tenant_context(tenant):
            rows = OutboxMessage.objects.count()
        out(
            f"the same call again, {args.rows} times: median {statistics.median(timings):.2f} ms per send; "
            f"{rows} rows kept"
        )

        broker["up"] = True
        began = time.perf_counter()
        sent = 0
        while True:
            count, _refused = outbox_relay_tenant(tenant=tenant)
            if not count:
                break
            sent += count
        out(f"relay of {sent} waiting calls of one tenant: {time.perf_counter() - began:.2f} s")

        began = time.perf_counter()
        outbox_relay()
        out(
            f"relay sweep over {args.tenants} active tenants, empty outbox: {time.perf_counter() - began:.2f} s"
        )
    out(f"load average {load()}")
    from django.db import connections

    from bench import db

    connections.close_all()
    db.drop_database(args.database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
