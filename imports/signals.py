"""Signals of the imports app, and whether an import job is running in this context.

While a job writes its rows, apps that react to every saved record with expensive work (the KPI recompute of
sales_ops) ask `import_job_running(tenant_id)` and hold back; `import_job_finished` then tells them once, after
the job's last commit, so a file of 10,000 rows causes one recompute, not one per chunk or row."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.dispatch import Signal

# Sent once a job ran (done, or stopped after some chunks committed): sender ImportJob, tenant=..., job_id=...,
# kind=... (the kind's key). Outside any transaction.
import_job_finished = Signal()

_running: ContextVar[frozenset[int]] = ContextVar("import_jobs_running", default=frozenset())


@contextmanager
def import_job_context(tenant_id: int) -> Iterator[None]:
    """Mark an import job of the tenant as running in this context (thread or task) for the block."""
    token = _running.set(_running.get() | {tenant_id})
    try:
        yield
    finally:
        _running.reset(token)


def import_job_running(tenant_id: int) -> bool:
    return tenant_id in _running.get()
