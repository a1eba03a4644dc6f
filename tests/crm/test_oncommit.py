"""crm.oncommit.CommitBatch: one flush per transaction, with everything its calls added; nothing on a rollback."""

from __future__ import annotations

import pytest
from django.db import transaction

from crm.oncommit import CommitBatch

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_flush_per_transaction_with_every_change():
    flushed: list[dict] = []
    batch = CommitBatch(lambda changes: flushed.append(changes))
    with transaction.atomic():
        batch.add(1, [10, 11])
        batch.add(1, [11, 12, None])
        batch.add(2, [5])
        batch.add(3, None)
        batch.add(3, [7])  # "all of tenant 3" already wins
        assert flushed == []
    assert flushed == [{1: {10, 11, 12}, 2: {5}, 3: None}]

    with transaction.atomic():
        batch.add(1, [99])
    assert flushed[1] == {1: {99}}  # the next transaction starts a new batch


def test_nothing_on_rollback_and_next_transaction_starts_clean():
    flushed: list[dict] = []
    batch = CommitBatch(lambda changes: flushed.append(changes))
    with pytest.raises(RuntimeError), transaction.atomic():
        batch.add(1, [1])
        raise RuntimeError
    assert flushed == []
    with transaction.atomic():
        batch.add(2, [2])
    assert flushed == [{2: {2}}]


def test_outside_a_transaction_each_call_flushes_at_once():
    flushed: list[dict] = []
    batch = CommitBatch(lambda changes: flushed.append(changes))
    batch.add(1, [1])
    batch.add(1, [2])
    assert flushed == [{1: {1}}, {1: {2}}]
