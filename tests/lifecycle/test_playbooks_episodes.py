"""Playbooks run once per episode: twice -> one set of tasks; a new episode -> new tasks."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Activity, LifecycleStageName
from crm.dates import tenant_today
from crm.models import Role
from lifecycle.models import LifecycleChange, PlaybookRun, PlaybookTemplate, PlaybookTrigger
from lifecycle.services.health import health_recompute, health_settings_update
from lifecycle.services.playbooks import playbooks_run
from tests.lifecycle.cs_helpers import customer

pytestmark = pytest.mark.django_db


def _tasks(account):  # type: ignore[no-untyped-def]
    return list(Activity.objects.filter(account=account, kind="task").order_by("id"))


def test_at_risk_playbook_runs_once_per_episode(in_tenant, member):
    tenant = in_tenant
    cs = member(role=Role.CS)
    account = customer(tenant, owner=cs.user)  # 40 with no data
    health_settings_update(tenant=tenant, actor=None, at_risk_threshold=50)
    health_recompute(tenant=tenant)
    first = _tasks(account)
    subjects = list(
        PlaybookTemplate.objects.filter(trigger=PlaybookTrigger.AT_RISK)
        .order_by("order")
        .values_list("subject", flat=True)
    )
    assert [t.subject for t in first] == subjects and len(first) == 2
    assert all(not t.done and t.due_at is not None for t in first)
    health_recompute(tenant=tenant)
    playbooks_run(tenant=tenant)
    assert len(_tasks(account)) == 2
    assert PlaybookRun.objects.filter(account=account).count() == 1
    # recovery, then a new drop: a new episode with new tasks
    health_settings_update(tenant=tenant, actor=None, at_risk_threshold=30)
    health_recompute(tenant=tenant)
    health_settings_update(tenant=tenant, actor=None, at_risk_threshold=50)
    health_recompute(tenant=tenant)
    assert len(_tasks(account)) == 4
    assert PlaybookRun.objects.filter(account=account, trigger=PlaybookTrigger.AT_RISK).count() == 2


def test_onboarding_playbook_once_per_conversion_entry(in_tenant, member):
    tenant = in_tenant
    owner = member(role=Role.SALES_REP)
    account = customer(tenant, stage=LifecycleStageName.CONVERSION, owner=owner.user)
    today = tenant_today(tenant)
    LifecycleChange.objects.create(
        tenant=tenant,
        account=account,
        from_stage="acquisition",
        to_stage="conversion",
        date=today,
        cause="first_won_deal",
        computed_at=dt.datetime.now(dt.UTC),
    )
    playbooks_run(tenant=tenant)
    playbooks_run(tenant=tenant)
    tasks = _tasks(account)
    onboarding = PlaybookTemplate.objects.filter(trigger=PlaybookTrigger.ONBOARDING)
    assert len(tasks) == onboarding.count() == 2
    assert tasks[0].owner_id == owner.user_id  # the kick-off goes to the account owner
    # a come-back: a new conversion entry date is a new episode
    LifecycleChange.objects.create(
        tenant=tenant,
        account=account,
        from_stage="churn",
        to_stage="conversion",
        date=today + dt.timedelta(days=1),
        cause="came_back",
        computed_at=dt.datetime.now(dt.UTC),
    )
    playbooks_run(tenant=tenant)
    assert len(_tasks(account)) == 4


def test_defaults_are_made_once_and_deleted_ones_stay_deleted(in_tenant):
    tenant = in_tenant
    customer(tenant)
    playbooks_run(tenant=tenant)
    health_settings_update(tenant=tenant, actor=None, at_risk_threshold=50)
    health_recompute(tenant=tenant)
    assert PlaybookTemplate.objects.count() == 4
    PlaybookTemplate.objects.all().delete()
    health_recompute(tenant=tenant)
    assert PlaybookTemplate.objects.count() == 0


def _run_queries(tenant, n_accounts, owner):  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    accounts = [customer(tenant, owner=owner) for _ in range(n_accounts)]
    health_settings_update(tenant=tenant, actor=None, at_risk_threshold=50)
    with CaptureQueriesContext(connection) as captured:
        health_recompute(tenant=tenant)
    return accounts, len(captured.captured_queries)


def test_playbook_tasks_are_written_as_a_set(in_tenant, member):
    """The tasks and runs of many new episodes cost the same statements as those of one (set-based writes), and
    each task is what activity_log would have opened: an open task on the account, owned as the template says,
    with its history event."""
    from django.apps import apps

    from crm.models import Membership, MembershipStatus
    from lifecycle.services.playbooks import playbook_templates_ensure_defaults

    activity_event = apps.get_model("accounts", "ActivityEvent")
    tenant = in_tenant
    cs = member(role=Role.CS)
    playbook_templates_ensure_defaults(tenant=tenant)
    _one, few = _run_queries(tenant, 1, cs.user)
    Activity.objects.filter(tenant=tenant).delete()
    PlaybookRun.objects.filter(tenant=tenant).delete()
    many_accounts, many = _run_queries(tenant, 12, cs.user)
    active_ids = set(
        Membership.objects.filter(tenant=tenant, status=MembershipStatus.ACTIVE).values_list(
            "user_id", flat=True
        )
    )
    assert many == few
    for account in many_accounts:
        tasks = _tasks(account)
        assert len(tasks) == 2
        assert all(t.kind == "task" and not t.done for t in tasks)
        # The cs task goes to the cs member; the manager's to the owner's team manager, else an admin.
        assert {t.owner_id for t in tasks} <= active_ids and cs.user_id in {t.owner_id for t in tasks}
        assert all(t.due_at is not None and t.occurred_at is None for t in tasks)
        assert PlaybookRun.objects.get(account=account).tasks_created == 2
    task_ids = [t.pk for a in many_accounts for t in _tasks(a)]
    assert activity_event.objects.filter(pgh_obj_id__in=task_ids, pgh_label="insert").count() == 24


def test_playbook_task_owner_must_be_an_active_member(in_tenant, member):
    from django.core.exceptions import ValidationError

    from accounts.services.activities import activities_open_system_tasks
    from crm.models import MembershipStatus

    tenant = in_tenant
    gone = member(role=Role.CS)
    account = customer(tenant, owner=gone.user)
    gone.status = MembershipStatus.DEACTIVATED
    gone.save(update_fields=["status"])
    with pytest.raises(ValidationError):
        activities_open_system_tasks(
            tenant=tenant, tasks=[(account, gone.user, "Call", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))]
        )
    assert not _tasks(account)


def test_at_risk_episode_key_is_the_utc_instant_to_the_microsecond(in_tenant, member):
    from lifecycle.models import HealthScore

    tenant = in_tenant
    cs = member(role=Role.CS)
    account = customer(tenant, owner=cs.user)
    health_settings_update(tenant=tenant, actor=None, at_risk_threshold=50)
    health_recompute(tenant=tenant, playbooks=False)
    since = dt.datetime(2026, 5, 1, 16, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    HealthScore.objects.filter(account=account).update(at_risk_since=since)
    playbooks_run(tenant=tenant)
    run = PlaybookRun.objects.get(account=account, trigger=PlaybookTrigger.AT_RISK)
    assert run.episode_key == "2026-05-01T08:00:00.123456Z"
    playbooks_run(tenant=tenant)  # the same episode: found in the runs, nothing new
    assert PlaybookRun.objects.filter(account=account).count() == 1 and len(_tasks(account)) == 2
