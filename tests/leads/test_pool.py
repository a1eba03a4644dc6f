"""The public lead pool: the daily set-based return, claims under the cap and row locks, pool health."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from accounts.models import Activity
from crm.errors import AppError
from crm.models import Role
from crm.tenancy import tenant_context
from leads import tasks
from leads.models import Lead, LeadPoolEvent, LeadStatus, PoolEventKind
from leads.selectors.pool import open_claims_count, pool_health, pool_list
from leads.services import pool as pool_services
from leads.services import status as status_services
from tests.factories_leads import LeadFactory, LeadSettingsFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _lead(tenant, owner, *, age_days, activity_days=None, assigned_days=None, **kwargs) -> Lead:
    now = timezone.now()
    return LeadFactory(
        tenant=tenant,
        owner=owner,
        created_at=now - age_days * DAY,
        last_activity_at=None if activity_days is None else now - activity_days * DAY,
        assigned_at=None if assigned_days is None else now - assigned_days * DAY,
        **kwargs,
    )


def test_return_stale_leads_set_based(tenant, member, in_tenant, django_assert_max_num_queries):
    rep = member()
    LeadSettingsFactory(tenant=tenant, pool_window_days=30)
    stale = _lead(tenant, rep.user, age_days=90, activity_days=40)
    never_worked = _lead(tenant, rep.user, age_days=45)
    fresh_activity = _lead(tenant, rep.user, age_days=90, activity_days=5)
    just_assigned = _lead(tenant, rep.user, age_days=90, activity_days=60, assigned_days=2)
    young = _lead(tenant, rep.user, age_days=10)
    converted = _lead(tenant, rep.user, age_days=90, status=LeadStatus.CONVERTED)
    disqualified = _lead(tenant, rep.user, age_days=90, status=LeadStatus.DISQUALIFIED)
    deleted = _lead(tenant, rep.user, age_days=90, deleted_at=timezone.now())
    LeadFactory.create_batch(5, tenant=tenant, owner=rep.user, created_at=timezone.now() - 60 * DAY)

    with django_assert_max_num_queries(8):  # settings, the UPDATE, two batched INSERTs (+ savepoints)
        moved = pool_services.leads_return_stale_to_pool(tenant=tenant)
    assert moved == 7
    for lead in (stale, never_worked):
        lead.refresh_from_db()
        assert lead.owner_id is None and lead.pooled_at is not None and lead.version == 2
    for lead in (fresh_activity, just_assigned, young, converted, disqualified, deleted):
        lead.refresh_from_db()
        assert lead.owner_id == rep.user_id
    note = Activity.objects.get(lead=stale)
    assert note.kind == "note" and note.owner_id is None
    assert note.subject == "Returned to pool after 40 days without activity"
    event = LeadPoolEvent.objects.get(lead=stale)
    assert event.kind == PoolEventKind.RETURNED and event.user_id == rep.user_id and event.idle_days == 40
    assert pool_services.leads_return_stale_to_pool(tenant=tenant) == 0  # idempotent


def test_a_lead_whose_clock_an_import_has_not_moved_yet_is_not_idle(tenant, member, in_tenant):
    """An activities import moves its leads' clocks once, at its end (crm.imported.lead_clocks_at_end): a pool
    return while it runs reads the activities themselves. Only a done call, email or meeting counts, as for the
    clock; a deleted one does not."""
    from accounts.models import ActivityKind

    rep = member()
    LeadSettingsFactory(tenant=tenant, pool_window_days=30)
    now = timezone.now()
    called = _lead(tenant, rep.user, age_days=90, activity_days=60)
    noted = _lead(tenant, rep.user, age_days=90, activity_days=60)
    deleted_call = _lead(tenant, rep.user, age_days=90, activity_days=60)
    old_call = _lead(tenant, rep.user, age_days=90, activity_days=60)
    open_task = _lead(tenant, rep.user, age_days=90, activity_days=60)

    def logged(lead, kind, days, **kwargs):  # as an import writes them: the lead's clock is not touched
        Activity.objects.create(
            tenant=tenant, lead=lead, kind=kind, subject="s", occurred_at=now - days * DAY, **kwargs
        )

    logged(called, ActivityKind.CALL, 3, done=True)
    logged(noted, ActivityKind.NOTE, 3, done=True)
    logged(deleted_call, ActivityKind.CALL, 3, done=True, deleted_at=now)
    logged(old_call, ActivityKind.CALL, 45, done=True)
    logged(open_task, ActivityKind.CALL, 3, done=False)

    assert pool_services.leads_return_stale_to_pool(tenant=tenant) == 4
    called.refresh_from_db()
    assert called.owner_id == rep.user_id and called.pooled_at is None
    for lead in (noted, deleted_call, open_task):
        lead.refresh_from_db()
        assert lead.owner_id is None
    # Idle since its last call (45 days), not since its stale clock (60).
    assert LeadPoolEvent.objects.get(lead=old_call).idle_days == 45


def test_return_note_in_tenant_language(db, member):
    from tests.conftest import make_tenant

    acme = make_tenant("acme-pool", default_locale="zh-hans")
    rep = member(tenant=acme)
    lead = _lead(acme, rep.user, age_days=50)
    with tenant_context(acme):
        pool_services.leads_return_stale_to_pool(tenant=acme)
        note = Activity.objects.get(lead=lead)
    assert "50" in note.subject


def test_tasks_fan_out_per_tenant(tenant, other_tenant, member):
    rep = member()
    other_rep = member(tenant=other_tenant)
    a = _lead(tenant, rep.user, age_days=60)
    b = _lead(other_tenant, other_rep.user, age_days=60)
    assert tasks.return_stale_leads_all_tenants() >= 2  # runs the per-tenant tasks in-process (eager mode)
    with tenant_context(tenant):
        a.refresh_from_db()
        assert a.owner_id is None
    with tenant_context(other_tenant):
        b.refresh_from_db()
        assert b.owner_id is None
    assert tasks.return_stale_leads_to_pool(tenant.pk) == 0


def test_beat_schedules_the_fan_out():
    from django.conf import settings

    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "leads.tasks.return_stale_leads_all_tenants" in tasks_scheduled


def test_claim_respects_cap(tenant, member, in_tenant):
    rep = member()
    LeadSettingsFactory(tenant=tenant, pool_claim_cap=2)
    pool = LeadFactory.create_batch(3, tenant=tenant, owner=None)
    pool_services.lead_claim(tenant=tenant, actor=rep.user, lead=pool[0])
    pool_services.lead_claim(tenant=tenant, actor=rep.user, lead=pool[1])
    assert pool[0].owner_id == rep.user_id and pool[0].claimed_at is not None
    assert open_claims_count(tenant=tenant, user_id=rep.user_id) == 2
    with pytest.raises(AppError):
        pool_services.lead_claim(tenant=tenant, actor=rep.user, lead=pool[2])
    status_services.lead_change_status(
        tenant=tenant, actor=rep.user, lead=pool[0], status=LeadStatus.DISQUALIFIED, reason="Bad fit"
    )
    pool_services.lead_claim(tenant=tenant, actor=rep.user, lead=pool[2])  # a closed claim frees a slot
    assert LeadPoolEvent.objects.filter(kind=PoolEventKind.CLAIMED, user=rep.user).count() == 3


def test_claim_taken_lead_and_roles(tenant, member, in_tenant):
    rep, rep2 = member(), member()
    lead = LeadFactory(tenant=tenant, owner=None)
    pool_services.lead_claim(tenant=tenant, actor=rep.user, lead=lead)
    with pytest.raises(AppError):
        pool_services.lead_claim(tenant=tenant, actor=rep2.user, lead=Lead.objects.get(pk=lead.pk))
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        pool_services.lead_claim(
            tenant=tenant, actor=member(role=Role.OPS).user, lead=LeadFactory(tenant=tenant)
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_cannot_pass_the_cap_or_share_a_lead(member):
    """Two real transactions claim at once: the row locks let exactly one of them through."""
    from tests.conftest import make_tenant

    tenant = make_tenant("gamma")
    rep, rep2 = member(tenant=tenant), member(tenant=tenant)
    LeadSettingsFactory(tenant=tenant, pool_claim_cap=1)
    first, second = LeadFactory.create_batch(2, tenant=tenant, owner=None)
    barrier = threading.Barrier(2)
    results: list = []

    def claim(user, lead_id):  # type: ignore[no-untyped-def]
        try:
            with tenant_context(tenant):
                lead = Lead.objects.get(pk=lead_id)
                barrier.wait(timeout=10)
                pool_services.lead_claim(tenant=tenant, actor=user, lead=lead)
            results.append("ok")
        except AppError:
            results.append("refused")
        finally:
            connections.close_all()

    # Same rep, two leads, cap 1: one claim passes.
    threads = [threading.Thread(target=claim, args=(rep.user, pk)) for pk in (first.pk, second.pk)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "refused"]
    # Two reps, the same lead: one claim passes.
    results.clear()
    with tenant_context(tenant):
        remaining = Lead.objects.filter(owner=None).get()
    threads = [threading.Thread(target=claim, args=(user, remaining.pk)) for user in (rep2.user, rep2.user)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "refused"]
    with tenant_context(tenant):
        assert Lead.objects.filter(owner=None).count() == 0
        assert open_claims_count(tenant=tenant, user_id=rep.user_id) == 1
    connection.close()


def test_pool_list_and_health(tenant, member, in_tenant):
    rep = member()
    manager = member(role=Role.SALES_MANAGER)
    old = _lead(tenant, None, age_days=100)
    Lead.objects.filter(pk=old.pk).update(pooled_at=timezone.now() - 40 * DAY)
    _lead(tenant, None, age_days=3)
    _lead(tenant, None, age_days=3, status=LeadStatus.DISQUALIFIED)  # not in the pool
    _lead(tenant, rep.user, age_days=3)
    assert pool_list(tenant=tenant, membership=rep).count() == 2
    pool_services.lead_claim(tenant=tenant, actor=rep.user, lead=old)
    pool_services.leads_return_stale_to_pool(tenant=tenant, now=timezone.now() + 60 * DAY)
    health = pool_health(tenant=tenant, membership=manager)
    assert health.size == 3  # returned ones included now
    assert sum(n for _label, n in health.age_buckets) == 3
    assert health.weeks[-1]["claimed"] == 1
    assert sum(w["returned"] for w in health.weeks) == 0  # returned "in the future" (now + 60 days)
    admin_health = pool_health(tenant=tenant, membership=rep)
    assert [row["user"] for row in admin_health.per_rep] == [rep.user]
