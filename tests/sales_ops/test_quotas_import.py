"""The import/export kind `quotas`: exactly the KPIS.md columns, update by external_id, bad rows reported (row,
column) and good rows kept, who may import, the export round trip, and ONE KPI recompute at the end of a job
(not one per row or chunk)."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache

from crm.models import Role
from crm.tenancy import tenant_context
from imports.models import ImportStatus
from imports.registry import get_kind
from imports.services import import_job_create
from sales_ops import tasks
from sales_ops.models import Quota
from sales_ops.services.triggers import pending_key
from tests.factories import MembershipFactory, QuotaFactory, TeamFactory, UserFactory
from tests.imports.conftest import csv_text, run_import  # noqa: F401

pytestmark = pytest.mark.django_db
D = datetime.date
HEADER = "external_id,owner_email,team,period_start,amount"


@pytest.fixture
def org(tenant, admin_member):
    east = TeamFactory(tenant=tenant, name="East")
    TeamFactory(tenant=tenant, name="West")
    rep = MembershipFactory(
        tenant=tenant, user=UserFactory(email="rep1@q.test"), role=Role.SALES_REP, team=east
    )
    manager = MembershipFactory(
        tenant=tenant, user=UserFactory(email="manager@q.test"), role=Role.SALES_MANAGER, team=east
    )
    return {"admin": admin_member, "rep": rep, "manager": manager, "east": east}


def test_columns_are_exactly_those_of_kpis_md():
    assert get_kind("quotas").columns == ("external_id", "owner_email", "team", "period_start", "amount")


def test_import_creates_updates_and_reports_bad_rows(tenant, org, run_import):  # noqa: F811
    job = run_import(
        org["admin"],
        "quotas",
        csv_text(
            HEADER,
            "Q-1,rep1@q.test,,2026-04-01,1000",
            "Q-2,,East,2026-04-01,5000.50",
            "Q-3,,,2026-04-01,20000",
            "Q-4,ghost@q.test,,2026-04-01,1",
            "Q-5,,North,2026-04-01,1",
            "Q-6,rep1@q.test,,2026-04-15,1",
            "Q-7,rep1@q.test,,2026-05-01,-5",
            "Q-8,rep1@q.test,East,2026-05-01,1",
            "Q-9,rep1@q.test,,2026-04-01,1",
        ),
    )
    assert job.status == ImportStatus.DONE
    assert (job.created, job.updated, job.failed) == (3, 0, 6)
    errors = {(error["row"], error["column"]) for error in job.row_errors}
    assert {(5, "owner_email"), (6, "team"), (7, "period_start"), (8, "amount"), (9, "team")} <= errors
    assert any(error["row"] == 10 for error in job.row_errors)  # a second April quota of rep1
    with tenant_context(tenant):
        assert sorted((q.external_id, q.amount) for q in Quota.objects.all()) == [
            ("Q-1", Decimal("1000.00")),
            ("Q-2", Decimal("5000.50")),
            ("Q-3", Decimal("20000.00")),
        ]
    # The same external id again updates its quota, columns left out stay as they were.
    job = run_import(org["admin"], "quotas", "external_id,amount\nQ-1,1200\n")
    assert (job.created, job.updated, job.failed) == (0, 1, 0), job.row_errors
    with tenant_context(tenant):
        q1 = Quota.objects.get(external_id="Q-1")
    assert (q1.amount, q1.owner_id, q1.month) == (Decimal("1200.00"), org["rep"].user_id, D(2026, 4, 1))


def test_who_may_import(tenant, org, run_import):  # noqa: F811
    kind = get_kind("quotas")
    assert not kind.can_import(org["rep"])
    job = run_import(
        org["manager"], "quotas", csv_text(HEADER, "M-1,,East,2026-04-01,10", "M-2,,West,2026-04-01,10")
    )
    assert (job.created, job.failed) == (1, 1)  # the manager's own team only


def test_export_round_trips_the_columns(tenant, org, client_for):
    QuotaFactory(
        tenant=tenant, owner=org["rep"].user, month=D(2026, 4, 1), amount=Decimal("1000"), external_id="Q-1"
    )
    QuotaFactory(tenant=tenant, team=org["east"], month=D(2026, 5, 1), amount=Decimal("5000.50"))
    kind = get_kind("quotas")
    with tenant_context(tenant):
        rows = [kind.export_row(quota) for quota in kind.export_queryset(tenant, org["admin"], {})]  # type: ignore[arg-type]
    assert rows[0] == {
        "external_id": "Q-1",
        "owner_email": "rep1@q.test",
        "team": "",
        "period_start": "2026-04-01",
        "amount": "1000",
    }
    assert (
        rows[1]["team"] == "East"
        and rows[1]["amount"] == "5000.50"
        and rows[1]["external_id"].startswith("crm-")
    )
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=kind.columns)
    writer.writeheader()
    writer.writerows(rows)
    assert text.getvalue().splitlines()[0] == HEADER


def test_one_recompute_at_the_end_of_an_import(
    tenant, org, kpi_settings_on, django_capture_on_commit_callbacks, monkeypatch
):
    """A 450-row file commits three chunks (200 rows each); without the import context, the first commit would
    queue a recompute that starts (and clears the debounce key) while later chunks still commit."""
    import imports.services

    monkeypatch.setattr(imports.services, "CHUNK_SIZE", 200)
    cache.delete(pending_key(tenant.pk))
    lines = [HEADER] + [f"B-{n},,East,{2000 + n // 12:04d}-{n % 12 + 1:02d}-01,{n}" for n in range(450)]
    queued = []

    def fake_apply_async(args, countdown):  # type: ignore[no-untyped-def]
        queued.append(args)
        cache.delete(pending_key(args[0]))  # as if the worker started it at once

    with mock.patch.object(tasks.recompute_kpis, "apply_async", side_effect=fake_apply_async):
        with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant):
            job = import_job_create(
                tenant=tenant,
                actor=org["admin"].user,
                membership=org["admin"],
                kind="quotas",
                file_name="q.csv",
                content=("\n".join(lines) + "\n").encode(),
            )
        with tenant_context(tenant):
            job.refresh_from_db()
        assert (job.status, job.created) == (ImportStatus.DONE, 450)
        assert queued == [(tenant.pk,)]
        # Outside a job, a save still queues its own recompute.
        queued.clear()
        with django_capture_on_commit_callbacks(execute=True):
            QuotaFactory(tenant=tenant, month=D(1999, 1, 1))
        assert queued == [(tenant.pk,)]
    cache.delete(pending_key(tenant.pk))
