"""The campaigns of an import's chunk go in as sets (CampaignImporter.import_many: campaigns_create_many for new
ones, campaigns_update_many for the campaigns a file names again), with exactly what campaign_create and
campaign_update give row by row: the campaigns' every field, the rows' errors in the file's order, the saves the
apps above hear of (post_save: the KPI recompute) and no history (campaigns are not tracked)."""

from __future__ import annotations

import json
import logging

import pghistory.models
import pytest
from django.apps import apps
from django.db.models.signals import post_save
from django.utils import timezone

from crm.models import ValueListKey
from crm.tenancy import tenant_context
from imports.models import ImportStatus
from leads.models import Campaign
from tests.factories import ValueListItemFactory
from tests.factories_ops import CampaignFactory
from tests.imports.conftest import csv_text, list_values
from tests.imports.test_set_writes import one_by_one, spy

pytestmark = pytest.mark.django_db

CAMPAIGNS = "external_id,name,channel,source_kind,cost,currency,start_date,end_date"


def campaign_rows(prefix: str) -> list[str]:
    return [
        f"{prefix}-1,Spring webinar,webinar,inbound,1200.50,eur,2024-03-01,2024-03-31",
        f"{prefix}-2,Expo,Event / trade show,,3000,,2024-04-01,2024-04-03",  # a label; the tenant's currency
        f"{prefix}-3,Mind reading,telepathy,,100,CNY,2024-01-01,2024-01-02",  # not a channel of the list
        f"{prefix}-4,Bad cost,email,,12abc,CNY,2024-01-01,2024-01-02",  # not a number
        f"{prefix}-5,Backwards,email,,10,CNY,2024-05-10,2024-05-01",  # the service: end before start
        f"{prefix}-6,Bad currency,email,,10,EURO,2024-05-01,2024-05-02",  # the service: not an ISO code
        f"{prefix}-1,Spring webinar II,webinar,,1300,EUR,2024-03-01,2024-04-01",  # repeated: updates {prefix}-1
        f",{prefix} without an id,social,,50,,2024-06-01,2024-06-30",
        f"{prefix}-DEL,Deleted one,email,,10,CNY,2024-01-01,2024-01-02",  # a deleted campaign's id
        f"{prefix}-7,Refund,email,,-5,CNY,2024-01-01,2024-01-02",  # the service: a negative cost
        f"{prefix}-8,,email,,5,CNY,2024-01-01,2024-01-02",  # the service: no name
        f"{prefix}-9,Podcast spots,PODCAST,incentive,99.99,usd,2024-02-01,2024-02-29",  # the company's value
        f"{prefix}-10,Partners,partner,,10,CNY,2024-01-01,2024-01-02",  # retired: refused on a new campaign
        f"{prefix}-11,No end,email,,10,CNY,2024-01-01,",  # the service: no end date
    ]


# The rows refused (the header is row 1), and the column each error names.
ERRORS = [
    (4, "channel"),
    (5, "cost"),
    (6, "end_date"),
    (7, "currency"),
    (10, "external_id"),
    (11, "cost"),
    (12, "name"),
    (14, "channel"),
    (15, "end_date"),
]


def campaign_picture(tenant, prefix: str) -> dict[str, dict]:
    """Every field of the prefix's campaigns (but the id and the times of the write itself), by external id
    without the prefix, or by name for those without an external id."""
    skip = {"id", "created_at", "updated_at"}
    with tenant_context(tenant):
        seen = {}
        for campaign in Campaign.objects.filter(tenant=tenant).order_by("pk"):
            values = {
                field.attname: getattr(campaign, field.attname)
                for field in Campaign._meta.concrete_fields
                if field.name not in skip
            }
            if campaign.external_id.startswith(f"{prefix}-"):
                key = campaign.external_id.removeprefix(prefix)
            elif campaign.name.startswith(f"{prefix} "):
                key = campaign.name.removeprefix(f"{prefix} ")
                key = f"{key} #{sum(1 for known in seen if known.startswith(key))}"
            else:
                continue
            values["external_id"] = values["external_id"].removeprefix(prefix)
            values["name"] = values["name"].removeprefix(f"{prefix} ")
            seen[key] = values
        return seen


def test_campaigns_written_as_a_set_equal_campaigns_written_one_by_one(
    tenant, admin_member, run_import, monkeypatch, caplog
):
    caplog.set_level(logging.INFO, logger="imports.services")
    list_values(tenant, **{ValueListKey.CHANNEL: ["Podcast"]})
    ValueListItemFactory(
        tenant=tenant, list_key=ValueListKey.CHANNEL, value="partner", label="", retired_at=timezone.now()
    )
    gone = timezone.now()
    with tenant_context(tenant):
        for prefix in ("S", "R"):
            CampaignFactory(tenant=tenant, name="Gone", external_id=f"{prefix}-DEL", deleted_at=gone)
    saves: list[tuple[str, bool, str]] = []

    def heard(sender, instance, created, **kwargs):  # type: ignore[no-untyped-def]
        saves.append((instance.external_id[:1] or instance.name[:1], created, instance.external_id[2:]))

    post_save.connect(heard, sender=Campaign, weak=False, dispatch_uid="test.campaign_saves")
    try:
        created_sizes = spy(monkeypatch, "imports.kinds.campaigns.campaigns_create_many")
        updated_sizes = spy(monkeypatch, "imports.kinds.campaigns.campaigns_update_many", "changes")
        as_set = run_import(admin_member, "campaigns", csv_text(CAMPAIGNS, *campaign_rows("S")))
        # The set: the rows whose cells parse, new (the repeated and the deleted id are left to import_row).
        assert created_sizes == [10] and updated_sizes == [0]
        again_set = run_import(admin_member, "campaigns", csv_text(CAMPAIGNS, *campaign_rows("S")))
        # Imported again: the three created with an id are updated as a set; the refused rows and the row without
        # an id are new again.
        assert created_sizes == [10, 7] and updated_sizes == [0, 3]
        one_by_one(monkeypatch, "campaigns")
        by_row = run_import(admin_member, "campaigns", csv_text(CAMPAIGNS, *campaign_rows("R")))
        again_row = run_import(admin_member, "campaigns", csv_text(CAMPAIGNS, *campaign_rows("R")))
        assert created_sizes == [10, 7] and updated_sizes == [0, 3]  # row by row: the sets never ran
    finally:
        post_save.disconnect(sender=Campaign, dispatch_uid="test.campaign_saves")
    # The sets were written, not refused and written again row by row.
    assert not [record for record in caplog.records if "set write was refused" in record.getMessage()]

    for job in (as_set, by_row):
        assert (job.status, job.created, job.updated, job.failed) == (ImportStatus.DONE, 4, 1, 9), (
            job.row_errors
        )
        assert [(e["row"], e["column"]) for e in job.row_errors] == ERRORS
    for job in (again_set, again_row):
        assert (job.status, job.created, job.updated, job.failed) == (ImportStatus.DONE, 1, 4, 9), (
            job.row_errors
        )
        assert [(e["row"], e["column"]) for e in job.row_errors] == ERRORS
    for set_job, row_job in ((as_set, by_row), (again_set, again_row)):
        assert json.dumps(set_job.row_errors, ensure_ascii=False).replace("S-", "R-") == json.dumps(
            row_job.row_errors, ensure_ascii=False
        )

    set_campaigns, row_campaigns = campaign_picture(tenant, "S"), campaign_picture(tenant, "R")
    assert set_campaigns == row_campaigns
    assert set(set_campaigns) == {"-1", "-2", "-9", "-DEL", "without an id #0", "without an id #1"}
    # and what that is: the repeated row's update, a label and the company's value matched, currencies upper-cased
    assert (set_campaigns["-1"]["name"], set_campaigns["-1"]["cost"], set_campaigns["-1"]["currency"]) == (
        "Spring webinar II",
        1300,
        "EUR",
    )
    assert set_campaigns["-1"]["source_kind"] == ""  # the repeated row's empty cell clears it, as row by row
    assert (set_campaigns["-2"]["channel"], set_campaigns["-2"]["currency"]) == ("event", tenant.currency)
    assert (set_campaigns["-9"]["channel"], set_campaigns["-9"]["currency"]) == ("Podcast", "USD")
    assert set_campaigns["-DEL"]["deleted_at"] is not None

    # The saves the apps above hear of (sales_ops recomputes the KPIs on them): one per campaign written, whichever
    # way it was written.
    set_saves = sorted((created, rest) for prefix, created, rest in saves if prefix == "S")
    row_saves = sorted((created, rest) for prefix, created, rest in saves if prefix == "R")
    assert set_saves == row_saves
    assert len(set_saves) == 4 + 1 + 1 + 4  # created, updated by the repeated row; again: created, updated

    # History: campaigns are not tracked (no event model), so neither path leaves events of them; if they become
    # tracked, this test must compare their events (booked to the importer) as test_set_writes does for leads.
    assert not [
        model
        for model in apps.get_models()
        if issubclass(model, pghistory.models.Event) and model.pgh_tracked_model is Campaign
    ]


def test_campaigns_created_and_updated_as_sets_answer_as_the_services_one_by_one(
    tenant, admin_member, member
):
    """The set services' rules on what an import does not send (sources, owners, ids repeated in the set): each
    draft gets the campaign or the error campaign_create / campaign_update give it one by one."""
    from django.core.exceptions import ValidationError

    from crm.models import Membership, MembershipStatus
    from leads.models import SourceKind
    from leads.services.campaigns import (
        campaign_create,
        campaign_update,
        campaigns_create_many,
        campaigns_update_many,
    )
    from tests.factories_ops import LeadSourceFactory

    actor = admin_member.user
    with tenant_context(tenant):
        gone, active = member(), member()
        Membership.objects.filter(pk=gone.pk).update(status=MembershipStatus.DEACTIVATED)
        inbound = LeadSourceFactory(tenant=tenant, kind=SourceKind.INBOUND)
        retired = LeadSourceFactory(tenant=tenant, kind=SourceKind.INCENTIVE, deleted_at=timezone.now())

    def drafts(prefix: str) -> list[dict]:
        base = {"channel": "email", "cost": 10, "start_date": "2024-01-01", "end_date": "2024-01-31"}
        return [
            {**base, "name": "With source", "external_id": f"{prefix}-1", "source": inbound},
            {**base, "name": "Kind clash", "source": inbound, "source_kind": SourceKind.INCENTIVE},
            {**base, "name": "Deleted source", "source": retired},
            {**base, "name": "Active owner", "owner": active.user, "external_id": f"{prefix}-2"},
            {**base, "name": "Gone owner", "owner": gone.user},
            {**base, "name": "Same id", "external_id": f"{prefix}-2"},
            {**base, "name": "", "channel": "", "currency": "E", "cost": -1, "end_date": "2023-01-01"},
        ]

    def answer(result):  # type: ignore[no-untyped-def]
        if isinstance(result, ValidationError):
            return sorted((key, [str(m) for m in messages]) for key, messages in result.message_dict.items())
        return {
            name: getattr(result, name)
            for name in ("name", "channel", "source_id", "source_kind", "owner_id", "currency", "cost")
        }

    def one_by_one_answers(calls):  # type: ignore[no-untyped-def]
        answers = []
        for call in calls:
            try:
                answers.append(answer(call()))
            except ValidationError as exc:
                answers.append(answer(exc))
        return answers

    with tenant_context(tenant):
        as_set = [
            answer(result) for result in campaigns_create_many(tenant=tenant, actor=actor, drafts=drafts("S"))
        ]
        by_row = one_by_one_answers(
            [
                lambda fields=fields: campaign_create(tenant=tenant, actor=actor, **fields)
                for fields in drafts("R")
            ]
        )
        assert as_set == by_row
        assert as_set[0]["source_kind"] == SourceKind.INBOUND and as_set[3]["owner_id"] == active.user.pk
        assert [isinstance(result, list) for result in as_set] == [False, True, True, False, True, True, True]

        for prefix, set_write in (("S", True), ("R", False)):
            first, second = (Campaign.objects.get(external_id=f"{prefix}-{n}") for n in (1, 2))
            changes = [
                (first, {"name": "Renamed", "channel": "partner", "external_id": f"{prefix}-3"}),
                (second, {"external_id": f"{prefix}-1"}),  # free once the first change took another id
                (first, {"cost": 99}),  # the same campaign again: after the first change
                (second, {"owner": gone.user}),
            ]
            if set_write:
                updated = [
                    answer(result)
                    for result in campaigns_update_many(tenant=tenant, actor=actor, changes=changes)
                ]
            else:
                updated = one_by_one_answers(
                    [
                        lambda campaign=campaign, fields=fields: campaign_update(
                            tenant=tenant, actor=actor, campaign=campaign, **fields
                        )
                        for campaign, fields in changes
                    ]
                )
            stored = sorted(
                Campaign.objects.filter(external_id__startswith=f"{prefix}-").values_list(
                    "external_id", "name", "channel", "cost", "owner_id"
                )
            )
            if set_write:
                set_updated, set_stored = updated, [(e.removeprefix("S"), *rest) for e, *rest in stored]
            else:
                assert updated == set_updated
                assert [(e.removeprefix("R"), *rest) for e, *rest in stored] == set_stored
        assert [isinstance(result, list) for result in set_updated] == [False, False, False, True]
        assert set_stored == [
            ("-1", "Active owner", "email", 10, active.user.pk),
            ("-3", "Renamed", "partner", 99, None),
        ]
