"""Imports per kind: historical timestamps kept, external_id upserts, bad rows reported and skipped, other tenants'
ids and emails unknown, rules applied on import, resuming a job."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Account, Activity, Contact, Opportunity, StageChange
from crm.models import Role
from crm.tenancy import tenant_context
from imports.models import ImportStatus
from imports.services import import_job_run
from leads.models import Campaign, Lead, LeadSource, LeadStatus, ScoringField
from tests.factories_accounts import AccountFactory
from tests.factories_ops import CampaignFactory, ScoringRuleFactory, TerritoryFactory, TerritoryMemberFactory
from tests.imports.conftest import csv_text, list_values, stored_job

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args: int, tz=UTC) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=tz)


def test_campaigns_import_then_reimport_updates(tenant, admin_member, run_import):
    text = csv_text(
        "external_id,name,channel,source_kind,cost,currency,start_date,end_date",
        "c-1,Spring expo,event,inbound,12000.50,CNY,2024-03-01,2024-03-03",
        "c-2,Whitepaper,content,incentive,800,,2024-04-01,2024-04-30",
    )
    job = run_import(admin_member, "campaigns", text)
    assert (job.status, job.total, job.created, job.updated, job.failed) == (ImportStatus.DONE, 2, 2, 0, 0)
    with tenant_context(tenant):
        expo = Campaign.objects.get(external_id="c-1")
        assert expo.cost == Decimal("12000.50")
        assert expo.start_date == datetime.date(2024, 3, 1)
        assert Campaign.objects.get(external_id="c-2").currency == "CNY"

    again = run_import(admin_member, "campaigns", text.replace("Spring expo", "Spring expo 2024"))
    assert (again.created, again.updated, again.failed) == (0, 2, 0)
    with tenant_context(tenant):
        assert Campaign.objects.filter(external_id="c-1").get().name == "Spring expo 2024"
        assert Campaign.objects.count() == 2


def test_leads_import_keeps_history_and_applies_rules(tenant, admin_member, member, run_import):
    rep = member(role=Role.SALES_REP, email="east.rep@alpha.test")
    other_rep = member(role=Role.SALES_REP, email="named.rep@alpha.test")
    territory = TerritoryFactory(tenant=tenant, regions=["East"])
    TerritoryMemberFactory(tenant=tenant, territory=territory, user=rep.user, position=0)
    ScoringRuleFactory(tenant=tenant, field=ScoringField.INDUSTRY, value="Software", points=20)
    CampaignFactory(tenant=tenant, external_id="camp-1")
    list_values(tenant, region=["East", "West"], industry=["Software", "Retail"])
    text = csv_text(
        "external_id,first_name,last_name,email,company,source,source_kind,campaign_external_id,status,owner_email,"
        "region,industry,created_at,mql_at,sql_at,converted_at,disqualified_at",
        "L-1,Li,Lei,li@example.com,Acme,Webinar,incentive,camp-1,sql,,East,Software,"
        "2023-01-05T10:00:00+00:00,2023-01-10T08:00:00Z,2023-02-01T09:00:00,,",
        "L-2,Han,Meimei,han@example.com,Beta,,,,,named.rep@alpha.test,West,Retail,2023-03-01T00:00:00Z,,,,",
    )
    job = run_import(admin_member, "leads", text)
    assert (job.created, job.failed) == (2, 0), job.row_errors
    with tenant_context(tenant):
        first = Lead.objects.select_related("source", "campaign").get(external_id="L-1")
        # Historical timestamps kept as given; a timestamp without offset is in the tenant's time zone.
        assert first.created_at == at(2023, 1, 5, 10)
        assert first.mql_at == at(2023, 1, 10, 8)
        assert first.sql_at == at(2023, 2, 1, 9, tz=SHANGHAI)
        assert first.status == LeadStatus.SQL
        # No owner in the file: the assignment rules ran; scoring too.
        assert first.owner_id == rep.user_id and first.territory_id == territory.pk
        assert first.score == 20
        assert first.source.name == "Webinar" and first.source.kind == "incentive"
        assert first.campaign.external_id == "camp-1"
        second = Lead.objects.get(external_id="L-2")
        assert second.owner_id == other_rep.user_id  # a named owner wins over the rules
        assert second.status == LeadStatus.NEW
        assert LeadSource.objects.filter(name="Webinar").count() == 1


def test_leads_reimport_updates_instead_of_duplicating(tenant, admin_member, run_import):
    header = "external_id,first_name,last_name,email,status,mql_at"
    run_import(admin_member, "leads", csv_text(header, "L-9,Ann,Lee,ann@example.com,new,"))
    job = run_import(
        admin_member, "leads", csv_text(header, "L-9,Ann,Lee-Smith,ann@example.com,mql,2024-05-01T08:00:00Z")
    )
    assert (job.created, job.updated, job.failed) == (0, 1, 0), job.row_errors
    with tenant_context(tenant):
        lead = Lead.objects.get(external_id="L-9")
        assert Lead.objects.filter(email="ann@example.com").count() == 1
        assert (lead.last_name, lead.status, lead.mql_at) == ("Lee-Smith", "mql", at(2024, 5, 1, 8))


def test_accounts_import_with_parent_owner_and_created_at(tenant, admin_member, member, run_import):
    rep = member(role=Role.SALES_REP, email="owner@alpha.test")
    list_values(tenant, region=["East"], industry=["Software"])
    text = csv_text(
        "external_id,name,domain,industry,size_band,region,tier,owner_email,parent_external_id,created_at",
        "A-1,Acme Group,acme.example,Software,201-1000,East,key,owner@alpha.test,,2022-06-01T00:00:00Z",
        "A-2,Acme Shanghai,,Software,,East,,,A-1,2022-07-01",
    )
    job = run_import(admin_member, "accounts", text)
    assert (job.created, job.failed) == (2, 0), job.row_errors
    with tenant_context(tenant):
        parent = Account.objects.get(external_id="A-1")
        child = Account.objects.get(external_id="A-2")
        assert parent.owner_id == rep.user_id and parent.tier == "key"
        assert parent.created_at == at(2022, 6, 1)
        assert child.parent_id == parent.pk
        assert child.owner_id == admin_member.user_id  # no owner in the file: the importing member
        assert child.created_at == at(2022, 7, 1, tz=SHANGHAI)


def test_contacts_import_and_update(tenant, admin_member, run_import):
    AccountFactory(tenant=tenant, external_id="A-1", owner=admin_member.user)
    header = "external_id,account_external_id,first_name,last_name,email,phone,title,created_at"
    job = run_import(
        admin_member,
        "contacts",
        csv_text(header, "P-1,A-1,Wei,Zhang,WEI@example.com,+86 21 555,CTO,2021-01-01"),
    )
    assert (job.created, job.failed) == (1, 0), job.row_errors
    again = run_import(admin_member, "contacts", csv_text(header, "P-1,A-1,Wei,Zhang,wei@example.com,,CEO,"))
    assert (again.created, again.updated) == (0, 1)
    with tenant_context(tenant):
        contact = Contact.objects.select_related("account").get(external_id="P-1")
        assert contact.account.external_id == "A-1"
        assert (contact.title, contact.email, contact.phone) == ("CEO", "wei@example.com", "")
        assert contact.created_at == at(2021, 1, 1, tz=SHANGHAI)


def test_opportunities_import_stages_probability_and_close(tenant, admin_member, run_import):
    AccountFactory(tenant=tenant, external_id="A-1", owner=admin_member.user)
    text = csv_text(
        "external_id,account_external_id,lead_external_id,name,type,pipeline,stage,amount,currency,probability,"
        "forecast_category,expected_close_date,owner_email,created_at,closed_at,lost_reason",
        "O-1,A-1,,Big deal,new_business,,Proposal,50000,CNY,,,2024-06-30,,2024-01-10T00:00:00Z,,",
        "O-2,A-1,,Won deal,renewal,Sales,Closed won,9000,CNY,,,,,2023-01-01T00:00:00Z,2023-03-15T12:00:00Z,",
        "O-3,A-1,,Lost deal,,,Closed lost,100,,,,,,2023-02-01T00:00:00Z,2023-02-20T00:00:00Z,Price",
        "O-4,A-1,,Bad stage,,,Nowhere,100,,,,,,,,",
    )
    job = run_import(admin_member, "opportunities", text)
    assert (job.created, job.failed) == (3, 1), job.row_errors
    assert job.row_errors == [
        {"row": 5, "column": "stage", "reason": "No stage “Nowhere” in pipeline “Sales”."}
    ]
    with tenant_context(tenant):
        open_deal = Opportunity.objects.select_related("stage").get(external_id="O-1")
        assert open_deal.stage.name == "Proposal" and open_deal.probability == Decimal("0.5")
        assert open_deal.created_at == at(2024, 1, 10)
        won = Opportunity.objects.get(external_id="O-2")
        assert won.closed_at == at(2023, 3, 15, 12) and won.created_at == at(2023, 1, 1)
        assert StageChange.objects.get(opportunity=won).changed_at == at(2023, 1, 1)
        lost = Opportunity.objects.get(external_id="O-3")
        assert lost.lost_reason == "Price" and lost.closed_at == at(2023, 2, 20)

    moved = run_import(
        admin_member,
        "opportunities",
        csv_text("external_id,stage,closed_at", "O-1,Closed won,2024-05-01T00:00:00Z"),
    )
    assert (moved.updated, moved.failed) == (1, 0), moved.row_errors
    with tenant_context(tenant):
        open_deal.refresh_from_db()
        assert open_deal.stage.name == "Closed won" and open_deal.closed_at == at(2024, 5, 1)
        assert Opportunity.objects.count() == 3


def test_activities_import_links_records(tenant, admin_member, member, run_import):
    account = AccountFactory(tenant=tenant, external_id="A-1", owner=admin_member.user)
    member(role=Role.SALES_REP, email="caller@alpha.test")
    text = csv_text(
        "external_id,kind,subject,owner_email,occurred_at,due_at,done,lead_external_id,account_external_id,"
        "contact_external_id,opportunity_external_id",
        "T-1,call,Intro call,caller@alpha.test,2023-05-05T03:00:00Z,,true,,A-1,,",
        "T-2,task,Send quote,,,2023-06-01T09:00:00,false,,A-1,,",
    )
    job = run_import(admin_member, "activities", text)
    assert (job.created, job.failed) == (2, 0), job.row_errors
    with tenant_context(tenant):
        call = Activity.objects.select_related("owner").get(external_id="T-1")
        assert call.done and call.occurred_at == at(2023, 5, 5, 3) and call.account_id == account.pk
        assert call.owner.email == "caller@alpha.test"
        task = Activity.objects.get(external_id="T-2")
        assert not task.done and task.due_at == at(2023, 6, 1, 9, tz=SHANGHAI)


def test_bad_rows_are_reported_and_good_rows_kept(tenant, admin_member, run_import):
    text = csv_text(
        "external_id,first_name,last_name,email,status,owner_email,created_at,ignored_column",
        "G-1,Good,One,good1@example.com,new,,2024-01-01T00:00:00Z,x",
        "B-1,Bad,Date,bad1@example.com,new,,yesterday,x",
        "",
        "B-2,Bad,Status,bad2@example.com,hot,,,x",
        "B-3,Bad,Owner,bad3@example.com,new,nobody@alpha.test,,x",
        "G-2,Good,Two,good2@example.com,working,,,x",
        "B-4,,,,new,,,x",
    )
    job = run_import(admin_member, "leads", text)
    assert (job.total, job.processed, job.created, job.failed) == (6, 6, 2, 4)
    by_row = {(e["row"], e["column"]) for e in job.row_errors}
    assert by_row == {(3, "created_at"), (5, "status"), (6, "owner_email"), (8, "last_name")}
    assert all(e["reason"] for e in job.row_errors)
    with tenant_context(tenant):
        assert set(Lead.objects.values_list("external_id", flat=True)) == {"G-1", "G-2"}


def test_other_tenants_ids_and_emails_behave_like_missing(tenant, other_tenant, admin_member, run_import):
    foreign_account = AccountFactory(tenant=other_tenant, external_id="SHARED-1")
    CampaignFactory(tenant=other_tenant, external_id="camp-x")
    text = csv_text(
        "external_id,name,owner_email,parent_external_id",
        "A-1,Mine,admin@beta.test,",
        "A-2,Mine too,,SHARED-1",
        "SHARED-1,Same id as theirs,,",
        f"crm-{foreign_account.pk},Their id by number,,",
    )
    job = run_import(admin_member, "accounts", text)
    assert [(e["row"], e["column"]) for e in job.row_errors] == [
        (2, "owner_email"),
        (3, "parent_external_id"),
    ]
    assert job.created == 2
    leads = run_import(
        admin_member, "leads", csv_text("external_id,last_name,campaign_external_id", "L-1,X,camp-x")
    )
    assert [(e["row"], e["column"]) for e in leads.row_errors] == [(2, "campaign_external_id")]
    with tenant_context(tenant):
        assert set(Account.objects.values_list("external_id", flat=True)) == {
            "SHARED-1",
            f"crm-{foreign_account.pk}",
        }
    with tenant_context(other_tenant):
        foreign_account.refresh_from_db()
        assert foreign_account.name != "Same id as theirs"
        assert Account.objects.filter(tenant=other_tenant).count() == 1


def test_bom_crlf_and_case_of_header(tenant, admin_member, run_import):
    text = "\ufeffExternal_ID,Last_Name,EMAIL\r\nL-1,Wang,WANG@example.com\r\n"
    job = run_import(admin_member, "leads", text.encode("utf-8"))
    assert (job.created, job.failed) == (1, 0), job.row_errors
    with tenant_context(tenant):
        assert Lead.objects.get(external_id="L-1").email == "wang@example.com"


@pytest.mark.parametrize(
    "content",
    [b"", "nom,pr\xe9nom\n".encode("latin-1"), b"foo,bar\n1,2\n"],
    ids=["empty", "not-utf8", "no-known-column"],
)
def test_unreadable_file_fails_the_job(tenant, admin_member, run_import, content):
    if not content:
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError):
            run_import(admin_member, "leads", content)
        return
    job = run_import(admin_member, "leads", content)
    assert job.status == ImportStatus.FAILED and job.message
    assert job.created == 0


def test_rep_imports_own_leads_only(tenant, member, run_import):
    rep = member(role=Role.SALES_REP, email="rep@alpha.test")
    other = member(role=Role.SALES_REP, email="other@alpha.test")
    TerritoryMemberFactory(tenant=tenant, territory=TerritoryFactory(tenant=tenant), user=other.user)
    job = run_import(
        rep,
        "leads",
        csv_text("external_id,last_name,owner_email", "L-1,Mine,", "L-2,Theirs,other@alpha.test"),
    )
    assert (job.created, job.failed) == (1, 1)
    assert job.row_errors[0]["column"] == "owner_email"
    with tenant_context(tenant):
        assert Lead.objects.get(external_id="L-1").owner_id == rep.user_id


def test_rep_cannot_import_accounts(tenant, member, run_import):
    from django.core.exceptions import ValidationError

    rep = member(role=Role.SALES_REP)
    with pytest.raises(ValidationError):
        run_import(rep, "accounts", csv_text("external_id,name", "A-1,X"))


def test_resume_skips_committed_rows(tenant, admin_member):
    text = csv_text("external_id,last_name", "L-1,One", "L-2,Two", "L-3,Three")
    job = stored_job(
        tenant, admin_member.user, text, status=ImportStatus.RUNNING, total=3, processed=1, created=1
    )
    import_job_run(tenant=tenant, job_id=job.pk)
    with tenant_context(tenant):
        job.refresh_from_db()
        assert (job.status, job.processed, job.created) == (ImportStatus.DONE, 3, 3)
        assert set(Lead.objects.values_list("external_id", flat=True)) == {"L-2", "L-3"}
        assert not job.file  # the stored file is deleted once the job is done
    import_job_run(tenant=tenant, job_id=job.pk)  # a finished job is left alone
    with tenant_context(tenant):
        assert Lead.objects.count() == 2


def test_chunks_commit_progress_and_share_lookups_across_chunks(
    tenant, admin_member, run_import, monkeypatch
):
    monkeypatch.setattr("imports.services.CHUNK_SIZE", 2)
    monkeypatch.setattr("imports.services.MAX_ROW_ERRORS", 2)
    text = csv_text(
        "external_id,name,parent_external_id,tier",
        "A-1,Parent,,key",
        "A-2,Child of an earlier chunk,A-1,",
        "A-3,Bad tier,,gold",
        "A-4,Bad parent,NOPE,",
        "A-5,Bad again,,silver",
        "A-6,Grandchild,A-2,",
    )
    job = run_import(admin_member, "accounts", text)
    assert (job.total, job.processed, job.created, job.failed) == (6, 6, 3, 3)
    assert [(e["row"], e["column"]) for e in job.row_errors] == [(4, "tier"), (5, "parent_external_id")]
    with tenant_context(tenant):
        assert Account.objects.get(external_id="A-6").parent.external_id == "A-2"
