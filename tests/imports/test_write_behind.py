"""Chunks checked ahead, written behind (imports.services._run_chunks_behind): while a writer thread inserts and
commits chunk N on a connection of its own, chunk N+1 is checked on the job's connection in a transaction that
only reads. What a file gives must not depend on it: the same records, values, history (booked to the importer and
the job), search entries, counts and row errors as the ordinary path, chunk after chunk; a chunk that names a
record the chunk in flight creates waits for that commit (a repeated id updates, a child finds its parent); a
chunk that writes while it is checked (assignment's round-robin) or that the database refuses behind is written
the ordinary way, its rows each still succeeding or failing on their own.

These tests commit (transaction=True): a second connection sees nothing of a test's open transaction, which is also
why the runner writes behind only outside one."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from accounts.models import Account, Activity
from crm.models import ValueListKey
from crm.tenancy import tenant_context
from imports import services
from imports.models import ImportJob, ImportStatus
from leads.models import Lead
from tests.factories_ops import TerritoryFactory, TerritoryMemberFactory
from tests.imports.conftest import csv_text, list_values, search_entry_text, stored_job

pytestmark = pytest.mark.django_db(transaction=True)

LEADS = "external_id,last_name,company,title,status,owner_email,region,created_at"


@pytest.fixture
def behind(monkeypatch):
    """Chunks of 2 rows; counts the chunks the writer thread committed."""
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    written = {"chunks": 0}
    write_plan = services._write_plan

    def counted(tenant, job, plan, added):  # type: ignore[no-untyped-def]
        write_plan(tenant, job, plan, added)
        written["chunks"] += 1

    monkeypatch.setattr(services, "_write_plan", counted)
    return written


def run(tenant, membership, kind: str, text: str) -> ImportJob:
    job = stored_job(tenant, membership.user, text, kind=kind)
    services.import_job_run(tenant=tenant, job_id=job.pk)
    with tenant_context(tenant):
        return ImportJob.objects.get(pk=job.pk)


def leads_rows(prefix: str) -> list[str]:
    return [
        f"{prefix}-1,Li,北京字节跳动,Engineer,new,,East,2024-03-01T09:00:00+08:00",
        f"{prefix}-2,Wang,Harbor Tech,VP Sales,working,rep@alpha.test,West,2024-03-02T09:00:00+08:00",
        f"{prefix}-3,Zhao,深圳腾讯,Engineer,nonsense,,East,2024-03-03T09:00:00+08:00",  # a bad status
        f"{prefix}-4,Sun,Alpen,Engineer,mql,,,2024-03-04T09:00:00+08:00",
        f"{prefix}-5,Qian,Harbor Tech,CTO,new,rep@alpha.test,West,2024-03-05T09:00:00+08:00",
        f"{prefix}-6,,Nameless,Engineer,new,,East,2024-03-06T09:00:00+08:00",  # no last name: the company names it
        f"{prefix}-7,Zhou,上海华为,Engineer,sql,,East,2024-03-07T09:00:00+08:00",
    ]


def leads_picture(tenant, prefix: str) -> dict[str, tuple]:
    with tenant_context(tenant):
        seen = {}
        for lead in Lead.objects.filter(external_id__startswith=f"{prefix}-").select_related("owner"):
            entry = search_entry_text("lead", lead.pk)
            events = list(
                lead.events.values_list(
                    "pgh_label", "pgh_context__metadata__user", "last_name", "status", "created_at"
                )
            )
            seen[lead.external_id.split("-", 1)[1]] = (
                lead.last_name,
                lead.company,
                lead.status,
                lead.created_at,
                lead.owner.email if lead.owner else None,
                lead.score,
                lead.score_reasons,
                lead.version,
                entry,
                events,
            )
        return seen


def job_picture(job: ImportJob) -> tuple:
    return (
        job.status,
        job.total,
        job.processed,
        job.created,
        job.updated,
        job.failed,
        [(error["row"], error["column"]) for error in job.row_errors],
    )


def test_leads_written_behind_equal_leads_written_the_ordinary_way(
    tenant, admin_member, member, behind, settings
):
    member(email="rep@alpha.test")
    list_values(tenant, **{ValueListKey.REGION: ["East", "West"]})
    ahead = run(tenant, admin_member, "leads", csv_text(LEADS, *leads_rows("B")))
    assert behind["chunks"] == 4  # every chunk was written behind
    settings.IMPORT_WRITE_BEHIND = False
    ordinary = run(tenant, admin_member, "leads", csv_text(LEADS, *leads_rows("O")))
    assert behind["chunks"] == 4  # none more
    assert job_picture(ahead) == job_picture(ordinary)
    assert job_picture(ahead) == (ImportStatus.DONE, 7, 7, 6, 0, 1, [(4, "status")])
    assert leads_picture(tenant, "B") == leads_picture(tenant, "O")
    with tenant_context(tenant):
        booked = set(
            Lead.objects.filter(external_id__startswith="B-")
            .values_list("events__pgh_context__metadata__user", "events__pgh_context__metadata__import_job")
            .distinct()
        )
    assert booked == {(admin_member.user.pk, ahead.pk)}


def test_a_chunk_naming_an_id_the_chunk_in_flight_creates_waits_for_it(tenant, admin_member, behind):
    """L-1 again in the second chunk: it updates the lead the first chunk made (not a clash), as row by row."""
    text = csv_text(
        "external_id,last_name,title",
        "L-1,Li,Engineer",
        "L-2,Wang,Engineer",
        "L-1,Li,VP Sales",
        "L-3,Zhao,Engineer",
    )
    job = run(tenant, admin_member, "leads", text)
    assert job_picture(job) == (ImportStatus.DONE, 4, 4, 3, 1, 0, [])
    with tenant_context(tenant):
        assert dict(Lead.objects.values_list("external_id", "title")) == {
            "L-1": "VP Sales",
            "L-2": "Engineer",
            "L-3": "Engineer",
        }


def test_a_child_finds_its_parent_made_by_the_chunk_before(tenant, admin_member, behind):
    text = csv_text(
        "external_id,name,parent_external_id",
        "A-1,Harbor Group,",
        "A-2,Alpen,",
        "A-3,Harbor Shanghai,A-1",
        "A-4,Harbor Beijing,A-1",
    )
    job = run(tenant, admin_member, "accounts", text)
    assert job_picture(job) == (ImportStatus.DONE, 4, 4, 4, 0, 0, [])
    with tenant_context(tenant):
        parents = dict(Account.objects.values_list("external_id", "parent__external_id"))
    assert parents == {"A-1": None, "A-2": None, "A-3": "A-1", "A-4": "A-1"}


def test_a_chunk_refused_behind_is_written_the_ordinary_way(tenant, admin_member, behind, monkeypatch):
    refused = {"n": 0}
    write_deferred = services.write_deferred

    def refuse_the_second(inserts):  # type: ignore[no-untyped-def]
        refused["n"] += 1
        if refused["n"] == 2:
            raise IntegrityError("a writer raced to one of these ids")
        write_deferred(inserts)

    monkeypatch.setattr(services, "write_deferred", refuse_the_second)
    text = csv_text("external_id,last_name", *(f"L-{n},Name {n}" for n in range(1, 8)))
    job = run(tenant, admin_member, "leads", text)
    assert job_picture(job) == (ImportStatus.DONE, 7, 7, 7, 0, 0, [])
    with tenant_context(tenant):
        names = sorted(Lead.objects.values_list("external_id", flat=True))
    assert names == sorted(f"L-{n}" for n in range(1, 8))  # each row once: the refused chunk written again
    assert behind["chunks"] == 3  # of 4 chunks: the refused one went the ordinary way


def test_round_robin_assignment_is_kept_in_order_when_chunks_go_the_ordinary_way(
    tenant, admin_member, member, behind, settings
):
    """Assignment advances a territory's round-robin while a chunk is checked (a write): such chunks are written
    the ordinary way, and the leads go to the reps in the order a row-by-row import gives them."""
    reps = [member(), member(), member()]
    list_values(tenant, **{ValueListKey.REGION: ["East"]})
    with tenant_context(tenant):
        territory = TerritoryFactory(tenant=tenant, regions=["East"])
        for position, rep in enumerate(reps):
            TerritoryMemberFactory(tenant=tenant, territory=territory, user=rep.user, position=position)

    def owners(prefix: str) -> list[str]:
        with tenant_context(tenant):
            return list(
                Lead.objects.filter(external_id__startswith=f"{prefix}-")
                .order_by("created_at")
                .values_list("owner__email", flat=True)
            )

    rows = [f"{{p}}-{n},Name {n},East,2024-03-0{n}T09:00:00+08:00" for n in range(1, 8)]
    header = "external_id,last_name,region,created_at"
    run(tenant, admin_member, "leads", csv_text(header, *(row.format(p="B") for row in rows)))
    assert behind["chunks"] == 0
    settings.IMPORT_WRITE_BEHIND = False
    run(tenant, admin_member, "leads", csv_text(header, *(row.format(p="O") for row in rows)))
    assert owners("B") == [reps[n % 3].user.email for n in range(7)]
    assert owners("O") == [reps[n % 3].user.email for n in range(7, 14)]


def test_activities_written_behind_equal_activities_written_the_ordinary_way(
    tenant, admin_member, behind, settings
):
    run(
        tenant,
        admin_member,
        "leads",
        csv_text("external_id,last_name,status", "L-1,Li,new", "L-2,Wang,new", "L-3,Zhao,working"),
    )
    header = "external_id,kind,subject,occurred_at,done,lead_external_id"

    def rows(prefix: str) -> list[str]:
        return [
            f"{prefix}-1,call,Intro,2024-03-01T09:00:00+08:00,true,L-1",
            f"{prefix}-2,email,跟进,2024-03-02T09:00:00+08:00,true,L-2",
            f"{prefix}-3,nonsense,Bad kind,2024-03-03T09:00:00+08:00,true,L-1",
            f"{prefix}-4,meeting,Demo,2024-03-04T09:00:00+08:00,true,L-1",
            f"{prefix}-5,note,Memo,2024-03-05T09:00:00+08:00,true,L-404",
        ]

    chunks = behind["chunks"]
    ahead = run(tenant, admin_member, "activities", csv_text(header, *rows("B")))
    assert behind["chunks"] == chunks + 3
    settings.IMPORT_WRITE_BEHIND = False
    ordinary = run(tenant, admin_member, "activities", csv_text(header, *rows("O")))
    assert job_picture(ahead)[:6] == job_picture(ordinary)[:6] == (ImportStatus.DONE, 5, 5, 3, 0, 2)
    assert job_picture(ahead)[6] == job_picture(ordinary)[6]

    def picture(prefix: str) -> list[tuple]:
        with tenant_context(tenant):
            return list(
                Activity.objects.filter(external_id__startswith=f"{prefix}-")
                .order_by("external_id")
                .values_list(
                    "kind",
                    "subject",
                    "occurred_at",
                    "done",
                    "lead__external_id",
                    "owner_id",
                    "events__pgh_label",
                    "events__pgh_context__metadata__user",
                )
            )

    assert picture("B") == picture("O")
    with tenant_context(tenant):
        clocks = dict(Lead.objects.values_list("external_id", "last_activity_at"))
        statuses = dict(Lead.objects.values_list("external_id", "status"))
    # The clocks moved once, at the job's end; an imported history does not move a lead's status.
    assert clocks["L-1"].isoformat() == "2024-03-04T01:00:00+00:00"
    assert statuses == {"L-1": "new", "L-2": "new", "L-3": "working"}


def test_a_file_imported_again_goes_the_ordinary_way_without_checking_each_chunk_twice(
    tenant, admin_member, behind, monkeypatch
):
    """Rows that update records are checked where they are written: a chunk of them is refused for checking ahead
    at its first such row, and the following chunks go the ordinary way at once, 1, 2, 4 ... of them before the
    next try."""
    text = csv_text("external_id,last_name", *(f"L-{n},Name {n}" for n in range(1, 15)))  # 7 chunks of 2
    assert run(tenant, admin_member, "leads", text).created == 14
    tries = {"n": 0}
    check_ahead = services._check_ahead

    def counted(**kwargs):  # type: ignore[no-untyped-def]
        tries["n"] += 1
        return check_ahead(**kwargs)

    monkeypatch.setattr(services, "_check_ahead", counted)
    again = csv_text("external_id,last_name", *(f"L-{n},Name {n} again" for n in range(1, 15)))
    job = run(tenant, admin_member, "leads", again)
    assert job_picture(job) == (ImportStatus.DONE, 14, 14, 0, 14, 0, [])
    assert tries["n"] == 3  # chunks 1, 3 and 6 (after 0, 1 and 2 chunks the ordinary way)
    with tenant_context(tenant):
        assert set(Lead.objects.values_list("last_name", flat=True)) == {
            f"Name {n} again" for n in range(1, 15)
        }
