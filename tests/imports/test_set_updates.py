"""Issue 10's "bulk inserts and updates": a file imported again updates its leads and activities a chunk at a time
as a set (leads_update_many, activities_update_many over crm.bulk.copy_update) instead of one service call per
row. The set must give what the rows updated one by one give (values, statuses and stamps, scores, creation
times, owners, search entries, history booked to the importer); bad rows still fail on their own; rows the set
leaves out (a repeated id, an owner the importer may not give a lead to) still go one by one; the queries of a chunk do not grow with its rows; and a
set the database refuses is written again row by row."""

from __future__ import annotations

import json

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Activity
from accounts.services import activities as activities_services
from crm.bulk import copy_update
from crm.history import history_actor
from crm.models import Role, ValueListKey
from crm.tenancy import tenant_context
from imports.models import ImportStatus
from leads.models import Lead, ScoringField
from leads.services import leads as leads_services
from tests.factories_leads import LeadFactory
from tests.factories_ops import ScoringRuleFactory
from tests.imports.conftest import csv_text, list_values, search_entry_text
from tests.imports.test_set_writes import one_by_one
from tests.imports.test_set_writes import spy as spy_drafts

pytestmark = pytest.mark.django_db

LEADS = "external_id,last_name,title,status,owner_email,region,created_at,mql_at"


def first_leads(prefix: str) -> list[str]:
    return [
        f"{prefix}-1,Li,Engineer,new,,East,2024-03-01T09:00:00+08:00,",
        f"{prefix}-2,Wang,Engineer,new,,East,2024-03-02T09:00:00+08:00,",
        f"{prefix}-3,Zhao,Engineer,new,,West,2024-03-03T09:00:00+08:00,",
        f"{prefix}-4,Sun,Engineer,new,,West,2024-03-04T09:00:00+08:00,",
    ]


def second_leads(prefix: str) -> list[str]:
    return [
        # a new title (rescored), a status with its stamp, an earlier creation time
        f"{prefix}-1,Li Lei,VP Sales,mql,,East,2024-02-01T09:00:00+08:00,2024-03-05T10:00:00+08:00",
        f"{prefix}-2,Wang,Engineer,nonsense,,East,2024-03-02T09:00:00+08:00,",  # a bad status: this row only
        f"{prefix}-3,Zhao,VP Ops,working,rep@alpha.test,West,2024-03-03T09:00:00+08:00,",  # a new owner
        f"{prefix}-4,Sun,Engineer,new,,West,2024-03-04T09:00:00+08:00,",  # as it was
        f"{prefix}-4,Sun Again,Engineer,new,,West,2024-03-04T09:00:00+08:00,",  # the same id again
    ]


def leads_picture(tenant, prefix: str) -> dict[str, tuple]:
    with tenant_context(tenant):
        seen = {}
        for lead in Lead.objects.filter(external_id__startswith=f"{prefix}-").select_related("owner"):
            entry = search_entry_text("lead", lead.pk)
            booked = set(
                lead.events.exclude(pgh_label="insert").values_list("pgh_context__metadata__user", flat=True)
            )
            latest = lead.events.order_by("-pgh_id").first()
            seen[lead.external_id.split("-")[1]] = (
                lead.last_name,
                lead.title,
                lead.status,
                lead.mql_at,
                lead.working_at,
                lead.created_at,
                lead.owner.email if lead.owner else None,
                lead.score,
                lead.score_reasons,
                lead.version,
                entry,
                booked,
                (latest.last_name, latest.title, latest.status, latest.score, latest.created_at),
            )
        return seen


def spy(monkeypatch, target: str, argument: str = "changes") -> list[int]:
    return spy_drafts(monkeypatch, target, argument)


def test_leads_updated_as_a_set_equal_leads_updated_one_by_one(
    tenant, admin_member, member, run_import, monkeypatch
):
    rep = member(Role.SALES_REP, email="rep@alpha.test")
    list_values(tenant, **{ValueListKey.REGION: ["East", "West"]})
    ScoringRuleFactory(tenant=tenant, field=ScoringField.REGION, value="East", points=20)
    ScoringRuleFactory(tenant=tenant, field=ScoringField.TITLE, value="VP", points=15)
    for prefix in ("S", "R"):
        assert run_import(admin_member, "leads", csv_text(LEADS, *first_leads(prefix))).created == 4

    sizes = spy(monkeypatch, "imports.kinds.leads.leads_update_many")
    assigned = spy(monkeypatch, "imports.kinds.leads.leads_assign_many", argument="assignments")
    as_set = run_import(admin_member, "leads", csv_text(LEADS, *second_leads("S")))
    assert sizes == [3]  # rows 1, 3 and 4; the repeated id goes one by one
    assert assigned == [1]  # row 3's new owner, given after the update as import_row gives it
    one_by_one(monkeypatch, "leads")
    by_row = run_import(admin_member, "leads", csv_text(LEADS, *second_leads("R")))

    for job in (as_set, by_row):
        assert (job.status, job.created, job.updated, job.failed) == (ImportStatus.DONE, 0, 4, 1), (
            job.row_errors
        )
        assert [(e["row"], e["column"]) for e in job.row_errors] == [(3, "status")]
    set_leads, row_leads = leads_picture(tenant, "S"), leads_picture(tenant, "R")
    for number in set_leads:
        differ = [(a, b) for a, b in zip(set_leads[number], row_leads[number], strict=True) if a != b]
        assert not differ, f"lead {number}: {differ}"
    # and what that is
    one = set_leads["1"]
    assert one[:3] == ("Li Lei", "VP Sales", "mql") and one[3].isoformat() == "2024-03-05T02:00:00+00:00"
    assert one[5].isoformat() == "2024-02-01T01:00:00+00:00"  # the file's creation time
    assert one[7] == 35 and one[9] == 2  # rescored; one edit
    assert one[10].startswith("li lei") and one[11] == {admin_member.user.pk}
    assert set_leads["2"][0] == "Wang" and set_leads["2"][9] == 1  # the bad row changed nothing
    assert set_leads["3"][6] == rep.user.email
    assert set_leads["4"][0] == "Sun Again"


def test_new_owners_given_as_a_set_are_refused_and_booked_as_lead_assign_does(
    tenant, member, run_import, monkeypatch
):
    """A manager re-importing their team's leads: new owners in their team are given as a set (leads_assign_many),
    an owner outside it or who does not work leads is refused with lead_assign's error, row by row, and the other
    rows' outcomes, versions and history are those of the rows written one by one."""
    manager = member(Role.SALES_MANAGER, team="East", email="boss@alpha.test")
    east = manager.team
    mate = member(Role.SALES_REP, email="mate@alpha.test")
    mate.team = east
    with tenant_context(tenant):
        mate.save()
    member(Role.SALES_REP, team="West", email="west@alpha.test")
    member(Role.CS, email="cs@alpha.test")
    header = "external_id,last_name,owner_email"

    def rows(prefix: str, again: bool) -> list[str]:
        if not again:
            return [f"{prefix}-{n},Lead {n},boss@alpha.test" for n in range(1, 5)]
        return [
            f"{prefix}-1,Lead 1,mate@alpha.test",  # a team mate: given
            f"{prefix}-2,Lead 2 renamed,west@alpha.test",  # another team: refused, not renamed
            f"{prefix}-3,Lead 3 renamed,cs@alpha.test",  # does not work leads: refused
            f"{prefix}-4,Lead 4 renamed,boss@alpha.test",  # the same owner
        ]

    assigned = spy(monkeypatch, "imports.kinds.leads.leads_assign_many", argument="assignments")
    jobs = {}
    for prefix in ("S", "R"):
        if prefix == "R":
            one_by_one(monkeypatch, "leads")
        assert run_import(manager, "leads", csv_text(header, *rows(prefix, False))).created == 4
        jobs[prefix] = run_import(manager, "leads", csv_text(header, *rows(prefix, True)))
    assert assigned == [0, 1]  # the first file: new leads only; the second: one new owner; then one by one
    for job in jobs.values():
        assert (job.created, job.updated, job.failed) == (0, 2, 2), job.row_errors
        assert [(e["row"], e["column"]) for e in job.row_errors] == [(3, "owner_email"), (4, "owner_email")]
    assert jobs["S"].row_errors == json.loads(json.dumps(jobs["R"].row_errors).replace("R-", "S-"))
    with tenant_context(tenant):
        pictures = {
            prefix: sorted(
                (
                    lead.external_id[1:],
                    lead.last_name,
                    lead.owner.email,
                    lead.version,
                    lead.assigned_at is not None,
                    [(event.pgh_label, event.owner_id) for event in lead.events.order_by("pgh_id")],
                    set(lead.events.values_list("pgh_context__metadata__user", flat=True)),
                )
                for lead in Lead.objects.filter(external_id__startswith=f"{prefix}-").select_related("owner")
            )
            for prefix in ("S", "R")
        }
    assert pictures["S"] == pictures["R"]
    assert pictures["S"][0][:4] == ("-1", "Lead 1", "mate@alpha.test", 3)  # updated, then given


ACTIVITIES = "external_id,kind,subject,owner_email,occurred_at,done,lead_external_id,account_external_id"


def first_activities(prefix: str) -> list[str]:
    return [
        f"{prefix}A-1,call,Intro,,2024-04-01T09:00:00+08:00,true,{prefix}-1,",
        f"{prefix}A-2,call,Follow-up,,2024-04-03T09:00:00+08:00,true,{prefix}-1,",
        f"{prefix}A-3,task,Call back,,,false,{prefix}-2,",
        f"{prefix}A-4,call,On the account,,2024-04-02T09:00:00+08:00,true,,ACC-1",
    ]


def second_activities(prefix: str) -> list[str]:
    return [
        f"{prefix}A-1,note,Intro notes,,2024-04-01T10:00:00+08:00,true,{prefix}-1,",  # a call becomes a note
        f"{prefix}A-2,call,Follow-up,nobody@alpha.test,2024-04-03T09:00:00+08:00,true,{prefix}-1,",  # bad owner
        f"{prefix}A-3,task,Call back,rep@alpha.test,,true,{prefix}-2,",  # done now, and the rep's
        f"{prefix}A-4,call,On the account (2),,2024-04-02T09:00:00+08:00,true,,ACC-1",
    ]


def activities_picture(tenant, prefix: str) -> dict[str, tuple]:
    with tenant_context(tenant):
        seen = {}
        for activity in Activity.objects.filter(external_id__startswith=f"{prefix}A-").select_related(
            "owner", "lead"
        ):
            booked = set(
                activity.events.exclude(pgh_label="insert").values_list(
                    "pgh_context__metadata__user", flat=True
                )
            )
            seen[activity.external_id.split("-")[1]] = (
                activity.kind,
                activity.subject,
                activity.owner.email if activity.owner else None,
                # a task done now by the file is stamped with the time of its import
                "now" if activity.occurred_at and activity.occurred_at.year > 2025 else activity.occurred_at,
                activity.done,
                activity.lead.external_id.replace(prefix, "?") if activity.lead else None,
                activity.account_id,
                booked,
            )
        return seen


def test_activities_updated_as_a_set_equal_activities_updated_one_by_one(
    tenant, admin_member, member, run_import, monkeypatch
):
    rep = member(Role.SALES_REP, email="rep@alpha.test")
    run_import(admin_member, "accounts", csv_text("external_id,name", "ACC-1,Harbor"))
    for prefix in ("S", "R"):
        run_import(
            admin_member, "leads", csv_text("external_id,last_name", f"{prefix}-1,Li", f"{prefix}-2,Wang")
        )
        assert (
            run_import(admin_member, "activities", csv_text(ACTIVITIES, *first_activities(prefix))).created
            == 4
        )
    health = []
    monkeypatch.setattr(
        "lifecycle.receivers.health_schedule_recompute",
        lambda *, tenant_id, account_ids: health.append(sorted(account_ids or [])),
    )

    sizes = spy(monkeypatch, "imports.kinds.accounts.activities_update_many")
    as_set = run_import(admin_member, "activities", csv_text(ACTIVITIES, *second_activities("S")))
    assert sizes == [3]  # the unknown owner fails as the file is read
    set_health = [ids for ids in health if ids]
    health.clear()
    one_by_one(monkeypatch, "activities")
    by_row = run_import(admin_member, "activities", csv_text(ACTIVITIES, *second_activities("R")))

    for job in (as_set, by_row):
        assert (job.status, job.created, job.updated, job.failed) == (ImportStatus.DONE, 0, 3, 1), (
            job.row_errors
        )
        assert [(e["row"], e["column"]) for e in job.row_errors] == [(3, "owner_email")]
    set_activities, row_activities = activities_picture(tenant, "S"), activities_picture(tenant, "R")
    assert set_activities == row_activities
    assert set_activities["1"][:2] == ("note", "Intro notes")
    assert set_activities["2"][1:3] == ("Follow-up", admin_member.user.email)  # kept as it was
    assert set_activities["3"][2] == rep.user.email and set_activities["3"][4] is True
    assert set_activities["1"][7] == {admin_member.user.pk} and set_activities["2"][7] == set()
    assert [
        set_activities["4"][6]
    ] in set_health  # the account's health is recomputed (held for the job's end)


def all_queries(call) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


@pytest.mark.parametrize("kind", ["leads", "activities"])
def test_a_chunk_of_updates_costs_the_same_queries_for_3_rows_or_30(
    tenant, admin_member, member, run_import, kind
):
    run_import(admin_member, "accounts", csv_text("external_id,name", "ACC-1,Harbor"))
    leads = [f"L-{n},Li{n},new" for n in range(30)]
    run_import(admin_member, "leads", csv_text("external_id,last_name,status", *leads))
    if kind == "leads":
        header, rows = "external_id,last_name,status", [f"L-{n},Li{n} Changed,working" for n in range(30)]
    else:
        # the rows name their owner, and half of them another one: their owners are read for the set
        header = "external_id,kind,subject,occurred_at,lead_external_id,owner_email"
        email = admin_member.user.email
        first = [f"A-{n},call,Call {n},2024-04-01T09:00:00+08:00,L-{n},{email}" for n in range(30)]
        run_import(admin_member, "activities", csv_text(header, *first))
        other = member(Role.SALES_REP).user.email
        rows = [
            f"A-{n},email,Mail {n},2024-04-02T09:00:00+08:00,L-{n},{email if n % 2 else other}"
            for n in range(30)
        ]
    few = all_queries(lambda: run_import(admin_member, kind, csv_text(header, *rows[:3])))
    many = all_queries(lambda: run_import(admin_member, kind, csv_text(header, *rows)))
    assert many == few
    with tenant_context(tenant):
        if kind == "leads":
            assert set(Lead.objects.values_list("status", flat=True)) == {"working"}
        else:
            assert set(Activity.objects.values_list("kind", flat=True)) == {"email"}


def test_a_set_update_the_database_refuses_is_written_row_by_row(
    tenant, admin_member, run_import, monkeypatch
):
    run_import(admin_member, "leads", csv_text("external_id,last_name,status", "L-1,Li,new", "L-2,Wang,new"))
    refused = {"n": 0}

    def refuse(model, objs, fields):
        refused["n"] += 1
        raise IntegrityError("a constraint another writer raced to")

    monkeypatch.setattr(leads_services, "copy_update", refuse)
    job = run_import(
        admin_member,
        "leads",
        csv_text("external_id,last_name,status", "L-1,Li Lei,mql", "L-2,Wang,nonsense"),
    )
    assert refused["n"] == 1
    assert (job.status, job.updated, job.failed) == (ImportStatus.DONE, 1, 1), job.row_errors
    with tenant_context(tenant):
        assert dict(Lead.objects.values_list("external_id", "last_name")) == {"L-1": "Li Lei", "L-2": "Wang"}


def test_copy_update_writes_the_fields_given_with_history_and_row_level_security(
    tenant, other_tenant, admin_member
):
    with tenant_context(other_tenant):
        theirs = LeadFactory(tenant=other_tenant, last_name="Theirs")
    with tenant_context(tenant):
        mine = [LeadFactory(tenant=tenant, last_name=f"Mine{n}", title="Old") for n in range(2)]
        for lead in mine:
            lead.last_name, lead.title = lead.last_name + " Changed", "Not written"
        theirs.last_name = "Taken"
        with history_actor(admin_member.user):
            assert copy_update(Lead, [*mine, theirs], ["last_name"]) == 2  # not another company's row
        stored = {lead.pk: lead for lead in Lead.objects.all()}
        assert [(stored[lead.pk].last_name, stored[lead.pk].title) for lead in mine] == [
            ("Mine0 Changed", "Old"),
            ("Mine1 Changed", "Old"),
        ]
        events = [
            lead.events.filter(pgh_label="update").values_list("pgh_context__metadata__user", flat=True)
            for lead in mine
        ]
        assert [list(e) for e in events] == [[admin_member.user.pk], [admin_member.user.pk]]
    with tenant_context(other_tenant):
        assert Lead.objects.get(pk=theirs.pk).last_name == "Theirs"
    with tenant_context(tenant), pytest.raises(ValueError):
        copy_update(Lead, mine, ["no_such_field"])
    assert activities_services.activities_update_many(tenant=tenant, actor=None, changes=[]) == []


CONTACTS = "external_id,account_external_id,first_name,last_name,email,title,created_at"


def contact_rows(prefix: str, again: bool = False) -> list[str]:
    changed = " (2)" if again else ""
    return [
        f"{prefix}C-1,ACC-1,Lei,Li{changed},li@harbor.test,CTO,2024-01-02T09:00:00+08:00",  # the account's owner
        f"{prefix}C-2,,Mei,Wang{changed},WANG@Harbor.test,,2024-01-03T09:00:00+08:00",  # no account: the importer
        f"{prefix}C-3,ACC-9,Jun,Zhao,,,",  # an unknown account: this row only
        f"{prefix}C-4,ACC-1,,,not-an-email,,",  # a bad email: this row only
        f"{prefix}C-5,ACC-2,Xiu,  Sun   Ying{changed} ,,,",
    ]


def contacts_picture(tenant, prefix: str) -> dict[str, tuple]:
    from accounts.models import Contact

    with tenant_context(tenant):
        return {
            contact.external_id.split("-")[1]: (
                contact.account.external_id if contact.account else None,
                contact.first_name,
                contact.last_name,
                contact.email,
                contact.title,
                contact.owner.email if contact.owner else None,
                contact.created_at if contact.created_at.year < 2025 else "now",
                contact.search_text,
                contact.version,
                sorted(contact.events.values_list("pgh_label", "pgh_context__metadata__user")),
            )
            for contact in Contact.objects.filter(external_id__startswith=f"{prefix}C-").select_related(
                "account", "owner"
            )
        }


def test_contacts_created_and_updated_as_sets_equal_contacts_written_one_by_one(
    tenant, admin_member, member, run_import, monkeypatch
):
    rep = member(Role.SALES_REP, email="rep@alpha.test")
    run_import(
        admin_member,
        "accounts",
        csv_text("external_id,name,owner_email", f"ACC-1,Harbor,{rep.user.email}", "ACC-2,Quay,"),
    )
    created_sizes = spy_drafts(monkeypatch, "imports.kinds.accounts.contacts_create_many")
    updated_sizes = spy(monkeypatch, "imports.kinds.accounts.contacts_update_many")
    as_set = [
        run_import(admin_member, "contacts", csv_text(CONTACTS, *contact_rows("S", again)))
        for again in (0, 1)
    ]
    # the unknown account fails as the file is read, the bad email by the rules (in the set: it stays new)
    assert created_sizes == [4, 1] and updated_sizes == [0, 3]
    one_by_one(monkeypatch, "contacts")
    by_row = [
        run_import(admin_member, "contacts", csv_text(CONTACTS, *contact_rows("R", again)))
        for again in (0, 1)
    ]

    for first, second in (as_set, by_row):
        assert (first.created, first.updated, first.failed) == (3, 0, 2), first.row_errors
        assert (second.created, second.updated, second.failed) == (0, 3, 2), second.row_errors
        for job in (first, second):
            assert [(e["row"], e["column"]) for e in job.row_errors] == [
                (4, "account_external_id"),
                (5, "email"),
            ]
    set_contacts, row_contacts = contacts_picture(tenant, "S"), contacts_picture(tenant, "R")
    assert set_contacts == row_contacts
    one, two, five = set_contacts["1"], set_contacts["2"], set_contacts["5"]
    assert one[:6] == ("ACC-1", "Lei", "Li (2)", "li@harbor.test", "CTO", rep.user.email)
    assert two[3] == "wang@harbor.test" and two[5] == admin_member.user.email
    assert five[2] == "Sun Ying (2)" and five[5] == admin_member.user.email  # Quay has no owner to pass on
    assert one[6].isoformat() == "2024-01-02T01:00:00+00:00" and one[8] == 2
    assert one[7] == "lei li (2) li@harbor.test"
    assert {user for _label, user in one[9]} == {admin_member.user.pk}


@pytest.mark.parametrize("again", [False, True])
def test_a_chunk_of_contacts_costs_the_same_queries_for_3_rows_or_30(
    tenant, admin_member, member, run_import, again
):
    rep = member(Role.SALES_REP)
    accounts = [f"ACC-{n},Harbor {n},{rep.user.email if n % 2 else ''}" for n in range(30)]
    run_import(admin_member, "accounts", csv_text("external_id,name,owner_email", *accounts))
    header = "external_id,account_external_id,last_name,email"
    rows = [f"C-{n},ACC-{n},Li {n},c{n}@harbor.test" for n in range(30)]
    run_import(
        admin_member, "contacts", csv_text(header, *rows)
    )  # (and the session's temporary twin is made)
    if again:  # the thirty again, changed: every row an update
        few_rows, many_rows = (
            [row.replace("Li ", "Wang ") for row in rows][:3],
            [r.replace("Li ", "Wu ") for r in rows],
        )
    else:  # other ids: every row new
        few_rows, many_rows = [r.replace("C-", "F-") for r in rows[:3]], [r.replace("C-", "M-") for r in rows]
    few = all_queries(lambda: run_import(admin_member, "contacts", csv_text(header, *few_rows)))
    many = all_queries(lambda: run_import(admin_member, "contacts", csv_text(header, *many_rows)))
    assert many == few


ACCOUNTS = "external_id,name,domain,tier,owner_email,parent_external_id,created_at"


def account_rows(prefix: str, again: bool = False) -> list[str]:
    changed = " (2)" if again else ""
    owner = "rep2@alpha.test" if again else "rep@alpha.test"
    return [
        f"{prefix}K-1,Harbor Group{changed},Harbor.test,key,{owner},,2023-05-01T09:00:00+08:00",
        f"{prefix}K-2,Harbor  East{changed},,,,{prefix}K-1,",  # a parent made by an earlier row
        f"{prefix}K-3,Harbor West,,,,{prefix}K-5,",  # a parent made by a later row: unknown, as row by row
        f"{prefix}K-4,,,,,,",  # no name: this row only
        f"{prefix}K-5,Quay{changed},quay.test,,,,",
        f"{prefix}K-6,Pier,,,nobody@alpha.test,,",  # not a member: this row only
    ]


def accounts_picture(tenant, prefix: str) -> dict[str, tuple]:
    from accounts.models import Account

    with tenant_context(tenant):
        return {
            account.external_id.split("-")[1]: (
                account.name,
                account.domain,
                account.tier,
                account.owner.email if account.owner else None,
                account.parent.external_id.replace(prefix, "?") if account.parent else None,
                account.created_at if account.created_at.year < 2025 else "now",
                account.search_text,
                account.version,
                sorted(
                    {user for user in account.events.values_list("pgh_context__metadata__user", flat=True)}
                ),
            )
            for account in Account.objects.filter(external_id__startswith=f"{prefix}K-").select_related(
                "owner", "parent"
            )
        }


def test_accounts_created_and_updated_as_sets_equal_accounts_written_one_by_one(
    tenant, admin_member, member, run_import, monkeypatch
):
    member(Role.SALES_REP, email="rep@alpha.test")
    rep2 = member(Role.SALES_REP, email="rep2@alpha.test")
    created_sizes = spy_drafts(monkeypatch, "imports.kinds.accounts.accounts_create_many")
    updated_sizes = spy(monkeypatch, "imports.kinds.accounts.accounts_update_many")
    as_set = [
        run_import(admin_member, "accounts", csv_text(ACCOUNTS, *account_rows("S", again)))
        for again in (0, 1)
    ]
    # first: K-1, K-4 (refused by the rules), K-5 as a set; K-2 after it; K-3 and K-6 fail as the file is read.
    # Second: K-3 (its parent exists now) and K-4 new, K-1, K-2 and K-5 updated, as sets.
    assert created_sizes == [3, 2] and updated_sizes == [0, 3]
    one_by_one(monkeypatch, "accounts")
    by_row = [
        run_import(admin_member, "accounts", csv_text(ACCOUNTS, *account_rows("R", again)))
        for again in (0, 1)
    ]

    for first, second in (as_set, by_row):
        assert (first.created, first.updated, first.failed) == (3, 0, 3), first.row_errors
        # the second time K-3 finds K-5 (made by the first import) and is new
        assert (second.created, second.updated, second.failed) == (1, 3, 2), second.row_errors
        assert [(e["row"], e["column"]) for e in first.row_errors] == [
            (4, "parent_external_id"),
            (5, "name"),
            (7, "owner_email"),
        ]
    set_accounts, row_accounts = accounts_picture(tenant, "S"), accounts_picture(tenant, "R")
    assert set_accounts == row_accounts
    one, two = set_accounts["1"], set_accounts["2"]
    assert one[:4] == ("Harbor Group (2)", "harbor.test", "key", rep2.user.email)
    assert one[5].isoformat() == "2023-05-01T01:00:00+00:00" and one[7] == 2
    assert two[0] == "Harbor East (2)" and two[3] == admin_member.user.email and two[4] == "?K-1"
    assert set_accounts["3"][4] == "?K-5"
    assert one[8] == [admin_member.user.pk]


@pytest.mark.parametrize("again", [False, True])
def test_a_chunk_of_accounts_costs_the_same_queries_for_3_rows_or_30(
    tenant, admin_member, member, run_import, again
):
    rep = member(Role.SALES_REP)
    run_import(admin_member, "accounts", csv_text("external_id,name", "P-1,Parent"))
    header = "external_id,name,owner_email,parent_external_id"
    rows = [f"K-{n},Harbor {n},{rep.user.email if n % 2 else ''},{'P-1' if n % 3 else ''}" for n in range(30)]
    run_import(admin_member, "accounts", csv_text(header, *rows))
    if again:  # the thirty again, changed: every row an update
        few_rows = [r.replace("Harbor ", "Quay ") for r in rows[:3]]
        many_rows = [r.replace("Harbor ", "Pier ") for r in rows]
    else:  # other ids: every row new
        few_rows, many_rows = [r.replace("K-", "F-") for r in rows[:3]], [r.replace("K-", "M-") for r in rows]
    few = all_queries(lambda: run_import(admin_member, "accounts", csv_text(header, *few_rows)))
    many = all_queries(lambda: run_import(admin_member, "accounts", csv_text(header, *many_rows)))
    assert many == few
