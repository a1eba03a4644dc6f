"""Issue 10's set writes for the lifecycle's subscriptions: new subscriptions of a chunk go in as one set
(subscriptions_create_many) and the ones a file names again are updated as one (subscriptions_update_many). The sets
must give exactly what the rows written one by one give: values, versions, history events booked to the importer,
errors in the file's order, what a member who may not change a subscription is told, and one lifecycle recompute
of the touched accounts at the job's end."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from accounts.models import Account
from crm.models import Role
from crm.tenancy import tenant_context
from imports.models import ImportStatus
from lifecycle import tasks
from lifecycle.models import Subscription
from tests.factories_accounts import AccountFactory
from tests.imports.conftest import csv_text
from tests.imports.test_set_writes import one_by_one, spy

pytestmark = pytest.mark.django_db

HEADER = "external_id,account_external_id,plan,mrr,currency,start_date,end_date"


def first_file(prefix: str) -> list[str]:
    return [
        f"{prefix}-1,ACC-1,{prefix} Pro 专业版,1000,CNY,2025-01-01,2026-01-01",
        f"{prefix}-2,ACC-2,{prefix} Basic,200.5,,2025-06-01,",  # the tenant's currency
        f"{prefix}-3,ACC-404,{prefix} Pro,10,CNY,2025-01-01,2026-01-01",  # an unknown account: the row's cell
        f"{prefix}-4,ACC-1,{prefix} Pro,abc,CNY,2025-13-01,2026-01-01",  # two bad cells
        f"{prefix}-5,ACC-1,{prefix} Pro,10,CNY,2026-01-01,2025-01-01",  # ends before it starts: the service
        f"{prefix}-6,ACC-2,{prefix} Pro,10,EURO,2025-01-01,",  # not a currency code: the service
        f"{prefix}-1,ACC-1,{prefix} again,5,CNY,2025-02-01,",  # the chunk's id again: written after the set
        f",ACC-1,{prefix} without an id,30,USD,2025-03-01,2025-09-01",
        f"{prefix}-7,ACC-3,{prefix} Enterprise,0,CNY,2024-12-01,2025-12-01",
    ]


def second_file(prefix: str) -> list[str]:
    return [
        f"{prefix}-1,ACC-1,{prefix} Pro Plus,1100,CNY,2025-01-01,",  # changes; an empty end: open-ended again
        f"{prefix}-7,ACC-3,{prefix} Enterprise,0,CNY,2024-12-01,2025-12-01",  # as stored: no new version, no event
        f"{prefix}-2,ACC-1,{prefix} Basic,200,,2025-06-01,",  # another account: refused
        f"{prefix}-DEL,ACC-1,{prefix} deleted,1,CNY,2025-01-01,",  # a deleted subscription's id: refused
        f"{prefix}-7,ACC-3,{prefix} Enterprise,-1,CNY,2024-12-01,2025-12-01",  # negative: refused
        f"{prefix}-8,ACC-3,{prefix} new,5,CNY,2025-01-01,",
    ]


def picture(tenant, prefix: str) -> dict[str, tuple]:
    with tenant_context(tenant):
        rows = Subscription.objects.filter(tenant=tenant, plan__startswith=prefix).select_related("account")
        return {
            subscription.external_id.removeprefix(prefix) or subscription.plan.removeprefix(prefix): (
                subscription.account.external_id,
                subscription.plan.removeprefix(prefix),
                str(subscription.mrr),
                subscription.currency,
                str(subscription.start_date),
                str(subscription.end_date),
                subscription.version,
                subscription.deleted_at is not None,
                subscription.account_stage,
                sorted(subscription.events.values_list("pgh_label", "pgh_context__metadata__user")),
            )
            for subscription in rows
        }


def deleted_one(tenant, prefix: str) -> None:
    """A deleted subscription (bulk_create: no recompute left pending in the test's transaction)."""
    with tenant_context(tenant):
        Subscription.objects.bulk_create(
            [
                Subscription(
                    tenant=tenant,
                    account=Account.objects.get(external_id="ACC-1"),
                    external_id=f"{prefix}-DEL",
                    plan=f"{prefix} deleted",
                    currency="CNY",
                    start_date="2025-01-01",
                    deleted_at=timezone.now(),
                )
            ]
        )


def test_subscriptions_written_as_sets_equal_subscriptions_written_one_by_one(
    tenant, admin_member, run_import, monkeypatch
):
    accounts = [AccountFactory(tenant=tenant, external_id=f"ACC-{n}") for n in (1, 2, 3)]
    recomputes: list[tuple[int, list[int] | None]] = []
    original = tasks.recompute_lifecycle.delay
    monkeypatch.setattr(
        tasks.recompute_lifecycle,
        "delay",
        lambda tenant_id, account_ids=None: (
            recomputes.append((tenant_id, account_ids)) or original(tenant_id, account_ids)
        ),
    )
    created = spy(monkeypatch, "lifecycle.import_kinds.subscriptions.subscriptions_create_many")
    updated = spy(
        monkeypatch, "lifecycle.import_kinds.subscriptions.subscriptions_update_many", argument="changes"
    )
    deleted_one(tenant, "S")
    deleted_one(tenant, "R")
    set_first = run_import(admin_member, "subscriptions", csv_text(HEADER, *first_file("S")))
    set_recomputes, recomputes[:] = list(recomputes), []
    set_second = run_import(admin_member, "subscriptions", csv_text(HEADER, *second_file("S")))
    set_second_recomputes, recomputes[:] = list(recomputes), []
    assert created == [6, 1] and updated == [0, 2], set_first.row_errors  # repeated and deleted: one by one

    one_by_one(monkeypatch, "subscriptions")
    row_first = run_import(admin_member, "subscriptions", csv_text(HEADER, *first_file("R")))
    row_recomputes, recomputes[:] = list(recomputes), []
    row_second = run_import(admin_member, "subscriptions", csv_text(HEADER, *second_file("R")))
    assert created == [6, 1] and updated == [0, 2]  # the set services did not run again

    for as_set, by_row in ((set_first, row_first), (set_second, row_second)):
        assert (as_set.status, as_set.created, as_set.updated, as_set.failed) == (
            by_row.status,
            by_row.created,
            by_row.updated,
            by_row.failed,
        )
        assert json.dumps(as_set.row_errors, ensure_ascii=False).replace("S", "R") == json.dumps(
            by_row.row_errors, ensure_ascii=False
        ).replace("S", "R")
    assert (set_first.status, set_first.created, set_first.updated, set_first.failed) == (
        ImportStatus.DONE,
        4,
        1,
        4,
    )
    assert [(e["row"], e["column"]) for e in set_first.row_errors] == [
        (4, "account_external_id"),
        (5, "mrr"),
        (5, "start_date"),
        (6, "end_date"),
        (7, "currency"),
    ]
    assert (set_second.created, set_second.updated, set_second.failed) == (1, 2, 3)
    assert [(e["row"], e["column"]) for e in set_second.row_errors] == [
        (4, "account_external_id"),
        (5, "external_id"),
        (6, "mrr"),
    ]

    as_set, by_row = picture(tenant, "S"), picture(tenant, "R")
    assert as_set == by_row
    user = admin_member.user.pk
    assert as_set["-1"][:7] == ("ACC-1", " Pro Plus", "1100.00", "CNY", "2025-01-01", "None", 3)
    assert [label for label, _user in as_set["-1"][9]] == ["insert", "update", "update"]
    assert as_set["-7"][6] == 1 and as_set["-7"][9] == [("insert", user)]
    assert as_set["-2"][2:4] == ("200.50", tenant.currency)
    assert as_set[" without an id"][0] == "ACC-1"
    # One recompute a job, of the accounts it touched, either way.
    ids = sorted(account.pk for account in accounts)
    assert (set_recomputes, row_recomputes) == ([(tenant.pk, ids)], [(tenant.pk, ids)])
    assert set_second_recomputes == [(tenant.pk, [accounts[0].pk, accounts[2].pk])]


def test_a_cs_member_is_told_the_same_about_subscriptions_they_may_not_change(tenant, member, run_import):
    """A set answers a row naming the subscription of an account the member does not see as import_row does: the
    id is unavailable, whether the subscription is live or deleted."""
    cs = member(role=Role.CS)
    customer = AccountFactory(tenant=tenant, external_id="CUST", lifecycle_stage="retention")
    prospect = AccountFactory(tenant=tenant, external_id="PROSPECT", lifecycle_stage="acquisition")
    with tenant_context(tenant):
        for account, external_id in ((customer, "MINE"), (prospect, "HIDDEN")):
            Subscription.objects.create(
                tenant=tenant,
                account=account,
                external_id=external_id,
                currency="CNY",
                start_date="2025-01-01",
            )
    job = run_import(
        cs,
        "subscriptions",
        csv_text(
            HEADER,
            "MINE,CUST,Pro,5,CNY,2025-01-01,",
            "HIDDEN,CUST,Pro,5,CNY,2025-01-01,",  # a customer's account, but the subscription is not theirs
            "NEW,PROSPECT,Pro,1,CNY,2025-01-01,",
            "NEW2,CUST,Pro,1,CNY,2025-01-01,",
        ),
    )
    assert (job.created, job.updated, job.failed) == (1, 1, 2), job.row_errors
    assert [(e["row"], e["column"]) for e in job.row_errors] == [
        (3, "external_id"),
        (4, "account_external_id"),
    ]
    with tenant_context(tenant):
        assert Subscription.objects.get(external_id="HIDDEN").version == 1
        assert Subscription.objects.get(external_id="MINE").plan == "Pro"
