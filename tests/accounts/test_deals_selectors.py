"""Role visibility of deals (selectors, pages, API, board, form choices) and the board/list/page selectors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.filters.opportunities import PeriodChoice, period_range
from accounts.models import AccountMember, Opportunity, Pipeline
from accounts.selectors import opportunities as opportunities_selectors
from accounts.selectors import opportunity_board as opportunity_board_selectors
from accounts.selectors import visibility as visibility_selectors
from accounts.services import opportunities as opportunities_services
from crm.dates import tenant_today
from crm.models import Role
from crm.tenancy import tenant_context
from tests.factories_deals import deal_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant, member):
    """East team: manager, rep, rep2; West: rep_w; plus ops, cs. Deals of each seller, a renewal, a customer."""
    people = {
        "manager": member(role=Role.SALES_MANAGER, team="East"),
        "rep": member(role=Role.SALES_REP, team="East"),
        "rep2": member(role=Role.SALES_REP, team="East"),
        "rep_w": member(role=Role.SALES_REP, team="West"),
        "ops": member(role=Role.OPS),
        "cs": member(role=Role.CS),
    }
    with tenant_context(tenant):
        from crm.models import Membership

        people["admin"] = Membership.objects.select_related("user").get(role=Role.ADMIN)
    accounts = {
        "rep": deal_account(tenant, owner=people["rep"].user, name="Rep account"),
        "rep2": deal_account(tenant, owner=people["rep2"].user, name="Rep2 account"),
        "rep_w": deal_account(tenant, owner=people["rep_w"].user, name="West account"),
        "customer": deal_account(
            tenant, owner=people["rep_w"].user, name="Customer", lifecycle_stage="retention"
        ),
    }
    deals = {}
    with tenant_context(tenant):
        for key in ("rep", "rep2", "rep_w"):
            deals[key] = opportunities_services.opportunity_create(
                tenant=tenant, actor=people[key].user, account=accounts[key], name=f"{key} deal", amount=100
            )
        deals["customer"] = opportunities_services.opportunity_create(
            tenant=tenant,
            actor=people["rep_w"].user,
            account=accounts["customer"],
            name="customer deal",
            amount=100,
        )
        deals["renewal"] = opportunities_services.opportunity_create(
            tenant=tenant,
            actor=people["rep_w"].user,
            account=accounts["rep_w"],
            name="renewal deal",
            amount=100,
            type="renewal",
        )
        # rep works (read only) on rep2's account
        AccountMember.objects.create(
            tenant=tenant, account=accounts["rep2"], user=people["rep"].user, access="read"
        )
    return people, accounts, deals


def visible(tenant, membership):
    with tenant_context(tenant):
        return set(
            opportunities_selectors.opportunity_list(tenant=tenant, membership=membership).values_list(
                "name", flat=True
            )
        )


ALL = {"rep deal", "rep2 deal", "rep_w deal", "customer deal", "renewal deal"}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin", ALL),
        ("ops", ALL),
        ("manager", {"rep deal", "rep2 deal"}),
        ("rep", {"rep deal", "rep2 deal"}),  # rep2's via the read-only account team row
        ("rep2", {"rep2 deal"}),
        ("rep_w", {"rep_w deal", "customer deal", "renewal deal"}),
        ("cs", {"customer deal", "renewal deal"}),
    ],
)
def test_visibility_per_role(tenant, world, role, expected):
    people, _accounts, _deals = world
    assert visible(tenant, people[role]) == expected


@pytest.mark.parametrize(
    ("role", "editable"),
    [
        ("admin", ALL),
        ("ops", set()),
        ("manager", {"rep deal", "rep2 deal"}),
        ("rep", {"rep deal"}),
        ("cs", {"renewal deal"}),
    ],
)
def test_edit_rights_per_role(tenant, world, role, editable):
    people, _accounts, deals = world
    with tenant_context(tenant):
        access = visibility_selectors.DealAccess(people[role])
        assert {
            d.name for d in deals.values() if d.name in visible(tenant, people[role]) and access.can_edit(d)
        } == (editable)


@pytest.mark.parametrize("role", ["manager", "rep", "rep2", "cs"])
def test_invisible_deals_are_404_on_pages_and_api(tenant, world, client_for, api_client_for, role):
    people, _accounts, deals = world
    seen = visible(tenant, people[role])
    client, api = client_for(people[role]), api_client_for(people[role])
    for deal in deals.values():
        page = client.get(reverse("accounts:opportunity-detail", kwargs={"slug": tenant.slug, "pk": deal.pk}))
        remote = api.get(f"/api/v1/t/{tenant.slug}/opportunities/{deal.pk}/")
        expected = 200 if deal.name in seen else 404
        assert (page.status_code, remote.status_code) == (expected, expected), deal.name


def test_board_and_list_show_only_visible_deals(tenant, world, client_for):
    people, _accounts, _deals = world
    client = client_for(people["rep2"])
    board = client.get(reverse("accounts:opportunity-board", kwargs={"slug": tenant.slug}))
    names = {card.name for column in board.context["columns"] for card in column.cards}
    assert names == {"rep2 deal"}
    assert sum(column.count for column in board.context["columns"]) == 1
    listed = client.get(reverse("accounts:opportunity-list", kwargs={"slug": tenant.slug}))
    assert [d.name for d in listed.context["page"].rows] == ["rep2 deal"]


def test_owner_filter_offers_only_visible_people(tenant, world, client_for):
    people, _accounts, _deals = world
    page = client_for(people["manager"]).get(
        reverse("accounts:opportunity-list", kwargs={"slug": tenant.slug})
    )
    with tenant_context(tenant):
        owners = set(page.context["filter"].form.fields["owner"].queryset.values_list("pk", flat=True))
    assert people["rep_w"].user_id not in owners and people["rep"].user_id in owners
    # an owner id outside the scope is an invalid choice: no rows leak
    other = client_for(people["manager"]).get(
        reverse("accounts:opportunity-list", kwargs={"slug": tenant.slug}), {"owner": people["rep_w"].user_id}
    )
    assert all(d.owner_id != people["rep_w"].user_id for d in other.context["page"].rows)


def test_deal_form_offers_only_visible_accounts(tenant, world, client_for):
    people, accounts, _deals = world
    page = client_for(people["rep2"]).get(
        reverse("accounts:opportunity-create", kwargs={"slug": tenant.slug})
    )
    with tenant_context(tenant):
        offered = set(page.context["form"].fields["account"].queryset.values_list("name", flat=True))
    assert offered == {"Rep2 account"}


def test_cs_account_choices_are_customers(tenant, world):
    people, _accounts, _deals = world
    with tenant_context(tenant):
        names = set(
            opportunities_selectors.deal_account_choices(tenant=tenant, membership=people["cs"]).values_list(
                "name", flat=True
            )
        )
    assert "Customer" in names and "Rep account" not in names


def test_board_columns_cap_cards_and_sum_in_reporting_currency(tenant, world):
    people, accounts, _deals = world
    with tenant_context(tenant):
        for index in range(25):
            opportunities_services.opportunity_create(
                tenant=tenant,
                actor=people["rep"].user,
                account=accounts["rep"],
                name=f"bulk {index}",
                amount=10,
            )
        pipeline = Pipeline.objects.get(is_default=True)
        deals = opportunities_selectors.opportunity_list(tenant=tenant, membership=people["admin"])
        columns = opportunity_board_selectors.opportunity_board(
            tenant=tenant, pipeline=pipeline, deals=deals, per_column=10
        )
    first = columns[0]
    assert len(first.cards) == 10 and first.count == 30 and first.has_more
    assert first.amount == Decimal("750.00") and first.weighted == Decimal("75.00")


def test_period_ranges_follow_fiscal_year(tenant):
    tenant.fiscal_year_start_month = 2
    today = dt.date(2026, 4, 15)
    assert period_range(tenant, PeriodChoice.THIS_MONTH, today) == (dt.date(2026, 4, 1), dt.date(2026, 5, 1))
    assert period_range(tenant, PeriodChoice.THIS_QUARTER, today) == (
        dt.date(2026, 2, 1),
        dt.date(2026, 5, 1),
    )
    assert period_range(tenant, PeriodChoice.NEXT_QUARTER, today) == (
        dt.date(2026, 5, 1),
        dt.date(2026, 8, 1),
    )


def test_close_period_filter_uses_close_date_of_closed_deals(tenant, world, client_for):
    people, accounts, deals = world
    today = tenant_today(tenant)  # "this month" is the tenant's month, not the server's
    with tenant_context(tenant):
        opportunities_services.opportunity_update(
            tenant=tenant,
            actor=people["admin"].user,
            opportunity=deals["rep"],
            version=None,
            expected_close_date=today + dt.timedelta(days=400),
        )
        opportunities_services.opportunity_mark_won(
            tenant=tenant, actor=people["admin"].user, opportunity=deals["rep2"]
        )
        Opportunity.objects.filter(pk=deals["rep_w"].pk).update(expected_close_date=today)
    response = client_for(people["admin"]).get(
        reverse("accounts:opportunity-list", kwargs={"slug": tenant.slug}), {"close": "this_month"}
    )
    names = {d.name for d in response.context["page"].rows}
    assert "rep2 deal" in names and "rep_w deal" in names and "rep deal" not in names
    custom = client_for(people["admin"]).get(
        reverse("accounts:opportunity-list", kwargs={"slug": tenant.slug}),
        {
            "close": "custom",
            "close_from": str(today + dt.timedelta(days=399)),
            "close_to": str(today + dt.timedelta(days=401)),
        },
    )
    assert [d.name for d in custom.context["page"].rows] == ["rep deal"]
