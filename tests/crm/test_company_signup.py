"""Issue 12, "Signing up a second company while logged in": the page asks only for the company (name and address),
defaults the time zone, currency and language to the company the user comes from, and makes the user the new
company's admin without asking for their name, email or password again."""

from __future__ import annotations

import pytest
from django.test import Client

from crm.models import Membership, MembershipStatus, Role, Tenant, User
from crm.tenancy import tenant_context
from tests.conftest import make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def berlin_admin(admin_member):
    Tenant.objects.filter(pk=admin_member.tenant_id).update(
        time_zone="Europe/Berlin", currency="EUR", default_locale="zh-hans"
    )
    return admin_member


def test_logged_in_signup_asks_only_for_the_company_with_the_current_settings(berlin_admin, client_for):
    client = client_for(berlin_admin)
    response = client.get("/signup/", {"from": berlin_admin.tenant.slug})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="company_name"' in body and 'name="slug"' in body
    for asked_again in ("admin_name", "admin_email", "admin_password"):
        assert f'name="{asked_again}"' not in body
    assert berlin_admin.user.email in body
    form = response.context["form"]
    assert (form["time_zone"].value(), form["currency"].value(), form["default_locale"].value()) == (
        "Europe/Berlin",
        "EUR",
        "zh-hans",
    )


def test_logged_in_signup_creates_the_company_with_the_user_as_admin(berlin_admin, client_for):
    client = client_for(berlin_admin)
    page = client.get("/signup/", {"from": berlin_admin.tenant.slug})
    form = page.context["form"]
    data = {name: form[name].value() for name in ("time_zone", "currency", "default_locale")}
    data.update(company_name="Delta 德尔塔", slug="delta", **{"from": berlin_admin.tenant.slug})
    users_before = User.objects.count()
    response = client.post("/signup/", data)
    assert response.status_code == 302
    assert response["Location"] == "/t/delta/"
    tenant = Tenant.objects.get(slug="delta")
    assert (tenant.name, tenant.time_zone, tenant.currency, tenant.default_locale) == (
        "Delta 德尔塔",
        "Europe/Berlin",
        "EUR",
        "zh-hans",
    )
    assert User.objects.count() == users_before
    with tenant_context(tenant):
        membership = Membership.objects.get(user=berlin_admin.user)
    assert (membership.role, membership.status) == (Role.ADMIN, MembershipStatus.ACTIVE)
    assert client.get("/t/delta/").status_code == 200
    # Still a member of the first company, with the same session.
    assert client.get(f"/t/{berlin_admin.tenant.slug}/").status_code == 200


def test_the_defaults_come_from_a_company_of_the_user_only(berlin_admin, client_for):
    """`from` naming a company the user is not a member of is ignored (their own first company is used)."""
    make_tenant("omega", time_zone="America/New_York", currency="USD")
    response = client_for(berlin_admin).get("/signup/", {"from": "omega"})
    assert response.context["form"]["time_zone"].value() == "Europe/Berlin"
    assert "omega" not in response.content.decode().split('data-testid="company-signup-form"')[1]


def test_logged_in_signup_keeps_the_typed_company_on_a_taken_address(berlin_admin, client_for):
    client = client_for(berlin_admin)
    data = {
        "company_name": "Another 另一家",
        "slug": berlin_admin.tenant.slug,
        "time_zone": "Europe/Berlin",
        "currency": "EUR",
        "default_locale": "en",
    }
    response = client.post("/signup/", data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "This address is taken" in body
    assert 'value="Another 另一家"' in body
    assert not Tenant.objects.filter(name="Another 另一家").exists()


def test_logged_out_signup_still_asks_for_the_first_admin():
    body = Client().get("/signup/").content.decode()
    for field in ("company_name", "slug", "admin_name", "admin_email", "admin_password"):
        assert f'name="{field}"' in body


def test_the_company_menu_links_to_signup_from_the_current_company(berlin_admin, client_for):
    body = client_for(berlin_admin).get(f"/t/{berlin_admin.tenant.slug}/").content.decode()
    assert f'href="/signup/?from={berlin_admin.tenant.slug}" data-testid="new-company"' in body
