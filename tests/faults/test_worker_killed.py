"""A Celery worker killed with SIGKILL in the middle of a job, against a real worker process, a private Redis and
the test database: no row is written twice, none is lost, and the job either resumes (the message is delivered
again: acks_late + reject_on_worker_lost) or is resumed or failed visibly by its reaper, never left "running".

Two ways to die: the pool process alone (the worker lives on, re-queues the message at once, starts a new pool
process) and the whole worker (nothing is re-queued until the broker's visibility timeout: the reaper acts)."""

from __future__ import annotations

import datetime

import pytest
from celery import Celery
from django.core.files.base import ContentFile
from django.utils import timezone

from crm.tenancy import tenant_context
from imports.models import ImportJob, ImportStatus
from imports.services import CHUNK_SIZE, STALLED_AFTER
from leads.models import Lead
from sales_ops.models import KpiRecompute, KpiSnapshot, KpiSnapshotSet, RecomputeStatus
from sales_ops.services.engine import kpi_recompute
from tests.factories_leads import LeadFactory
from tests.faults.procs import wait_until

ROWS = 4 * CHUNK_SIZE
JOB_TIMEOUT = 150.0
POLL = 0.02  # seconds: the kill must land while the job runs


def _send(redis_url: str, task: str, *args: object) -> None:
    client = Celery(
        broker=redis_url, set_as_current=False
    )  # crm's app stays Celery's current one (eager in tests)
    client.conf.task_serializer = "json"
    client.send_task(task, args=list(args))
    client.close()


def _leads_csv(rows: int) -> bytes:
    lines = ["external_id,first_name,last_name,email,company"]
    lines += [f"F-{i:05d},Ada{i},Lovelace,ada{i}@faults.test,Analytical {i % 40}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _job(tenant, pk: int) -> ImportJob:
    with tenant_context(tenant):
        return ImportJob.objects.get(pk=pk)


def _committed(tenant, pk: int, rows: int) -> bool:
    """The job runs and has committed at least `rows` rows (fails the test if it finished already)."""
    job = _job(tenant, pk)
    assert not job.is_finished, "the import finished before the worker could be killed: make ROWS larger"
    return job.status == ImportStatus.RUNNING and job.processed >= rows


@pytest.mark.django_db(transaction=True)
def test_import_killed_twice_resumes_and_writes_each_row_once(
    tenant, admin_member, private_redis, start_worker
):
    worker = start_worker()
    with tenant_context(tenant):
        job = ImportJob(tenant=tenant, kind="leads", file_name="faults.csv", created_by=admin_member.user)
        job.file.save("faults.csv", ContentFile(_leads_csv(ROWS)), save=False)  # stored as an upload is
        job.save()
    _send(private_redis.url, "imports.tasks.run_import_job", tenant.pk, job.pk)

    # 1. The pool process dies mid-chunk; the worker lives on and the message is delivered again at once.
    wait_until(
        lambda: _committed(tenant, job.pk, CHUNK_SIZE),
        timeout=JOB_TIMEOUT,
        what="a first chunk",
        interval=POLL,
    )
    worker.kill_pool_process()
    wait_until(lambda: _job(tenant, job.pk).runs == 2, timeout=JOB_TIMEOUT, what="the re-delivered run")
    assert "resumes after" in worker.log.read_text()

    # 2. The whole worker dies (main process and pool): the message stays unacknowledged in Redis until the
    # visibility timeout, the job stays "running"; the reaper of a new worker resumes it.
    wait_until(
        lambda: _committed(tenant, job.pk, 2 * CHUNK_SIZE),
        timeout=JOB_TIMEOUT,
        what="a second chunk",
        interval=POLL,
    )
    worker.kill()
    stopped = _job(tenant, job.pk)
    assert stopped.status == ImportStatus.RUNNING and 0 < stopped.processed < ROWS
    worker = start_worker()
    # The reaper only touches a job that has not moved for STALLED_AFTER: that much time passes.
    with tenant_context(tenant):
        ImportJob.objects.filter(pk=job.pk).update(
            updated_at=timezone.now() - STALLED_AFTER - datetime.timedelta(seconds=1)
        )
    _send(private_redis.url, "imports.tasks.resume_stalled_import_jobs", tenant.pk)

    wait_until(
        lambda: _job(tenant, job.pk).is_finished, timeout=JOB_TIMEOUT, what="the resumed import to finish"
    )
    assert "stalled: queued again" in worker.log.read_text()
    job = _job(tenant, job.pk)
    assert job.status == ImportStatus.DONE, (job.status, job.message)
    assert job.runs == 3  # resumed twice, never started over
    assert (job.total, job.processed, job.created, job.updated, job.failed) == (ROWS, ROWS, ROWS, 0, 0)
    with tenant_context(tenant):
        external_ids = list(Lead.objects.values_list("external_id", flat=True))
    assert len(external_ids) == ROWS  # none twice
    assert set(external_ids) == {f"F-{i:05d}" for i in range(ROWS)}  # none lost


def _recompute(tenant, pk: int) -> KpiRecompute:
    with tenant_context(tenant):
        return KpiRecompute.objects.get(pk=pk)


def _running(tenant, pk: int) -> bool:
    status = _recompute(tenant, pk).status
    assert status != RecomputeStatus.DONE, "the recompute finished before the worker could be killed"
    return status == RecomputeStatus.RUNNING


def _finished(tenant, pk: int) -> bool:
    return _recompute(tenant, pk).status in (RecomputeStatus.DONE, RecomputeStatus.FAILED)


def _sets(tenant) -> list[bool]:
    with tenant_context(tenant):
        return list(KpiSnapshotSet.objects.values_list("is_current", flat=True))


def _current_rows(tenant) -> list[tuple]:
    with tenant_context(tenant):
        rows = KpiSnapshot.objects.filter(snapshot_set__is_current=True).values_list(
            "metric", "grain", "period_start", "dimension", "dimension_value", "value"
        )
        return sorted(rows, key=repr)


def _assert_same_as_a_clean_recompute(tenant) -> None:
    """One complete current set, nothing left of a killed run, and the very rows a recompute without a fault
    writes (none lost, none twice)."""
    assert _sets(tenant) == [True]
    recovered = _current_rows(tenant)
    assert recovered
    kpi_recompute(tenant=tenant)
    assert recovered == _current_rows(tenant)


def _kpi_data(tenant) -> None:
    """Two years of leads, so that a recompute has many periods to write and runs long enough to be killed."""
    start = timezone.now() - datetime.timedelta(days=730)
    with tenant_context(tenant):
        leads = LeadFactory.build_batch(600, tenant=tenant)
        for index, lead in enumerate(leads):
            lead.created_at = start + datetime.timedelta(days=index * 730 // len(leads))
        Lead.objects.bulk_create(leads)


@pytest.mark.django_db(transaction=True)
def test_kpi_recompute_killed_is_delivered_again_or_failed_visibly(tenant, private_redis, start_worker):
    _kpi_data(tenant)
    worker = start_worker()

    # 1. The pool process dies mid-recompute: the message is delivered again and the job completes.
    with tenant_context(tenant):
        first = KpiRecompute.objects.create(tenant=tenant)
    _send(private_redis.url, "sales_ops.tasks.recompute_kpis", tenant.pk, first.pk)
    wait_until(
        lambda: _running(tenant, first.pk), timeout=JOB_TIMEOUT, what="the recompute to start", interval=POLL
    )
    worker.kill_pool_process()
    wait_until(lambda: _finished(tenant, first.pk), timeout=JOB_TIMEOUT, what="the re-delivered recompute")
    assert _recompute(tenant, first.pk).status == RecomputeStatus.DONE
    _assert_same_as_a_clean_recompute(tenant)

    # 2. The whole worker dies: nothing re-queues the message before the visibility timeout; the reaper of a new
    # worker finds the job running with the tenant's lock free, fails it with a message and queues a fresh one.
    with tenant_context(tenant):
        second = KpiRecompute.objects.create(tenant=tenant)
        before = KpiSnapshotSet.objects.get(is_current=True).pk
    _send(private_redis.url, "sales_ops.tasks.recompute_kpis", tenant.pk, second.pk)
    wait_until(
        lambda: _running(tenant, second.pk), timeout=JOB_TIMEOUT, what="the recompute to start", interval=POLL
    )
    worker.kill()
    assert _recompute(tenant, second.pk).status == RecomputeStatus.RUNNING
    worker = start_worker()
    _send(private_redis.url, "sales_ops.tasks.resume_stalled_recomputes", tenant.pk)

    wait_until(lambda: _finished(tenant, second.pk), timeout=JOB_TIMEOUT, what="the reaper")
    lost = _recompute(tenant, second.pk)
    assert lost.status == RecomputeStatus.FAILED and "worker" in lost.error and lost.finished_at
    wait_until(
        lambda: _sets(tenant) == [True] and _current_set(tenant) != before,
        timeout=JOB_TIMEOUT,
        what="the fresh recompute the reaper queued",
        interval=0.5,
    )
    _assert_same_as_a_clean_recompute(tenant)


def _current_set(tenant) -> int | None:
    with tenant_context(tenant):
        return KpiSnapshotSet.objects.filter(is_current=True).values_list("pk", flat=True).first()
