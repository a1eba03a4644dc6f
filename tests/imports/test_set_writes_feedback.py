"""Issue 10's set writes for customer feedback: the answers a file names again are updated as one set
(feedback_update_many) instead of one feedback_update per row. The set must give exactly what the rows updated one
by one give: values, errors in the file's order, a new updated_at and an update history event booked to the
importer for every answer written (even one whose values are as stored), the health recompute of the old and new
accounts, and the external-id rule as the changes taken in order give it; and a chunk's queries do not grow with
its rows."""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from crm.tenancy import tenant_context
from imports.models import ImportStatus
from lifecycle.models import Feedback, FeedbackKind
from lifecycle.services.feedback import feedback_create, feedback_update, feedback_update_many
from tests.factories_accounts import AccountFactory, ContactFactory
from tests.imports.conftest import csv_text
from tests.imports.test_set_updates import all_queries
from tests.imports.test_set_writes import FEEDBACK, one_by_one, spy

pytestmark = pytest.mark.django_db


def first_file(prefix: str) -> list[str]:
    return [
        f"{prefix}-1,ACC-1,nps,9,good,2024-03-01T09:00:00+08:00",
        f"{prefix}-2,ACC-2,csat,4,,2024-03-02T09:00:00+08:00",
        f"{prefix}-3,ACC-1,nps,7,fine,2024-03-03T09:00:00+08:00",
        f"{prefix}-4,ACC-1,nps,8,,2024-03-04T09:00:00+08:00",
        f"{prefix}-5,ACC-2,nps,6,as it was,2024-03-05T09:00:00+08:00",
        f"{prefix}-6,ACC-1,csat,3,,2024-03-06T09:00:00+08:00",
        f"{prefix}-7,ACC-1,nps,5,,2024-03-07T09:00:00+08:00",
        f"{prefix}-8,ACC-2,nps,5,,2024-03-08T09:00:00+08:00",
        f"{prefix}-9,ACC-1,nps,4,,2024-03-09T09:00:00+08:00",
    ]


def second_file(prefix: str, future: str) -> list[str]:
    return [
        f"{prefix}-1,ACC-1,nps,10,good,2024-03-01T09:00:00+08:00",  # a new score
        f"{prefix}-2,ACC-2,nps,8,,2024-03-02T09:00:00+08:00",  # a new kind and score
        f"{prefix}-3,ACC-1,nps,7,better,2024-03-03T09:00:00+08:00",  # a new comment
        f"{prefix}-4,ACC-1,nps,8,,2024-04-04T10:00:00+08:00",  # received at another time
        f"{prefix}-5,ACC-2,nps,6,as it was,2024-03-05T09:00:00+08:00",  # unchanged: still saved, still an event
        f"{prefix}-6,ACC-2,csat,3,,2024-03-06T09:00:00+08:00",  # another account
        f"{prefix}-7,ACC-1,csat,9,,",  # 9 is no CSAT score: the service refuses it
        f"{prefix}-8,ACC-2,nps,5,,{future}",  # received in the future: the service refuses it
        f"{prefix}-9,NOPE,nps,4,,",  # an unknown account: this row's cell
        f"{prefix}-1,ACC-1,nps,0,again,2024-03-11T09:00:00+08:00",  # the chunk's id again: written one by one after the set
        f"{prefix}-10,ACC-1,csat,5,new,2024-03-10T09:00:00+08:00",  # a new answer among the updates
    ]


def picture(tenant, prefix: str) -> dict[str, dict[str, Any]]:
    """Every field of the prefix's answers (but id, updated_at and the id's prefix) and their history events."""
    event_model = apps.get_model("lifecycle", "FeedbackEvent")
    skipped = {"id", "external_id", "updated_at", "created_at"}
    with tenant_context(tenant):
        answers = Feedback.objects.filter(tenant=tenant, external_id__startswith=f"{prefix}-").select_related(
            "account"
        )
        seen = {}
        for answer in answers:
            fields = {
                field.attname: getattr(answer, field.attname)
                for field in Feedback._meta.concrete_fields
                if field.name not in skipped
            }
            fields["account_id"] = answer.account.external_id
            fields["events"] = list(
                event_model.objects.filter(pgh_obj=answer)
                .order_by("pgh_id")
                .values_list("pgh_label", "pgh_context__metadata__user", "kind", "score", "comment")
            )
            seen[answer.external_id.removeprefix(prefix)] = fields
        return seen


def stamps(tenant, prefix: str) -> dict[str, datetime.datetime]:
    with tenant_context(tenant):
        return {
            external_id.removeprefix(prefix): updated_at
            for external_id, updated_at in Feedback.objects.filter(
                tenant=tenant, external_id__startswith=f"{prefix}-"
            ).values_list("external_id", "updated_at")
        }


def test_feedback_updated_as_a_set_equals_feedback_updated_one_by_one(
    tenant, admin_member, run_import, monkeypatch, caplog
):
    run_import(admin_member, "accounts", csv_text("external_id,name", "ACC-1,Harbor", "ACC-2,Alpen"))
    with tenant_context(tenant):
        accounts = dict(Account.objects.values_list("external_id", "pk"))
    health: list[int] = []
    monkeypatch.setattr(
        "lifecycle.services.feedback.health_schedule_recompute",
        lambda *, tenant_id, account_ids: health.extend(account_ids or []),
    )
    caplog.set_level(logging.INFO, logger="imports.services")
    future = (timezone.now() + datetime.timedelta(days=30)).isoformat(timespec="seconds")
    sizes = spy(monkeypatch, "lifecycle.import_kinds.feedback.feedback_update_many", "changes")

    def imported(prefix: str) -> tuple[Any, Any, set[int], dict[str, bool]]:
        """(the first job, the second job, the accounts the second scheduled, which answers it restamped)."""
        first = run_import(admin_member, "feedback", csv_text(FEEDBACK, *first_file(prefix)))
        before = stamps(tenant, prefix)
        health.clear()
        second = run_import(admin_member, "feedback", csv_text(FEEDBACK, *second_file(prefix, future)))
        after = stamps(tenant, prefix)
        restamped = {key: after[key] != stamp for key, stamp in before.items()}
        return first, second, set(health), restamped

    set_first, set_second, set_health, set_restamped = imported("S")
    # The second file's rows 1-8 as a set; row 9 failed as it was read, the repeated id went one by one.
    assert sizes == [0, 8], set_second.row_errors
    assert "set write was refused" not in caplog.text  # the set was written, not its rows one by one
    one_by_one(monkeypatch, "feedback")
    row_first, row_second, row_health, row_restamped = imported("R")
    assert sizes == [0, 8]  # the set service did not run again

    for as_set, by_row in ((set_first, row_first), (set_second, row_second)):
        assert (as_set.status, as_set.created, as_set.updated, as_set.failed) == (
            by_row.status,
            by_row.created,
            by_row.updated,
            by_row.failed,
        )
        assert json.dumps(as_set.row_errors, ensure_ascii=False).replace("S-", "R-") == json.dumps(
            by_row.row_errors, ensure_ascii=False
        )
    assert (set_second.status, set_second.created, set_second.updated, set_second.failed) == (
        ImportStatus.DONE,
        1,
        7,
        3,
    )
    assert [(e["row"], e["column"]) for e in set_second.row_errors] == [
        (8, "score"),
        (9, "received_at"),
        (10, "account_external_id"),
    ]

    as_set, by_row = picture(tenant, "S"), picture(tenant, "R")
    for key in by_row:
        differ = {
            name: (value, by_row[key][name])
            for name, value in as_set[key].items()
            if value != by_row[key][name]
        }
        assert not differ, f"answer {key}: {differ}"
    assert as_set == by_row
    assert set_restamped == row_restamped
    user = admin_member.user.pk
    # and what that is: every answer the second file wrote, unchanged or not, got a new stamp and an update event
    assert {key for key, moved in set_restamped.items() if moved} == {"-1", "-2", "-3", "-4", "-5", "-6"}
    assert as_set["-5"]["events"] == [
        ("insert", user, "nps", 6, "as it was"),
        ("update", user, "nps", 6, "as it was"),
    ]
    assert [event[:4] for event in as_set["-1"]["events"]] == [
        ("insert", user, "nps", 9),
        ("update", user, "nps", 10),
        ("update", user, "nps", 0),
    ]
    assert (as_set["-2"]["kind"], as_set["-2"]["score"]) == (FeedbackKind.NPS, 8)
    assert as_set["-6"]["account_id"] == "ACC-2"
    assert as_set["-4"]["received_at"].isoformat() == "2024-04-04T02:00:00+00:00"
    assert [event[0] for event in as_set["-7"]["events"]] == ["insert"]  # refused: as it was
    assert set_health == row_health == {accounts["ACC-1"], accounts["ACC-2"]}


def test_a_chunk_of_feedback_updates_costs_the_same_queries_for_3_rows_or_30(
    tenant, admin_member, run_import
):
    """The answers' accounts and contacts (which the rules read) come with the locked re-read, the accounts the rows
    name from the importer's lookups: no query per row."""
    run_import(admin_member, "accounts", csv_text("external_id,name", "ACC-1,Harbor", "ACC-2,Alpen"))
    rows = [f"F-{n},ACC-1,nps,{n % 11},c{n},2024-03-01T09:00:00+08:00" for n in range(30)]
    run_import(admin_member, "feedback", csv_text(FEEDBACK, *rows))
    with tenant_context(tenant):
        harbor = Account.objects.get(external_id="ACC-1")
        contact = ContactFactory(account=harbor)
        Feedback.objects.filter(external_id__in=[f"F-{n}" for n in range(0, 30, 3)]).update(contact=contact)

    def changed(word: str, count: int) -> list[str]:
        # a new score and comment; every other answer moves to another account (refused when its contact stays)
        return [
            f"F-{n},ACC-{1 + n % 2},nps,{(n + 1) % 11},{word} {n},2024-03-02T09:00:00+08:00"
            for n in range(count)
        ]

    few = all_queries(lambda: run_import(admin_member, "feedback", csv_text(FEEDBACK, *changed("few", 3))))
    many = all_queries(lambda: run_import(admin_member, "feedback", csv_text(FEEDBACK, *changed("many", 30))))
    assert many == few
    with tenant_context(tenant):
        assert Feedback.objects.filter(comment__startswith="many").count() == 25  # 5 moved with their contact


def outcome(result: Feedback | Exception, prefix: str) -> Any:
    """A change's outcome to compare: the answer's external id (prefix dropped) or the error and its messages."""
    if isinstance(result, ValidationError):
        return ("refused", result.message_dict)
    if isinstance(result, ObjectDoesNotExist):
        return ("missing", type(result).__name__)
    return ("written", result.external_id.removeprefix(prefix), result.score)


def test_external_ids_freed_and_taken_in_a_set_answer_as_feedback_update_in_order(tenant, admin_member):
    """One feedback_update_many call: A asks for B's id (refused: B holds it), B moves to a new id, then C takes B's
    old id (allowed: B freed it), as feedback_update called in that order gives; an unknown field and an answer
    deleted meanwhile are refused as feedback_update refuses them."""
    user = admin_member.user
    account = AccountFactory(tenant=tenant, external_id="ACC-1")

    def answers(prefix: str) -> dict[str, Feedback]:
        made = {
            name: feedback_create(
                tenant=tenant,
                actor=user,
                account=account,
                kind="nps",
                score=5,
                external_id=f"{prefix}-{name}",
            )
            for name in ("A", "B", "C", "D")
        }
        Feedback.objects.filter(pk=made["D"].pk).delete()
        return made

    def changes(prefix: str, made: dict[str, Feedback]) -> list[tuple[Feedback, dict[str, Any]]]:
        return [
            (made["A"], {"external_id": f"{prefix}-B", "score": 6}),
            (made["B"], {"external_id": f"{prefix}-B2"}),
            (made["C"], {"external_id": f" {prefix}-B ", "score": 7}),
            (made["D"], {"score": 8}),
            (made["A"], {"survey_nonce": "x"}),
            (made["A"], {"external_id": f"{prefix}-C"}),  # C left it
            (made["B"], {"external_id": f"{prefix}-C", "score": 11}),  # A holds it now, and a bad score
        ]

    def stored(prefix: str) -> list[tuple[str, int]]:
        return sorted(
            (external_id.removeprefix(prefix), score)
            for external_id, score in Feedback.objects.filter(
                external_id__startswith=f"{prefix}-"
            ).values_list("external_id", "score")
        )

    with tenant_context(tenant):
        made = answers("R")
        expected: list[Any] = []
        for feedback, fields in changes("R", made):
            try:
                with transaction.atomic():
                    expected.append(
                        outcome(feedback_update(tenant=tenant, actor=user, feedback=feedback, **fields), "R")
                    )
            except (ValidationError, ObjectDoesNotExist) as exc:
                expected.append(outcome(exc, "R"))
        assert [result[0] for result in expected] == [
            "refused",
            "written",
            "written",
            "missing",
            "refused",
            "written",
            "refused",
        ]
        assert expected[6][1] == {
            "score": ["A NPS score is a whole number from 0 to 10."],
            "external_id": ["Other feedback has this external id."],
        }

        made = answers("S")
        results = feedback_update_many(tenant=tenant, actor=user, changes=changes("S", made))
        assert [outcome(result, "S") for result in results] == expected
        assert stored("S") == stored("R") == [("-B", 7), ("-B2", 5), ("-C", 5)]
