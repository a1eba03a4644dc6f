"""The company's value lists (issue 10 item 2): built-ins with translated labels, adding, renaming, retiring (a
retired value stays valid on records that have it), deleting only unused values the company added; the admin
page and the API; campaigns validate their channel against the list; imports refuse unknown values unless run
with add_missing_values, which adds them and reports them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from crm import value_lists
from crm.models import Role, ValueListKey
from crm.tenancy import tenant_context
from leads.models import Campaign, Channel
from leads.services.campaigns import campaign_update
from tests.factories_ops import CampaignFactory
from tests.imports.conftest import csv_text

pytestmark = pytest.mark.django_db

CAMPAIGNS = "external_id,name,channel,source_kind,cost,currency,start_date,end_date"


def values(tenant, key=ValueListKey.CHANNEL):
    with tenant_context(tenant):
        return {item.value: item for item in value_lists.value_list(tenant=tenant, list_key=key)}


def test_built_in_channels_are_the_apps_channels_with_translated_labels(tenant):
    assert [value for value, _label in value_lists.BUILT_IN[ValueListKey.CHANNEL]] == list(Channel.values)
    with translation.override("zh-hans"):
        assert values(tenant)["event"].label == str(dict(Channel.choices)["event"])
        assert values(tenant)["event"].label != "Event / trade show"
    assert values(tenant)["event"].label == "Event / trade show"


def test_add_rename_retire_and_delete(tenant, admin_member):
    with tenant_context(tenant):
        value_lists.value_add(
            tenant=tenant, actor=admin_member.user, list_key="channel", value="seo", label="SEO"
        )
        with pytest.raises(ValidationError):
            value_lists.value_add(tenant=tenant, actor=admin_member.user, list_key="channel", value="SEO")
        value_lists.value_update(
            tenant=tenant, actor=admin_member.user, list_key="channel", value="event", label="Expo"
        )
        value_lists.value_update(
            tenant=tenant, actor=admin_member.user, list_key="channel", value="social", retired=True
        )
    listed = values(tenant)
    assert (listed["seo"].label, listed["seo"].built_in) == ("SEO", False)
    assert listed["event"].label == "Expo" and listed["social"].retired
    with tenant_context(tenant):
        assert "social" not in dict(value_lists.value_list_choices(tenant=tenant, list_key="channel"))
        assert "social" in dict(
            value_lists.value_list_choices(tenant=tenant, list_key="channel", current="social")
        )
        with pytest.raises(ValidationError):
            value_lists.value_delete(
                tenant=tenant, actor=admin_member.user, list_key="channel", value="event"
            )
        CampaignFactory(tenant=tenant, channel="seo")
        with pytest.raises(ValidationError, match="retire it"):
            value_lists.value_delete(tenant=tenant, actor=admin_member.user, list_key="channel", value="seo")
        value_lists.value_add(tenant=tenant, actor=admin_member.user, list_key="region", value="Hainan")
        value_lists.value_delete(tenant=tenant, actor=admin_member.user, list_key="region", value="Hainan")
    assert "Hainan" not in values(tenant, "region")


def test_lists_are_per_company(tenant, other_tenant, admin_member):
    with tenant_context(tenant):
        value_lists.value_add(tenant=tenant, actor=admin_member.user, list_key="channel", value="seo")
    assert "seo" in values(tenant) and "seo" not in values(other_tenant)


def test_a_campaign_takes_an_added_channel_keeps_a_retired_one_and_refuses_others(tenant, admin_member):
    with tenant_context(tenant):
        campaign = CampaignFactory(tenant=tenant, channel="social")
        value_lists.value_update(
            tenant=tenant, actor=admin_member.user, list_key="channel", value="social", retired=True
        )
        campaign = campaign_update(tenant=tenant, actor=admin_member.user, campaign=campaign, name="Renamed")
        assert campaign.channel == "social"
        with pytest.raises(ValidationError):
            campaign_update(tenant=tenant, actor=admin_member.user, campaign=campaign, channel="seo")
        value_lists.value_add(tenant=tenant, actor=admin_member.user, list_key="channel", value="seo")
        campaign = campaign_update(tenant=tenant, actor=admin_member.user, campaign=campaign, channel="seo")
        assert Campaign.objects.get(pk=campaign.pk).channel == "seo"
        with pytest.raises(ValidationError):
            campaign_update(tenant=tenant, actor=admin_member.user, campaign=campaign, channel="social")


def test_import_refuses_unknown_values_without_the_option(tenant, admin_member, run_import):
    job = run_import(
        admin_member, "campaigns", csv_text(CAMPAIGNS, "c-1,SEO push,seo,,100,CNY,2024-01-01,2024-01-31")
    )
    assert (job.created, job.failed) == (0, 1)
    assert job.row_errors[0]["column"] == "channel" and "add_missing_values" in job.row_errors[0]["reason"]
    assert "seo" not in values(tenant)


def test_import_adds_unknown_values_with_the_option_and_reports_them(tenant, admin_member, run_import):
    text = csv_text(
        CAMPAIGNS,
        "c-1,SEO push,seo,,100,CNY,2024-01-01,2024-01-31",
        "c-2,SEO again,SEO,,100,CNY,2024-02-01,2024-02-28",
        "c-3,Expo,Event / trade show,,100,CNY,2024-03-01,2024-03-02",
    )
    job = run_import(admin_member, "campaigns", text, add_missing_values=True)
    assert (job.created, job.failed) == (3, 0), job.row_errors
    assert job.added == {"values": {"channel": ["seo"]}}
    assert values(tenant)["seo"].built_in is False
    with tenant_context(tenant):
        assert sorted(Campaign.objects.values_list("channel", flat=True)) == ["event", "seo", "seo"]


def test_only_admins_may_add_values_by_import(tenant, member, run_import):
    ops = member(role=Role.OPS)
    with pytest.raises(ValidationError):
        run_import(
            ops,
            "campaigns",
            csv_text(CAMPAIGNS, "c-1,X,seo,,1,CNY,2024-01-01,2024-01-02"),
            add_missing_values=True,
        )


def test_api_add_missing_values_multipart_field(
    tenant, admin_member, api_client_for, django_capture_on_commit_callbacks
):
    client = api_client_for(admin_member)
    upload = SimpleUploadedFile(
        "c.csv", csv_text(CAMPAIGNS, "c-1,SEO push,seo,,100,CNY,2024-01-01,2024-01-31").encode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/t/{tenant.slug}/imports/",
            {"kind": "campaigns", "file": upload, "add_missing_values": "true"},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    job = client.get(f"/api/v1/t/{tenant.slug}/imports/{response.json()['id']}/").json()
    assert (job["created"], job["added"]) == (1, {"values": {"channel": ["seo"]}})


def test_value_list_api(tenant, admin_member, member, api_client_for):
    base = f"/api/v1/t/{tenant.slug}/value-lists/"
    admin = api_client_for(admin_member)
    assert {row["key"] for row in admin.get(base).json()} == set(ValueListKey.values)
    created = admin.post(base + "channel/", {"value": "seo", "label": "SEO"}, format="json")
    assert created.status_code == 201 and created.json() == {
        "value": "seo",
        "label": "SEO",
        "built_in": False,
        "retired": False,
    }
    renamed = admin.patch(base + "channel/event/", {"label": "Expo", "retired": True}, format="json")
    assert renamed.status_code == 200 and renamed.json()["label"] == "Expo" and renamed.json()["retired"]
    rep = api_client_for(member(role=Role.SALES_REP))
    listed = rep.get(base + "channel/").json()
    assert {"value": "seo", "label": "SEO", "built_in": False, "retired": False} in listed
    assert rep.post(base + "channel/", {"value": "x"}, format="json").status_code == 403
    assert rep.patch(base + "channel/seo/", {"label": "y"}, format="json").status_code == 403
    assert admin.get(base + "nope/").status_code == 404
    assert admin.patch(base + "channel/nope/", {"label": "y"}, format="json").status_code == 404
    assert admin.delete(base + "channel/event/").status_code == 400
    assert admin.delete(base + "channel/seo/").status_code == 204


def test_value_list_page(tenant, admin_member, member, client_for):
    url = reverse("crm:value-lists", kwargs={"slug": tenant.slug})
    client = client_for(admin_member)
    page = client.get(url, {"list": "channel"})
    assert page.status_code == 200 and 'data-testid="value-list"' in page.content.decode()
    response = client.post(url, {"list": "channel", "action": "add", "value": "seo", "label": "SEO"})
    assert response.status_code == 302
    client.post(url, {"list": "channel", "action": "retire", "value": "seo"})
    assert values(tenant)["seo"].retired
    client.post(url, {"list": "channel", "action": "unretire", "value": "seo"})
    client.post(url, {"list": "channel", "action": "rename", "value": "seo", "label": "Search"})
    assert (values(tenant)["seo"].retired, values(tenant)["seo"].label) == (False, "Search")
    refused = client.post(url, {"list": "channel", "action": "delete", "value": "event"})
    assert refused.status_code == 400 and "event" in values(tenant)
    assert client_for(member(role=Role.OPS)).get(url).status_code in (403, 404)


def test_campaign_form_offers_the_companys_channels(tenant, admin_member, client_for):
    with tenant_context(tenant):
        value_lists.value_add(
            tenant=tenant, actor=admin_member.user, list_key="channel", value="seo", label="SEO"
        )
        value_lists.value_update(
            tenant=tenant, actor=admin_member.user, list_key="channel", value="social", retired=True
        )
    page = (
        client_for(admin_member)
        .get(reverse("leads:campaign-create", kwargs={"slug": tenant.slug}))
        .content.decode()
    )
    assert '<option value="seo">SEO</option>' in page and 'value="social"' not in page
