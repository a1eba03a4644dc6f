"""Deals a file names again are updated as one set (opportunities_update_many) instead of row by row
(opportunity_update in a savepoint each). The set must give exactly what the rows written one by one give: the
same rows refused with the same errors (the rules' order kept), every field of the deals (the amount in the
reporting currency, close times, probabilities, forecasts, lost reasons, owners, accounts, pipelines, versions),
their StageChanges, their history events booked to the importer (a creation time the file moves is a second
event, as keep_created_at's own UPDATE), `opportunity_stage_changed` for each move and the same recomputes
scheduled (lifecycle's from the StageChanges' post_save, the KPIs' from opportunities_changed). A chunk of updates
costs the same queries for 3 deals or 30."""

from __future__ import annotations

import datetime
import json
import logging
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Opportunity, StageKind
from accounts.signals import opportunity_stage_changed
from crm.models import Membership, MembershipStatus, Role, ValueListKey
from crm.tenancy import tenant_context
from imports.models import ImportStatus
from tests.factories_accounts import ExchangeRateFactory
from tests.factories_deals import PipelineFactory, StageFactory
from tests.imports.conftest import csv_text, list_values
from tests.imports.test_set_writes import one_by_one, spy
from tests.imports.test_set_writes_deals import deals_picture, settled, watch

pytestmark = pytest.mark.django_db

DEALS = (
    "external_id,account_external_id,name,type,pipeline,stage,amount,currency,probability,owner_email,"
    "created_at,closed_at,lost_reason"
)
AT = "2024-03-08T09:00:00+08:00"


def first_rows(prefix: str) -> list[str]:
    """The deals as first imported (rows 2 to 13)."""
    p = prefix
    return [
        f"{p}-1,ACC-1,{p} Fleet,new_business,,Qualification,1000,,,rep@alpha.test,{AT},,",
        f"{p}-2,ACC-1,{p} Won,,,Closed won,2000,USD,,,2024-02-01T09:00:00+08:00,2024-03-01T09:00:00+08:00,",
        f"{p}-3,ACC-2,{p} Renewal,renewal,,Proposal,300,,,,{AT},,",
        f"{p}-4,ACC-2,{p} Lost,,,Closed lost,60,,,,{AT},2024-03-10T09:00:00+08:00,Price",
        f"{p}-5,ACC-1,{p} Unchanged,,,Negotiation,40,,,,{AT},,",
        f"{p}-6,ACC-1,{p} Mover,,,Proposal,70,,,,{AT},,",
        f"{p}-7,ACC-2,{p} To lose,,,Proposal,80,,,,{AT},,",
        f"{p}-8,ACC-2,{p} Other pipeline,,,Proposal,90,,,,{AT},,",
        f"{p}-9,ACC-1,{p} Stamped,,,Proposal,10,,,,{AT},,",
        f"{p}-10,ACC-1,{p} Negative,,,Proposal,10,,,,{AT},,",
        f"{p}-11,ACC-1,{p} Pounds,,,Proposal,10,,,,{AT},,",
        f"{p}-12,ACC-1,{p} Nowhere,,,Proposal,10,,,,{AT},,",
    ]


def second_rows(prefix: str) -> list[str]:
    """The same deals named again, changed (rows 2 to 16)."""
    p = prefix
    return [
        # a move with its own probability, a bigger amount, a deactivated member as the owner
        f"{p}-1,ACC-1,{p} Fleet,new_business,,Needs analysis,1500,,0.4,leaver@alpha.test,{AT},,",
        # a won deal reopened: its close time and forecast go, the account's stage is recomputed
        f"{p}-2,ACC-1,{p} Won,,,Proposal,2000,USD,,,2024-02-01T09:00:00+08:00,,",
        # a renewal won at a time the file gives: the account's health is recomputed
        f"{p}-3,ACC-2,{p} Renewal,renewal,,Closed won,300,,,,{AT},2024-04-01T09:00:00+08:00,",
        # a lost deal's new reason; its probability stays tied to the stage
        f"{p}-4,ACC-2,{p} Lost,,,Closed lost,60,,0.5,,{AT},2024-03-10T09:00:00+08:00,Timing",
        f"{p}-5,ACC-1,{p} Unchanged,,,Negotiation,40,,,,{AT},,",
        # to another account, as a renewal
        f"{p}-6,ACC-2,{p} Mover,renewal,,Proposal,70,,,,{AT},,",
        f"{p}-7,ACC-2,{p} To lose,,,Closed lost,80,,,,{AT},,",  # lost without a reason: refused
        f"{p}-8,ACC-2,{p} Other pipeline,,Partners,Pilot,90,,,,{AT},,",  # into another pipeline
        f"{p}-9,ACC-1,{p} Stamped again,,,Proposal,10,,,,2024-01-05T09:00:00+08:00,,",  # renamed, created earlier
        f"{p}-10,ACC-1,{p} Negative,,,Proposal,-10,,,,{AT},,",  # refused
        f"{p}-11,ACC-1,{p} Pounds,,,Proposal,10,GBP,,,{AT},,",  # no rate for GBP: refused
        f"{p}-12,ACC-1,{p} Nowhere,,,Nowhere,10,,,,{AT},,",  # no such stage: refused
        f"{p}-13,ACC-1,{p} New,,,Proposal,10,,,,{AT},,",  # a new deal in the same file
        f"{p}-1,ACC-1,{p} Fleet,new_business,,Proposal,1600,,,,{AT},,",  # the same id again: after the set
        f"{p}-5,ACC-1,{p} Unchanged,,,Negotiation,40,,,nobody@elsewhere.test,{AT},,",  # a bad cell
    ]


ERRORS = [(8, "lost_reason"), (11, "amount"), (12, "currency"), (13, "stage"), (16, "owner_email")]


def test_deals_updated_as_a_set_equal_deals_updated_one_by_one(
    tenant, admin_member, member, run_import, monkeypatch, caplog
):
    member(Role.SALES_REP, email="rep@alpha.test")
    leaver = member(Role.SALES_REP, email="leaver@alpha.test")
    run_import(admin_member, "accounts", csv_text("external_id,name", "ACC-1,Harbor", "ACC-2,Alpen"))
    list_values(tenant, **{ValueListKey.LOST_REASON: ["Price", "Timing"]})
    with tenant_context(tenant):
        Membership.objects.filter(pk=leaver.pk).update(status=MembershipStatus.DEACTIVATED)
        ExchangeRateFactory(
            tenant=tenant, currency="USD", rate=Decimal("7.100000"), valid_from=datetime.date(2024, 1, 1)
        )
        partners = PipelineFactory(tenant=tenant, name="Partners")
        for order, (name, kind) in enumerate(
            [("Pilot", StageKind.OPEN), ("Signed", StageKind.WON), ("Dropped", StageKind.LOST)]
        ):
            StageFactory(tenant=tenant, pipeline=partners, name=name, order=order, kind=kind)
    for prefix in ("S", "R"):
        job = run_import(admin_member, "opportunities", csv_text(DEALS, *first_rows(prefix)))
        assert (job.created, job.failed) == (12, 0), job.row_errors
    caplog.set_level(logging.INFO, logger="imports.services")
    seen = watch(monkeypatch)
    since = timezone.now()
    try:
        sizes = spy(monkeypatch, "imports.kinds.accounts.opportunities_update_many", "changes")
        as_set = run_import(admin_member, "opportunities", csv_text(DEALS, *second_rows("S")))
        assert sizes == [12]  # the twelve known deals; the repeated id and the bad cell aside
        assert "set write was refused" not in caplog.text  # the set was written, not its rows one by one
        set_scheduled = settled(seen)

        one_by_one(monkeypatch, "opportunities")
        by_row = run_import(admin_member, "opportunities", csv_text(DEALS, *second_rows("R")))
        row_scheduled = settled(seen)
        assert sizes == [12]  # one by one: the set service was not called
    finally:
        opportunity_stage_changed.disconnect(dispatch_uid="test_set_writes_deals.moved")

    for job in (as_set, by_row):
        assert (job.status, job.created, job.updated, job.failed) == (ImportStatus.DONE, 1, 9, 5), (
            job.row_errors
        )
        assert [(e["row"], e["column"]) for e in job.row_errors] == ERRORS
    assert json.dumps(as_set.row_errors, ensure_ascii=False).replace("S-", "R-") == json.dumps(
        by_row.row_errors, ensure_ascii=False
    )
    set_deals, row_deals = deals_picture(tenant, "S", since), deals_picture(tenant, "R", since)
    assert set_deals == row_deals
    assert set_scheduled == row_scheduled

    # and what that is: opportunity_update's rules
    fleet, won, renewal, lost = (set_deals[name] for name in ("Fleet", "Won", "Renewal", "Lost"))
    # the set gave the leaver, 1,500 and Needs analysis at 0.4; the repeated row then moved it to Proposal
    assert (fleet["owner_id"], fleet["amount"], fleet["probability"]) == (
        leaver.user_id,  # a deactivated member may own imported history
        Decimal("1600.00"),
        Decimal("0.500"),  # Proposal's probability: the repeated row gave none
    )
    assert (won["closed_at"], won["forecast_category"], won["amount_reporting"]) == (
        None,
        "pipeline",
        Decimal("14200.00"),  # reopened: at today's rate
    )
    assert (renewal["closed_at"], renewal["probability"], renewal["forecast_category"]) == (
        datetime.datetime(2024, 4, 1, 1, 0, tzinfo=datetime.UTC),
        Decimal("1.000"),
        "closed",
    )
    assert (lost["lost_reason"], lost["probability"]) == ("Timing", Decimal("0.000"))
    assert set_deals["Unchanged"]["version"] == 1  # as stored: not written
    assert set_deals["Unchanged"]["history"] == [("insert", admin_member.user.pk)]
    stamped = set_deals["Stamped again"]
    assert stamped["created_at"] == datetime.datetime(2024, 1, 5, 1, 0, tzinfo=datetime.UTC)
    assert [label for label, _user in stamped["history"]] == ["insert", "update", "update"]
    assert all(
        user == admin_member.user.pk for deal in set_deals.values() for _label, user in deal["history"]
    )
    with tenant_context(tenant):
        assert Opportunity.objects.get(external_id="S-8").pipeline_id == partners.pk
    accounts = sorted({won["account_id"], renewal["account_id"]})
    assert set_scheduled["lifecycle"] == accounts  # the reopened and the won deal's accounts
    assert set_scheduled["health"] == [renewal["account_id"]]  # the renewals' account (both on ACC-2)
    assert set_scheduled["kpis"] == set_scheduled["refresh"] == [tenant.pk]
    assert ("Won", "Closed won", "Proposal") in set_scheduled["moved"]
    assert ("Other pipeline", "Proposal", "Pilot") in set_scheduled["moved"]


def test_ops_are_told_the_same_about_deals_in_a_set(tenant, admin_member, member, run_import, monkeypatch):
    """Ops import deals (KPIS.md's migration) and name known ones again: each row gets what opportunity_update
    answers them, in a set as row by row."""
    member(Role.SALES_REP, email="rep@alpha.test")
    ops = member(Role.OPS)
    run_import(admin_member, "accounts", csv_text("external_id,name", "ACC-1,Harbor"))
    header = "external_id,account_external_id,name,stage,amount,owner_email,created_at,closed_at"
    won = f"{AT},2024-03-09T09:00:00+08:00"

    def rows(prefix: str, amount: int) -> list[str]:
        return [
            f"{prefix}-1,ACC-1,{prefix} Renamed,Proposal,{amount},rep@alpha.test,{AT},",
            f"{prefix}-2,ACC-1,{prefix} As it was,Proposal,100,,{AT},",
            f"{prefix}-3,ACC-1,{prefix} Won,Closed won,{amount},,{won}",
        ]

    for prefix in ("S", "R"):
        run_import(admin_member, "opportunities", csv_text(header, *rows(prefix, 100)))
    sizes = spy(monkeypatch, "imports.kinds.accounts.opportunities_update_many", "changes")
    as_set = run_import(ops, "opportunities", csv_text(header, *rows("S", 200)))
    one_by_one(monkeypatch, "opportunities")
    by_row = run_import(ops, "opportunities", csv_text(header, *rows("R", 200)))
    assert sizes == [3]
    assert (as_set.updated, as_set.failed) == (by_row.updated, by_row.failed), as_set.row_errors
    assert json.dumps(as_set.row_errors, ensure_ascii=False).replace("S-", "R-") == json.dumps(
        by_row.row_errors, ensure_ascii=False
    )
    since = timezone.now()
    assert deals_picture(tenant, "S", since) == deals_picture(tenant, "R", since)


def test_a_chunk_of_deal_updates_costs_the_same_queries_for_3_rows_or_30(
    tenant, admin_member, member, run_import
):
    member(Role.SALES_REP, email="rep@alpha.test")
    run_import(admin_member, "accounts", csv_text("external_id,name", "ACC-1,Harbor", "ACC-2,Alpen"))
    header = "external_id,account_external_id,name,stage,amount,owner_email"
    stages = ["Qualification", "Proposal", "Closed won"]
    first = [f"{p}-{n},ACC-1,Deal {n},Qualification,100," for p in "DW" for n in range(30)]
    run_import(admin_member, "opportunities", csv_text(header, *first))
    # each row changed: another account, owner, amount and stage (a move: a StageChange each)
    rows = [
        f"D-{n},ACC-{1 + n % 2},Deal {n},{stages[n % 3]},{200 + n},{'rep@alpha.test' if n % 2 else ''}"
        for n in range(30)
    ]
    few, many = rows[:3], rows
    # What follows once, not per row, first: the playbooks seeded by the first health work, both accounts won
    # (their lifecycle stage, and the health recompute that follows a change of stage).
    run_import(admin_member, "opportunities", csv_text(header, *[r.replace("D-", "W-") for r in many]))
    with CaptureQueriesContext(connection) as small:
        run_import(admin_member, "opportunities", csv_text(header, *few))
    # the thirty, every one an update again (the first three renamed, the others changed as the three were)
    with CaptureQueriesContext(connection) as large:
        run_import(
            admin_member,
            "opportunities",
            csv_text(header, *[r.replace(",Deal ", ",Big deal ") for r in many]),
        )
    assert len(large.captured_queries) == len(small.captured_queries)


def test_a_set_of_no_updates_asks_nothing(tenant, admin_member):
    """A chunk of new deals or answers calls the update services with no changes: they must not read (a locked
    read refuses the chunk's check ahead, imports.services._check_ahead, and the chunk loses its overlap)."""
    from accounts.services.opportunities import opportunities_update_many
    from lifecycle.services.feedback import feedback_update_many

    with tenant_context(tenant), CaptureQueriesContext(connection) as captured:
        assert opportunities_update_many(tenant=tenant, actor=admin_member.user, changes=[]) == []
        assert feedback_update_many(tenant=tenant, actor=admin_member.user, changes=[]) == []
    assert [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]] == []
