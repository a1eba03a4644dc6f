"""The leads' activity clocks of an activities import move once per lead, at the job's end, however it ends (issue
10's speed: one UPDATE of a lead per chunk cost more than the chunk's activities; RowImporter.settle)."""

from __future__ import annotations

import datetime

import pytest

from accounts.models import Activity, ActivityKind
from crm.records import last_id
from crm.tenancy import tenant_context
from imports import services
from imports.models import ImportJob, ImportStatus
from imports.rows import ImportContext
from imports.services import MAX_RUNS, import_job_run
from leads.models import Lead, LeadStatus
from leads.services.activity import leads_catch_up_activity_clocks
from tests.factories_accounts import ActivityFactory
from tests.factories_leads import LeadFactory
from tests.imports.conftest import csv_text, stored_job

pytestmark = pytest.mark.django_db

ACTIVITIES = "external_id,kind,subject,occurred_at,done,lead_external_id"
UTC = datetime.UTC


def at(day: int) -> datetime.datetime:
    return datetime.datetime(2024, 5, day, 1, 0, tzinfo=UTC)


def calls(prefix: str, lead: str, days: list[int]) -> list[str]:
    return [f"{prefix}-{n},call,Call,{at(day).isoformat()},true,{lead}" for n, day in enumerate(days)]


def clock_events(lead: Lead) -> int:
    """The history events that moved the lead's activity clock."""
    events = (
        lead.events.filter(pgh_label="update").order_by("pgh_id").values_list("last_activity_at", flat=True)
    )
    previous, moves = lead.events.filter(pgh_label="insert").values_list("last_activity_at", flat=True)[0], 0
    for value in events:
        moves += value != previous
        previous = value
    return moves


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)


def test_clocks_move_once_per_lead_at_the_jobs_end(tenant, admin_member, run_import, small_chunks):
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, external_id="L-1", last_activity_at=at(2))
        other = LeadFactory(tenant=tenant, external_id="L-2", last_activity_at=at(20))
    rows = calls("A", "L-1", [3, 5, 4, 9, 7]) + calls("B", "L-2", [10])  # three chunks on L-1; L-2 older
    rows.append(f"N-1,note,Note,{at(28).isoformat()},true,L-1")  # a note does not work a lead
    rows.append("T-1,task,Open task,,false,L-1")
    job = run_import(admin_member, "activities", csv_text(ACTIVITIES, *rows))
    assert (job.status, job.created, job.failed) == (ImportStatus.DONE, 8, 0), job.row_errors
    assert job.id_floor is not None
    with tenant_context(tenant):
        lead.refresh_from_db()
        other.refresh_from_db()
        assert lead.last_activity_at == at(9) and lead.status == LeadStatus.NEW  # history moves no status
        assert clock_events(lead) == 1  # one move for the job, not one per chunk
        assert other.last_activity_at == at(20) and clock_events(other) == 0  # never back


def test_the_clocks_wait_for_the_end_while_the_job_runs(
    tenant, admin_member, run_import, small_chunks, monkeypatch
):
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, external_id="L-1")
    seen = []
    original = ImportContext.forget_chunk

    def after_each_chunk(self):
        with tenant_context(tenant):
            seen.append(Lead.objects.get(pk=lead.pk).last_activity_at)
        original(self)

    monkeypatch.setattr(ImportContext, "forget_chunk", after_each_chunk)
    run_import(admin_member, "activities", csv_text(ACTIVITIES, *calls("A", "L-1", [3, 5, 4])))
    assert seen == [None, None]
    with tenant_context(tenant):
        assert Lead.objects.get(pk=lead.pk).last_activity_at == at(5)


def test_a_job_that_fails_after_a_chunk_still_moves_the_clocks_of_what_it_kept(
    tenant, admin_member, run_import, small_chunks, monkeypatch
):
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, external_id="L-1")
    calls_made = {"n": 0}
    original = ImportContext.forget_chunk

    def second_chunk_breaks(self):
        calls_made["n"] += 1
        if calls_made["n"] == 2:
            raise RuntimeError("the worker's code broke after the second chunk committed")
        original(self)

    monkeypatch.setattr(ImportContext, "forget_chunk", second_chunk_breaks)
    job = run_import(admin_member, "activities", csv_text(ACTIVITIES, *calls("A", "L-1", [3, 8, 4, 5, 9])))
    assert (job.status, job.processed) == (ImportStatus.FAILED, 4)
    with tenant_context(tenant):
        assert Activity.objects.filter(lead=lead).count() == 4
        assert Lead.objects.get(pk=lead.pk).last_activity_at == at(8)  # the kept rows' latest, not row 5's


def test_a_job_given_up_after_its_worker_died_moves_the_clocks_of_what_it_kept(tenant, admin_member):
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, external_id="L-1")
        floor = last_id(Activity)
        # What the dead runs committed: activities whose clocks were left to the job's end.
        ActivityFactory(tenant=tenant, account=None, lead=lead, occurred_at=at(6))
        ActivityFactory(tenant=tenant, account=None, lead=lead, occurred_at=at(7), kind=ActivityKind.NOTE)
    job = stored_job(
        tenant,
        admin_member.user,
        csv_text(ACTIVITIES, *calls("A", "L-1", [3, 4, 5])),
        kind="activities",
        status=ImportStatus.RUNNING,
        runs=MAX_RUNS,
        processed=2,
        id_floor=floor,
    )
    import_job_run(tenant=tenant, job_id=job.pk)
    with tenant_context(tenant):
        assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.FAILED
        assert Lead.objects.get(pk=lead.pk).last_activity_at == at(6)


def test_a_dry_run_moves_no_clock(tenant, admin_member, run_import):
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, external_id="L-1")
    job = run_import(admin_member, "activities", csv_text(ACTIVITIES, *calls("A", "L-1", [3])), dry_run=True)
    assert (job.status, job.created) == (ImportStatus.DONE, 1)
    with tenant_context(tenant):
        assert not Activity.objects.filter(lead=lead).exists()
        assert Lead.objects.get(pk=lead.pk).last_activity_at is None


def test_catch_up_rule(tenant, other_tenant):
    with tenant_context(tenant):
        fresh, old, noted, deleted = (LeadFactory(tenant=tenant) for _ in range(4))
        before = ActivityFactory(tenant=tenant, account=None, lead=fresh, occurred_at=at(25))
        floor = last_id(Activity)
        ActivityFactory(tenant=tenant, account=None, lead=fresh, occurred_at=at(12))
        ActivityFactory(tenant=tenant, account=None, lead=fresh, occurred_at=at(14), kind=ActivityKind.EMAIL)
        Lead.objects.filter(pk=old.pk).update(last_activity_at=at(20))
        ActivityFactory(tenant=tenant, account=None, lead=old, occurred_at=at(15), kind=ActivityKind.MEETING)
        ActivityFactory(tenant=tenant, account=None, lead=noted, occurred_at=at(15), kind=ActivityKind.NOTE)
        ActivityFactory(tenant=tenant, account=None, lead=noted, occurred_at=None, done=False)
        ActivityFactory(tenant=tenant, account=None, lead=deleted, occurred_at=at(15), deleted_at=at(16))
    with tenant_context(other_tenant):
        elsewhere = LeadFactory(tenant=other_tenant)
        ActivityFactory(tenant=other_tenant, account=None, lead=elsewhere, occurred_at=at(15))
        Lead.objects.filter(pk=elsewhere.pk).update(last_activity_at=None)
    with tenant_context(tenant):
        assert leads_catch_up_activity_clocks(tenant=tenant, after_activity_id=floor) == 1
        assert leads_catch_up_activity_clocks(tenant=tenant, after_activity_id=floor) == 0  # idempotent
        clocks = dict(Lead.objects.values_list("pk", "last_activity_at"))
    # only activities above the floor (not `before`), the latest done call/email/meeting, never back
    assert before.occurred_at == at(25)
    assert clocks == {fresh.pk: at(14), old.pk: at(20), noted.pk: None, deleted.pk: None}
    with tenant_context(other_tenant):
        assert Lead.objects.get(pk=elsewhere.pk).last_activity_at is None  # another tenant's lead untouched
