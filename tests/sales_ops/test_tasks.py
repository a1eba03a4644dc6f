"""Engine mechanics: atomic swap, idempotency, the per-tenant lock, a failed run, the debounced trigger."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection

from crm.tenancy import tenant_context
from sales_ops import tasks
from sales_ops.models import KpiRecompute, KpiSnapshot, KpiSnapshotSet, RecomputeStatus
from sales_ops.services import engine
from sales_ops.services.triggers import pending_key, queue_recompute
from tests.factories import LeadFactory
from tests.sales_ops.conftest import NOW, advisory_lock_held_elsewhere, local, snapshot

pytestmark = pytest.mark.django_db


def _rows_without_times(tenant):  # type: ignore[no-untyped-def]
    return sorted(snapshot(tenant).items(), key=str)


def test_reader_sees_the_old_set_until_the_swap(fy_tenant):
    LeadFactory(tenant=fy_tenant, created_at=local(2024, 6, 14))
    engine.kpi_recompute(tenant=fy_tenant, now=NOW)
    before = snapshot(fy_tenant)
    assert before[("leads_created", "day", local(2024, 6, 14).date(), "all", "")] == 1
    LeadFactory(tenant=fy_tenant, created_at=local(2024, 6, 14, 15))
    new_set = engine.kpi_set_build(tenant=fy_tenant, now=NOW)
    assert snapshot(fy_tenant) == before  # written but not published: readers still see the old set, whole
    engine.kpi_set_publish(tenant=fy_tenant, snapshot_set=new_set)
    after = snapshot(fy_tenant)
    assert after[("leads_created", "day", local(2024, 6, 14).date(), "all", "")] == 2
    assert set(after) == set(before)
    with tenant_context(fy_tenant):
        assert list(KpiSnapshotSet.objects.values_list("pk", "is_current")) == [(new_set.pk, True)]
        assert set(KpiSnapshot.objects.values_list("snapshot_set", flat=True)) == {new_set.pk}


def test_recompute_is_idempotent(fy_tenant):
    LeadFactory(tenant=fy_tenant, created_at=local(2024, 5, 14), mql_at=local(2024, 5, 20))
    first = engine.kpi_recompute(tenant=fy_tenant, now=NOW)
    rows = _rows_without_times(fy_tenant)
    second = engine.kpi_recompute(tenant=fy_tenant, now=NOW)
    assert _rows_without_times(fy_tenant) == rows
    assert first.row_count == second.row_count == len(rows)


def test_a_failed_run_keeps_the_old_set_and_the_next_completes(fy_tenant):
    LeadFactory(tenant=fy_tenant, created_at=local(2024, 6, 14))
    engine.kpi_recompute(tenant=fy_tenant, now=NOW)
    before = snapshot(fy_tenant)
    with tenant_context(fy_tenant):
        job = KpiRecompute.objects.create(tenant=fy_tenant)
    broken = [*engine.FAMILIES[:1], ("boom", mock.Mock(side_effect=RuntimeError("worker lost")))]
    with mock.patch.object(engine, "FAMILIES", broken), pytest.raises(RuntimeError):
        engine.kpi_recompute(tenant=fy_tenant, job=job, now=NOW)
    assert snapshot(fy_tenant) == before
    with tenant_context(fy_tenant):
        job.refresh_from_db()
    assert job.status == RecomputeStatus.FAILED and "worker lost" in job.error
    with tenant_context(fy_tenant):
        assert KpiSnapshotSet.objects.filter(is_current=False).count() == 1  # the half-built set, unseen
    engine.kpi_recompute(tenant=fy_tenant, now=NOW)
    assert snapshot(fy_tenant) == before
    with tenant_context(fy_tenant):
        assert KpiSnapshotSet.objects.count() == 1


def test_a_recompute_leaves_other_tenants_sets_intact(fy_tenant, other_tenant):
    LeadFactory(tenant=fy_tenant, created_at=local(2024, 6, 14))
    LeadFactory(tenant=other_tenant, created_at=local(2024, 6, 13))
    engine.kpi_recompute(tenant=fy_tenant, now=NOW)
    theirs = engine.kpi_recompute(tenant=other_tenant, now=NOW)
    their_rows = snapshot(other_tenant)
    assert their_rows
    LeadFactory(tenant=fy_tenant, created_at=local(2024, 6, 14, 15))
    ours = engine.kpi_recompute(tenant=fy_tenant, now=NOW)
    assert snapshot(fy_tenant)[("leads_created", "day", local(2024, 6, 14).date(), "all", "")] == 2
    assert snapshot(other_tenant) == their_rows
    with tenant_context(other_tenant):
        assert list(KpiSnapshotSet.objects.values_list("pk", "is_current")) == [(theirs.pk, True)]
        assert KpiSnapshot.objects.count() == theirs.row_count
    with tenant_context(fy_tenant):
        assert set(KpiSnapshot.objects.values_list("snapshot_set", flat=True)) == {ours.pk}
        assert KpiSnapshot.objects.count() == ours.row_count


def test_deleting_a_set_deletes_its_rows(fy_tenant):
    """The snapshot table has no database foreign keys (bulk writes): Django's CASCADE still takes the rows."""
    LeadFactory(tenant=fy_tenant, created_at=local(2024, 6, 14))
    snapshot_set = engine.kpi_recompute(tenant=fy_tenant, now=NOW)
    with tenant_context(fy_tenant):
        assert KpiSnapshot.objects.filter(snapshot_set=snapshot_set).count() == snapshot_set.row_count > 0
        KpiSnapshotSet.objects.filter(pk=snapshot_set.pk).delete()
        assert not KpiSnapshot.objects.exists()


def test_family_statements_run_with_the_recompute_work_mem(fy_tenant, settings):
    settings.KPI_RECOMPUTE_WORK_MEM = "64MB"
    seen = []

    def family(bounds):  # type: ignore[no-untyped-def]
        with connection.cursor() as cursor:
            cursor.execute("SHOW work_mem")
            seen.append(cursor.fetchone()[0])
        return 0

    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        server = cursor.fetchone()[0]
    with mock.patch.object(engine, "FAMILIES", [("probe", family)]):
        engine.kpi_recompute(tenant=fy_tenant, now=NOW)
    assert seen == ["64MB"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone()[0] == server  # SET LOCAL: over with the family's transaction


@pytest.fixture
def lock_held_elsewhere(fy_tenant):
    """The tenant's recompute lock held by another database session (another worker)."""
    with advisory_lock_held_elsewhere(engine.LOCK_CLASS, fy_tenant.pk):
        yield


def test_a_second_recompute_of_the_tenant_does_not_run(fy_tenant, lock_held_elsewhere):
    with tenant_context(fy_tenant):
        job = KpiRecompute.objects.create(tenant=fy_tenant)
    assert engine.kpi_recompute(tenant=fy_tenant, job=job, now=NOW) is None
    with tenant_context(fy_tenant):
        job.refresh_from_db()
    assert job.status == RecomputeStatus.QUEUED
    with tenant_context(fy_tenant):
        assert not KpiSnapshotSet.objects.exists()
    # The task comes back later with the same job instead of running alongside.
    with mock.patch.object(tasks.recompute_kpis, "apply_async") as apply_async:
        assert tasks.recompute_kpis(fy_tenant.pk, job.pk) == "requeued"
    apply_async.assert_called_once_with((fy_tenant.pk, job.pk, 1), countdown=tasks.LOCK_RETRY_SECONDS)


def test_the_lock_is_per_tenant(fy_tenant, other_tenant, lock_held_elsewhere):
    assert engine.kpi_recompute(tenant=other_tenant, now=NOW) is not None


def test_500_saves_queue_one_recompute(fy_tenant, kpi_settings_on, django_capture_on_commit_callbacks):
    cache.delete(pending_key(fy_tenant.pk))
    with (
        mock.patch.object(tasks.recompute_kpis, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        LeadFactory.create_batch(500, tenant=fy_tenant)
    apply_async.assert_called_once_with((fy_tenant.pk,), countdown=5)
    # Once the task starts, the next change queues the next run.
    with mock.patch("sales_ops.services.engine.kpi_recompute", return_value=object()):
        assert tasks.recompute_kpis(fy_tenant.pk) == "done"
    with mock.patch.object(tasks.recompute_kpis, "apply_async") as apply_async:
        assert queue_recompute(tenant_id=fy_tenant.pk)
        assert not queue_recompute(tenant_id=fy_tenant.pk)
    apply_async.assert_called_once()
    cache.delete(pending_key(fy_tenant.pk))


def test_one_transaction_queues_one_recompute_when_tasks_run_at_once(
    fy_tenant, kpi_settings_on, django_capture_on_commit_callbacks
):
    """In-process tasks (the embedded demo) start at once and clear the key: still one run per transaction."""
    cache.delete(pending_key(fy_tenant.pk))
    queued = []

    def run_at_once(args, countdown):  # type: ignore[no-untyped-def]
        queued.append(args)
        cache.delete(pending_key(args[0]))

    with (
        mock.patch.object(tasks.recompute_kpis, "apply_async", side_effect=run_at_once),
        django_capture_on_commit_callbacks(execute=True),
    ):
        LeadFactory.create_batch(20, tenant=fy_tenant)
    assert queued == [(fy_tenant.pk,)]
    cache.delete(pending_key(fy_tenant.pk))


def test_changes_do_not_queue_when_switched_off(fy_tenant, django_capture_on_commit_callbacks):
    cache.delete(pending_key(fy_tenant.pk))
    with (
        mock.patch.object(tasks.recompute_kpis, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        LeadFactory(tenant=fy_tenant)
    apply_async.assert_not_called()


def test_beat_fans_out_one_task_per_tenant(fy_tenant, other_tenant):
    with mock.patch.object(tasks.recompute_kpis, "delay") as delay:
        assert tasks.recompute_kpis_all_tenants() >= 2
    assert {call.args[0] for call in delay.call_args_list} >= {fy_tenant.pk, other_tenant.pk}


@pytest.mark.parametrize("change", ["complete", "reopen", "snooze", "delete"])
def test_activity_changes_without_a_save_queue_a_recompute(
    fy_tenant, settings, django_capture_on_commit_callbacks, change
):
    """Completing, reopening or snoozing a task and deleting an activity are queryset updates (no post_save): the
    activity counts they move are recomputed all the same (accounts.signals.activity_changed)."""
    from accounts.models import ActivityKind
    from accounts.services import activities as activity_services
    from tests.factories_accounts import ActivityFactory

    with tenant_context(fy_tenant):
        task = ActivityFactory(
            tenant=fy_tenant, kind=ActivityKind.TASK, done=change == "reopen", occurred_at=None
        )
    # Switched on after the task's own save (its post_save would queue one anyway).
    settings.KPI_RECOMPUTE_ON_CHANGE = True
    cache.delete(pending_key(fy_tenant.pk))
    with (
        tenant_context(fy_tenant),
        mock.patch.object(tasks.recompute_kpis, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        if change == "complete":
            activity_services.activity_complete(tenant=fy_tenant, actor=None, activity=task)
        elif change == "reopen":
            activity_services.activity_reopen(tenant=fy_tenant, actor=None, activity=task)
        elif change == "snooze":
            activity_services.activity_snooze(tenant=fy_tenant, actor=None, activity=task, delta="1d")
        else:
            activity_services.activity_delete(tenant=fy_tenant, actor=None, activity=task)
    apply_async.assert_called_once_with((fy_tenant.pk,), countdown=5)
    cache.delete(pending_key(fy_tenant.pk))
