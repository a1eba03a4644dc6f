"""New deals of an import chunk are written as one set (opportunities_create_many) instead of row by row
(opportunity_create). The set must give exactly what the rows written one by one give: the same rows refused with
the same errors, every field of the deals, their first StageChanges, their history events booked to the importer,
their links to the leads they came from, `opportunity_stage_changed` for each, and the same recomputes scheduled
(what the post_save of each deal and StageChange scheduled); a file imported again updates them as before."""

from __future__ import annotations

import datetime
import json
import logging
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from accounts.models import Account, Opportunity, StageChange
from accounts.signals import opportunity_stage_changed
from crm.models import Role, ValueListKey
from crm.tenancy import tenant_context
from imports.models import ImportStatus
from tests.factories_accounts import ExchangeRateFactory
from tests.factories_leads import LeadFactory
from tests.factories_ops import CampaignFactory, LeadSourceFactory
from tests.imports.conftest import csv_text, list_values
from tests.imports.test_set_writes import one_by_one, spy

pytestmark = pytest.mark.django_db

DEALS = (
    "external_id,account_external_id,lead_external_id,name,type,stage,amount,currency,probability,owner_email,"
    "created_at,closed_at,lost_reason"
)


def deal_rows(prefix: str) -> list[str]:
    """The header is row 1: these are rows 2 to 15."""
    return [
        f"{prefix}-1,ACC-1,,{prefix} Fleet,new_business,Proposal,1000,,,rep@alpha.test,2024-03-01T09:00:00+08:00,,",
        f"{prefix}-2,ACC-1,,{prefix} Unknown stage,,Nowhere,500,,,,2024-03-02T09:00:00+08:00,,",  # the service
        f"{prefix}-3,ACC-2,,{prefix} Negative,,,-5,,,,2024-03-03T09:00:00+08:00,,",
        f"{prefix}-4,NOPE,,{prefix} Unknown account,,,100,,,,2024-03-04T09:00:00+08:00,,",  # a cell
        f"{prefix}-5,ACC-1,,{prefix} Stranger,,,100,,,nobody@elsewhere.test,2024-03-05T09:00:00+08:00,,",  # a cell
        # closed before it was created: the service
        f"{prefix}-6,ACC-2,,{prefix} Closed early,,Closed won,100,,,,2024-03-05T09:00:00+08:00,"
        "2024-03-01T09:00:00+08:00,",
        f"{prefix}-7,ACC-1,,{prefix} First,,Qualification,10,,,,2024-03-06T09:00:00+08:00,,",
        # won, in another currency (converted at the close date's rate); its lost reason is dropped
        f"{prefix}-8,ACC-1,,{prefix} Won,,Closed won,2000,USD,,,2024-02-01T09:00:00+08:00,"
        "2024-03-01T09:00:00+08:00,Price",
        # a lost renewal (the account's health, opportunity_stage_changed's churn rule)
        f"{prefix}-9,ACC-2,,{prefix} Lost renewal,renewal,Closed lost,300,,,,2024-02-01T09:00:00+08:00,"
        "2024-02-20T09:00:00+08:00,Price",
        f"{prefix}-10,ACC-2,LEAD-1,{prefix} From lead,,,700,,0.3,,2024-03-07T09:00:00+08:00,,",
        f"{prefix}-7,ACC-1,,{prefix} First again,,Proposal,20,,,,2024-03-06T09:00:00+08:00,,",  # repeated id
        f",ACC-2,,{prefix} Without an id,,Negotiation,40,,,rep@alpha.test,2024-03-08T09:00:00+08:00,,",
        f"{prefix}-13,ACC-2,,{prefix} Lost without a reason,,Closed lost,60,,,,2024-03-09T09:00:00+08:00,,",
        f"{prefix}-14,ACC-1,,{prefix} Bad probability,,Proposal,60,,1.5,,2024-03-09T09:00:00+08:00,,",
    ]


# (row, column) of the errors, in the file's order.
ERRORS = [
    (3, "stage"),
    (4, "amount"),
    (5, "account_external_id"),
    (6, "owner_email"),
    (7, "closed_at"),
    (15, "probability"),
]


def deals_picture(tenant, prefix: str, since: datetime.datetime) -> dict[str, Any]:
    """Every field of the imported deals (by name, without the prefix), their StageChanges (a move made by the
    test's imports, not at a time the file gives, at "now") and history events."""
    event_model = apps.get_model("accounts", "OpportunityEvent")
    skip = {"id", "external_id", "name", "updated_at"}
    with tenant_context(tenant):
        seen = {}
        for deal in Opportunity.objects.filter(name__startswith=f"{prefix} ").order_by("id"):
            fields = {
                field.attname: getattr(deal, field.attname)
                for field in Opportunity._meta.concrete_fields
                if field.attname not in skip
            }
            fields["external_id"] = deal.external_id.removeprefix(prefix)
            fields["stage_changes"] = [
                (*change[:3], "now" if change[3] >= since else change[3], *change[4:])
                for change in StageChange.objects.filter(opportunity=deal).values_list(
                    "tenant_id",
                    "from_stage_id",
                    "to_stage_id",
                    "changed_at",
                    "actor_id",
                    "amount",
                    "probability",
                )
            ]
            fields["history"] = [
                (event.pgh_label, (event.pgh_context.metadata or {}).get("user"))
                for event in event_model.objects.filter(pgh_obj_id=deal.pk)
                .select_related("pgh_context")
                .order_by("pgh_id")
            ]
            seen[deal.name.removeprefix(f"{prefix} ")] = fields
        return seen


def watch(monkeypatch) -> dict[str, list]:
    """What the deals' writes schedule: the lifecycle and health recomputes (account ids), the KPI recompute and
    refresh (tenant ids), and each opportunity_stage_changed sent (deal name, from stage, to stage)."""
    seen: dict[str, list] = {"lifecycle": [], "health": [], "kpis": [], "refresh": [], "moved": []}

    def ids(key: str):  # type: ignore[no-untyped-def]
        return lambda *, tenant_id, account_ids: seen[key].extend(account_ids or [])

    monkeypatch.setattr("lifecycle.receivers.lifecycle_schedule_recompute", ids("lifecycle"))
    monkeypatch.setattr("lifecycle.receivers.health_schedule_recompute", ids("health"))
    monkeypatch.setattr(
        "sales_ops.services.triggers.kpi_recompute_soon", lambda *, tenant_id: seen["kpis"].append(tenant_id)
    )
    monkeypatch.setattr(
        "sales_ops.services.triggers.kpi_refresh_soon", lambda *, tenant_id: seen["refresh"].append(tenant_id)
    )

    def moved(sender, opportunity, from_stage, to_stage, **kwargs):  # type: ignore[no-untyped-def]
        seen["moved"].append(
            (
                opportunity.name.split(" ", 1)[1],
                from_stage.name if from_stage is not None else None,
                to_stage.name,
            )
        )

    opportunity_stage_changed.connect(moved, weak=False, dispatch_uid="test_set_writes_deals.moved")
    return seen


def settled(seen: dict[str, list]) -> dict[str, Any]:
    """What was scheduled, as sets (the recomputes are debounced per transaction: how often one is asked for is
    not what the user gets) and the stage moves sent, in order."""
    picture = {key: sorted(set(values)) for key, values in seen.items() if key != "moved"}
    picture["moved"] = sorted(seen["moved"])
    for values in seen.values():
        values.clear()
    return picture


def test_deals_written_as_a_set_equal_deals_written_one_by_one(
    tenant, admin_member, member, run_import, monkeypatch, caplog
):
    rep = member(Role.SALES_REP, email="rep@alpha.test")
    run_import(admin_member, "accounts", csv_text("external_id,name", "ACC-1,Harbor", "ACC-2,Alpen"))
    list_values(tenant, **{ValueListKey.LOST_REASON: ["Price"]})
    with tenant_context(tenant):
        ExchangeRateFactory(
            tenant=tenant, currency="USD", rate=Decimal("7.100000"), valid_from=datetime.date(2024, 1, 1)
        )
        ExchangeRateFactory(
            tenant=tenant, currency="USD", rate=Decimal("7.300000"), valid_from=datetime.date(2024, 2, 15)
        )
        lead = LeadFactory(
            tenant=tenant,
            external_id="LEAD-1",
            source=LeadSourceFactory(tenant=tenant),
            campaign=CampaignFactory(tenant=tenant),
        )
        accounts = dict(Account.objects.values_list("external_id", "pk"))
    caplog.set_level(logging.INFO, logger="imports.services")
    seen = watch(monkeypatch)
    since = timezone.now()
    try:
        sizes = spy(monkeypatch, "imports.kinds.accounts.opportunities_create_many")
        as_set = run_import(admin_member, "opportunities", csv_text(DEALS, *deal_rows("S")))
        assert sizes == [11]  # the rows without a bad cell, the repeated id aside
        assert "set write was refused" not in caplog.text  # the set was written, not its rows one by one
        set_scheduled = settled(seen)
        again_set = run_import(admin_member, "opportunities", csv_text(DEALS, *deal_rows("S")))
        assert sizes == [11, 5]  # imported again: the row without an id and the four the service refused
        assert "set write was refused" not in caplog.text
        set_again_scheduled = settled(seen)

        one_by_one(monkeypatch, "opportunities")
        by_row = run_import(admin_member, "opportunities", csv_text(DEALS, *deal_rows("R")))
        row_scheduled = settled(seen)
        again_row = run_import(admin_member, "opportunities", csv_text(DEALS, *deal_rows("R")))
        row_again_scheduled = settled(seen)
        assert sizes == [11, 5]  # one by one: the set service was not called
    finally:
        opportunity_stage_changed.disconnect(dispatch_uid="test_set_writes_deals.moved")

    for job in (as_set, by_row):
        assert (job.status, job.created, job.updated, job.failed) == (ImportStatus.DONE, 7, 1, 6), (
            job.row_errors
        )
    for job in (again_set, again_row):
        assert (job.status, job.created, job.updated, job.failed) == (ImportStatus.DONE, 1, 6, 7), (
            job.row_errors
        )
    for job in (as_set, by_row):
        assert [(e["row"], e["column"]) for e in job.row_errors] == ERRORS
    for job in (again_set, again_row):
        # opportunity_update's rule: a lost deal named again needs its reason
        assert [(e["row"], e["column"]) for e in job.row_errors] == sorted([*ERRORS, (14, "lost_reason")])
    for first, second in ((as_set, by_row), (again_set, again_row)):
        assert json.dumps(first.row_errors, ensure_ascii=False).replace("S-", "R-") == json.dumps(
            second.row_errors, ensure_ascii=False
        )

    set_deals, row_deals = deals_picture(tenant, "S", since), deals_picture(tenant, "R", since)
    assert set_deals == row_deals
    assert set(set_deals) == {
        "First again",
        "Won",
        "Lost renewal",
        "From lead",
        "Without an id",
        "Lost without a reason",
        "Fleet",
    }
    with tenant_context(tenant):
        assert Opportunity.objects.filter(name__in=["S Without an id", "R Without an id"]).count() == 4
    # and what that is: the rules of opportunity_create
    won, lost, from_lead = set_deals["Won"], set_deals["Lost renewal"], set_deals["From lead"]
    assert (won["amount_reporting"], won["probability"], won["lost_reason"]) == (
        Decimal("14600.00"),  # at the rate of the close date (7.3 from 15 February)
        Decimal("1.000"),
        "",
    )
    assert (lost["probability"], lost["forecast_category"], lost["lost_reason"]) == (
        Decimal("0.000"),
        "omitted",
        "Price",
    )
    assert (from_lead["lead_id"], from_lead["source_id"], from_lead["campaign_id"]) == (
        lead.pk,
        lead.source_id,
        lead.campaign_id,
    )
    assert set_deals["Fleet"]["owner_id"] == rep.user_id
    assert all(
        deal["history"][0] == ("insert", admin_member.user.pk) and len(deal["stage_changes"]) >= 1
        for deal in set_deals.values()
    )

    assert set_scheduled == row_scheduled
    assert set_again_scheduled == row_again_scheduled
    assert set_scheduled["lifecycle"] == sorted(accounts.values())
    assert set_scheduled["health"] == [accounts["ACC-2"]]  # the renewal's account
    assert set_scheduled["kpis"] == set_scheduled["refresh"] == [tenant.pk]
    assert ("Lost renewal", None, "Closed lost") in set_scheduled["moved"]
    assert len(set_scheduled["moved"]) == 8  # each new deal, and the repeated id's move
