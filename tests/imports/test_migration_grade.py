"""Issue 10: a whole history from another CRM, exactly as it was. Owners who are invited or deactivated keep their
records; unknown owners become deactivated members when an admin asks for it; imported statuses and timestamps
stay as given (imported activities move no lead status); a re-imported row updates created_at too."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Account, Activity, Opportunity
from crm.models import Membership, MembershipStatus, Role
from crm.tenancy import tenant_context
from imports.models import ImportStatus
from leads.models import Lead, LeadStatus
from tests.factories import MembershipFactory, UserFactory
from tests.factories_ops import TerritoryFactory, TerritoryMemberFactory
from tests.imports.conftest import csv_text, list_values

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def at(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def _member(tenant, email: str, status: str, role: str = Role.SALES_REP) -> Membership:
    return MembershipFactory(tenant=tenant, user=UserFactory(email=email), role=role, status=status)


ACCOUNTS = "external_id,name,owner_email,created_at"
LEADS = "external_id,last_name,status,owner_email,region,created_at"


@pytest.mark.parametrize("status", [MembershipStatus.INVITED, MembershipStatus.DEACTIVATED])
def test_invited_and_deactivated_members_own_imported_records(tenant, admin_member, run_import, status):
    _member(tenant, "someone@alpha.test", status)
    list_values(tenant, region=["East"])
    job = run_import(
        admin_member, "accounts", csv_text(ACCOUNTS, "A-1,Old Co,someone@alpha.test,2023-01-02T00:00:00Z")
    )
    assert (job.status, job.created, job.failed) == (ImportStatus.DONE, 1, 0), job.row_errors
    leads = run_import(admin_member, "leads", csv_text(LEADS, "L-1,Wu,working,someone@alpha.test,East,"))
    assert (leads.created, leads.failed) == (1, 0), leads.row_errors
    deals = run_import(
        admin_member,
        "opportunities",
        csv_text(
            "external_id,account_external_id,name,amount,owner_email", "O-1,A-1,Deal,100,someone@alpha.test"
        ),
    )
    assert (deals.created, deals.failed) == (1, 0), deals.row_errors
    calls = run_import(
        admin_member,
        "activities",
        csv_text(
            "external_id,kind,subject,owner_email,occurred_at,done,account_external_id",
            "T-1,call,Old call,someone@alpha.test,2023-02-01T00:00:00Z,true,A-1",
        ),
    )
    assert (calls.created, calls.failed) == (1, 0), calls.row_errors
    with tenant_context(tenant):
        assert Account.objects.get(external_id="A-1").owner.email == "someone@alpha.test"
        assert Lead.objects.get(external_id="L-1").owner.email == "someone@alpha.test"
        assert Opportunity.objects.get(external_id="O-1").owner.email == "someone@alpha.test"
        assert Activity.objects.get(external_id="T-1").owner.email == "someone@alpha.test"
        # the import changed nobody's membership
        assert Membership.objects.get(user__email="someone@alpha.test").status == status


def test_unknown_owner_is_a_row_error_without_the_option(tenant, admin_member, run_import):
    job = run_import(admin_member, "accounts", csv_text(ACCOUNTS, "A-1,Old Co,gone@alpha.test,"))
    assert (job.created, job.failed) == (0, 1)
    assert job.row_errors == [
        {
            "row": 2,
            "column": "owner_email",
            "reason": "No member of this company has the email “gone@alpha.test”.",
        }
    ]
    assert job.added == {}
    with tenant_context(tenant):
        assert not Membership.objects.filter(user__email="gone@alpha.test").exists()


def test_unknown_owner_becomes_a_deactivated_member_with_the_option(tenant, admin_member, run_import):
    text = csv_text(
        ACCOUNTS,
        "A-1,Old Co,Gone@Alpha.test,2022-05-01T00:00:00Z",
        "A-2,Other Co,gone@alpha.test,",
        "A-3,Bad Co,not-an-email,",
    )
    job = run_import(admin_member, "accounts", text, create_missing_owners=True)
    assert (job.created, job.failed) == (2, 1), job.row_errors
    assert job.row_errors[0]["row"] == 4 and job.row_errors[0]["column"] == "owner_email"
    assert job.options == {"create_missing_owners": True, "add_missing_values": False}
    assert job.added == {"owners": ["gone@alpha.test"]}
    with tenant_context(tenant):
        membership = Membership.objects.select_related("user").get(user__email="gone@alpha.test")
        assert membership.status == MembershipStatus.DEACTIVATED
        assert not membership.user.has_usable_password()
        assert set(Account.objects.filter(owner=membership.user).values_list("external_id", flat=True)) == {
            "A-1",
            "A-2",
        }


def test_the_option_is_for_admins_only(tenant, member, api_client_for):
    ops = member(role=Role.OPS)
    client = api_client_for(ops)
    upload = SimpleUploadedFile("a.csv", b"external_id,name,owner_email\nA-1,X,gone@alpha.test\n")
    response = client.post(
        f"/api/v1/t/{tenant.slug}/imports/",
        {"kind": "accounts", "file": upload, "create_missing_owners": "true"},
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert response.json() == {"create_missing_owners": ["Only an admin can create missing owners."]}
    with tenant_context(tenant):
        assert not Membership.objects.filter(user__email="gone@alpha.test").exists()


def test_admin_uses_the_option_through_the_api(
    tenant, admin_member, api_client_for, django_capture_on_commit_callbacks
):
    client = api_client_for(admin_member)
    upload = SimpleUploadedFile("a.csv", b"external_id,name,owner_email\nA-1,X,gone@alpha.test\n")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/t/{tenant.slug}/imports/",
            {"kind": "accounts", "file": upload, "create_missing_owners": "true"},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    job = client.get(f"/api/v1/t/{tenant.slug}/imports/{response.json()['id']}/").json()
    assert (job["created"], job["failed"], job["added"]) == (1, 0, {"owners": ["gone@alpha.test"]})


def test_rules_give_no_new_lead_to_a_deactivated_member(tenant, admin_member, run_import):
    gone = _member(tenant, "gone@alpha.test", MembershipStatus.DEACTIVATED)
    territory = TerritoryFactory(tenant=tenant, regions=["East"])
    TerritoryMemberFactory(tenant=tenant, territory=territory, user=gone.user, position=0)
    list_values(tenant, region=["East"])
    job = run_import(
        admin_member, "leads", csv_text(LEADS, "L-1,Wu,new,,East,", "L-2,Li,new,gone@alpha.test,East,")
    )
    assert (job.created, job.failed) == (2, 0), job.row_errors
    with tenant_context(tenant):
        assert Lead.objects.get(external_id="L-1").owner_id != gone.user_id
        assert Lead.objects.get(external_id="L-2").owner_id == gone.user_id


def test_imported_leads_keep_their_status_after_their_activities_are_imported(
    tenant, admin_member, run_import
):
    rep = _member(tenant, "rep@alpha.test", MembershipStatus.ACTIVE)
    leads = run_import(
        admin_member,
        "leads",
        csv_text(
            "external_id,last_name,status,owner_email,created_at,mql_at",
            "L-1,Wu,new,rep@alpha.test,2023-01-01T00:00:00Z,",
            "L-2,Li,mql,rep@alpha.test,2023-01-01T00:00:00Z,2023-02-01T00:00:00Z",
        ),
    )
    assert leads.failed == 0, leads.row_errors
    with tenant_context(tenant):
        before = {lead.external_id: lead for lead in Lead.objects.all()}
    calls = run_import(
        admin_member,
        "activities",
        csv_text(
            "external_id,kind,subject,owner_email,occurred_at,done,lead_external_id",
            "T-1,call,First call,rep@alpha.test,2023-03-01T00:00:00Z,true,L-1",
            "T-2,meeting,Demo,rep@alpha.test,2023-03-02T00:00:00Z,true,L-2",
        ),
    )
    assert (calls.created, calls.failed) == (2, 0), calls.row_errors
    with tenant_context(tenant):
        for lead in Lead.objects.all():
            old = before[lead.external_id]
            assert lead.status == old.status
            stamps = ("created_at", "working_at", "mql_at", "sql_at", "converted_at", "disqualified_at")
            assert [getattr(lead, name) for name in stamps] == [getattr(old, name) for name in stamps]
        assert Lead.objects.get(external_id="L-1").status == LeadStatus.NEW
        assert Lead.objects.get(external_id="L-1").last_activity_at == at(2023, 3, 1)
    assert rep.user.email == "rep@alpha.test"


def test_an_activity_logged_by_hand_still_works_a_new_lead(tenant, admin_member, run_import):
    from accounts.services.activities import activity_log

    run_import(admin_member, "leads", csv_text(LEADS, "L-1,Wu,new,,,"))
    with tenant_context(tenant):
        lead = Lead.objects.get(external_id="L-1")
        activity_log(
            tenant=tenant,
            actor=admin_member.user,
            kind="call",
            subject="Hi",
            done=True,
            lead=lead,
            occurred_at=datetime.datetime.now(tz=UTC),
        )
        assert Lead.objects.get(external_id="L-1").status == LeadStatus.WORKING


@pytest.mark.parametrize(
    ("kind", "header", "row"),
    [
        ("leads", "external_id,last_name,created_at", "X-1,Wu,{}"),
        ("accounts", "external_id,name,created_at", "X-1,Old Co,{}"),
        ("contacts", "external_id,last_name,created_at", "X-1,Wu,{}"),
    ],
)
def test_reimport_updates_created_at(tenant, admin_member, run_import, kind, header, row):
    first = run_import(admin_member, kind, csv_text(header, row.format("2022-01-01T00:00:00Z")))
    assert first.created == 1, first.row_errors
    again = run_import(admin_member, kind, csv_text(header, row.format("2021-06-30T12:00:00Z")))
    assert (again.updated, again.failed) == (1, 0), again.row_errors
    model = {"leads": Lead, "accounts": Account}.get(kind)
    if model is None:
        from accounts.models import Contact as model  # noqa: N813
    with tenant_context(tenant):
        assert model.objects.get(external_id="X-1").created_at == at(2021, 6, 30, 12)


def test_reimport_updates_created_at_of_a_deal(tenant, admin_member, run_import):
    run_import(admin_member, "accounts", csv_text("external_id,name", "A-1,Co"))
    header = "external_id,account_external_id,name,amount,created_at"
    run_import(admin_member, "opportunities", csv_text(header, "O-1,A-1,Deal,10,2022-01-01T00:00:00Z"))
    again = run_import(
        admin_member, "opportunities", csv_text(header, "O-1,A-1,Deal,10,2021-01-01T00:00:00Z")
    )
    assert (again.updated, again.failed) == (1, 0), again.row_errors
    with tenant_context(tenant):
        assert Opportunity.objects.get(external_id="O-1").created_at == at(2021, 1, 1)


def test_a_manager_sees_the_history_of_deactivated_and_invited_team_members(
    tenant, admin_member, member, run_import
):
    from crm.visibility import owner_scope
    from leads.selectors.inbox import lead_inbox
    from sales_ops.selectors.kpis import snapshot_visibility

    manager = member(role=Role.SALES_MANAGER, team="East")
    for email, status in (
        ("gone@alpha.test", MembershipStatus.DEACTIVATED),
        ("new@alpha.test", MembershipStatus.INVITED),
    ):
        MembershipFactory(tenant=tenant, user=UserFactory(email=email), status=status, team=manager.team)
    job = run_import(
        admin_member,
        "leads",
        csv_text(LEADS, "L-1,Wu,working,gone@alpha.test,,", "L-2,Li,new,new@alpha.test,,"),
    )
    assert job.failed == 0, job.row_errors
    with tenant_context(tenant):
        manager = Membership.objects.select_related("team", "user").get(pk=manager.pk)
        assert len(owner_scope(manager)) == 3
        _filters, rows = lead_inbox(tenant=tenant, membership=manager, params={}, scope="team")
        assert {lead.external_id for lead in rows} == {"L-1", "L-2"}
        visible = snapshot_visibility(manager)
        assert "gone@alpha.test" in str(visible) and "new@alpha.test" in str(visible)
