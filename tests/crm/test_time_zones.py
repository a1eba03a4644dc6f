"""Times typed in a page are read in the tenant's zone and every time shown is shown in it (issue 12, item 1):
a task due at 10:00 typed in an Asia/Shanghai tenant is stored as 02:00 UTC and shown as 10:00 everywhere; the
same in Europe/Berlin; a time just after local midnight stays on its local day. The API keeps UTC."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Activity, ActivityKind
from crm.models import Role
from crm.tenancy import tenant_context
from tests.conftest import make_tenant
from tests.factories import MembershipFactory, UserFactory
from tests.factories_accounts import AccountFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def _rep(tenant):
    with tenant_context(tenant):
        return MembershipFactory(tenant=tenant, user=UserFactory(), role=Role.SALES_REP)


def _log_task(client, tenant, account, due: str):
    return client.post(
        reverse("accounts:activity-create", kwargs={"slug": tenant.slug}),
        {"kind": ActivityKind.TASK, "subject": "Call back", "due_at": due, "account": account.pk},
    )


@pytest.mark.parametrize(
    ("zone", "typed", "stored_utc"),
    [
        ("Asia/Shanghai", "2026-12-21T10:00", datetime.datetime(2026, 12, 21, 2, 0, tzinfo=UTC)),
        ("Europe/Berlin", "2026-12-21T10:00", datetime.datetime(2026, 12, 21, 9, 0, tzinfo=UTC)),
        # Just after local midnight: the previous day in UTC, still the 21st on every page.
        ("Asia/Shanghai", "2026-12-21T00:30", datetime.datetime(2026, 12, 20, 16, 30, tzinfo=UTC)),
    ],
)
def test_a_task_time_typed_in_a_page_is_read_and_shown_in_the_tenant_zone(client, zone, typed, stored_utc):
    tenant = make_tenant("zoned", time_zone=zone)
    rep = _rep(tenant)
    with tenant_context(tenant):
        account = AccountFactory(tenant=tenant, owner=rep.user)
    client.force_login(rep.user)

    response = _log_task(client, tenant, account, typed)
    assert response.status_code in (200, 204, 302)
    with tenant_context(tenant):
        task = Activity.objects.get(tenant=tenant, account=account, kind=ActivityKind.TASK)
    assert task.due_at == stored_utc

    local = typed.replace("T", " ")
    day, clock = local.split(" ")
    for url in (
        reverse("accounts:task-list", kwargs={"slug": tenant.slug}),
        reverse("accounts:account-detail", kwargs={"slug": tenant.slug, "pk": account.pk}),
    ):
        page = client.get(url).content.decode()
        assert clock in page, url
        wrong = timezone.localtime(stored_utc, datetime.UTC).strftime("%H:%M")
        if wrong != clock:
            assert f"{wrong}" not in page.split("Call back", 1)[-1][:400], url


def test_the_api_answers_in_utc(api_client_for, tenant, member):
    rep = member()
    with tenant_context(tenant):
        account = AccountFactory(tenant=tenant, owner=rep.user)
        Activity.objects.create(
            tenant=tenant,
            kind=ActivityKind.TASK,
            subject="Call back",
            owner=rep.user,
            account=account,
            due_at=datetime.datetime(2026, 12, 21, 2, 0, tzinfo=UTC),
        )
    body = api_client_for(rep).get(f"/api/v1/t/{tenant.slug}/activities/").json()
    assert body["results"][0]["due_at"] == "2026-12-21T02:00:00Z"


def test_no_zone_stays_active_after_a_page(client, tenant, member):
    rep = member()
    client.force_login(rep.user)
    client.get(reverse("accounts:task-list", kwargs={"slug": tenant.slug}))
    assert timezone.get_current_timezone_name() == "UTC"
