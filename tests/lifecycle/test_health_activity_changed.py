"""Activity changes that accounts writes with a queryset update (no post_save) reach health through
accounts.signals.activity_changed, after commit: completing the overdue task of an account raises its score."""

from __future__ import annotations

import pytest

from accounts.models import Activity
from accounts.services.activities import activity_complete, activity_reopen
from crm.tenancy import tenant_context
from lifecycle.models import HealthScore
from lifecycle.services.health import health_recompute
from tests.lifecycle.cs_helpers import customer, overdue_task

pytestmark = pytest.mark.django_db


def test_completing_and_reopening_a_task_recomputes_the_accounts_health(
    tenant, admin_member, django_capture_on_commit_callbacks
):
    with tenant_context(tenant):
        # The set-up's own on-commit work runs here (as a commit would), so nothing of it is left pending.
        with django_capture_on_commit_callbacks(execute=True):
            account = customer(tenant)
            overdue_task(account)
        health_recompute(tenant=tenant, playbooks=False)
        before = HealthScore.objects.get(account=account)
        assert before.components["overdue"]["value"] == 1
        task = (
            Activity.objects.filter(account=account, kind="task").order_by("pk").first()
        )  # not a playbook task

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            activity_complete(tenant=tenant, actor=admin_member.user, activity=task)
        assert callbacks  # the signal goes out after commit, not inside the transaction
        after = HealthScore.objects.get(account=account)
        assert after.components["overdue"]["value"] == 0
        assert after.components["recency"]["value"] == 0  # the done task is the last touch, today
        assert after.score > before.score

        with django_capture_on_commit_callbacks(execute=True):
            activity_reopen(tenant=tenant, actor=admin_member.user, activity=task)
        assert HealthScore.objects.get(account=account).components["overdue"]["value"] == 1
