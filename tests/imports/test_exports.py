"""Exports: role visibility, the list's filters, streaming, file names, and export -> import round trips."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from accounts.models import Account, Activity, Contact, Opportunity
from crm.models import Role
from crm.tenancy import tenant_context
from imports.registry import get_kind
from leads.models import Campaign, Lead
from tests.factories_accounts import AccountFactory
from tests.factories_deals import OpportunityFactory
from tests.factories_leads import LeadFactory
from tests.imports.conftest import csv_text

pytestmark = pytest.mark.django_db


def export(client, tenant, kind: str, **params: str) -> tuple[object, list[dict[str, str]], str]:
    response = client.get(reverse("imports:export", kwargs={"slug": tenant.slug, "kind": kind}), params)
    assert response.status_code == 200, response
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    return response, rows, text


def test_export_file_name_columns_and_streaming(tenant, admin_member, client_for):
    LeadFactory(tenant=tenant, external_id="L-1", last_name="Zhao")
    response, rows, text = export(client_for(admin_member), tenant, "leads")
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="alpha-leads-') and disposition.endswith('.csv"')
    header = text.removeprefix("\ufeff").splitlines()[0].split(",")
    assert tuple(header) == get_kind("leads").columns
    assert [(row["external_id"], row["last_name"]) for row in rows] == [("L-1", "Zhao")]


def test_rep_export_contains_only_their_rows(tenant, member, client_for):
    rep = member(role=Role.SALES_REP)
    other = member(role=Role.SALES_REP)
    LeadFactory(tenant=tenant, owner=rep.user, external_id="mine")
    LeadFactory(tenant=tenant, owner=other.user, external_id="theirs")
    LeadFactory(tenant=tenant, owner=None, external_id="pool")
    mine = AccountFactory(tenant=tenant, owner=rep.user, external_id="acc-mine")
    theirs = AccountFactory(tenant=tenant, owner=other.user, external_id="acc-theirs")
    OpportunityFactory(tenant=tenant, account=mine, owner=rep.user, external_id="deal-mine")
    OpportunityFactory(tenant=tenant, account=theirs, owner=other.user, external_id="deal-theirs")
    client = client_for(rep)
    assert [r["external_id"] for r in export(client, tenant, "leads")[1]] == ["mine"]
    assert [r["external_id"] for r in export(client, tenant, "opportunities")[1]] == ["deal-mine"]
    assert [r["external_id"] for r in export(client, tenant, "accounts")[1]] == ["acc-mine"]
    admin_rows = export(client_for(member(role=Role.ADMIN)), tenant, "leads")[1]
    assert {r["external_id"] for r in admin_rows} == {"mine", "theirs", "pool"}


def test_export_applies_the_list_filters(tenant, admin_member, member, client_for):
    rep = member(role=Role.SALES_REP)
    AccountFactory(tenant=tenant, owner=rep.user, external_id="a-1", tier="key")
    AccountFactory(tenant=tenant, owner=rep.user, external_id="a-2", tier="standard")
    client = client_for(admin_member)
    assert [r["external_id"] for r in export(client, tenant, "accounts", tier="key")[1]] == ["a-1"]
    OpportunityFactory(tenant=tenant, external_id="o-1", type="renewal")
    OpportunityFactory(tenant=tenant, external_id="o-2", type="new_business")
    assert [r["external_id"] for r in export(client, tenant, "opportunities", type="renewal")[1]] == ["o-1"]


def test_export_of_a_kind_the_role_cannot_see_is_404(tenant, member, client_for):
    cs = member(role=Role.CS)
    client = client_for(cs)
    for kind in ("leads", "campaigns", "no-such-kind"):
        url = reverse("imports:export", kwargs={"slug": tenant.slug, "kind": kind})
        assert client.get(url).status_code == 404


def test_export_import_round_trip_updates_the_same_records(tenant, admin_member, client_for, run_import):
    run_import(
        admin_member,
        "campaigns",
        csv_text(
            "external_id,name,channel,source_kind,cost,currency,start_date,end_date",
            "c-1,Expo,event,inbound,1000,CNY,2024-01-01,2024-01-02",
        ),
    )
    run_import(
        admin_member,
        "leads",
        csv_text(
            "external_id,last_name,email,source,campaign_external_id,status,created_at,mql_at",
            "l-1,Wu,wu@example.com,Expo booth,c-1,mql,2023-01-01T00:00:00Z,2023-02-01T00:00:00Z",
        ),
    )
    run_import(
        admin_member,
        "accounts",
        csv_text("external_id,name,tier,created_at", "a-1,Parent Co,key,2022-01-01", "a-2,Child Co,,"),
    )
    run_import(
        admin_member,
        "opportunities",
        csv_text(
            "external_id,account_external_id,lead_external_id,name,stage,amount,created_at,closed_at",
            "o-1,a-1,l-1,Deal one,Proposal,1000,2023-01-01T00:00:00Z,",
            "o-2,a-1,,Deal two,Closed won,2000,2023-01-01T00:00:00Z,2023-04-01T00:00:00Z",
        ),
    )
    # Records made by hand have no external id: the export names them "crm-<id>" and the import finds them.
    with tenant_context(tenant):
        account = Account.objects.get(external_id="a-2")
        Account.objects.filter(pk=account.pk).update(external_id="")
        Contact.objects.create(tenant=tenant, account=account, last_name="Handmade", email="hand@example.com")
        Activity.objects.create(
            tenant=tenant,
            kind="call",
            subject="Hello",
            account=account,
            done=True,
            occurred_at=account.created_at,
        )
    client = client_for(admin_member)
    models = {
        "campaigns": Campaign,
        "leads": Lead,
        "accounts": Account,
        "contacts": Contact,
        "opportunities": Opportunity,
        "activities": Activity,
    }
    for kind, model in models.items():
        _response, rows, text = export(client, tenant, kind)
        with tenant_context(tenant):
            before = model.objects.count()
        assert rows and before == len(rows)
        job = run_import(admin_member, kind, text)
        assert (job.created, job.updated, job.failed) == (0, len(rows), 0), (kind, job.row_errors)
        with tenant_context(tenant):
            assert model.objects.count() == before
        assert export(client, tenant, kind)[1] == rows, kind
    with tenant_context(tenant):
        assert Account.objects.get(pk=account.pk).external_id == f"crm-{account.pk}"
        deal = Opportunity.objects.get(external_id="o-2")
        assert deal.closed_at.isoformat() == "2023-04-01T00:00:00+00:00"


def test_exported_cells_that_a_spreadsheet_would_run_are_defused_and_reimport_unchanged(
    tenant, admin_member, client_for, run_import
):
    """CSV injection: a company "=HYPERLINK(...)" is written with a leading apostrophe (text in a spreadsheet);
    importing the file takes it off again, so the record does not change. A phone "+86 ..." and a lone "-" can do
    no harm and are written as they are (issue 10), as are plain numbers like a negative amount."""
    LeadFactory(
        tenant=tenant,
        external_id="L-1",
        last_name="Zhao",
        company='=HYPERLINK("http://evil.example","Click")',
        phone="+86 138 0013 8000",
        title="-",
    )
    client = client_for(admin_member)
    _response, rows, text = export(client, tenant, "leads")
    assert rows[0]["company"] == '\'=HYPERLINK("http://evil.example","Click")'
    assert rows[0]["phone"] == "+86 138 0013 8000"
    assert rows[0]["title"] == "-"
    job = run_import(admin_member, "leads", text)
    assert (job.updated, job.failed) == (1, 0), job.row_errors
    with tenant_context(tenant):
        lead = Lead.objects.get(external_id="L-1")
    assert (lead.company, lead.phone, lead.title) == (
        '=HYPERLINK("http://evil.example","Click")',
        "+86 138 0013 8000",
        "-",
    )
    from imports.rows import cell_for_export

    assert cell_for_export("-1500.50") == "-1500.50"
