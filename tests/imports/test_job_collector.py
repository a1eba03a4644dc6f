"""An import job runs with Python's garbage collector set for it (imports.services._collector_set_for_a_job): the
objects from before it frozen and the youngest generation collected less often. The collector belongs to the
process, so jobs that overlap in one process (the inline worker's threads) must leave it as it was."""

from __future__ import annotations

import gc

import pytest

from imports.services import JOB_GC_THRESHOLD, _collector_set_for_a_job


def test_the_collector_is_set_while_jobs_run_and_put_back_after_the_last():
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    first, second = _collector_set_for_a_job(), _collector_set_for_a_job()
    first.__enter__()
    assert gc.get_threshold() == (JOB_GC_THRESHOLD, *before[1:])
    assert gc.get_freeze_count() > frozen
    second.__enter__()
    first.__exit__(None, None, None)  # the first job ends while the second runs: still set
    assert gc.get_threshold() == (JOB_GC_THRESHOLD, *before[1:])
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen == 0
    with pytest.raises(RuntimeError), _collector_set_for_a_job():  # a job that fails puts it back too
        raise RuntimeError
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
