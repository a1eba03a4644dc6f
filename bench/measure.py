"""Measuring pages: Django's test Client logged in as a member, server time per request (median and p95 after a
warm-up), the SQL queries each page sends (count, summed database time, the slowest one), and EXPLAIN (ANALYZE,
BUFFERS) of the main queries of a page.

Times are taken in this process around `Client.get`, so they cover the whole request (middleware, the tenant
transaction, selectors, templates or serializers) but no network.
"""

from __future__ import annotations

import html
import json
import re
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from django.db import connection
from django.test import Client

from crm.models import Tenant, User
from crm.tenancy import tenant_context

# The Next link of the lead inbox and pool, the deal list, and the account and contact lists.
NEXT_PAGE = re.compile(r'href="([^"]+)"[^>]*data-testid="(?:page-next|deal-next|next-page)"')


@dataclass
class QueryLog:
    """Every SQL statement a request sent, with its time."""

    entries: list[tuple[float, str, Any]] = field(default_factory=list)

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.entries.append(((time.perf_counter() - began) * 1000, sql, params))

    @property
    def count(self) -> int:
        return len(self.entries)

    @property
    def total_ms(self) -> float:
        return sum(ms for ms, _sql, _params in self.entries)

    def slowest(self) -> tuple[float, str, Any]:
        return max(self.entries, key=lambda entry: entry[0]) if self.entries else (0.0, "", None)


@contextmanager
def logged_queries():  # type: ignore[no-untyped-def]
    log = QueryLog()
    with connection.execute_wrapper(log):
        yield log


@dataclass
class Result:
    name: str
    role: str
    url: str
    status: int
    times: list[float]
    cpu_times: list[float]
    queries: int
    db_ms: float
    slowest_ms: float
    slowest_sql: str
    slowest_params: Any
    target_ms: float
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else 0.0

    @property
    def cpu(self) -> float:
        """Median CPU time of this process per request: the app's own work, whatever else the machine runs."""
        return statistics.median(self.cpu_times) if self.cpu_times else 0.0

    @property
    def p95(self) -> float:
        if len(self.times) < 2:
            return self.median
        return statistics.quantiles(self.times, n=20, method="inclusive")[18]

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.median <= self.target_ms

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "role": self.role,
            "url": self.url,
            "status": self.status,
            "median_ms": round(self.median, 1),
            "p95_ms": round(self.p95, 1),
            "app_cpu_ms": round(self.cpu, 1),
            "queries": self.queries,
            "db_ms": round(self.db_ms, 1),
            "slowest_query_ms": round(self.slowest_ms, 1),
            "target_ms": self.target_ms,
            "note": self.note,
        }


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def measure(
    *,
    name: str,
    role: str,
    client: Client,
    url: str,
    target_ms: float,
    repeat: int,
    warmup: int,
    headers: dict | None = None,
    note: str = "",
) -> Result:
    """`warmup` requests, then `repeat` timed ones; the query figures come from the median-time request."""
    headers = headers or {}
    status = 0
    for _ in range(warmup):
        status = client.get(url, headers=headers).status_code
    runs: list[tuple[float, QueryLog]] = []
    cpu_times = []
    for _ in range(repeat):
        with logged_queries() as log:
            began, cpu_began = time.perf_counter(), time.process_time()
            response = client.get(url, headers=headers)
            elapsed = (time.perf_counter() - began) * 1000
            cpu_times.append((time.process_time() - cpu_began) * 1000)
        status = response.status_code
        runs.append((elapsed, log))
    times = [elapsed for elapsed, _log in runs]
    median_run = sorted(runs, key=lambda run: run[0])[len(runs) // 2][1]
    slowest = median_run.slowest()
    return Result(
        name=name,
        role=role,
        url=url,
        status=status,
        times=times,
        cpu_times=cpu_times,
        queries=median_run.count,
        db_ms=median_run.total_ms,
        slowest_ms=slowest[0],
        slowest_sql=slowest[1],
        slowest_params=slowest[2],
        target_ms=target_ms,
        note=note,
    )


def follow_pages(client: Client, url: str, pages: int, *, api: bool = False) -> str | None:
    """The URL of page `pages` (1 = `url` itself), reached by following the Next links like a user would."""
    current = url
    for _ in range(pages - 1):
        response = client.get(current)
        if response.status_code != 200:
            return None
        if api:
            nxt = json.loads(response.content).get("next")
            if not nxt:
                return None
            current = nxt.replace("http://testserver", "")
        else:
            match = NEXT_PAGE.search(response.content.decode())
            if not match:
                return None
            href = html.unescape(match.group(1))
            current = urljoin(current, href)
    return current


# --- EXPLAIN ---------------------------------------------------------------------------------------------------


@dataclass
class Plan:
    name: str
    sql: str
    lines: list[str]
    execution_ms: float
    seq_scan_tables: list[str]
    indexes: list[str]
    lead_rows_scanned: int = 0

    @property
    def uses_index_on_leads(self) -> bool:
        return "leads_lead" not in self.seq_scan_tables


SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")
LEAD_SEQ_SCAN = re.compile(
    r"Seq Scan on leads_lead\b.*?actual time=[\d.]+\.\.[\d.]+ rows=(\d+) loops=(\d+)\)"
    r"(?:\n\s+Filter:[^\n]*)?(?:\n\s+Rows Removed by Filter: (\d+))?"
)
INDEX_USED = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)")
EXEC_TIME = re.compile(r"Execution Time: ([\d.]+) ms")


def explain(*, tenant: Tenant, name: str, sql: str, params: Any) -> Plan:
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        lines = [row[0] for row in cursor.fetchall()]
    text = "\n".join(lines)
    found = EXEC_TIME.search(text)
    return Plan(
        name=name,
        sql=sql,
        lines=lines,
        execution_ms=float(found.group(1)) if found else 0.0,
        seq_scan_tables=sorted(set(SEQ_SCAN.findall(text))),
        indexes=list(dict.fromkeys(INDEX_USED.findall(text))),
        lead_rows_scanned=sum(
            (int(rows) + int(removed or 0)) * int(loops)
            for rows, loops, removed in LEAD_SEQ_SCAN.findall(text)
        ),
    )


def lead_queries(client: Client, url: str) -> list[tuple[float, str, Any]]:
    """The statements of one request that read leads_lead (the page rows and the capped count), slowest first."""
    with logged_queries() as log:
        client.get(url)
    hits = [entry for entry in log.entries if 'FROM "leads_lead"' in entry[1]]
    return sorted(hits, key=lambda entry: -entry[0])


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    value = fn()
    return (time.perf_counter() - began) * 1000, value
