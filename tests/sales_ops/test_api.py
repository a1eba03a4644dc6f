"""The KPI API contract: fields, null as JSON null, pagination, filters, role visibility, recompute jobs."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from crm.models import Role
from tests.factories import KpiRecomputeFactory, KpiSnapshotFactory, KpiSnapshotSetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(tenant, member):
    """A current set with `all`, team and owner rows, and an old set that must never show."""
    manager = member(Role.SALES_MANAGER, team="East", email="manager@alpha.test")
    rep = member(Role.SALES_REP, team="East", email="rep@alpha.test")
    other_rep = member(Role.SALES_REP, team="West", email="other@alpha.test")
    cs = member(Role.CS, email="cs@alpha.test")
    ops = member(Role.OPS, email="ops@alpha.test")
    old = KpiSnapshotSetFactory(tenant=tenant, is_current=False)
    KpiSnapshotFactory(tenant=tenant, snapshot_set=old, metric="leads_created", value=Decimal("999"))
    current = KpiSnapshotSetFactory(tenant=tenant, is_current=True)

    def row(metric, dimension="all", dimension_value="", value=Decimal("1"), **extra):  # type: ignore[no-untyped-def]
        return KpiSnapshotFactory(
            tenant=tenant,
            snapshot_set=current,
            metric=metric,
            dimension=dimension,
            dimension_value=dimension_value,
            value=value,
            **extra,
        )

    row("leads_created", value=Decimal("12"))
    row("win_rate", value=None)
    row("win_rate", "team", "East", Decimal("0.5"))
    row("win_rate", "team", "West", Decimal("0.25"))
    row("win_rate", "owner", "rep@alpha.test", Decimal("0.4"))
    row("win_rate", "owner", "other@alpha.test", Decimal("0.1"))
    row("win_rate", "owner", "manager@alpha.test", Decimal("0.2"))
    row("leads_created", "source", "Web", Decimal("7"))
    row("leads_created", grain="week", period_start=datetime.date(2025, 12, 29), value=Decimal("3"))
    return {"manager": manager, "rep": rep, "other_rep": other_rep, "cs": cs, "ops": ops}


def _all_rows(client, url):  # type: ignore[no-untyped-def]
    results, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        results += body["results"]
        url, pages = body["next"], pages + 1
    return results, pages


def _keys(results):  # type: ignore[no-untyped-def]
    return sorted(
        (r["metric"], r["dimension"], r["dimension_value"]) for r in results if r["grain"] == "month"
    )


def test_row_fields_and_null_value(admin_member, api_client_for, rows):
    response = api_client_for(admin_member).get("/api/v1/t/alpha/kpis/?metric=win_rate&dimension=all")
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    assert body["results"] == [
        {
            "metric": "win_rate",
            "grain": "month",
            "period_start": "2026-01-01",
            "dimension": "all",
            "dimension_value": "",
            "value": None,
            "computed_at": body["results"][0]["computed_at"],
        }
    ]
    assert response.content.count(b'"value":null') == 1
    numbers = api_client_for(admin_member).get("/api/v1/t/alpha/kpis/?metric=leads_created&dimension=all")
    assert [r["value"] for r in numbers.json()["results"]] == [
        12,
        3,
    ]  # JSON numbers; the old set's 999 unseen


def test_filters(admin_member, api_client_for, rows):
    client = api_client_for(admin_member)
    week = client.get("/api/v1/t/alpha/kpis/?grain=week&period_start=2025-12-29").json()["results"]
    assert [(r["metric"], r["value"]) for r in week] == [("leads_created", 3)]
    east = client.get("/api/v1/t/alpha/kpis/?dimension=team&dimension_value=East").json()["results"]
    assert [(r["dimension_value"], r["value"]) for r in east] == [("East", 0.5)]
    assert client.get("/api/v1/t/alpha/kpis/?metric=no_such_metric").status_code == 400
    assert client.get("/api/v1/t/alpha/kpis/?grain=fortnight").status_code == 400


def test_pagination_next(admin_member, api_client_for, rows):
    results, pages = _all_rows(api_client_for(admin_member), "/api/v1/t/alpha/kpis/?page_size=3")
    assert pages == 3
    assert len(results) == 9


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (
            "ops",
            [
                ("leads_created", "all", ""),
                ("leads_created", "source", "Web"),
                ("win_rate", "all", ""),
                ("win_rate", "owner", "manager@alpha.test"),
                ("win_rate", "owner", "other@alpha.test"),
                ("win_rate", "owner", "rep@alpha.test"),
                ("win_rate", "team", "East"),
                ("win_rate", "team", "West"),
            ],
        ),
        (
            "manager",
            [
                ("leads_created", "all", ""),
                ("win_rate", "all", ""),
                ("win_rate", "owner", "manager@alpha.test"),
                ("win_rate", "owner", "rep@alpha.test"),
                ("win_rate", "team", "East"),
            ],
        ),
        (
            "rep",
            [("leads_created", "all", ""), ("win_rate", "all", ""), ("win_rate", "owner", "rep@alpha.test")],
        ),
        ("cs", [("leads_created", "all", ""), ("win_rate", "all", "")]),
    ],
)
def test_role_visibility(api_client_for, rows, who, expected):
    results, _pages = _all_rows(api_client_for(rows[who]), "/api/v1/t/alpha/kpis/")
    assert _keys(results) == expected


def test_other_tenant_is_404(api_client_for, rows, other_tenant, tenant):
    foreign_job = KpiRecomputeFactory(tenant=other_tenant)
    client = api_client_for(rows["ops"])
    assert client.get("/api/v1/t/beta/kpis/").status_code == 404
    assert client.post("/api/v1/t/beta/kpis/recompute/").status_code == 404
    assert client.get(f"/api/v1/t/alpha/kpis/recompute/{foreign_job.pk}/").status_code == 404


def test_recompute_start_and_status(api_client_for, rows, tenant, django_capture_on_commit_callbacks):
    client = api_client_for(rows["ops"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/t/alpha/kpis/recompute/")
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"id", "status"}
    assert body["status"] == "queued"
    detail = client.get(f"/api/v1/t/alpha/kpis/recompute/{body['id']}/").json()
    assert set(detail) == {"id", "status", "progress", "started_at", "finished_at"}
    assert detail["status"] == "done"  # the task ran eagerly after commit
    assert detail["progress"] == 100
    assert detail["started_at"] and detail["finished_at"]
    # The recompute replaced the hand-made set with the engine's (an empty tenant: zero counts for today).
    results = client.get("/api/v1/t/alpha/kpis/?metric=leads_created&grain=day&dimension=all").json()[
        "results"
    ]
    assert [r["value"] for r in results] == [0]


def test_recompute_start_needs_a_planning_role(api_client_for, rows):
    assert api_client_for(rows["rep"]).post("/api/v1/t/alpha/kpis/recompute/").status_code == 403
    assert api_client_for(rows["cs"]).post("/api/v1/t/alpha/kpis/recompute/").status_code == 403
