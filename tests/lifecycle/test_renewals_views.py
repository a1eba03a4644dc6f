"""The renewals page: windows with counts, one row's contents (MRR, health, last touch, deal stage and owner), exact
query count, CSV export of what is on screen, bulk assign, accepting the next term, roles."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Opportunity, StageKind
from crm.dates import tenant_today
from crm.models import Role
from crm.tenancy import tenant_context
from lifecycle.models import Subscription
from lifecycle.services.renewals import subscription_create_renewal_deal
from tests.factories_accounts import AccountFactory, ActivityFactory
from tests.factories_cs import HealthScoreFactory
from tests.factories_lifecycle import SubscriptionFactory

pytestmark = pytest.mark.django_db


def url(name, tenant, **kwargs):
    return reverse(f"lifecycle:{name}", kwargs={"slug": tenant.slug, **kwargs})


@pytest.fixture
def cs(member):
    return member(role=Role.CS)


@pytest.fixture
def today(tenant):
    return tenant_today(tenant)


def ending(tenant, days, *, owner=None, mrr="1000", name=None, deal=True):
    account = AccountFactory(
        tenant=tenant, lifecycle_stage="retention", owner=owner, **({"name": name} if name else {})
    )
    end = tenant_today(tenant) + dt.timedelta(days=days)
    sub = SubscriptionFactory(
        tenant=tenant,
        account=account,
        mrr=Decimal(mrr),
        start_date=end - dt.timedelta(days=365),
        end_date=end,
    )
    if deal:
        with tenant_context(tenant):
            subscription_create_renewal_deal(tenant=tenant, subscription_id=sub.pk)
            sub.refresh_from_db()
        sub.account = account
    return sub


def test_windows_count_and_show_their_rows(tenant, cs, client_for):
    ending(tenant, 5, name="Soon")
    ending(tenant, 45, name="Later")
    ending(tenant, 75, name="Latest")
    ending(tenant, -3, name="Overdue")
    ending(tenant, -40, name="Long gone")  # beyond the 30 grace days: churned, not overdue
    ending(tenant, 200, name="Far")
    client = client_for(cs)
    body = client.get(url("renewal-list", tenant)).content.decode()
    for key, count in {"overdue": 1, "30": 1, "60": 1, "90": 1, "won": 0}.items():
        assert f'data-testid="renewal-count-{key}">{count}<' in body
    assert ">Soon</a>" in body and ">Later</a>" not in body
    assert body.count('data-testid="renewal-row"') == 1
    overdue = client.get(url("renewal-list", tenant), {"window": "overdue"}).content.decode()
    assert ">Overdue</a>" in overdue and ">Long gone</a>" not in overdue


def test_a_row_shows_mrr_health_last_touch_stage_and_owner(tenant, cs, member, client_for):
    owner = member(role=Role.SALES_REP, email="li.wei@example.test")
    sub = ending(tenant, 10, owner=owner.user, mrr="1234.5", name="Huaxin")
    HealthScoreFactory(tenant=tenant, account=sub.account, score=37)
    touched = timezone.now() - dt.timedelta(days=3)
    ActivityFactory(tenant=tenant, account=sub.account, done=True, occurred_at=touched)
    ActivityFactory(tenant=tenant, account=sub.account, done=False, occurred_at=timezone.now())
    body = client_for(cs).get(url("renewal-list", tenant)).content.decode()
    assert "1,234.50 CNY" in body
    assert ">37<" in body
    assert date_format(timezone.localtime(touched, tenant.tzinfo).date(), "SHORT_DATE_FORMAT") in body
    assert "Qualification" in body
    assert owner.user.display_name in body


def test_renewals_page_query_count(tenant, cs, client_for, django_assert_num_queries):
    for days in (3, 8, 13, 21, 29):
        ending(tenant, days)
    client = client_for(cs)
    client.get(url("renewal-list", tenant))
    # Session, user, tenant, savepoint + RLS settings, membership, lifecycle settings, window counts, the page's
    # rows (deal, stage, owners, health, last touch in the same query), a membership lookup of the menu, the two
    # choosers (owners filter, assignable owners), RLS reset and savepoint release. The account filter lists only
    # the chosen account (crm.widgets.ChosenOnlySelect): no query when none is chosen, whatever the accounts.
    with django_assert_num_queries(14):
        response = client.get(url("renewal-list", tenant))
    assert response.content.decode().count('data-testid="renewal-row"') == 5


def test_csv_export_is_what_is_on_screen(tenant, cs, client_for):
    for days, name in ((3, "Alpha Co"), (9, "Beta Co"), (50, "Gamma Co")):
        ending(tenant, days, name=name)
    client = client_for(cs)
    page = client.get(url("renewal-list", tenant), {"window": "30"}).content.decode()
    response = client.get(url("renewal-export", tenant), {"window": "30"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode().removeprefix("\ufeff"))))
    assert rows[0] == [
        "Account",
        "Plan",
        "End date",
        "MRR",
        "Currency",
        "Health",
        "Last touch",
        "Deal stage",
        "Deal owner",
    ]
    assert [row[0] for row in rows[1:]] == ["Alpha Co", "Beta Co"]
    assert page.count('data-testid="renewal-row"') == len(rows) - 1
    for row in rows[1:]:
        # The file keeps ISO dates (for spreadsheets); the page shows the same day in its language's format.
        shown_end = date_format(dt.date.fromisoformat(row[2]), "SHORT_DATE_FORMAT")
        assert row[0] in page and shown_end in page and row[7] in page


def test_bulk_assign_gives_the_checked_deals_to_the_new_owner(tenant, cs, member, client_for):
    target = member(role=Role.SALES_REP)
    one, two = ending(tenant, 4), ending(tenant, 6)
    response = client_for(cs).post(
        url("renewal-assign", tenant),
        {"deal": [one.renewal_opportunity_id, two.renewal_opportunity_id], "owner": target.user_id},
    )
    assert response.status_code == 302
    with tenant_context(tenant):
        owners = set(
            Opportunity.objects.filter(
                pk__in=[one.renewal_opportunity_id, two.renewal_opportunity_id]
            ).values_list("owner_id", flat=True)
        )
    assert owners == {target.user_id}


def test_bulk_assign_of_an_invisible_deal_is_404(tenant, member, client_for):
    rep = member(role=Role.SALES_MANAGER, team="East")
    theirs = ending(tenant, 4)
    response = client_for(rep).post(
        url("renewal-assign", tenant), {"deal": [theirs.renewal_opportunity_id], "owner": rep.user_id}
    )
    assert response.status_code == 404


def test_won_renewal_offers_the_next_term_on_the_page_and_accepting_creates_it(tenant, cs, client_for):
    sub = ending(tenant, 20, mrr="1000")
    with tenant_context(tenant):
        won = Opportunity.objects.get(pk=sub.renewal_opportunity_id).pipeline.stages.get(kind=StageKind.WON)
        Opportunity.objects.filter(pk=sub.renewal_opportunity_id).update(stage=won, amount=Decimal("24000"))
    client = client_for(cs)
    body = client.get(url("renewal-list", tenant), {"window": "won"}).content.decode()
    assert 'data-testid="next-term-form"' in body
    assert 'value="2000.00"' in body  # 24,000 over 12 months
    prefix = f"next-{sub.pk}"
    response = client.post(
        url("subscription-next-term", tenant, pk=sub.pk),
        {
            f"{prefix}-plan": "Next",
            f"{prefix}-mrr": "2000.00",
            f"{prefix}-currency": "CNY",
            f"{prefix}-start_date": sub.end_date.isoformat(),
            f"{prefix}-end_date": (sub.end_date + dt.timedelta(days=365)).isoformat(),
        },
    )
    assert response.status_code == 302
    with tenant_context(tenant):
        assert Subscription.objects.get(renews_from=sub).plan == "Next"
    assert "renewal-row" not in client.get(url("renewal-list", tenant), {"window": "won"}).content.decode()


def test_reps_have_no_renewals_menu_but_see_only_their_own(tenant, member, client_for):
    rep = member(role=Role.SALES_REP)
    ending(tenant, 5, owner=rep.user, name="Rep account")
    ending(tenant, 5, name="Someone else's")
    body = client_for(rep).get(url("renewal-list", tenant)).content.decode()
    assert ">Rep account</a>" in body and "Someone else" not in body
    assert 'data-testid="renewal-assign"' not in body


def test_account_filter_lists_only_the_chosen_account_and_searches_by_name(tenant, cs, client_for):
    """At 100,000 accounts a full <select> cost seconds a page: the filter shows only the chosen account, and a
    name search finds the others (an id the viewer may not see is refused as before:
    tests/lifecycle/test_api_filters_match_pages.py)."""
    first = ending(tenant, 5, name="Aurora Tooling")
    ending(tenant, 9, name="Zephyr Logistics")
    client = client_for(cs)
    page = client.get(url("renewal-list", tenant)).content.decode()
    assert "Aurora Tooling</option>" not in page and "Zephyr Logistics</option>" not in page
    chosen = client.get(url("renewal-list", tenant), {"account": first.account_id}).content.decode()
    assert f'<option value="{first.account_id}" selected>Aurora Tooling</option>' in chosen
    assert "Zephyr Logistics</option>" not in chosen
    assert chosen.count('data-testid="renewal-row"') == 1
    by_name = client.get(url("renewal-list", tenant), {"account_name": "zephyr"}).content.decode()
    assert "Zephyr Logistics" in by_name and "Aurora Tooling" not in by_name
