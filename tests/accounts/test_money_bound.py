"""Issue 12 item 6: money is bounded to crm.money.MAX_AMOUNT (9,999,999,999,999.99, below 10^13 in the field's
currency) with one clear message, in forms (deal, lead conversion, campaign), the API and imports; the largest
amount itself is kept."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Opportunity, Stage
from accounts.services import opportunities as opportunities_services
from crm.models import Role
from crm.money import MAX_AMOUNT, amount_too_large
from crm.tenancy import tenant_context
from leads.models import Campaign
from leads.services import campaigns as campaign_services
from tests.factories_accounts import AccountFactory
from tests.factories_deals import deal_account
from tests.imports.conftest import csv_text, run_import  # noqa: F401 (run_import: a fixture)

pytestmark = pytest.mark.django_db

MESSAGE = "This amount is too large: amounts go up to 9,999,999,999,999.99."
HUGE = "9999999999999999"  # the 9,999,999,999,999,999


@pytest.fixture
def rep(member):
    return member(role=Role.SALES_REP, team="East")


def test_the_bound():
    assert Decimal("9999999999999.99") == MAX_AMOUNT
    assert not amount_too_large(MAX_AMOUNT) and amount_too_large(MAX_AMOUNT + Decimal("0.01"))
    assert amount_too_large(HUGE) and amount_too_large(-Decimal(HUGE))


def test_deal_services_refuse_too_large_amounts(tenant, rep, in_tenant):
    account = deal_account(tenant, owner=rep.user)
    with pytest.raises(ValidationError) as error:
        opportunities_services.opportunity_create(
            tenant=tenant, actor=rep.user, account=account, name="Typo", amount=Decimal(HUGE)
        )
    assert error.value.message_dict == {"amount": [MESSAGE]}
    deal = opportunities_services.opportunity_create(
        tenant=tenant, actor=rep.user, account=account, name="Largest", amount=MAX_AMOUNT
    )
    with pytest.raises(ValidationError) as error:
        opportunities_services.opportunity_update(
            tenant=tenant, actor=rep.user, opportunity=deal, version=deal.version, amount=Decimal("1e13")
        )
    assert error.value.message_dict == {"amount": [MESSAGE]}


def test_deal_form_says_so_and_keeps_the_input(tenant, rep, client_for):
    account = deal_account(tenant, owner=rep.user, name="Harbor Robotics")
    with tenant_context(tenant):
        qualification = Stage.objects.get(pipeline__is_default=True, name="Qualification")
    data = {
        "name": "Robots",
        "account": account.pk,
        "type": "new_business",
        "amount": HUGE,
        "currency": tenant.currency,
        "stage": qualification.pk,
        "forecast_category": "pipeline",
        "owner": rep.user.pk,
    }
    client = client_for(rep)
    url = reverse("accounts:opportunity-create", kwargs={"slug": tenant.slug})
    response = client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count(MESSAGE) == 1 and f'value="{HUGE}"' in html and 'value="Robots"' in html
    data["amount"] = "9999999999999.99"
    assert client.post(url, data).status_code == 302
    with tenant_context(tenant):
        assert Opportunity.objects.get(name="Robots").amount == MAX_AMOUNT


def test_api_refuses_too_large_amounts(tenant, rep, api_client_for):
    account = deal_account(tenant, owner=rep.user)
    client = api_client_for(rep)
    base = f"/api/v1/t/{tenant.slug}/opportunities/"
    response = client.post(base, {"account": account.pk, "name": "Typo", "amount": HUGE}, format="json")
    assert response.status_code == 400
    assert MESSAGE in str(response.json())
    created = client.post(
        base, {"account": account.pk, "name": "Big", "amount": "9999999999999.99"}, format="json"
    )
    assert created.status_code == 201 and created.json()["amount"] == "9999999999999.99"
    deal = created.json()
    response = client.patch(
        f"{base}{deal['id']}/", {"amount": "10000000000000", "version": deal["version"]}, format="json"
    )
    assert response.status_code == 400 and MESSAGE in str(response.json())


def test_import_refuses_too_large_amounts_and_costs(tenant, admin_member, run_import):  # noqa: F811
    AccountFactory(tenant=tenant, external_id="acc-1")
    job = run_import(
        admin_member,
        "opportunities",
        csv_text(
            "external_id,account_external_id,name,amount",
            f"d-1,acc-1,Typo,{HUGE}",
            "d-2,acc-1,Largest,9999999999999.99",
        ),
    )
    assert (job.created, job.failed) == (1, 1)
    assert [(e["row"], e["column"], e["reason"]) for e in job.row_errors] == [(2, "amount", MESSAGE)]
    job = run_import(
        admin_member,
        "campaigns",
        csv_text(
            "external_id,name,channel,cost,currency,start_date,end_date",
            f"c-1,Expo,event,{HUGE},CNY,2026-04-01,2026-04-03",
        ),
    )
    assert [(e["row"], e["column"], e["reason"]) for e in job.row_errors] == [(2, "cost", MESSAGE)]
    with tenant_context(tenant):
        assert not Campaign.objects.filter(external_id="c-1").exists()


def test_campaign_form_and_service_refuse_too_large_costs(tenant, member, client_for):
    ops = member(role=Role.OPS)
    data = {
        "name": "Spring expo",
        "channel": "event",
        "cost": HUGE,
        "currency": "CNY",
        "start_date": "2026-04-01",
        "end_date": "2026-04-12",
        "owner": ops.user_id,
    }
    response = client_for(ops).post(reverse("leads:campaign-create", kwargs={"slug": tenant.slug}), data)
    html = response.content.decode()
    assert response.status_code == 200 and MESSAGE in html and "Spring expo" in html
    with tenant_context(tenant), pytest.raises(ValidationError) as error:
        campaign_services.campaign_create(
            tenant=tenant,
            actor=ops.user,
            name="Typo",
            channel="event",
            cost=Decimal(HUGE),
            currency="CNY",
            start_date=datetime.date(2026, 4, 1),
            end_date=datetime.date(2026, 4, 2),
            owner=ops.user,
        )
    assert error.value.message_dict["cost"] == [MESSAGE]
