"""Industry, company size, region, lost reason and campaign channel come from the company's value lists everywhere
(issue 10): imports refuse unknown values as a row error naming the column and the value unless run with
add_missing_values (the API's multipart field, the preview's checkbox), which adds them and reports them; the
forms and the API refuse them with a 400; a retired value stays on the records that have it but is not offered
or accepted for new ones; the data migration adds the values records already use to their company's lists."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import translation

from accounts.models import Account, Opportunity, StageKind
from accounts.services.opportunities import opportunity_create
from accounts.services.pipelines import pipeline_default
from crm import value_lists
from crm.models import Role
from crm.tenancy import tenant_context
from imports.models import ImportJob
from leads.models import Campaign, Lead
from tests.factories_accounts import AccountFactory
from tests.factories_deals import deal_account
from tests.factories_leads import LeadFactory
from tests.factories_ops import CampaignFactory
from tests.imports.conftest import csv_text

pytestmark = pytest.mark.django_db

CAMPAIGNS = "external_id,name,channel,source_kind,cost,currency,start_date,end_date"
ACCOUNTS = "external_id,name,industry,size_band,region"
LEADS = "external_id,last_name,company,region,industry"
DEALS = "external_id,account_external_id,name,stage,amount,currency,closed_at,lost_reason"


def listed(tenant, key):
    with tenant_context(tenant):
        return {item.value: item for item in value_lists.value_list(tenant=tenant, list_key=key)}


def add(tenant, actor, key, value, label=""):
    with tenant_context(tenant):
        value_lists.value_add(tenant=tenant, actor=actor, list_key=key, value=value, label=label)


def retire(tenant, actor, key, value):
    with tenant_context(tenant):
        value_lists.value_update(tenant=tenant, actor=actor, list_key=key, value=value, retired=True)


# --- the regression of issue 10: `seo` and `1000+` -----------------------------------------------------------------


def test_channel_seo_and_size_1000_plus_are_refused_by_default(tenant, admin_member, run_import):
    campaigns = run_import(
        admin_member, "campaigns", csv_text(CAMPAIGNS, "c-1,SEO push,seo,,100,CNY,2024-01-01,2024-01-31")
    )
    accounts = run_import(admin_member, "accounts", csv_text(ACCOUNTS, "a-1,Huaxin,,1000+,"))
    assert (campaigns.created, campaigns.failed, accounts.created, accounts.failed) == (0, 1, 0, 1)
    assert campaigns.row_errors == [
        {
            "row": 2,
            "column": "channel",
            "reason": "“seo” is not a value of this company's list of campaign channel; add it to the list first "
            "or import with add_missing_values.",
        }
    ]
    assert accounts.row_errors == [
        {
            "row": 2,
            "column": "size_band",
            "reason": "“1000+” is not a value of this company's list of company size; add it to the list first "
            "or import with add_missing_values.",
        }
    ]
    assert campaigns.added == {} and accounts.added == {}
    assert "seo" not in listed(tenant, "channel") and "1000+" not in listed(tenant, "size_band")
    with tenant_context(tenant):
        assert not Campaign.objects.exists() and not Account.objects.exists()


def test_channel_seo_and_size_1000_plus_are_added_and_reported_with_the_option(
    tenant, admin_member, run_import
):
    campaigns = run_import(
        admin_member,
        "campaigns",
        csv_text(CAMPAIGNS, "c-1,SEO push,seo,,100,CNY,2024-01-01,2024-01-31"),
        add_missing_values=True,
    )
    accounts = run_import(
        admin_member,
        "accounts",
        csv_text(ACCOUNTS, "a-1,Huaxin,,1000+,", "a-2,Dongfang,,1000+,", "a-3,Small,,1–10,"),
        add_missing_values=True,
    )
    assert (campaigns.created, campaigns.failed, accounts.created, accounts.failed) == (1, 0, 3, 0)
    assert campaigns.added == {"values": {"channel": ["seo"]}}
    assert accounts.added == {"values": {"size_band": ["1000+"]}}
    assert listed(tenant, "channel")["seo"].built_in is False
    assert listed(tenant, "size_band")["1000+"].retired is False
    with tenant_context(tenant):
        assert Campaign.objects.get().channel == "seo"
        # A built-in's label ("1–10", an en dash) names its value.
        assert dict(Account.objects.values_list("external_id", "size_band")) == {
            "a-1": "1000+",
            "a-2": "1000+",
            "a-3": "1-10",
        }


def test_the_job_page_reports_the_values_added(tenant, admin_member, run_import, client_for):
    job = run_import(
        admin_member, "accounts", csv_text(ACCOUNTS, "a-1,Huaxin,Cars,1000+,Hainan"), add_missing_values=True
    )
    assert job.added == {"values": {"industry": ["Cars"], "size_band": ["1000+"], "region": ["Hainan"]}}
    page = client_for(admin_member).get(f"/t/{tenant.slug}/imports/{job.pk}/").content.decode()
    added = page.split('data-testid="import-added"')[1].split("</div>")[0]
    assert "Added to the list “Company size”: 1000+" in added
    assert "Added to the list “Industry”: Cars" in added and "Added to the list “Region”: Hainan" in added


# --- industry, region (accounts and leads), lost reason (deals) ----------------------------------------------------


def test_industry_and_region_of_accounts_and_leads(tenant, admin_member, run_import):
    add(tenant, admin_member.user, "industry", "Software")
    refused = run_import(
        admin_member, "accounts", csv_text(ACCOUNTS, "a-1,Huaxin,Cars,,Hainan", "a-2,Ok,software,,")
    )
    assert (refused.created, refused.failed) == (1, 1)
    assert {(error["column"], error["reason"].split(" is ")[0]) for error in refused.row_errors} == {
        ("industry", "“Cars”"),
        ("region", "“Hainan”"),
    }
    leads = run_import(admin_member, "leads", csv_text(LEADS, "l-1,Wang,Acme,Hainan,Cars"))
    assert (leads.created, leads.failed) == (0, 1)
    assert {error["column"] for error in leads.row_errors} == {"region", "industry"}
    added = run_import(
        admin_member, "leads", csv_text(LEADS, "l-1,Wang,Acme,Hainan,Cars"), add_missing_values=True
    )
    assert (added.created, added.failed) == (1, 0), added.row_errors
    assert added.added == {"values": {"region": ["Hainan"], "industry": ["Cars"]}}
    with tenant_context(tenant):
        assert Account.objects.get(external_id="a-2").industry == "Software"  # as the list spells it
        lead = Lead.objects.get(external_id="l-1")
        assert (lead.region, lead.industry) == ("Hainan", "Cars")


def test_lost_reason_of_deals(tenant, admin_member, run_import):
    deal_account(tenant, admin_member.user, external_id="A-1")
    refused = run_import(
        admin_member,
        "opportunities",
        csv_text(DEALS, "O-1,A-1,Lost deal,Closed lost,100,CNY,,Aliens"),
    )
    assert (refused.created, refused.failed) == (0, 1)
    assert refused.row_errors[0]["column"] == "lost_reason" and "“Aliens”" in refused.row_errors[0]["reason"]
    added = run_import(
        admin_member,
        "opportunities",
        csv_text(
            DEALS,
            "O-1,A-1,Lost deal,Closed lost,100,CNY,,Aliens",
            "O-2,A-1,Lost too,Closed lost,100,CNY,,price",
        ),
        add_missing_values=True,
    )
    assert (added.created, added.failed) == (2, 0), added.row_errors
    assert added.added == {"values": {"lost_reason": ["Aliens"]}}
    with tenant_context(tenant):
        assert dict(Opportunity.objects.values_list("external_id", "lost_reason")) == {
            "O-1": "Aliens",
            "O-2": "Price",
        }


def test_a_retired_value_stays_on_its_records_but_is_refused_for_others(tenant, admin_member, run_import):
    AccountFactory(tenant=tenant, external_id="a-1", owner=admin_member.user, size_band="5000+")
    retire(tenant, admin_member.user, "size_band", "5000+")
    job = run_import(
        admin_member,
        "accounts",
        csv_text(ACCOUNTS, "a-1,Kept,,5000+,", "a-2,New,,5000+,"),
        add_missing_values=True,
    )
    assert (job.updated, job.created, job.failed) == (1, 0, 1)
    assert job.row_errors[0]["row"] == 3 and job.row_errors[0]["column"] == "size_band"
    assert "retired" in job.row_errors[0]["reason"] and job.added == {}
    with tenant_context(tenant):
        assert Account.objects.get(external_id="a-1").name == "Kept"


def test_only_list_editors_may_add_values(tenant, member, run_import):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        run_import(
            member(role=Role.OPS), "accounts", csv_text(ACCOUNTS, "a-1,X,Cars,,"), add_missing_values=True
        )


# --- API and the browser preview ------------------------------------------------------------------------------------


def test_api_import_with_and_without_add_missing_values(
    tenant, admin_member, api_client_for, django_capture_on_commit_callbacks
):
    client = api_client_for(admin_member)

    def post(**fields):
        upload = SimpleUploadedFile("a.csv", csv_text(ACCOUNTS, "a-1,Huaxin,,1000+,").encode())
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/api/v1/t/{tenant.slug}/imports/",
                {"kind": "accounts", "file": upload, **fields},
                format="multipart",
            )
        assert response.status_code == 201, response.content
        return client.get(f"/api/v1/t/{tenant.slug}/imports/{response.json()['id']}/").json()

    refused = post()
    assert (refused["created"], refused["failed"], refused["added"]) == (0, 1, {})
    assert (
        refused["row_errors"][0]["column"] == "size_band" and "“1000+”" in refused["row_errors"][0]["reason"]
    )
    added = post(add_missing_values="true")
    assert (added["created"], added["failed"], added["added"]) == (1, 0, {"values": {"size_band": ["1000+"]}})


def _preview(client, tenant, text):
    upload = SimpleUploadedFile("legacy.csv", text.encode())
    response = client.post(
        f"/t/{tenant.slug}/imports/",
        {"kind": "accounts", "file": upload, "action": "preview", "encoding": ""},
    )
    assert response.status_code == 302 and response["Location"].endswith("/preview/")
    return response["Location"]


MAPPING = {
    "columns": "5",
    **{f"source-{i}": name for i, name in enumerate(ACCOUNTS.split(","))},
    **{f"target-{i}": name for i, name in enumerate(ACCOUNTS.split(","))},
    "encoding": "",
}


def test_browser_preview_checkbox_adds_missing_values(
    tenant, admin_member, client_for, django_capture_on_commit_callbacks
):
    client = client_for(admin_member)
    location = _preview(client, tenant, csv_text(ACCOUNTS, "a-1,Huaxin,,1000+,"))
    page = client.get(location).content.decode()
    checkbox = page.split('data-testid="preview-add-missing-values"')[0].rsplit("<input", 1)[1]
    assert (
        'name="add_missing_values"' in checkbox
        and "checked" not in page.split('data-testid="preview-add-missing-values"')[1].split(">")[0]
    )
    with django_capture_on_commit_callbacks(execute=True):
        dry = client.post(location, {**MAPPING, "action": "dry_run"})
    with tenant_context(tenant):
        job = ImportJob.objects.get()
        assert (job.failed, job.row_errors[0]["column"]) == (1, "size_band")
    assert "1000+" not in listed(tenant, "size_band")
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(location, {**MAPPING, "action": "import", "add_missing_values": "on"})
    assert dry.status_code == done.status_code == 302
    with tenant_context(tenant):
        job = ImportJob.objects.get()
        assert (job.created, job.failed, job.options["add_missing_values"]) == (1, 0, True)
        assert job.added == {"values": {"size_band": ["1000+"]}}
        assert Account.objects.get().size_band == "1000+"
    assert "1000+" in listed(tenant, "size_band")


def test_browser_preview_offers_the_checkbox_only_to_list_editors(tenant, member, client_for):
    ops = client_for(member(role=Role.OPS))
    page = ops.get(_preview(ops, tenant, csv_text(ACCOUNTS, "a-1,Huaxin,,1000+,"))).content.decode()
    assert 'data-testid="preview-table"' in page and "add_missing_values" not in page


# --- forms and the API ----------------------------------------------------------------------------------------------


def test_account_form_refuses_unknown_values_and_accepts_the_companys_own(tenant, admin_member, client_for):
    client = client_for(admin_member)
    url = reverse("accounts:account-create", kwargs={"slug": tenant.slug})
    form = {"name": "Huaxin", "tier": "standard", "owner": admin_member.user.pk}
    refused = client.post(url, {**form, "industry": "Cars", "size_band": "1000+"})
    assert refused.status_code == 200  # the form again, with its errors
    body = refused.content.decode()
    assert "“Cars” is not a value of this company&#x27;s list of industry." in body
    assert "“1000+” is not a value of this company&#x27;s list of company size." in body
    with tenant_context(tenant):
        assert not Account.objects.exists()
    add(tenant, admin_member.user, "industry", "Cars")
    add(tenant, admin_member.user, "size_band", "1000+", label="More than 1000")
    page = client.get(url).content.decode()
    assert (
        '<option value="1000+">More than 1000</option>' in page
        and '<option value="Cars">Cars</option>' in page
    )
    created = client.post(url, {**form, "industry": "Cars", "size_band": "1000+"})
    assert created.status_code == 302
    with tenant_context(tenant):
        account = Account.objects.get()
        assert (account.industry, account.size_band) == ("Cars", "1000+")


def test_account_edit_keeps_a_retired_value_but_offers_it_to_no_other(tenant, admin_member, client_for):
    add(tenant, admin_member.user, "industry", "Cars")
    with tenant_context(tenant):
        account = AccountFactory(tenant=tenant, owner=admin_member.user, industry="Cars")
        other = AccountFactory(tenant=tenant, owner=admin_member.user)
    retire(tenant, admin_member.user, "industry", "Cars")
    client = client_for(admin_member)
    edit = reverse("accounts:account-edit", kwargs={"slug": tenant.slug, "pk": account.pk})
    assert 'value="Cars"' in client.get(edit).content.decode()
    other_edit = reverse("accounts:account-edit", kwargs={"slug": tenant.slug, "pk": other.pk})
    assert 'value="Cars"' not in client.get(other_edit).content.decode()
    form = {
        "name": "Renamed",
        "tier": account.tier,
        "owner": admin_member.user.pk,
        "version": account.version,
    }
    assert client.post(edit, {**form, "industry": "Cars"}).status_code == 302
    refused = client.post(other_edit, {**form, "version": other.version, "industry": "Cars"})
    assert refused.status_code == 200
    assert "“Cars” is not a value of this company&#x27;s list of industry." in refused.content.decode()
    with tenant_context(tenant):
        assert Account.objects.get(pk=account.pk).name == "Renamed"
        assert Account.objects.get(pk=other.pk).industry != "Cars"


def test_lead_form_refuses_unknown_values(tenant, admin_member, client_for):
    client = client_for(admin_member)
    url = reverse("leads:lead-create", kwargs={"slug": tenant.slug})
    refused = client.post(url, {"last_name": "Wang", "region": "Hainan", "size_band": "1000+"})
    assert refused.status_code == 200
    assert "“Hainan” is not a value of this company&#x27;s list of region." in refused.content.decode()
    with tenant_context(tenant):
        assert not Lead.objects.exists()
    add(tenant, admin_member.user, "region", "Hainan")
    assert (
        client.post(url, {"last_name": "Wang", "region": "hainan", "size_band": "51-200"}).status_code == 302
    )
    with tenant_context(tenant):
        assert Lead.objects.values_list("region", "size_band").get() == ("Hainan", "51-200")


def test_api_refuses_unknown_values_with_a_400_and_accepts_the_companys_own(
    tenant, admin_member, api_client_for
):
    client = api_client_for(admin_member)
    accounts = f"/api/v1/t/{tenant.slug}/accounts/"
    refused = client.post(
        accounts, {"name": "Huaxin", "size_band": "1000+", "region": "Hainan"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["size_band"] == ["“1000+” is not a value of this company's list of company size."]
    assert refused.json()["region"] == ["“Hainan” is not a value of this company's list of region."]
    add(tenant, admin_member.user, "size_band", "1000+")
    created = client.post(accounts, {"name": "Huaxin", "size_band": "1000+"}, format="json")
    assert created.status_code == 201 and created.json()["size_band"] == "1000+"
    leads = f"/api/v1/t/{tenant.slug}/leads/"
    refused = client.post(leads, {"last_name": "Wang", "industry": "Cars"}, format="json")
    assert refused.status_code == 400 and "industry" in refused.json()
    add(tenant, admin_member.user, "industry", "Cars")
    created = client.post(leads, {"last_name": "Wang", "industry": "Cars"}, format="json")
    assert created.status_code == 201, created.content


def test_api_lead_update_keeps_a_retired_value(tenant, admin_member, api_client_for):
    add(tenant, admin_member.user, "region", "Hainan")
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, owner=admin_member.user, region="Hainan")
    retire(tenant, admin_member.user, "region", "Hainan")
    client = api_client_for(admin_member)
    url = f"/api/v1/t/{tenant.slug}/leads/{lead.pk}/"
    kept = client.patch(url, {"version": lead.version, "region": "Hainan", "title": "CTO"}, format="json")
    assert kept.status_code == 200, kept.content
    created = client.post(
        f"/api/v1/t/{tenant.slug}/leads/", {"last_name": "X", "region": "Hainan"}, format="json"
    )
    assert created.status_code == 400 and "region" in created.json()


def test_lost_reason_from_the_list_in_the_api_and_on_the_board(
    tenant, admin_member, api_client_for, client_for
):
    account = deal_account(tenant, admin_member.user)
    with tenant_context(tenant):
        pipeline = pipeline_default(tenant=tenant)
        lost = pipeline.stages.get(kind=StageKind.LOST)
        deal = opportunity_create(
            tenant=tenant, actor=admin_member.user, account=account, name="Deal", amount=100, currency="CNY"
        )
    client = api_client_for(admin_member)
    base = f"/api/v1/t/{tenant.slug}/opportunities/{deal.pk}/"
    refused = client.post(base + "lost/", {"reason": "Aliens"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["reason"] == ["“Aliens” is not a value of this company's list of lost reason."]
    refused = client.post(base + "move/", {"stage": lost.pk, "lost_reason": "Aliens"}, format="json")
    assert refused.status_code == 400 and "lost_reason" in refused.json()
    board = client_for(admin_member).get(reverse("accounts:opportunity-board", kwargs={"slug": tenant.slug}))
    modal = board.content.decode().split('data-testid="lost-reason"')[1].split("</select>")[0]
    assert '<option value="Price">Price</option>' in modal and "Aliens" not in modal
    add(tenant, admin_member.user, "lost_reason", "Aliens")
    moved = client.post(base + "move/", {"stage": lost.pk, "lost_reason": "aliens"}, format="json")
    assert moved.status_code == 200, moved.content
    with tenant_context(tenant):
        assert Opportunity.objects.get(pk=deal.pk).lost_reason == "Aliens"


# --- 中文 labels of the built-in values ---------------------------------------------------------------------------


def test_built_in_values_have_chinese_labels(tenant, admin_member, client_for):
    with translation.override("zh-hans"):
        assert listed(tenant, "lost_reason")["Price"].label == "价格"
        assert listed(tenant, "channel")["paid_search"].label == "付费搜索"
        assert listed(tenant, "size_band")["201-1000"].label == "201–1000"
    assert listed(tenant, "lost_reason")["Price"].label == "Price"
    admin_member.user.language = "zh-hans"
    admin_member.user.save(update_fields=["language"])
    page = client_for(admin_member).get(reverse("accounts:opportunity-board", kwargs={"slug": tenant.slug}))
    page = page.content.decode()
    assert '<option value="Price">价格</option>' in page and '<option value="No budget">' in page


# --- the data migration -------------------------------------------------------------------------------------------


def test_the_migration_adds_the_values_records_use_to_their_companys_lists(
    tenant, other_tenant, admin_member
):
    from importlib import import_module

    migration = import_module("leads.migrations.0010_size_band_from_value_list")
    with tenant_context(tenant):
        AccountFactory(
            tenant=tenant, owner=admin_member.user, industry="Cars", size_band="1000+", region="Hainan"
        )
        LeadFactory(
            tenant=tenant, owner=admin_member.user, industry="Cars", region="Tibet", size_band="11-50"
        )
        CampaignFactory(tenant=tenant, channel="event")
        deal = opportunity_create(
            tenant=tenant,
            actor=admin_member.user,
            account=Account.objects.get(),
            name="Lost",
            amount=100,
            currency="CNY",
            stage=pipeline_default(tenant=tenant).stages.get(kind=StageKind.LOST),
            lost_reason="Aliens",
        )
    migration.add_values_in_use(apps, SimpleNamespace(connection=connection))
    migration.add_values_in_use(apps, SimpleNamespace(connection=connection))  # runs again without duplicates
    assert {value for value, item in listed(tenant, "industry").items()} == {"Cars"}
    assert {value for value, item in listed(tenant, "region").items()} == {"Hainan", "Tibet"}
    assert [item.value for item in listed(tenant, "size_band").values() if not item.built_in] == ["1000+"]
    assert [item.value for item in listed(tenant, "lost_reason").values() if not item.built_in] == ["Aliens"]
    assert [item.value for item in listed(tenant, "channel").values() if not item.built_in] == []
    assert listed(other_tenant, "industry") == {}
    assert deal.lost_reason == "Aliens"


def test_the_demo_adopts_the_values_its_records_use(tenant, admin_member):
    with tenant_context(tenant):
        AccountFactory(
            tenant=tenant, owner=admin_member.user, industry="制造业", region="上海", size_band="51-200"
        )
        added = value_lists.value_lists_adopt_in_use(tenant=tenant)
        assert added == {"industry": ["制造业"], "region": ["上海"]}
        assert value_lists.value_lists_adopt_in_use(tenant=tenant) == {}
    assert "制造业" in listed(tenant, "industry")
