"""API fuzzing (issue 11, "Keep it fixed: in CI"): schemathesis over EVERY operation of the OpenAPI schema at
/api/schema/ (the token endpoint, imports and exports included), through the Django WSGI app, on a demo-like
tenant (the `acme` demo seed), with an admin member's token (every operation reachable) and a rep's token
(the role that is refused most), a fixed seed, derandomized generation and a bounded number of examples per
operation so the whole run fits the CI budget.

Checks on every answer: `not_a_server_error` (no 5xx) and the response conformance checks
(`status_code_conformance`, `content_type_conformance`, `response_schema_conformance`). Every failure of every
operation is collected (no stop at the first one, no shrinking) and the test fails listing them all.

The report, test-artifacts/schemathesis-report.json and .txt, lists the seed, the settings and, per operation,
the calls made, the status codes seen and the failures. Reproduce a run with the same seed:
`FUZZ_SEED=<seed> .venv/bin/python -m pytest tests/test_api_fuzz.py`; FUZZ_EXAMPLES raises the examples per
operation for a deeper local run.
"""

from __future__ import annotations

import json
import os
import re
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crm import services
from crm.management.commands import seed_demo
from crm.models import ApiToken, Membership, Role, hash_token
from crm.tenancy import tenant_context
from imports.registry import kind_keys

pytestmark = pytest.mark.django_db

SEED = int(os.environ.get("FUZZ_SEED", "20261103"))
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))  # positive examples per operation and role
NEGATIVE_EXAMPLES = int(os.environ.get("FUZZ_NEGATIVE_EXAMPLES", "2"))  # schema-violating ones, admin only
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
REPORT_DIR = Path(__file__).resolve().parent.parent / "test-artifacts"
ID_PARAM = re.compile(r"\{(id|pk|[a-z_]+_id)\}")


@dataclass
class OperationReport:
    label: str
    calls: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@pytest.fixture
def acme(db):
    """The demo tenant `acme` as `make demo` seeds it (people, accounts, leads, deals, lifecycle, imports)."""
    command = seed_demo.Command()
    tenant = command._create_and_seed(seed_demo.DEMO_TENANTS[0], 0)
    with tenant_context(tenant):
        members = {
            m.role: m
            for m in Membership.objects.select_related("user").filter(role__in=[Role.ADMIN, Role.SALES_REP])
        }
    return tenant, members


def _existing_ids(client: APIClient, schema_paths: dict[str, Any], slug: str) -> dict[str, list[int]]:
    """For each collection path the schema lists, the ids of its first page: operations on `{id}` are then tried
    on real rows as well as on random ids (which mostly answer 404)."""
    found: dict[str, list[int]] = {}
    for path, item in schema_paths.items():
        if "get" not in item or "{" in path.replace("{slug}", ""):
            continue
        response = client.get(path.replace("{slug}", slug))
        if response.status_code != 200:
            continue
        body = response.json()
        rows = body.get("results", body) if isinstance(body, dict) else body
        ids = [row["id"] for row in rows if isinstance(row, dict) and isinstance(row.get("id"), int)]
        if ids:
            found[path] = ids[:20]
    return found


def _collection_of(path: str) -> str | None:
    match = ID_PARAM.search(path)
    return path[: match.start()] if match else None


@contextmanager
def _keeping_the_connection() -> Iterator[None]:
    """Requests to the project's WSGI handler, as gunicorn runs it, keep the test's database connection open (the
    test's transaction holds the seeded tenant), as Django's own test client does around each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_every_operation_survives_fuzzing(acme):
    tenant, members = acme
    app = WSGIHandler()
    tokens = {
        role: services.api_token_create(tenant=tenant, user=members[role].user)
        for role in (Role.ADMIN, Role.SALES_REP)
    }
    with _keeping_the_connection():
        schema = schemathesis.openapi.from_wsgi(
            "/api/schema/", app, headers={"Accept": "application/vnd.oai.openapi+json"}
        )
    with tenant_context(tenant):
        own_token_ids = set(
            ApiToken.objects.filter(key_hash__in=[hash_token(key) for key in tokens.values()]).values_list(
                "pk", flat=True
            )
        )
    assert len(own_token_ids) == 2
    admin_client = APIClient()
    admin_client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[Role.ADMIN]}")
    existing = _existing_ids(admin_client, schema.raw_schema["paths"], tenant.slug)

    reports: dict[str, OperationReport] = {}
    started = time.monotonic()
    operations = []
    for result in schema.get_all_operations():
        operations.append(result.ok())
    assert operations, "the schema lists no operation"

    for operation in operations:
        report = reports.setdefault(operation.label, OperationReport(operation.label))
        path_parameters: dict[str, Any] = {}
        if "{slug}" in operation.path:
            path_parameters["slug"] = tenant.slug
        plans = [(Role.ADMIN, schemathesis.GenerationMode.POSITIVE, EXAMPLES)]
        if NEGATIVE_EXAMPLES:
            plans.append((Role.ADMIN, schemathesis.GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES))
        if "{slug}" in operation.path:
            plans.append((Role.SALES_REP, schemathesis.GenerationMode.POSITIVE, max(EXAMPLES // 2, 1)))
        collection = _collection_of(operation.path)
        # Path values worth trying besides the generated ones: the ids of real rows, the export kinds. The tokens the
        # fuzzing itself uses are never revoked by it (every later call would answer 401).
        pools: dict[str, list[Any]] = {}
        match = ID_PARAM.search(operation.path)
        if match and existing.get(collection or ""):
            pools[match.group(1)] = [pk for pk in existing[collection or ""] if pk not in own_token_ids]
        if "{kind}" in operation.path and "/exports/" in operation.path:
            pools["kind"] = sorted(kind_keys())
        protected = own_token_ids if operation.path.endswith("/tokens/{id}/") else set()
        for role, mode, examples in plans:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters or None)
            for name, values in pools.items():
                if values:
                    strategy = st.tuples(strategy, st.sampled_from(values), st.booleans()).map(
                        lambda drawn, name=name: _with_path_value(*drawn, name=name)
                    )
            if protected:
                strategy = strategy.map(lambda case, protected=protected: _sparing(case, protected))
            _run(app, operation, strategy, tokens[role], report, examples, label=f"{role}/{mode.value}")

    _write_report(reports, tenant.slug, seconds=time.monotonic() - started)
    untried = sorted(label for label, r in reports.items() if not r.calls)
    assert not untried, f"operations the fuzzing never called: {untried}"
    failed = {label: r.failures for label, r in reports.items() if r.failures}
    assert not failed, json.dumps(failed, indent=1, ensure_ascii=False)[:20000]


def _with_path_value(case: schemathesis.Case, value: Any, use_it: bool, *, name: str) -> schemathesis.Case:
    if use_it and isinstance(case.path_parameters, dict):
        case.path_parameters[name] = value
    return case


def _sparing(case: schemathesis.Case, protected: set[int]) -> schemathesis.Case:
    if isinstance(case.path_parameters, dict) and case.path_parameters.get("id") in protected:
        case.path_parameters["id"] = 10**9  # an unknown token instead of the one this run authenticates with
    return case


def _run(app, operation, strategy, token: str, report: OperationReport, examples: int, *, label: str) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Token {token}"}

    # The run is fixed by SEED: each operation and plan draws from its own stream (SEED + a stable hash of both),
    # so adding an operation changes no other operation's examples; no example database, no shrinking.
    @seed(SEED + zlib.crc32(f"{operation.label} {label}".encode()))
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=strategy)
    def fuzz(case: schemathesis.Case) -> None:
        # A savepoint per request: a failed query ends that request only, as under autocommit in production (the
        # test's transaction would refuse every later query). Work a request queues on commit (an import, a KPI
        # recompute over the years the fuzzed dates span) is not run here: it has its own tests, and the fuzzing
        # checks what the API answers.
        with transaction.atomic():
            response = case.call(app=app, headers=headers)
        report.calls += 1
        report.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                report.failures.append(
                    f"[{label}] {type(failure).__name__}: {failure.title}: {_short(failure.message, 600)} -- {case.method} "
                    f"{case.formatted_path} query={case.query} body={_short(case.body)} -> "
                    f"{response.status_code} {_short(response.text)}"
                )

    with _keeping_the_connection():
        try:
            fuzz()
        except Unsatisfiable:
            report.notes.append(f"[{label}] no example could be generated")


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _write_report(reports: dict[str, OperationReport], slug: str, *, seconds: float) -> None:
    REPORT_DIR.mkdir(exist_ok=True)
    data = {
        "seed": SEED,
        "examples_per_operation": {
            "admin": EXAMPLES,
            "admin_negative": NEGATIVE_EXAMPLES,
            "rep": EXAMPLES // 2,
        },
        "tenant": slug,
        "roles": [
            "admin (positive and negative examples)",
            "sales_rep (positive examples, tenant operations)",
        ],
        "checks": [check.__name__ for check in CHECKS],
        "schemathesis": schemathesis.__version__,
        "seconds": round(seconds, 1),
        "operations": len(reports),
        "calls": sum(r.calls for r in reports.values()),
        "failures": sum(len(r.failures) for r in reports.values()),
        "by_operation": {
            label: {
                "calls": r.calls,
                "statuses": dict(sorted(r.statuses.items())),
                "failures": r.failures,
                "notes": r.notes,
            }
            for label, r in sorted(reports.items())
        },
    }
    (REPORT_DIR / "schemathesis-report.json").write_text(json.dumps(data, indent=1, ensure_ascii=False))
    lines = [
        f"schemathesis {data['schemathesis']} seed={SEED} tenant={slug} operations={data['operations']} "
        f"calls={data['calls']} failures={data['failures']} seconds={data['seconds']} "
        f"checks={','.join(data['checks'])}"
    ]
    for label, r in sorted(reports.items()):
        statuses = " ".join(f"{code}x{count}" for code, count in sorted(r.statuses.items()))
        lines.append(
            f"{r.calls:4d}  {label}  [{statuses}]" + (f"  FAILURES: {len(r.failures)}" if r.failures else "")
        )
        lines.extend(f"        {failure}" for failure in r.failures)
        lines.extend(f"        note: {note}" for note in r.notes)
    (REPORT_DIR / "schemathesis-report.txt").write_text("\n".join(lines) + "\n")
