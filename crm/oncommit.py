"""One batch per transaction: the calls made during one transaction collect what changed, per tenant, and one
callback runs it when the transaction commits (nothing runs on a rollback).

The lifecycle stage and health recomputes and the KPI recompute each keep one `CommitBatch`: a transaction that
touches 500 records queues one task per tenant, not 500. A batch is recognised as current by being still
registered with the connection's on-commit callbacks; after a commit or a rollback it is not (nor once it ran),
and the next call starts a new one. Outside a transaction Django runs an on-commit callback at once, so each
call is its own batch there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction

#: What a batch hands to its flush function: per tenant id, the record ids that changed (None: all of them).
Changes = dict[int, set[int] | None]


@dataclass
class _Pending:
    flush: Callable[[Changes], None]
    changes: Changes = field(default_factory=dict)
    flushed: bool = False

    def add(self, tenant_id: int, ids: Iterable[int | None] | None) -> None:
        if ids is None:
            self.changes[tenant_id] = None
            return
        known = self.changes.setdefault(tenant_id, set())
        if known is not None:
            known.update(int(pk) for pk in ids if pk is not None)

    def registered(self) -> bool:
        """Still waiting for this transaction's commit (not run, not dropped by a rollback)."""
        return (
            not self.flushed
            and connection.in_atomic_block
            and any(entry[1] is self for entry in connection.run_on_commit)
        )

    def __call__(self) -> None:
        self.flushed = True
        self.flush(self.changes)


class CommitBatch:
    """`add(tenant_id, ids)` during a transaction; `flush(changes)` runs once when it commits."""

    def __init__(self, flush: Callable[[Changes], None]) -> None:
        self._flush = flush
        self._local = threading.local()

    def add(self, tenant_id: int, ids: Iterable[int | None] | None = None) -> None:
        pending: _Pending | None = getattr(self._local, "pending", None)
        if pending is None or not pending.registered():
            pending = _Pending(self._flush)
            self._local.pending = pending
            pending.add(tenant_id, ids)
            transaction.on_commit(pending)
            return
        pending.add(tenant_id, ids)
