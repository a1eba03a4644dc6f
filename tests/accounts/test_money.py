"""Money: a new reporting currency rebases the exchange-rate table and reprices every deal; rates dated in the
future reach open deals when their day comes (the beat's per-tenant fan-out)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts import tasks
from accounts.models import ExchangeRate, Opportunity
from accounts.services import opportunities as opportunities_services
from accounts.services import rates as rates_services
from accounts.services.rates import rebased_rates
from crm import services as crm_services
from crm.models import Membership, Role, Tenant
from crm.tenancy import tenant_context
from tests.factories_deals import deal_account

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
D1 = dt.date(2025, 1, 1)
D2 = dt.date(2025, 6, 1)


@pytest.fixture
def admin(admin_member):
    return admin_member.user


@pytest.fixture
def account(tenant, admin):
    return deal_account(tenant, owner=admin, name="Haier")


def _rate(tenant, currency, valid_from, rate):
    with tenant_context(tenant):
        return ExchangeRate.objects.create(tenant=tenant, currency=currency, valid_from=valid_from, rate=rate)


def _deal(tenant, actor, account, **kwargs):
    kwargs.setdefault("name", f"Deal {kwargs.get('currency', 'CNY')} {kwargs.get('amount')}")
    with tenant_context(tenant):
        return opportunities_services.opportunity_create(
            tenant=tenant, actor=actor, account=account, **kwargs
        )


def _rates(tenant):
    with tenant_context(tenant):
        return sorted(ExchangeRate.objects.values_list("currency", "valid_from", "rate"))


def _reporting(tenant, deal):
    with tenant_context(tenant):
        return Opportunity.objects.get(pk=deal.pk).amount_reporting


def _switch(tenant, actor, currency):
    return crm_services.tenant_update_settings(tenant=tenant, actor=actor, currency=currency)


# --- the rebase rule --------------------------------------------------------------------------------------------


def test_rebased_rates_divide_by_the_new_currency_and_invert_the_old_one():
    table = {
        "USD": [(D1, Decimal("7")), (D2, Decimal("7.2"))],
        "EUR": [(D1, Decimal("7.7")), (D2, Decimal("7.92"))],
    }
    assert rebased_rates(table=table, old_currency="CNY", new_currency="USD") == {
        "CNY": [(D1, Decimal("0.14285714")), (D2, Decimal("0.13888889"))],
        "EUR": [(D1, Decimal("1.10000000")), (D2, Decimal("1.10000000"))],
    }


def test_rebased_rates_keep_every_conversion_when_the_dates_differ():
    """EUR changes on its own date (the USD rate in force divides) and on USD's dates (EUR's rate in force)."""
    table = {
        "USD": [(D1, Decimal("7")), (D2, Decimal("8"))],
        "EUR": [(D1, Decimal("7.7")), (dt.date(2025, 3, 1), Decimal("8.4"))],
    }
    rebased = rebased_rates(table=table, old_currency="CNY", new_currency="USD")
    assert rebased["EUR"] == [
        (D1, Decimal("1.10000000")),
        (dt.date(2025, 3, 1), Decimal("1.20000000")),
        (D2, Decimal("1.05000000")),
    ]


def test_rebased_rates_refuse_without_the_new_currency_rate():
    with pytest.raises(ValidationError) as exc:
        rebased_rates(table={"EUR": [(D1, Decimal("7.7"))]}, old_currency="CNY", new_currency="USD")
    assert "USD → CNY" in exc.value.message_dict["currency"][0]


def test_rebased_rates_refuse_a_rate_older_than_the_new_currency_rate():
    table = {"USD": [(D2, Decimal("7"))], "EUR": [(D1, Decimal("7.7"))]}
    with pytest.raises(ValidationError) as exc:
        rebased_rates(table=table, old_currency="CNY", new_currency="USD")
    message = exc.value.message_dict["currency"][0]
    assert "USD → CNY" in message and "2025-01-01" in message and "EUR" in message


# --- switching the reporting currency ---------------------------------------------------------------------------


def test_switching_currency_rebases_rates_and_reprices_every_deal(tenant, admin, account):
    _rate(tenant, "USD", D1, "7")
    _rate(tenant, "EUR", D1, "7.7")
    _rate(tenant, "USD", D2, "8")
    _rate(tenant, "EUR", D2, "8.8")
    cny = _deal(tenant, admin, account, amount="100", currency="CNY")
    usd = _deal(tenant, admin, account, amount="10", currency="USD")
    eur = _deal(tenant, admin, account, amount="10", currency="EUR")
    won_in_march = _deal(
        tenant,
        admin,
        account,
        amount="700",
        currency="CNY",
        stage="Closed won",
        created_at=dt.datetime(2025, 2, 1, 10, tzinfo=SHANGHAI),
        closed_at=dt.datetime(2025, 3, 1, 10, tzinfo=SHANGHAI),
    )
    assert _reporting(tenant, cny) == Decimal("100.00")
    assert _reporting(tenant, usd) == Decimal("80.00")

    _switch(tenant, admin, "usd")

    assert Tenant.objects.get(pk=tenant.pk).currency == "USD"
    assert _rates(tenant) == [
        ("CNY", D1, Decimal("0.14285714")),
        ("CNY", D2, Decimal("0.12500000")),
        ("EUR", D1, Decimal("1.10000000")),
        ("EUR", D2, Decimal("1.10000000")),
    ]
    assert _reporting(tenant, cny) == Decimal("12.50")  # open: today's rate, 100 / 8
    assert _reporting(tenant, usd) == Decimal("10.00")  # the new reporting currency: 1:1
    assert _reporting(tenant, eur) == Decimal("11.00")
    # closed: the rate on its close date, 700 / 7
    assert _reporting(tenant, won_in_march) == Decimal("100.00")


def test_switching_back_gives_the_original_amounts(tenant, admin, account):
    _rate(tenant, "USD", D1, "8")
    _rate(tenant, "EUR", D1, "8.8")
    eur = _deal(tenant, admin, account, amount="10", currency="EUR")
    _switch(tenant, admin, "USD")
    _switch(tenant, admin, "CNY")
    assert _rates(tenant) == [("EUR", D1, Decimal("8.80000000")), ("USD", D1, Decimal("8.00000000"))]
    assert _reporting(tenant, eur) == Decimal("88.00")


def test_switching_without_the_needed_rate_is_refused_and_changes_nothing(tenant, admin, account):
    _rate(tenant, "EUR", D1, "7.7")
    deal = _deal(tenant, admin, account, amount="100", currency="CNY")
    with pytest.raises(ValidationError) as exc:
        _switch(tenant, admin, "USD")
    assert "USD → CNY" in exc.value.message_dict["currency"][0]
    assert tenant.currency == "CNY"  # the in-memory tenant is back to its saved values
    assert Tenant.objects.get(pk=tenant.pk).currency == "CNY"
    assert _rates(tenant) == [("EUR", D1, Decimal("7.70000000"))]
    assert _reporting(tenant, deal) == Decimal("100.00")


def test_a_tenant_without_rates_or_deals_to_convert_switches_freely(tenant, admin, account):
    usd_deal = _deal(tenant, admin, account, amount="10", currency="CNY")
    with pytest.raises(ValidationError):  # a CNY deal needs the USD → CNY rate
        _switch(tenant, admin, "USD")
    with tenant_context(tenant):
        Opportunity.objects.filter(pk=usd_deal.pk).update(currency="USD")
    _switch(tenant, admin, "USD")
    assert Tenant.objects.get(pk=tenant.pk).currency == "USD"
    assert _reporting(tenant, usd_deal) == Decimal("10.00")
    assert _rates(tenant) == []


def test_other_settings_leave_rates_and_deals_alone(tenant, admin, account, django_assert_num_queries):
    _rate(tenant, "USD", D1, "7")
    _deal(tenant, admin, account, amount="100", currency="CNY")
    # the saved values, savepoint, full_clean's slug check, the update, release: no rate or deal query
    with django_assert_num_queries(5):
        _switch(tenant, admin, "CNY")
    assert _rates(tenant) == [("USD", D1, Decimal("7.00000000"))]


def test_other_tenants_rates_and_deals_are_untouched(tenant, other_tenant, admin, account):
    _rate(tenant, "USD", D1, "7")
    _rate(other_tenant, "USD", D1, "0.9")
    with tenant_context(other_tenant):
        other_admin = Membership.objects.get(role=Role.ADMIN).user
    other_account = deal_account(other_tenant, owner=other_admin)
    other_deal = _deal(other_tenant, other_admin, other_account, amount="10", currency="USD")
    _switch(tenant, admin, "USD")
    assert _rates(other_tenant) == [("USD", D1, Decimal("0.90000000"))]
    assert _reporting(other_tenant, other_deal) == Decimal("9.00")


def test_settings_page_shows_the_missing_rate_as_a_form_error(tenant, admin_member, client_for):
    _rate(tenant, "EUR", D1, "7.7")
    response = client_for(admin_member).post(
        reverse("crm:tenant-settings", kwargs={"slug": tenant.slug}),
        {
            "name": tenant.name,
            "time_zone": tenant.time_zone,
            "currency": "USD",
            "fiscal_year_start_month": tenant.fiscal_year_start_month,
            "default_locale": tenant.default_locale,
        },
    )
    assert response.status_code == 200
    assert "USD → CNY" in response.context["form"].errors["currency"][0]
    assert Tenant.objects.get(pk=tenant.pk).currency == "CNY"


def test_settings_page_switch_reprices(tenant, admin_member, client_for, account):
    _rate(tenant, "USD", D1, "7")
    deal = _deal(tenant, admin_member.user, account, amount="100", currency="CNY")
    response = client_for(admin_member).post(
        reverse("crm:tenant-settings", kwargs={"slug": tenant.slug}),
        {
            "name": tenant.name,
            "time_zone": tenant.time_zone,
            "currency": "USD",
            "fiscal_year_start_month": tenant.fiscal_year_start_month,
            "default_locale": tenant.default_locale,
        },
    )
    assert response.status_code == 302
    assert _reporting(tenant, deal) == Decimal("14.29")


def test_reprice_of_all_currencies_is_set_based(tenant, admin, account, django_assert_num_queries):
    _rate(tenant, "USD", D1, "7")
    _rate(tenant, "EUR", D1, "8")
    for currency in ("USD", "EUR", "CNY") * 3:
        _deal(tenant, admin, account, amount="10", currency=currency)
    with tenant_context(tenant):
        ExchangeRate.objects.filter(currency="USD").update(rate="7.5")
        Opportunity.objects.filter(currency="CNY").update(amount_reporting=0)
        # savepoint, reporting-currency UPDATE, open UPDATE, closed UPDATE, release
        with django_assert_num_queries(5):
            changed = rates_services.opportunities_reprice(tenant=tenant)
        assert changed == 6
        assert set(Opportunity.objects.filter(currency="USD").values_list("amount_reporting", flat=True)) == {
            Decimal("75.00")
        }
        assert rates_services.opportunities_reprice(tenant=tenant) == 0  # idempotent: nothing left to write


# --- rates dated in the future ----------------------------------------------------------------------------------


def test_beat_runs_the_due_rates_fan_out_hourly():
    entry = settings.CELERY_BEAT_SCHEDULE["accounts-reprice-due-rates"]
    assert entry["task"] == "accounts.tasks.opportunities_reprice_due_all_tenants"
    assert entry["schedule"] == crontab(minute=5)


def test_future_rate_reaches_open_deals_when_its_day_begins(
    tenant, other_tenant, admin, account, monkeypatch
):
    today = timezone.localtime(timezone.now(), SHANGHAI).date()
    tomorrow = today + dt.timedelta(days=1)
    _rate(tenant, "USD", today - dt.timedelta(days=10), "7")
    open_deal = _deal(tenant, admin, account, amount="10", currency="USD")
    won = _deal(tenant, admin, account, amount="10", currency="USD", stage="Closed won")
    _rate(tenant, "USD", tomorrow, "8")
    with tenant_context(tenant):
        rates_services.opportunities_reprice(tenant=tenant, currency="USD")  # what the rate's save enqueues
    assert _reporting(tenant, open_deal) == Decimal("70.00")

    # Tomorrow, five past midnight in Shanghai (17:05 the day before in Berlin: the other tenant waits).
    moment = dt.datetime.combine(tomorrow, dt.time(0, 5), tzinfo=SHANGHAI)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    assert tasks.opportunities_reprice_due_all_tenants() == 1

    assert _reporting(tenant, open_deal) == Decimal("80.00")
    assert _reporting(tenant, won) == Decimal("70.00")  # closed deals keep the rate of their close date


def test_reprice_open_task_skips_inactive_tenants(tenant, admin, account):
    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)
    assert tasks.opportunities_reprice_open_task(tenant.pk) == 0
