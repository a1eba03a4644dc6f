"""Signals of the imports app, and whether an import job is running in this context.

While a job writes its rows, apps that react to every saved record with expensive work (the KPI recompute of
sales_ops) ask `import_job_running(tenant_id)` and hold back; `import_job_finished` then tells them once, after
the job's last commit, so a file of 10,000 rows causes one recompute, not one per chunk or row."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.dispatch import Signal

# Sent once a job ran (done, or stopped after some chunks committed): sender ImportJob, tenant=..., job_id=...,
# kind=... (the kind's key), held=... (what the apps held back while it ran, see `hold`). Outside any transaction.
import_job_finished = Signal()

# What apps held back during a job: {name: {tenant id: record ids, or None for all}}.
Held = dict[str, dict[int, set[int] | None]]

_running: ContextVar[frozenset[int]] = ContextVar("import_jobs_running", default=frozenset())
_held: ContextVar[Held | None] = ContextVar("import_jobs_held", default=None)


@contextmanager
def import_job_context(tenant_id: int) -> Iterator[Held]:
    """Mark an import job of the tenant as running in this context (thread or task) for the block; yields what
    the apps hold back meanwhile (`hold`), for the job to hand to `import_job_finished`."""
    held: Held = {}
    token = _running.set(_running.get() | {tenant_id})
    held_token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(held_token)
        _running.reset(token)


def import_job_running(tenant_id: int) -> bool:
    return tenant_id in _running.get()


def hold(name: str, tenant_id: int, ids: Iterable[int] | None) -> bool:
    """While an import job of the tenant runs in this context, keep `ids` (None: all) under `name` for the job's
    end instead of acting now (the lifecycle and health recomputes: once per job, not once per chunk); returns
    whether it kept them. Outside a job it keeps nothing and returns False."""
    held = _held.get()
    if held is None or not import_job_running(tenant_id):
        return False
    per_tenant = held.setdefault(name, {})
    if ids is None:
        per_tenant[tenant_id] = None
    else:
        known = per_tenant.setdefault(tenant_id, set())
        if known is not None:
            known.update(ids)
    return True
