"""Lead services: create (rules, scoring), edit with optimistic locking, status flow, assignment, activity hook,
delete/restore, bulk actions, merge + undo."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Activity, ActivityKind, MergeRecord
from crm.errors import AppError, ConflictError
from crm.models import Role
from leads.models import Lead, LeadStatus
from leads.selectors.duplicates import lead_duplicates
from leads.services import activity as activity_services
from leads.services import leads as services
from leads.services import merges as merges_services
from leads.services import pool as pool_services
from leads.services import status as status_services
from tests.factories_leads import LeadFactory
from tests.factories_ops import (
    LeadSourceFactory,
    ScoringRuleFactory,
    TerritoryFactory,
    TerritoryMemberFactory,
)

pytestmark = pytest.mark.django_db


def test_create_keeps_search_text_and_manual_owner(tenant, member, in_tenant):
    rep = member()
    lead = services.lead_create(
        tenant=tenant,
        actor=rep.user,
        owner=rep.user,
        first_name=" Li ",
        last_name="Lei",
        email="Li.Lei@Example.COM",
        phone="+86 138-0013-8000",
        company="Acme  Ltd",
    )
    assert lead.owner == rep.user
    assert lead.assigned_at == lead.created_at
    assert lead.email == "li.lei@example.com"
    assert lead.search_text == "li lei acme ltd li.lei@example.com +86 138-0013-8000 8613800138000"


def test_create_applies_rules_and_score(tenant, member, in_tenant):
    rep = member()
    territory = TerritoryFactory(tenant=tenant, regions=["East"])
    TerritoryMemberFactory(tenant=tenant, territory=territory, user=rep.user)
    ScoringRuleFactory(tenant=tenant, value="Software", points=15)
    lead = services.lead_create(
        tenant=tenant, actor=None, last_name="Wang", region="East", industry="Software"
    )
    assert lead.owner_id == rep.user_id
    assert lead.territory_id == territory.pk
    assert lead.score == 15
    assert lead.score_reasons and lead.score_reasons[0]["points"] == 15


def test_create_validates(tenant, member, other_tenant, in_tenant):
    rep = member()
    with pytest.raises(ValidationError) as exc:
        services.lead_create(tenant=tenant, actor=rep.user)
    assert "last_name" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.lead_create(tenant=tenant, actor=rep.user, last_name="X", email="not-an-email")
    assert "email" in exc.value.message_dict
    other_rep = member()
    with pytest.raises(ValidationError) as exc:
        services.lead_create(tenant=tenant, actor=rep.user, owner=other_rep.user, last_name="X")
    assert "owner" in exc.value.message_dict
    cs = member(role=Role.CS)
    with pytest.raises(PermissionDenied):
        services.lead_create(tenant=tenant, actor=cs.user, last_name="X")


def test_create_refuses_other_tenants_source(tenant, other_tenant, member, in_tenant):
    foreign = LeadSourceFactory(tenant=other_tenant)
    with pytest.raises(ValidationError) as exc:
        services.lead_create(tenant=tenant, actor=None, last_name="X", source=foreign)
    assert "source" in exc.value.message_dict


def test_update_with_version_and_conflict(tenant, member, in_tenant):
    rep = member()
    lead = LeadFactory(tenant=tenant, owner=rep.user, company="Old")
    services.lead_update(tenant=tenant, actor=rep.user, lead=lead, version=1, company="New Co")
    assert lead.version == 2 and lead.company == "New Co"
    assert "new co" in lead.search_text
    stale = Lead.objects.get(pk=lead.pk)
    stale.version = 1
    with pytest.raises(ConflictError) as exc:
        services.lead_update(tenant=tenant, actor=rep.user, lead=stale, version=1, company="Mine")
    assert exc.value.extra["current"]["company"] == "New Co"
    assert exc.value.extra["current_version"] == 2
    lead.refresh_from_db()
    assert lead.company == "New Co"


def test_only_editors_change_a_lead(tenant, member, in_tenant):
    rep, rep2 = member(), member()
    ops = member(role=Role.OPS)
    lead = LeadFactory(tenant=tenant, owner=rep.user)
    for actor in (rep2.user, ops.user):
        with pytest.raises(PermissionDenied):
            services.lead_update(tenant=tenant, actor=actor, lead=lead, version=None, company="X")
    manager = member(role=Role.SALES_MANAGER, team="East")
    rep.team = manager.team
    rep.save()
    services.lead_update(tenant=tenant, actor=manager.user, lead=lead, version=None, company="Team edit")


def test_status_flow_stamps_without_backfill(tenant, member, in_tenant):
    rep = member()
    lead = LeadFactory(tenant=tenant, owner=rep.user)
    status_services.lead_change_status(tenant=tenant, actor=rep.user, lead=lead, status=LeadStatus.SQL)
    assert lead.status == LeadStatus.SQL and lead.sql_at is not None
    assert lead.working_at is None and lead.mql_at is None  # "reached" is read from later timestamps
    assert status_services.lead_status_reached(lead, LeadStatus.MQL)
    first_sql = lead.sql_at
    status_services.lead_change_status(tenant=tenant, actor=rep.user, lead=lead, status=LeadStatus.MQL)
    status_services.lead_change_status(tenant=tenant, actor=rep.user, lead=lead, status=LeadStatus.SQL)
    assert lead.sql_at == first_sql  # the first reaching is kept
    with pytest.raises(ValidationError) as exc:
        status_services.lead_change_status(
            tenant=tenant, actor=rep.user, lead=lead, status=LeadStatus.DISQUALIFIED
        )
    assert "reason" in exc.value.message_dict
    status_services.lead_change_status(
        tenant=tenant, actor=rep.user, lead=lead, status=LeadStatus.DISQUALIFIED, reason="No budget"
    )
    assert lead.disqualified_at and lead.disqualify_reason == "No budget"
    status_services.lead_change_status(tenant=tenant, actor=rep.user, lead=lead, status=LeadStatus.WORKING)
    assert lead.disqualified_at is None and lead.disqualify_reason == ""
    with pytest.raises(ValidationError):
        status_services.lead_change_status(
            tenant=tenant, actor=rep.user, lead=lead, status=LeadStatus.CONVERTED
        )


def test_status_change_is_in_history(tenant, member, in_tenant):
    rep = member()
    lead = LeadFactory(tenant=tenant, owner=rep.user)
    status_services.lead_change_status(tenant=tenant, actor=rep.user, lead=lead, status=LeadStatus.MQL)
    events = list(Lead.pgh_event_model.objects.filter(pgh_obj_id=lead.pk).order_by("pgh_id"))
    assert [e.status for e in events][-1] == LeadStatus.MQL
    assert events[-1].pgh_context.metadata["user"] == rep.user_id


def test_a_system_write_after_a_users_write_is_not_credited_to_that_user(tenant, member, in_tenant):
    """pghistory keeps its context for the rest of the transaction: a later write by the system (a task, a
    rule) must open its own context instead of inheriting the rep's."""
    rep = member()
    lead = LeadFactory(tenant=tenant, owner=rep.user)
    status_services.lead_change_status(tenant=tenant, actor=rep.user, lead=lead, status=LeadStatus.WORKING)
    status_services.lead_change_status(tenant=tenant, actor=None, lead=lead, status=LeadStatus.MQL)
    events = list(Lead.pgh_event_model.objects.filter(pgh_obj_id=lead.pk).order_by("pgh_id"))
    assert [(e.status, e.pgh_context.metadata.get("user")) for e in events[-2:]] == [
        (LeadStatus.WORKING, rep.user_id),
        (LeadStatus.MQL, None),
    ]


def test_record_activity_moves_new_to_working(tenant, member, in_tenant):
    lead = LeadFactory(tenant=tenant)
    at = timezone.now() - datetime.timedelta(hours=2)
    # A note neither works the lead nor resets its pool clock (only done calls, emails and meetings do).
    activity_services.lead_record_activity(tenant=tenant, lead=lead, at=at, kind="note", done=True)
    assert lead.status == LeadStatus.NEW and lead.last_activity_at is None
    activity_services.lead_record_activity(tenant=tenant, lead=lead, at=at, kind="call", done=True)
    activity_services.lead_record_activity(
        tenant=tenant, lead=lead, at=at - datetime.timedelta(days=1), kind="call", done=True
    )
    assert lead.last_activity_at == at  # never moves back
    assert lead.status == LeadStatus.WORKING and lead.working_at == at


def test_activity_log_calls_the_hook(tenant, member, in_tenant):
    from accounts.services.activities import activity_log

    rep = member()
    lead = LeadFactory(tenant=tenant, owner=rep.user)
    activity_log(tenant=tenant, actor=rep.user, kind=ActivityKind.CALL, subject="Intro call", lead=lead)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.WORKING and lead.last_activity_at is not None


def test_assign_and_release(tenant, member, in_tenant, admin_member):
    rep, rep2 = member(), member()
    lead = LeadFactory(tenant=tenant, owner=rep.user)
    pool_services.lead_assign(tenant=tenant, actor=admin_member.user, lead=lead, owner=rep2.user)
    assert lead.owner == rep2.user and lead.assigned_at is not None
    with pytest.raises(ValidationError):
        pool_services.lead_assign(
            tenant=tenant, actor=rep2.user, lead=lead, owner=rep.user
        )  # reps keep theirs
    cs = member(role=Role.CS)
    with pytest.raises(ValidationError):
        pool_services.lead_assign(tenant=tenant, actor=admin_member.user, lead=lead, owner=cs.user)
    pool_services.lead_assign(tenant=tenant, actor=rep2.user, lead=lead, owner=None)
    assert lead.owner is None and lead.pooled_at is not None
    assert lead.pool_events.get().user_id == rep2.user_id


def test_bulk_status_and_assign(tenant, member, in_tenant, admin_member):
    rep = member()
    leads = LeadFactory.create_batch(3, tenant=tenant, owner=rep.user)
    assert (
        status_services.leads_bulk_change_status(
            tenant=tenant, actor=rep.user, leads=leads, status=LeadStatus.DISQUALIFIED, reason="Spam"
        )
        == 3
    )
    assert set(Lead.objects.values_list("disqualify_reason", flat=True)) == {"Spam"}
    rep2 = member()
    assert (
        pool_services.leads_bulk_assign(tenant=tenant, actor=admin_member.user, leads=leads, owner=rep2.user)
        == 3
    )
    assert set(Lead.objects.values_list("owner_id", flat=True)) == {rep2.user_id}


def test_delete_and_restore(tenant, member, in_tenant):
    rep = member()
    lead = LeadFactory(tenant=tenant, owner=rep.user)
    services.lead_delete(tenant=tenant, actor=rep.user, lead=lead)
    assert lead.deleted_at is not None
    services.lead_restore(tenant=tenant, actor=rep.user, lead=lead)
    assert lead.deleted_at is None


def test_duplicates_by_email_phone_and_company(tenant, member, in_tenant, admin_member):
    rep = member()
    mine = LeadFactory(
        tenant=tenant, owner=rep.user, email="wang@huawei.test", company="Shenzhen Widgets Co., Ltd."
    )
    other = LeadFactory(tenant=tenant, owner=member().user, phone="+86 138 0000 1111", company="Unrelated")
    LeadFactory(tenant=tenant, company="Completely Different")
    found = lead_duplicates(tenant=tenant, membership=rep, email="WANG@huawei.test")
    assert [d.lead.pk for d in found] == [mine.pk] and found[0].same_email and found[0].visible
    # Another rep's lead is invisible to this rep, so it is no duplicate for them (DESIGN.md); an admin sees it.
    assert lead_duplicates(tenant=tenant, membership=rep, phone="13800001111") == []
    found = lead_duplicates(tenant=tenant, membership=admin_member, phone="13800001111")
    assert [d.lead.pk for d in found] == [other.pk] and found[0].same_phone and found[0].visible
    found = lead_duplicates(tenant=tenant, membership=None, phone="138 0000 1111")
    assert [d.lead.pk for d in found] == [other.pk]
    found = lead_duplicates(tenant=tenant, membership=rep, company="Shenzhen Widgets Ltd")
    assert [d.lead.pk for d in found] == [mine.pk] and found[0].similarity > 0.5
    assert (
        lead_duplicates(tenant=tenant, membership=rep, company="Shenzhen Widgets", exclude_id=mine.pk) == []
    )


def test_merge_and_undo_restore_exactly(tenant, member, in_tenant, admin_member):
    from accounts.services.activities import activity_log

    rep = member()
    source = LeadSourceFactory(tenant=tenant)
    keep = LeadFactory(tenant=tenant, owner=rep.user, phone="", title="", source=None)
    gone = LeadFactory(tenant=tenant, owner=rep.user, phone="+49 30 1234567", title="CEO", source=source)
    call = activity_log(tenant=tenant, actor=rep.user, kind=ActivityKind.CALL, subject="Call", lead=gone)
    keep_before = Lead.objects.get(pk=keep.pk)
    record = merges_services.lead_merge(tenant=tenant, actor=rep.user, survivor=keep, merged=gone)
    assert isinstance(record, MergeRecord) and record.entity == "lead"
    keep.refresh_from_db()
    gone.refresh_from_db()
    assert keep.phone == "+49 30 1234567" and keep.title == "CEO" and keep.source_id == source.pk
    assert gone.deleted_at is not None and gone.merged_into_id == keep.pk
    assert Activity.objects.get(pk=call.pk).lead_id == keep.pk
    assert not Lead.objects.filter(pk=gone.pk, deleted_at=None).exists()

    restored = merges_services.lead_merge_undo(tenant=tenant, actor=rep.user, record=record)
    keep.refresh_from_db()
    assert restored.pk == gone.pk and restored.deleted_at is None and restored.merged_into_id is None
    assert restored.phone == "+49 30 1234567"
    for name in ("phone", "title", "source_id", "email", "company", "last_activity_at", "search_text"):
        assert getattr(keep, name) == getattr(keep_before, name), name
    assert Activity.objects.get(pk=call.pk).lead_id == gone.pk
    with pytest.raises(AppError):
        merges_services.lead_merge_undo(tenant=tenant, actor=rep.user, record=record)
