"""Issue 10's speed: new leads and activities are written a chunk at a time as a set (RowImporter.import_many:
leads_create_many, activities_log_many) instead of row by row. The set write must give exactly what the rows
written one by one give: owners, round-robin, territories, scores and reasons, statuses and stamps, history events
booked to the importer, search entries, lead clocks and rescoring; bad rows still fail on their own, in the file's
order; and a set the database refuses is written again row by row."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Account, Activity
from accounts.signals import activities_logging_many, activity_logging
from crm.models import Role, ValueListKey
from crm.tenancy import tenant_context
from imports.models import ImportStatus
from imports.registry import RowImporter, get_kind
from leads.models import Lead, LeadStatus, ScoringField, Territory
from leads.services import leads as leads_services
from tests.factories_ops import ScoringRuleFactory, TerritoryFactory, TerritoryMemberFactory
from tests.imports.conftest import csv_text, list_values

pytestmark = pytest.mark.django_db

LEADS = "external_id,last_name,title,status,owner_email,region,created_at,mql_at"


def spy(monkeypatch, target: str, argument: str = "drafts") -> list[int]:
    """Count the drafts (or another `argument`'s items) each call of the set service at `target` got (the set
    path really ran)."""
    import importlib

    module_name, name = target.rsplit(".", 1)
    module = importlib.import_module(module_name)
    original = getattr(module, name)
    sizes: list[int] = []

    def counted(**kwargs):
        sizes.append(len(kwargs[argument]))
        return original(**kwargs)

    monkeypatch.setattr(module, name, counted)
    return sizes


def one_by_one(monkeypatch, *kinds: str) -> None:
    """Turn the set write of these kinds off: every row through import_row, as before the set writes."""
    for key in kinds:
        monkeypatch.setattr(get_kind(key).importer, "import_many", RowImporter.import_many)


@contextmanager
def lead_checks_counted() -> Iterator[dict[str, int]]:
    """Count the lead edit-right checks sent while the block runs: one per set (activities_logging_many, "many")
    and one per lead (activity_logging, "one")."""

    sent = {"many": 0, "one": 0}

    def count(key: str):  # type: ignore[no-untyped-def]
        return lambda sender, **kwargs: sent.__setitem__(key, sent[key] + 1)

    counters = (count("many"), count("one"))
    activities_logging_many.connect(counters[0], weak=False)
    activity_logging.connect(counters[1], weak=False)
    try:
        yield sent
    finally:
        activities_logging_many.disconnect(counters[0])
        activity_logging.disconnect(counters[1])


def lead_rows(prefix: str) -> list[str]:
    return [
        f"{prefix}-1,Li,VP Sales,new,,East,2024-03-01T09:00:00+08:00,",
        f"{prefix}-2,Wang,Engineer,mql,,East,2024-03-02T09:00:00+08:00,2024-03-05T10:00:00+08:00",
        f"{prefix}-3,Zhao,VP Ops,working,rep@alpha.test,West,2024-03-03T09:00:00+08:00,",
        f"{prefix}-4,Sun,,nonsense,,East,2024-03-04T09:00:00+08:00,",  # a bad status: this row only
        f"{prefix}-5,Qian,,,,East,2024-03-05T09:00:00+08:00,",
        f"{prefix}-6,Zhou,,,,North,2024-03-06T09:00:00+08:00,",  # no territory takes it: the pool
        f"{prefix}-7,Wu,,sql,,East,2024-03-07T09:00:00+08:00,2024-03-07T10:00:00+08:00",
    ]


def picture(tenant, prefix: str) -> dict[str, tuple]:
    """What a user sees of the imported leads, by row number: owner, territory, score and reasons, status and its
    stamps, times, whether global search finds it, and its history (one insert event, booked to the importer)."""
    with tenant_context(tenant):
        leads = Lead.objects.filter(external_id__startswith=f"{prefix}-").select_related("owner", "territory")
        seen = {}
        for lead in leads:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM crm_search_entry WHERE kind = 'lead' AND record_id = %s", [lead.pk]
                )
                entries = cursor.fetchone()[0]
            events = list(
                lead.events.filter(pgh_label="insert").values_list("pgh_context__metadata__user", flat=True)
            )
            seen[lead.external_id.split("-")[1]] = (
                lead.owner.email if lead.owner else None,
                lead.territory.name if lead.territory else None,
                lead.score,
                lead.score_reasons,
                lead.status,
                lead.mql_at,
                lead.sql_at,
                lead.created_at,
                lead.assigned_at,
                entries,
                events,
            )
        return seen


def test_new_leads_written_as_a_set_equal_leads_written_one_by_one(
    tenant, admin_member, member, run_import, monkeypatch
):
    rep = member(Role.SALES_REP, email="rep@alpha.test")
    first, second = member(Role.SALES_REP), member(Role.SALES_REP)
    list_values(tenant, **{ValueListKey.REGION: ["East", "West", "North"]})
    east = TerritoryFactory(tenant=tenant, name="East", regions=["East"], priority=1)
    TerritoryMemberFactory(territory=east, user=first.user, position=0)
    TerritoryMemberFactory(territory=east, user=second.user, position=1)
    ScoringRuleFactory(tenant=tenant, field=ScoringField.REGION, value="East", points=20)
    ScoringRuleFactory(tenant=tenant, field=ScoringField.TITLE, value="VP", points=15)

    sizes = spy(monkeypatch, "imports.kinds.leads.leads_create_many")
    as_set = run_import(admin_member, "leads", csv_text(LEADS, *lead_rows("S")))
    assert sizes == [6]  # one set of the six good rows
    with tenant_context(tenant):
        Territory.objects.update(
            rr_position=0
        )  # the second import starts the round-robin where the first did
    one_by_one(monkeypatch, "leads")
    by_row = run_import(admin_member, "leads", csv_text(LEADS, *lead_rows("R")))

    for job in (as_set, by_row):
        assert (job.status, job.created, job.failed) == (ImportStatus.DONE, 6, 1), job.row_errors
        assert [(e["row"], e["column"]) for e in job.row_errors] == [(5, "status")]
    set_leads, row_leads = picture(tenant, "S"), picture(tenant, "R")
    assert set_leads == row_leads
    assert set(set_leads) == {"1", "2", "3", "5", "6", "7"}
    # and what that is: the round-robin took turns in file order, the rules scored, history kept the importer
    assert [set_leads[n][0] for n in ("1", "2", "5", "7")] == [
        first.user.email,
        second.user.email,
        first.user.email,
        second.user.email,
    ]
    assert set_leads["3"][0] == rep.user.email and set_leads["6"][0] is None
    assert set_leads["1"][2] == 35 and set_leads["2"][2] == 20
    assert all(leads[9] == 1 and leads[10] == [admin_member.user.pk] for leads in set_leads.values())
    with tenant_context(tenant):
        assert Territory.objects.get(pk=east.pk).rr_position == 0  # four turns of two members


def test_a_repeated_or_known_external_id_in_a_chunk_is_written_one_by_one(tenant, admin_member, run_import):
    first = run_import(admin_member, "leads", csv_text("external_id,last_name", "L-1,Li"))
    assert first.created == 1
    job = run_import(
        admin_member,
        "leads",
        csv_text("external_id,last_name", "L-1,Li Updated", "L-2,Wang", "L-2,Wang Again"),
    )
    assert (job.status, job.created, job.updated, job.failed) == (ImportStatus.DONE, 1, 2, 0), job.row_errors
    with tenant_context(tenant):
        names = dict(Lead.objects.values_list("external_id", "last_name"))
    assert names == {"L-1": "Li Updated", "L-2": "Wang Again"}


ACTIVITIES = "external_id,kind,subject,owner_email,occurred_at,done,lead_external_id,account_external_id"


RECENT = (timezone.now() - datetime.timedelta(days=1)).replace(microsecond=0)


def activity_rows(prefix: str) -> list[str]:
    return [
        f"{prefix}A-1,call,Intro,,2024-04-01T09:00:00+08:00,true,{prefix}-1,",
        f"{prefix}A-2,email,Follow-up,,2024-04-03T09:00:00+08:00,true,{prefix}-1,",
        f"{prefix}A-3,note,Note,,2024-04-05T09:00:00+08:00,true,{prefix}-2,",
        f"{prefix}A-4,task,Call back,,,false,{prefix}-2,",
        f"{prefix}A-5,meeting,Demo,nobody@alpha.test,2024-04-02T09:00:00+08:00,true,{prefix}-1,",  # bad owner
        f"{prefix}A-6,call,On the account,,2024-04-02T09:00:00+08:00,true,,ACC-1",
        f"{prefix}A-7,call,Second call,,2024-03-30T09:00:00+08:00,true,{prefix}-1,",  # older: no clock move
        # yesterday: counts for the "recent activities" rule, so lead 2 is rescored
        f"{prefix}A-8,call,Recent call,,{RECENT.isoformat()},true,{prefix}-2,",
    ]


def lead_activity_picture(tenant, prefix: str) -> dict[str, tuple]:
    with tenant_context(tenant):
        return {
            lead.external_id.split("-")[1]: (
                lead.status,
                lead.last_activity_at,
                lead.working_at,
                lead.score,
                lead.score_reasons,
                lead.activities.count(),
            )
            for lead in Lead.objects.filter(external_id__startswith=f"{prefix}-")
        }


def test_activities_written_as_a_set_equal_activities_written_one_by_one(
    tenant, admin_member, run_import, monkeypatch
):
    ScoringRuleFactory(tenant=tenant, field=ScoringField.RECENT_ACTIVITIES, value="1", points=30)
    run_import(admin_member, "accounts", csv_text("external_id,name", "ACC-1,Harbor"))
    for prefix in ("S", "R"):
        run_import(
            admin_member,
            "leads",
            csv_text("external_id,last_name,status", f"{prefix}-1,Li,new", f"{prefix}-2,Wang,new"),
        )
    health = []
    monkeypatch.setattr(
        "lifecycle.receivers.health_schedule_recompute",
        lambda *, tenant_id, account_ids: health.append(sorted(account_ids or [])),
    )

    sizes = spy(monkeypatch, "imports.kinds.accounts.activities_log_many")
    as_set = run_import(admin_member, "activities", csv_text(ACTIVITIES, *activity_rows("S")))
    assert sizes == [7]
    set_health = sorted(ids for ids in health if ids)
    health.clear()
    one_by_one(monkeypatch, "activities")
    by_row = run_import(admin_member, "activities", csv_text(ACTIVITIES, *activity_rows("R")))

    for job in (as_set, by_row):
        assert (job.status, job.created, job.failed) == (ImportStatus.DONE, 7, 1), job.row_errors
        assert [(e["row"], e["column"]) for e in job.row_errors] == [(6, "owner_email")]
    set_leads, row_leads = lead_activity_picture(tenant, "S"), lead_activity_picture(tenant, "R")
    assert set_leads == row_leads
    # imported history moves no status; the clock is the latest done call, email or meeting
    assert (
        set_leads["1"][0] == LeadStatus.NEW and set_leads["1"][1].isoformat() == "2024-04-03T01:00:00+00:00"
    )
    assert set_leads["1"][3] == 0  # its calls are old history: no recent activity
    assert (
        set_leads["2"][1] == RECENT and set_leads["2"][3] == 30
    )  # a note and an open task do not work a lead
    with tenant_context(tenant):
        account_id = Activity.objects.get(external_id="SA-6").account_id
        booked = set(
            Activity.objects.filter(external_id__startswith="SA-").values_list(
                "events__pgh_context__metadata__user", flat=True
            )
        )
    assert booked == {admin_member.user.pk}
    assert [account_id] in set_health  # the account's health is recomputed (held for the job's end)


def test_a_set_the_database_refuses_is_written_row_by_row(tenant, admin_member, run_import, monkeypatch):
    refused = {"n": 0}

    def copy_insert(model, objs):
        assert model is Lead
        refused["n"] += 1
        raise IntegrityError("a constraint another writer raced to")

    # The set's one INSERT (crm.bulk.copy_insert) is refused; the rows one by one save normally.
    monkeypatch.setattr(leads_services, "copy_insert", copy_insert)
    job = run_import(
        admin_member,
        "leads",
        csv_text("external_id,last_name,status", "L-1,Li,new", "L-2,Wang,nonsense", "L-3,Zhao,mql"),
    )
    assert refused["n"] == 1
    assert (job.status, job.created, job.failed) == (ImportStatus.DONE, 2, 1), job.row_errors
    assert [(e["row"], e["column"]) for e in job.row_errors] == [(3, "status")]
    with tenant_context(tenant):
        assert dict(Lead.objects.values_list("external_id", "status")) == {"L-1": "new", "L-3": "mql"}


def membership_queries(call) -> int:  # type: ignore[no-untyped-def]
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    return sum('"crm_membership"' in query["sql"] for query in captured.captured_queries)


def test_a_sets_owners_are_checked_in_one_query_whoever_they_are(tenant, other_tenant, admin_member):
    """However many owners a chunk names, their memberships are read once (a company of 200 reps must not cost 200
    queries a chunk); an owner who is not a member here is refused with the message of a lead made by hand."""
    from accounts.models import ActivityKind
    from accounts.services.activities import ActivityDraft, activities_log_many
    from tests.factories import MembershipFactory, UserFactory

    with tenant_context(tenant):
        reps = [MembershipFactory(tenant=tenant, role=Role.SALES_REP).user for _n in range(5)]
    with tenant_context(other_tenant):
        stranger = MembershipFactory(tenant=other_tenant, role=Role.SALES_REP).user
    nobody = UserFactory()

    def leads_for(owners):  # type: ignore[no-untyped-def]
        drafts = [
            leads_services.LeadDraft(fields={"last_name": f"L{n}"}, owner=owner)
            for n, owner in enumerate(owners)
        ]
        return lambda: leads_services.leads_create_many(tenant=tenant, actor=admin_member.user, drafts=drafts)

    def activities_for(owners):  # type: ignore[no-untyped-def]
        drafts = [
            ActivityDraft(kind=ActivityKind.NOTE, subject=f"A{n}", owner=owner)
            for n, owner in enumerate(owners)
        ]
        return lambda: activities_log_many(tenant=tenant, actor=admin_member.user, drafts=drafts)

    with tenant_context(tenant):
        for make in (leads_for, activities_for):
            make(reps[:1])()  # the actor's own membership is read once and kept
            one = membership_queries(make(reps[:1]))
            assert one <= 2
            assert membership_queries(make(reps)) == one
        refused = leads_services.leads_create_many(
            tenant=tenant,
            actor=admin_member.user,
            drafts=[
                leads_services.LeadDraft(fields={"last_name": "X"}, owner=user) for user in (stranger, nobody)
            ],
        )
        assert [exc.message_dict for exc in refused] == [
            {"owner": ["The owner must be an active member who works leads."]}
        ] * 2
        logged = activities_log_many(
            tenant=tenant,
            actor=admin_member.user,
            drafts=[
                ActivityDraft(kind=ActivityKind.NOTE, subject="X", owner=user) for user in (stranger, nobody)
            ],
        )
        assert [exc.message_dict for exc in logged] == [
            {"owner": ["The owner must be an active member of this company."]}
        ] * 2


def test_a_sets_leads_are_refused_as_activity_log_refuses_them_with_one_check(tenant, member):
    """Logging on a lead needs the edit right on it: in a set (an import's chunk) a pool lead and a lead of another
    rep are refused with activity_log's own errors, row by row, and the rest is logged; the edit rights of all the
    set's leads are asked for at once (accounts.signals.activities_logging_many), not once per lead."""
    from django.core.exceptions import PermissionDenied

    from accounts.models import ActivityKind
    from accounts.services.activities import ActivityDraft, activities_log_many, activity_log
    from tests.factories_leads import LeadFactory

    rep, other = member(), member()
    with tenant_context(tenant):
        own = [LeadFactory(tenant=tenant, owner=rep.user) for _n in range(3)]
        pooled = LeadFactory(tenant=tenant, owner=None)
        others = LeadFactory(tenant=tenant, owner=other.user)
        leads = [own[0], pooled, own[1], others, own[2], own[0]]

        def by_hand(lead):  # type: ignore[no-untyped-def]
            try:
                with transaction.atomic():
                    activity_log(
                        tenant=tenant, actor=rep.user, kind=ActivityKind.NOTE, subject="x", lead=lead
                    )
                    transaction.set_rollback(True)
            except PermissionDenied as exc:
                return str(exc)
            return None

        expected = [by_hand(lead) for lead in leads]
        assert expected[0] is None and expected[1] and expected[3] and expected[1] != expected[3]

        with lead_checks_counted() as sent:
            logged = activities_log_many(
                tenant=tenant,
                actor=rep.user,
                drafts=[
                    ActivityDraft(kind=ActivityKind.NOTE, subject=f"n{n}", fields={"lead": lead})
                    for n, lead in enumerate(leads)
                ],
            )
        assert sent == {"many": 1, "one": 0}
        assert [
            str(result) if isinstance(result, PermissionDenied) else None for result in logged
        ] == expected
        assert [result.lead_id for result in logged if isinstance(result, Activity)] == [
            own[0].pk,
            own[1].pk,
            own[2].pk,
            own[0].pk,
        ]
        assert not Activity.objects.filter(lead__in=[pooled, others]).exists()


def test_activities_updated_as_a_set_move_leads_clocks_and_are_refused_as_activity_update_does(
    tenant, member
):
    """activities_update_many (a file imported again) keeps activity_update's rules for a lead an activity moves
    onto: the edit right on it, asked for the set's leads at once, refused with activity_update's own error; and a
    done call that now counts on a lead (moved onto it, or done by the change) moves that lead's clock as
    activity_update moves it. The lead it left keeps its clock; an activity that stays on a refused lead is kept."""
    from django.core.exceptions import PermissionDenied

    from accounts.models import ActivityKind
    from accounts.services.activities import activities_update_many, activity_log, activity_update
    from tests.factories_leads import LeadFactory

    rep, other = member(), member()
    at = timezone.now() - datetime.timedelta(days=2)
    later = at + datetime.timedelta(hours=5)

    def world(prefix):  # type: ignore[no-untyped-def]
        """Two leads of the rep with a call on the first, a lead of another rep, a task on a lead of the rep."""
        first, second = (LeadFactory(tenant=tenant, owner=rep.user) for _n in range(2))
        others = LeadFactory(tenant=tenant, owner=other.user)
        third = LeadFactory(tenant=tenant, owner=rep.user)
        log = {"tenant": tenant, "actor": rep.user, "occurred_at": at}
        moved = activity_log(kind=ActivityKind.CALL, subject=f"{prefix} moved", lead=first, **log)
        refused = activity_log(kind=ActivityKind.CALL, subject=f"{prefix} refused", lead=first, **log)
        stays = activity_log(
            kind=ActivityKind.NOTE, subject=f"{prefix} stays", lead=others, **{**log, "actor": other.user}
        )
        task = activity_log(
            kind=ActivityKind.MEETING, subject=f"{prefix} task", lead=third, done=False, **log
        )
        changes = [
            (moved, {"lead": second}),
            (refused, {"lead": others}),
            (stays, {"subject": f"{prefix} renamed"}),
            (task, {"done": True, "occurred_at": later}),
        ]
        return (first, second, others, third), changes

    def seen(leads, results):  # type: ignore[no-untyped-def]
        """Each lead's activity clock, and each change's outcome: its error, or which lead its activity is on."""
        clocks = [Lead.objects.get(pk=lead.pk).last_activity_at for lead in leads]
        where = {lead.pk: n for n, lead in enumerate(leads)}
        outcomes = [
            str(result) if isinstance(result, Exception) else where[result.lead_id] for result in results
        ]
        return clocks, outcomes

    with tenant_context(tenant):
        leads, changes = world("one")
        one_by_one: list = []
        for activity, values in changes:
            try:
                with transaction.atomic():
                    one_by_one.append(
                        activity_update(
                            tenant=tenant,
                            actor=rep.user,
                            activity=Activity.objects.get(pk=activity.pk),
                            **values,
                        )
                    )
            except PermissionDenied as exc:
                one_by_one.append(exc)
        expected = seen(leads, one_by_one)
        # The call moved onto the second lead and the task done on the fourth moved their clocks; the lead the
        # call left keeps its own, and the other rep's lead refused the call.
        assert expected[0] == [at, at, None, later]  # a note moves no clock
        assert (
            expected[1][0] == 1 and isinstance(one_by_one[1], PermissionDenied) and expected[1][2:] == [2, 3]
        )

        leads, changes = world("set")
        with lead_checks_counted() as sent:
            results = activities_update_many(
                tenant=tenant,
                actor=rep.user,
                changes=[(Activity.objects.get(pk=activity.pk), values) for activity, values in changes],
            )
        assert sent == {"many": 1, "one": 0}
        assert seen(leads, results) == expected
        assert Activity.objects.get(subject="set refused").lead_id == leads[0].pk  # kept as it was
        assert Activity.objects.get(subject="set renamed").lead_id == leads[2].pk


FEEDBACK = "external_id,account_external_id,kind,score,comment,received_at"


def feedback_rows(prefix: str) -> list[str]:
    return [
        f"{prefix}-1,ACC-1,nps,9,很好,2024-03-01T09:00:00+08:00",
        f"{prefix}-2,ACC-2,csat,4,,2024-03-02T09:00:00+08:00",
        f"{prefix}-3,ACC-1,nps,11,,2024-03-03T09:00:00+08:00",  # out of range: the service refuses this row
        f"{prefix}-4,NOPE,nps,5,,",  # an unknown account: this row's cell
        f"{prefix}-5,ACC-2,csat,3.5,,",  # not a whole number
        f"{prefix}-6,ACC-2,csat,5,ok,2024-03-06T09:00:00+08:00",
        f",ACC-1,nps,7,{prefix} without an id,2024-03-07T09:00:00+08:00",
    ]


def feedback_picture(tenant, prefix: str) -> dict:  # type: ignore[no-untyped-def]
    from lifecycle.models import Feedback

    with tenant_context(tenant):
        answers = Feedback.objects.filter(tenant=tenant).select_related("account")
        return {
            (answer.external_id.removeprefix(prefix) or answer.comment.removeprefix(prefix)): (
                answer.account.external_id,
                answer.kind,
                answer.score,
                answer.comment.removeprefix(prefix),
                answer.channel,
                answer.received_at.isoformat(),
                answer.created_by_id,
            )
            for answer in answers
            if answer.external_id.startswith(prefix) or answer.comment.startswith(prefix)
        }


def test_feedback_written_as_a_set_equals_feedback_written_one_by_one(
    tenant, admin_member, run_import, monkeypatch
):
    """New answers of a feedback file go in as one set (feedback_create_many), with the rules, errors, author
    and health recompute of feedback_create row by row; a file imported again updates them as before."""
    run_import(admin_member, "accounts", csv_text("external_id,name", "ACC-1,Harbor", "ACC-2,Alpen"))
    health: list[list[int]] = []
    monkeypatch.setattr(
        "lifecycle.services.feedback.health_schedule_recompute",
        lambda *, tenant_id, account_ids: health.append(sorted(account_ids or [])),
    )
    sizes = spy(monkeypatch, "lifecycle.import_kinds.feedback.feedback_create_many")
    as_set = run_import(admin_member, "feedback", csv_text(FEEDBACK, *feedback_rows("S")))
    assert sizes == [5]
    set_health = sorted({pk for ids in health for pk in ids})
    again_set = run_import(admin_member, "feedback", csv_text(FEEDBACK, *feedback_rows("S")))
    health.clear()
    one_by_one(monkeypatch, "feedback")
    by_row = run_import(admin_member, "feedback", csv_text(FEEDBACK, *feedback_rows("R")))
    row_health = sorted({pk for ids in health for pk in ids})
    again_row = run_import(admin_member, "feedback", csv_text(FEEDBACK, *feedback_rows("R")))
    assert sizes == [5, 2]  # imported again: the row without an id and the one refused the first time are new

    errors = [(4, "score"), (5, "account_external_id"), (6, "score")]  # the header is row 1
    for job in (as_set, by_row):
        assert (job.status, job.created, job.updated, job.failed) == (ImportStatus.DONE, 4, 0, 3), (
            job.row_errors
        )
        assert [(e["row"], e["column"]) for e in job.row_errors] == errors
    for job in (again_set, again_row):
        assert (job.status, job.created, job.updated, job.failed) == (ImportStatus.DONE, 1, 3, 3), (
            job.row_errors
        )
    assert json.dumps(as_set.row_errors, ensure_ascii=False).replace("S-", "R-") == json.dumps(
        by_row.row_errors, ensure_ascii=False
    )
    set_answers, row_answers = feedback_picture(tenant, "S"), feedback_picture(tenant, "R")
    assert set_answers == row_answers
    assert set(set_answers) == {"-1", "-2", "-6", " without an id"}
    assert set_answers["-1"][:6] == ("ACC-1", "nps", 9, "很好", "import", "2024-03-01T01:00:00+00:00")
    assert set_answers["-1"][6] == admin_member.user.pk
    with tenant_context(tenant):
        accounts = sorted(
            Account.objects.filter(external_id__in=["ACC-1", "ACC-2"]).values_list("pk", flat=True)
        )
    assert set_health == row_health == accounts
