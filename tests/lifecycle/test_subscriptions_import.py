"""The import/export kind `subscriptions`: exactly the KPIS.md columns, update by external_id, bad rows reported and
good rows kept, one lifecycle recompute per job (not per row), export through the list's visibility and filters."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.models import Role
from crm.tenancy import tenant_context
from imports.models import ImportStatus
from imports.registry import get_kind
from lifecycle import tasks
from lifecycle.models import Subscription
from tests.factories_accounts import AccountFactory
from tests.factories_lifecycle import SubscriptionFactory
from tests.imports.conftest import csv_text, run_import  # noqa: F401

pytestmark = pytest.mark.django_db
HEADER = "external_id,account_external_id,plan,mrr,currency,start_date,end_date"


def test_columns_are_exactly_those_of_kpis_md():
    assert get_kind("subscriptions").columns == (
        "external_id",
        "account_external_id",
        "plan",
        "mrr",
        "currency",
        "start_date",
        "end_date",
    )


@pytest.fixture
def recomputes(monkeypatch):
    calls = []
    original = tasks.recompute_lifecycle.delay

    def spy(tenant_id, account_ids=None):  # type: ignore[no-untyped-def]
        calls.append((tenant_id, account_ids))
        return original(tenant_id, account_ids)

    monkeypatch.setattr(tasks.recompute_lifecycle, "delay", spy)
    return calls


def test_import_creates_updates_and_reports_bad_rows(tenant, admin_member, run_import, recomputes):  # noqa: F811
    one = AccountFactory(tenant=tenant, external_id="ACC-1")
    two = AccountFactory(tenant=tenant, external_id="ACC-2")
    job = run_import(
        admin_member,
        "subscriptions",
        csv_text(
            HEADER,
            "S-1,ACC-1,Pro,1000,CNY,2025-01-01,2026-01-01",
            "S-2,ACC-2,Basic,200,,2025-06-01,",
            "S-3,ACC-404,Pro,10,CNY,2025-01-01,2026-01-01",
            "S-4,ACC-1,Pro,abc,CNY,2025-13-01,2026-01-01",
            "S-5,ACC-1,Pro,10,CNY,2026-01-01,2025-01-01",
        ),
    )
    assert job.status == ImportStatus.DONE
    assert (job.created, job.updated, job.failed) == (2, 0, 3)
    errors = {(e["row"], e["column"]) for e in job.row_errors}
    assert {(4, "account_external_id"), (5, "mrr"), (5, "start_date"), (6, "end_date")} <= errors
    with tenant_context(tenant):
        s2 = Subscription.objects.get(external_id="S-2")
    assert (s2.currency, s2.end_date, s2.mrr) == ("CNY", None, Decimal("200.00"))
    # One recompute for the whole job, of the accounts it touched.
    assert recomputes == [(tenant.pk, sorted([one.pk, two.pk]))]

    recomputes.clear()
    job = run_import(
        admin_member, "subscriptions", csv_text(HEADER, "S-1,ACC-1,Pro Plus,1100,CNY,2025-01-01,2026-01-01")
    )
    assert (job.created, job.updated, job.failed) == (0, 1, 0)
    with tenant_context(tenant):
        s1 = Subscription.objects.get(external_id="S-1")
        assert Subscription.objects.count() == 2
    assert (s1.plan, s1.mrr, s1.version) == ("Pro Plus", Decimal("1100.00"), 2)
    assert recomputes == [(tenant.pk, [one.pk])]


def test_cs_imports_only_for_accounts_they_see(tenant, member, run_import):  # noqa: F811
    cs = member(role=Role.CS)
    AccountFactory(tenant=tenant, external_id="CUST", lifecycle_stage="retention")
    AccountFactory(tenant=tenant, external_id="PROSPECT", lifecycle_stage="acquisition")
    job = run_import(
        cs,
        "subscriptions",
        csv_text(HEADER, "A,CUST,Pro,1,CNY,2025-01-01,", "B,PROSPECT,Pro,1,CNY,2025-01-01,"),
    )
    assert (job.created, job.failed) == (1, 1)
    assert job.row_errors[0]["column"] == "account_external_id"


def test_reps_cannot_import(tenant, member):
    assert not get_kind("subscriptions").can_import(member(role=Role.SALES_REP))


def test_export_round_trips_the_columns_and_follows_filters(tenant, admin_member, client_for):
    account = AccountFactory(tenant=tenant, external_id="ACC-9")
    SubscriptionFactory(
        tenant=tenant,
        account=account,
        external_id="S-9",
        plan="Pro",
        mrr=Decimal("99.50"),
        start_date=dt.date(2025, 1, 1),
        end_date=dt.date(2026, 1, 1),
    )
    SubscriptionFactory(tenant=tenant, account=account, external_id="S-10", plan="Other", end_date=None)
    response = client_for(admin_member).get(
        reverse("imports:export", kwargs={"slug": tenant.slug, "kind": "subscriptions"}), {"plan": "pro"}
    )
    text = b"".join(response.streaming_content).decode().removeprefix("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == get_kind("subscriptions").columns
    assert rows == [
        {
            "external_id": "S-9",
            "account_external_id": "ACC-9",
            "plan": "Pro",
            "mrr": "99.50",
            "currency": "CNY",
            "start_date": "2025-01-01",
            "end_date": "2026-01-01",
        }
    ]
