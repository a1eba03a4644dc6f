"""Issue 10's set writes for sales ops' quotas: a chunk's new quotas and the ones a file names again are saved as
one set (quotas_save_many), in the file's order. The set must give exactly what the rows written one by one give:
targets, months and amounts, the one-quota-per-month rule as the rows before a row leave it, who may change which
quota (a manager their team's), and the errors in the file's order."""

from __future__ import annotations

import json

import pytest

from crm.models import Role
from crm.tenancy import tenant_context
from imports.models import ImportStatus
from sales_ops.models import Quota
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from tests.imports.conftest import csv_text
from tests.imports.test_set_writes import one_by_one, spy

pytestmark = pytest.mark.django_db

HEADER = "external_id,owner_email,team,period_start,amount"


@pytest.fixture
def org(tenant, admin_member):
    east = TeamFactory(tenant=tenant, name="East")
    TeamFactory(tenant=tenant, name="West")
    rep = MembershipFactory(
        tenant=tenant, user=UserFactory(email="rep1@q.test"), role=Role.SALES_REP, team=east
    )
    MembershipFactory(
        tenant=tenant,
        user=UserFactory(email="left@q.test"),
        role=Role.SALES_REP,
        team=None,
        status="deactivated",
    )
    manager = MembershipFactory(
        tenant=tenant, user=UserFactory(email="manager@q.test"), role=Role.SALES_MANAGER, team=east
    )
    return {"admin": admin_member, "rep": rep, "manager": manager}


def first_file(prefix: str, year: int) -> list[str]:
    return [
        f"{prefix}-1,rep1@q.test,,{year}-01-01,1000",
        f"{prefix}-2,,East,{year}-01-01,5000.50",
        f"{prefix}-3,,,{year}-01-01,20000",  # the whole company's
        f"{prefix}-4,REP1@q.test,,{year}-01-01,5",  # rep1 has January already: refused
        f"{prefix}-5,ghost@q.test,,{year}-01-01,1",  # not a member: the row's cell
        f"{prefix}-6,rep1@q.test,,{year}-02-15,1",  # not a first day
        f"{prefix}-7,rep1@q.test,East,{year}-03-01,1",  # both an owner and a team
        f"{prefix}-8,left@q.test,,{year}-01-01,99",  # a deactivated member keeps a quota
        f"{prefix}-9,rep1@q.test,,{year}-04-01,1000000000001",  # above the service's ceiling
        f"{prefix}-2,,East,{year}-02-01,5100",  # the chunk's id again: one by one, after the set
        f"{prefix}-10,,East,{year}-01-01,6000",  # after the move above: January is free again
        f",rep1@q.test,,{year}-05-01,300",  # without an id
    ]


def second_file(prefix: str, year: int) -> list[str]:
    return [
        f"{prefix}-1,rep1@q.test,,{year}-06-01,1000",  # moves rep1's January to June
        f"{prefix}-11,rep1@q.test,,{year}-01-01,1",  # and January is free for a new one
        f"{prefix}-3,,,{year}-01-01,25000",  # a new amount
        f"{prefix}-8,,East,{year}-02-01,1",  # East has February (the move in the first file): refused
        f"{prefix}-10,,West,{year}-01-01,7000",  # to another team
    ]


def picture(tenant, year: int) -> list[tuple]:
    with tenant_context(tenant):
        return sorted(
            (
                quota.external_id.replace("S", "").replace("R", ""),
                quota.owner.email if quota.owner else "",
                quota.team.name if quota.team else "",
                quota.month.replace(year=2000).isoformat(),
                str(quota.amount),
            )
            for quota in Quota.objects.filter(month__year=year).select_related("owner", "team")
        )


def same(one, other) -> bool:  # type: ignore[no-untyped-def]
    return json.dumps(one.row_errors, ensure_ascii=False).replace("S-", "R-").replace(
        "2026", "2027"
    ) == json.dumps(other.row_errors, ensure_ascii=False)


def test_quotas_saved_as_a_set_equal_quotas_saved_one_by_one(tenant, org, run_import, monkeypatch):
    sizes = spy(monkeypatch, "sales_ops.import_kinds.quotas.quotas_save_many", argument="changes")
    admin = org["admin"]
    set_first = run_import(admin, "quotas", csv_text(HEADER, *first_file("S", 2026)))
    set_second = run_import(admin, "quotas", csv_text(HEADER, *second_file("S", 2026)))
    assert sizes == [6, 5]  # the first file: up to its repeated id, less the three rows with bad cells
    one_by_one(monkeypatch, "quotas")
    row_first = run_import(admin, "quotas", csv_text(HEADER, *first_file("R", 2027)))
    row_second = run_import(admin, "quotas", csv_text(HEADER, *second_file("R", 2027)))
    assert sizes == [6, 5]

    for as_set, by_row in ((set_first, row_first), (set_second, row_second)):
        assert (as_set.status, as_set.created, as_set.updated, as_set.failed) == (
            by_row.status,
            by_row.created,
            by_row.updated,
            by_row.failed,
        )
        assert same(as_set, by_row), (as_set.row_errors, by_row.row_errors)
    assert (set_first.status, set_first.created, set_first.updated, set_first.failed) == (
        ImportStatus.DONE,
        6,
        1,
        5,
    )
    assert [(e["row"], e["column"]) for e in set_first.row_errors] == [
        (5, "period_start"),
        (6, "owner_email"),
        (7, "period_start"),
        (8, "team"),
        (10, "amount"),
    ]
    assert (set_second.created, set_second.updated, set_second.failed) == (1, 3, 1)
    assert [(e["row"], e["column"]) for e in set_second.row_errors] == [(5, "period_start")]
    assert picture(tenant, 2026) == picture(tenant, 2027)
    assert ("-1", "rep1@q.test", "", "2000-06-01", "1000.00") in picture(tenant, 2026)
    assert ("-10", "", "West", "2000-01-01", "7000.00") in picture(tenant, 2026)


def test_a_manager_is_refused_the_same_quotas_in_a_set(tenant, org, run_import, monkeypatch):
    """A manager sets their team's quotas and their team members'; another team's, the company's or a quota they
    may not change are refused, in a set as one by one."""
    admin, manager = org["admin"], org["manager"]
    run_import(admin, "quotas", csv_text(HEADER, "W-S,,West,2026-01-01,1", "W-R,,West,2027-01-01,1"))

    def rows(prefix: str, year: int) -> list[str]:
        return [
            f"{prefix}-1,,East,{year}-01-01,10",
            f"{prefix}-2,,West,{year}-02-01,10",  # another team: refused
            f"{prefix}-3,,,{year}-01-01,10",  # the company's: refused
            f"{prefix}-4,rep1@q.test,,{year}-01-01,10",  # a member of their team
            f"W-{prefix},,East,{year}-03-01,10",  # another team's quota: unavailable
        ]

    sizes = spy(monkeypatch, "sales_ops.import_kinds.quotas.quotas_save_many", argument="changes")
    as_set = run_import(manager, "quotas", csv_text(HEADER, *rows("S", 2026)))
    assert sizes == [4]
    one_by_one(monkeypatch, "quotas")
    by_row = run_import(manager, "quotas", csv_text(HEADER, *rows("R", 2027)))
    assert (as_set.created, as_set.updated, as_set.failed) == (by_row.created, by_row.updated, by_row.failed)
    assert (as_set.created, as_set.updated, as_set.failed) == (2, 0, 3)
    assert same(as_set, by_row), (as_set.row_errors, by_row.row_errors)
    assert [(e["row"], e["column"]) for e in as_set.row_errors] == [(3, ""), (4, ""), (6, "external_id")]
    assert picture(tenant, 2026) == picture(tenant, 2027)
