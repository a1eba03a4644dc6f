"""Value lists in the browser (issue 10): an admin migrating accounts whose company size `1000+` and industry `Cars`
the company's lists do not have yet ticks "Add missing values" on the preview; the job page says what went to
which list, and the account form offers the new values. The same preview in 中文."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Account
from crm import services as crm_services
from crm.models import Role
from crm.tenancy import tenant_context
from tests.factories import PASSWORD, MembershipFactory, UserFactory

SLUG = "listmakers"
ADMIN_EMAIL = f"admin@{SLUG}.test"
ZH_EMAIL = f"zhang@{SLUG}.test"
CSV = "external_id,name,industry,size_band,region\na-1,Huaxin,Cars,1000+,\na-2,Dongfang,Cars,51-200,\n"


def log_in(page: Page, email: str) -> None:
    page.goto(f"/login/?next=/t/{SLUG}/imports/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def upload_for_preview(page: Page) -> None:
    page.locator("select[name=kind]").select_option("accounts")
    page.locator("input[name=file]").set_input_files(
        files=[{"name": "accounts.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    page.locator("button[name=action][value=preview]").click()
    expect(page.get_by_test_id("preview-table")).to_be_visible()


@pytest.mark.browser
def test_admin_adds_missing_values_from_the_preview(page: Page, new_context, live_url, screenshot):
    tenant = crm_services.tenant_create(
        slug=SLUG,
        name="List Makers",
        time_zone="Asia/Shanghai",
        currency="CNY",
        admin_email=ADMIN_EMAIL,
        admin_password=PASSWORD,
    )
    MembershipFactory(
        tenant=tenant,
        role=Role.ADMIN,
        user=UserFactory(email=ZH_EMAIL, full_name="张管理", language="zh-hans"),
    )
    log_in(page, ADMIN_EMAIL)
    upload_for_preview(page)
    checkbox = page.get_by_test_id("preview-add-missing-values")
    expect(checkbox).not_to_be_checked()
    checkbox.check()
    screenshot(page, "preview with add missing values ticked")
    page.get_by_test_id("preview-import").click()
    expect(page.get_by_test_id("import-added")).to_contain_text("Added to the list “Company size”: 1000+")
    expect(page.get_by_test_id("import-added")).to_contain_text("Added to the list “Industry”: Cars")
    expect(page.get_by_test_id("count-created")).to_have_text("2")
    screenshot(page, "job page reports the values added")
    with tenant_context(tenant):
        assert dict(Account.objects.values_list("external_id", "size_band")) == {
            "a-1": "1000+",
            "a-2": "51-200",
        }

    page.goto(f"/t/{SLUG}/accounts/new/")
    size = page.locator("select[name=size_band]")
    expect(size.locator("option[value='1000+']")).to_have_count(1)
    expect(page.locator("select[name=industry] option[value='Cars']")).to_have_count(1)
    screenshot(page, "account form offers the company's values")

    zh = new_context().new_page()
    log_in(zh, ZH_EMAIL)
    upload_for_preview(zh)
    expect(zh.get_by_text("将缺失的值添加到公司的取值列表")).to_be_visible()
    screenshot(zh, "preview in chinese")
