"""The activity hook on leads: only done calls, emails and meetings work a lead (status new -> working, the pool
clock); logging needs edit rights on the lead; a logged activity rescores the lead after commit; the daily
rescore fan-out lets activities leave the 30-day engagement window."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from accounts.models import Activity, ActivityKind
from accounts.services.activities import (
    activities_update_many,
    activity_complete,
    activity_log,
    activity_update,
)
from crm.models import Role
from crm.tenancy import tenant_context
from leads import tasks
from leads.models import Lead, LeadStatus
from leads.services import activity as activity_services
from leads.services import pool as pool_services
from tests.factories_leads import LeadFactory
from tests.factories_ops import ScoringRuleFactory

pytestmark = pytest.mark.django_db


def _fresh(lead: Lead) -> Lead:
    return Lead.objects.get(pk=lead.pk)


@pytest.mark.parametrize("kind", [ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING])
def test_done_call_email_meeting_work_the_lead(tenant, member, in_tenant, kind):
    rep = member()
    lead = LeadFactory(tenant=tenant, owner=rep.user)
    activity_log(tenant=tenant, actor=rep.user, kind=kind, subject="Worked", lead=lead)
    lead = _fresh(lead)
    assert lead.status == LeadStatus.WORKING and lead.working_at is not None
    assert lead.last_activity_at is not None


def test_note_and_open_task_do_not_work_the_lead(tenant, member, in_tenant):
    rep = member()
    lead = LeadFactory(tenant=tenant, owner=rep.user)
    before = _fresh(lead)
    activity_log(tenant=tenant, actor=rep.user, kind=ActivityKind.NOTE, subject="Memo", lead=lead)
    activity_log(
        tenant=tenant,
        actor=rep.user,
        kind=ActivityKind.TASK,
        subject="Call back",
        due_at=timezone.now() + datetime.timedelta(days=1),
        lead=lead,
    )
    activity_log(
        tenant=tenant, actor=rep.user, kind=ActivityKind.CALL, subject="Planned", done=False, lead=lead
    )
    lead = _fresh(lead)
    assert lead.status == LeadStatus.NEW and lead.working_at is None
    assert lead.last_activity_at is None and lead.version == before.version


def test_completing_a_task_or_a_planned_call(tenant, member, in_tenant):
    rep = member()
    lead = LeadFactory(tenant=tenant, owner=rep.user)
    task = activity_log(tenant=tenant, actor=rep.user, kind=ActivityKind.TASK, subject="Send deck", lead=lead)
    activity_complete(tenant=tenant, actor=rep.user, activity=task)
    assert _fresh(lead).status == LeadStatus.NEW  # a task is not a call, email or meeting
    call = activity_log(
        tenant=tenant, actor=rep.user, kind=ActivityKind.CALL, subject="Planned", done=False, lead=lead
    )
    activity_complete(tenant=tenant, actor=rep.user, activity=call)
    lead = _fresh(lead)
    assert (
        lead.status == LeadStatus.WORKING
        and lead.last_activity_at == Activity.objects.get(pk=call.pk).occurred_at
    )


def test_record_activity_hook_directly(tenant, in_tenant):
    lead = LeadFactory(tenant=tenant)
    at = timezone.now() - datetime.timedelta(hours=2)
    activity_services.lead_record_activity(tenant=tenant, lead=lead, at=at, kind="note", done=True)
    assert lead.status == LeadStatus.NEW and _fresh(lead).last_activity_at is None
    activity_services.lead_record_activity(tenant=tenant, lead=lead, at=at, kind="call", done=False)
    assert _fresh(lead).status == LeadStatus.NEW
    activity_services.lead_record_activity(tenant=tenant, lead=lead, at=at, kind="call", done=True)
    activity_services.lead_record_activity(
        tenant=tenant, lead=lead, at=at - datetime.timedelta(days=1), kind="email", done=True
    )
    assert lead.last_activity_at == at  # never moves back
    assert lead.status == LeadStatus.WORKING and lead.working_at == at


@pytest.mark.parametrize("role", [Role.OPS, Role.CS])
def test_read_only_roles_cannot_log_on_a_lead(tenant, member, in_tenant, role):
    rep = member()
    lead = LeadFactory(tenant=tenant, owner=rep.user)
    with pytest.raises(PermissionDenied):
        activity_log(
            tenant=tenant, actor=member(role=role).user, kind=ActivityKind.CALL, subject="x", lead=lead
        )
    assert _fresh(lead).status == LeadStatus.NEW and not Activity.objects.filter(lead=lead).exists()


def test_reps_claim_pool_leads_before_logging_managers_may(tenant, member, in_tenant):
    rep = member(team="East")
    manager = member(role=Role.SALES_MANAGER, team="West")
    pooled = LeadFactory(tenant=tenant, owner=None)
    with pytest.raises(PermissionDenied, match="Claim"):
        activity_log(tenant=tenant, actor=rep.user, kind=ActivityKind.CALL, subject="x", lead=pooled)
    other_reps = LeadFactory(tenant=tenant, owner=member().user)
    with pytest.raises(PermissionDenied):
        activity_log(tenant=tenant, actor=rep.user, kind=ActivityKind.CALL, subject="x", lead=other_reps)
    activity_log(tenant=tenant, actor=manager.user, kind=ActivityKind.CALL, subject="x", lead=pooled)
    other_pool = LeadFactory(tenant=tenant)
    pool_services.lead_claim(tenant=tenant, actor=rep.user, lead=other_pool)
    activity_log(tenant=tenant, actor=rep.user, kind=ActivityKind.CALL, subject="x", lead=other_pool)
    assert _fresh(other_pool).status == LeadStatus.WORKING


def test_activity_page_refuses_read_only_roles_with_a_message(tenant, member, client_for):
    rep, ops = member(), member(role=Role.OPS)
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, owner=rep.user)
    url = reverse("accounts:activity-create", kwargs={"slug": tenant.slug})
    response = client_for(ops).post(url, {"kind": "call", "subject": "Sneaky", "lead": lead.pk})
    assert response.status_code == 400
    assert "You can view this lead but not log activities on it." in response.content.decode()
    ok = client_for(rep).post(url, {"kind": "call", "subject": "Intro", "lead": lead.pk})
    assert ok.status_code == 302
    with tenant_context(tenant):
        assert list(Activity.objects.filter(lead=lead).values_list("subject", flat=True)) == ["Intro"]
        assert _fresh(lead).status == LeadStatus.WORKING


def test_lead_page_hides_the_quick_log_when_read_only(tenant, member, client_for):
    ops = member(role=Role.OPS)
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, owner=member().user)
    page = client_for(ops).get(reverse("leads:lead-detail", kwargs={"slug": tenant.slug, "pk": lead.pk}))
    assert page.status_code == 200 and 'id="quick-log-' not in page.content.decode()


def test_activity_api_refuses_pool_and_read_only_leads(tenant, member, api_client_for):
    rep, ops = member(), member(role=Role.OPS)
    with tenant_context(tenant):
        pooled = LeadFactory(tenant=tenant, owner=None)
        owned = LeadFactory(tenant=tenant, owner=rep.user)
    url = f"/api/v1/t/{tenant.slug}/activities/"
    response = api_client_for(rep).post(
        url, {"kind": "call", "subject": "x", "lead": pooled.pk}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "Claim this lead from the pool before logging activities on it."
    response = api_client_for(ops).post(
        url, {"kind": "call", "subject": "x", "lead": owned.pk}, format="json"
    )
    assert response.status_code in (403, 400)
    with tenant_context(tenant):
        assert not Activity.objects.filter(lead__in=[pooled, owned]).exists()
        assert _fresh(owned).status == LeadStatus.NEW


# --- scoring ----------------------------------------------------------------------------------------------------


def test_logging_an_activity_rescores_the_lead_on_commit(
    tenant, member, in_tenant, django_capture_on_commit_callbacks
):
    rep = member()
    ScoringRuleFactory(tenant=tenant, category="engagement", field="recent_activities", value="2", points=30)
    lead = LeadFactory(tenant=tenant, owner=rep.user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        activity_log(tenant=tenant, actor=rep.user, kind=ActivityKind.CALL, subject="1", lead=lead)
        activity_log(tenant=tenant, actor=rep.user, kind=ActivityKind.NOTE, subject="2", lead=lead)
    assert len(callbacks) == 1  # one rescore per lead and transaction, however many activities
    assert _fresh(lead).score == 30
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        activity_log(tenant=tenant, actor=rep.user, kind=ActivityKind.TASK, subject="open", lead=lead)
    assert callbacks == []  # an open task is not an activity yet


def test_a_rolled_back_savepoint_does_not_lose_later_rescores(
    tenant, member, in_tenant, django_capture_on_commit_callbacks
):
    from django.db import transaction

    rep = member()
    ScoringRuleFactory(tenant=tenant, category="engagement", field="recent_activities", value="1", points=10)
    first, second = LeadFactory(tenant=tenant, owner=rep.user), LeadFactory(tenant=tenant, owner=rep.user)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            activity_log(tenant=tenant, actor=rep.user, kind=ActivityKind.CALL, subject="gone", lead=first)
            raise RuntimeError
        activity_log(tenant=tenant, actor=rep.user, kind=ActivityKind.CALL, subject="kept", lead=second)
    assert (_fresh(first).score, _fresh(second).score) == (0, 10)


def test_daily_rescore_lets_old_activities_expire(tenant, other_tenant, member):
    rep = member()
    with tenant_context(tenant):
        ScoringRuleFactory(
            tenant=tenant, category="engagement", field="recent_activities", value="1", points=25
        )
        lead = LeadFactory(tenant=tenant, owner=rep.user)
        activity_log(tenant=tenant, actor=rep.user, kind=ActivityKind.CALL, subject="1", lead=lead)
        Lead.objects.filter(pk=lead.pk).update(score=25)
        Activity.objects.filter(lead=lead).update(occurred_at=timezone.now() - datetime.timedelta(days=31))
    assert tasks.rescore_leads_all_tenants() >= 2  # one task per tenant, in-process in tests
    with tenant_context(tenant):
        assert _fresh(lead).score == 0
    assert tasks.rescore_lead(tenant.pk, lead.pk) == 1
    assert tasks.rescore_lead(tenant.pk, 0) == 0


def test_beat_runs_the_daily_jobs_by_crontab():
    from celery.schedules import crontab
    from django.conf import settings

    entries = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for task in ("leads.tasks.return_stale_leads_all_tenants", "leads.tasks.rescore_leads_all_tenants"):
        assert isinstance(entries[task], crontab), task


def test_compose_beat_keeps_its_schedule_on_a_volume():
    from pathlib import Path

    import yaml

    compose = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text())
    beat = compose["services"]["beat"]
    schedule = next(arg for arg in beat["command"] if arg.startswith("--schedule="))
    path = schedule.partition("=")[2]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in beat["volumes"]}
    assert not path.startswith("/tmp/")  # noqa: S108 -- checks that the schedule is NOT kept in /tmp
    assert any(
        path.startswith(mount.rstrip("/") + "/") and name in compose["volumes"]
        for mount, name in mounts.items()
    )


# --- moving an activity onto a lead -------------------------------------------------------------------------------


def test_moving_an_activity_onto_a_lead_needs_the_edit_right_logging_there_would(tenant, member, in_tenant):
    """activity_update (and the import's set update) check the lead an activity moves onto as activity_log does:
    a rep cannot put a call on a pool lead without claiming it, nor on another rep's lead."""
    rep = member(team="East")
    own = LeadFactory(tenant=tenant, owner=rep.user)
    activity = activity_log(tenant=tenant, actor=rep.user, kind=ActivityKind.NOTE, subject="x", lead=own)
    pooled = LeadFactory(tenant=tenant, owner=None)
    others = LeadFactory(tenant=tenant, owner=member().user)
    with pytest.raises(PermissionDenied, match="Claim"):
        activity_update(
            tenant=tenant, actor=rep.user, activity=Activity.objects.get(pk=activity.pk), lead=pooled
        )
    with pytest.raises(PermissionDenied):
        activity_update(
            tenant=tenant, actor=rep.user, activity=Activity.objects.get(pk=activity.pk), lead=others
        )
    assert Activity.objects.get(pk=activity.pk).lead_id == own.pk
    # The same lead again, or another lead of the rep's own, is fine; so is a manager's move onto the pool lead.
    second = LeadFactory(tenant=tenant, owner=rep.user)
    activity_update(tenant=tenant, actor=rep.user, activity=Activity.objects.get(pk=activity.pk), subject="y")
    activity_update(tenant=tenant, actor=rep.user, activity=Activity.objects.get(pk=activity.pk), lead=second)
    manager = member(role=Role.SALES_MANAGER, team="West")
    activity_update(
        tenant=tenant, actor=manager.user, activity=Activity.objects.get(pk=activity.pk), lead=pooled
    )
    assert Activity.objects.get(pk=activity.pk).lead_id == pooled.pk


def test_the_set_update_refuses_a_move_onto_a_lead_the_importer_may_not_log_on(tenant, member, in_tenant):
    rep = member(team="East")
    own = LeadFactory(tenant=tenant, owner=rep.user)
    pooled = LeadFactory(tenant=tenant, owner=None)
    activities = [
        activity_log(tenant=tenant, actor=rep.user, kind=ActivityKind.NOTE, subject=f"n{n}", lead=own)
        for n in range(3)
    ]
    fresh = list(Activity.objects.filter(pk__in=[a.pk for a in activities]).order_by("pk"))
    results = activities_update_many(
        tenant=tenant,
        actor=rep.user,
        changes=[(fresh[0], {"lead": pooled}), (fresh[1], {"subject": "kept"}), (fresh[2], {"lead": pooled})],
    )
    assert isinstance(results[0], PermissionDenied) and isinstance(results[2], PermissionDenied)
    assert "Claim" in str(results[0]) and not isinstance(results[1], Exception)
    assert list(
        Activity.objects.filter(pk__in=[a.pk for a in activities])
        .order_by("pk")
        .values_list("lead_id", "subject")
    ) == [(own.pk, "n0"), (own.pk, "kept"), (own.pk, "n2")]


def test_activity_api_refuses_moving_an_activity_onto_a_pool_lead(tenant, member, api_client_for):
    rep = member()
    with tenant_context(tenant):
        own = LeadFactory(tenant=tenant, owner=rep.user)
        pooled = LeadFactory(tenant=tenant, owner=None)
        activity = activity_log(tenant=tenant, actor=rep.user, kind=ActivityKind.NOTE, subject="x", lead=own)
    response = api_client_for(rep).patch(
        f"/api/v1/t/{tenant.slug}/activities/{activity.pk}/", {"lead": pooled.pk}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "Claim this lead from the pool before logging activities on it."
    with tenant_context(tenant):
        assert Activity.objects.get(pk=activity.pk).lead_id == own.pk


def test_an_activity_moved_onto_a_lead_or_done_by_an_edit_moves_that_leads_clock(tenant, member, in_tenant):
    """activity_update logs a done call where it now counts, as activity_log would: moved onto a lead, the lead's
    activity clock moves to the call and a new lead starts working; a task marked done by an edit counts like one
    completed. The lead the call left keeps its clock (it never goes back, as when an activity is deleted), and
    an edit that changes nothing of how an activity counts moves no lead."""
    rep = member()
    first = LeadFactory(tenant=tenant, owner=rep.user)
    second = LeadFactory(tenant=tenant, owner=rep.user)
    at = timezone.now() - datetime.timedelta(days=2)
    call = activity_log(
        tenant=tenant, actor=rep.user, kind=ActivityKind.CALL, subject="c", lead=first, occurred_at=at
    )
    first_after = _fresh(first)
    assert (first_after.status, first_after.last_activity_at) == (LeadStatus.WORKING, at)
    assert (_fresh(second).status, _fresh(second).last_activity_at) == (LeadStatus.NEW, None)

    activity_update(
        tenant=tenant, actor=rep.user, activity=Activity.objects.get(pk=call.pk), subject="renamed"
    )
    assert _fresh(second).last_activity_at is None
    activity_update(tenant=tenant, actor=rep.user, activity=Activity.objects.get(pk=call.pk), lead=second)
    second_after = _fresh(second)
    assert (second_after.status, second_after.last_activity_at, second_after.working_at) == (
        LeadStatus.WORKING,
        at,
        at,
    )
    assert _fresh(first).last_activity_at == at  # the lead it left keeps its clock

    third = LeadFactory(tenant=tenant, owner=rep.user)
    task = activity_log(
        tenant=tenant, actor=rep.user, kind=ActivityKind.MEETING, subject="t", lead=third, done=False
    )
    assert _fresh(third).last_activity_at is None
    later = timezone.now() - datetime.timedelta(hours=1)
    activity_update(
        tenant=tenant, actor=rep.user, activity=Activity.objects.get(pk=task.pk), done=True, occurred_at=later
    )
    assert (_fresh(third).status, _fresh(third).last_activity_at) == (LeadStatus.WORKING, later)
