"""Session-level PostgreSQL advisory locks for long jobs that commit in steps (an import, a KPI recompute).

Held on the worker's connection across the job's transactions and released on exit, or by PostgreSQL itself when
the connection closes: a worker killed mid-job frees its lock at once. So "the lock is free" means "no live
process runs this job", which is what the reapers ask about a job still marked running.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

# The two-key form takes int4 keys: ids past 2**31 wrap (two jobs then share a lock, which only delays one).
_INT4 = 0x7FFFFFFF


@contextmanager
def advisory_lock(kind: int, key: int) -> Iterator[bool]:
    """Try to take lock (kind, key) for the block; yields whether it was taken (never waits)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [kind, key & _INT4])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [kind, key & _INT4])


def advisory_lock_free(kind: int, key: int) -> bool:
    """Whether nobody holds lock (kind, key) right now (taken and released at once when free)."""
    with advisory_lock(kind, key) as acquired:
        return acquired
