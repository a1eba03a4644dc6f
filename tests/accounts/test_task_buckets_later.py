"""My tasks: tasks due after the 30 upcoming days are shown in a "Later" bucket instead of nowhere."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.selectors import activities as activities_selectors
from accounts.services import activities as activities_services
from crm.tenancy import tenant_context
from tests.factories_deals import deal_account

pytestmark = pytest.mark.django_db


def _task(tenant, actor, account, subject, days):
    activities_services.activity_log(
        tenant=tenant,
        actor=actor,
        kind="task",
        subject=subject,
        account=account,
        due_at=timezone.now() + datetime.timedelta(days=days),
    )


def test_tasks_after_thirty_days_are_in_the_later_bucket(in_tenant, admin_member):
    account = deal_account(in_tenant, owner=admin_member.user)
    for days in (400, 3, 45, 29):
        _task(in_tenant, admin_member.user, account, f"d{days}", days)
    buckets = activities_selectors.task_buckets(tenant=in_tenant, membership=admin_member)
    assert [t.subject for t in buckets.upcoming] == ["d3", "d29"]
    assert [t.subject for t in buckets.later] == ["d45", "d400"]


def test_task_page_shows_the_later_bucket(tenant, admin_member, client_for):
    with tenant_context(tenant):
        account = deal_account(tenant, owner=admin_member.user)
        _task(tenant, admin_member.user, account, "Renewal prep", 90)
    client = client_for(admin_member)
    page = client.get(reverse("accounts:task-list", kwargs={"slug": tenant.slug}))
    body = page.content.decode()
    assert 'data-testid="tasks-later"' in body and "Renewal prep" in body
    assert [t.subject for t in page.context["buckets"].upcoming] == []
