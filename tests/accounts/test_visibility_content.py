"""Role visibility inside a tenant, checked on what pages and the API actually show (DESIGN.md "Roles and
visibility": an invisible record behaves like a record that does not exist, also inside another page).

The world: account "Harbor Logistics" (a customer, owned by rep2 of team West) carries two deals of rep2 and one
of rep1 (team East, with the manager); rep1 works on the account through their deal but may not see rep2's
deals. Account "Quiet Yard" (not a customer, rep2's) carries rep2's renewal deal, which cs may open.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Activity, ActivityKind, OpportunityType, StageKind
from accounts.selectors import accounts as accounts_selectors
from accounts.services.pipelines import pipeline_default
from crm.models import Membership, Role
from crm.tenancy import tenant_context
from tests.factories_accounts import AccountFactory, ActivityFactory, ContactFactory
from tests.factories_deals import OpportunityContactFactory, OpportunityFactory
from tests.factories_leads import LeadFactory

pytestmark = pytest.mark.django_db

ROLES = ["admin", "ops", "cs", "manager", "rep1", "rep2"]
SECRET, WON, MINE = "Rep2 Secret Deal", "Rep2 Won Deal", "Rep1 Own Deal"
SECRET_NOTE, KICKOFF, FOLLOW_UP = "Secret pricing note", "Kickoff call with Harbor", "Rep1 follow-up"


@dataclass
class World:
    tenant: Any
    people: dict[str, Membership]
    harbor: Any
    quiet: Any
    contact: Any
    quiet_contact: Any
    deals: dict[str, Any]
    renewal: Any
    lead: Any
    rep2_lead: Any


@pytest.fixture
def world(tenant, member, admin_member) -> World:
    people = {
        "admin": admin_member,
        "ops": member(role=Role.OPS),
        "cs": member(role=Role.CS),
        "manager": member(role=Role.SALES_MANAGER, team="East"),
        "rep1": member(role=Role.SALES_REP, team="East"),
        "rep2": member(role=Role.SALES_REP, team="West"),
    }
    rep1, rep2 = people["rep1"].user, people["rep2"].user
    with tenant_context(tenant):
        won_stage = pipeline_default(tenant=tenant).stages.get(kind=StageKind.WON)
    harbor = AccountFactory(tenant=tenant, name="Harbor Logistics", owner=rep2, lifecycle_stage="retention")
    quiet = AccountFactory(tenant=tenant, name="Quiet Yard", owner=rep2, lifecycle_stage="acquisition")
    deals = {
        SECRET: OpportunityFactory(account=harbor, owner=rep2, name=SECRET, amount=Decimal("500")),
        WON: OpportunityFactory(account=harbor, owner=rep2, name=WON, amount=Decimal("300"), stage=won_stage),
        MINE: OpportunityFactory(account=harbor, owner=rep1, name=MINE, amount=Decimal("100")),
    }
    renewal = OpportunityFactory(
        account=quiet, owner=rep2, name="Quiet Yard renewal", type=OpportunityType.RENEWAL
    )
    contact = ContactFactory(account=harbor, first_name="Carol", last_name="Harbor")
    quiet_contact = ContactFactory(account=quiet, first_name="Quentin", last_name="Yard")
    OpportunityContactFactory(opportunity=deals[SECRET], contact=contact)
    OpportunityContactFactory(opportunity=deals[MINE], contact=contact)
    note = ActivityKind.NOTE
    ActivityFactory(
        account=harbor, owner=rep2, kind=note, subject=SECRET_NOTE, opportunity=deals[SECRET], contact=contact
    )
    ActivityFactory(account=harbor, owner=rep2, subject=KICKOFF, contact=contact)
    ActivityFactory(
        account=harbor, owner=rep1, kind=note, subject=FOLLOW_UP, opportunity=deals[MINE], contact=contact
    )
    ActivityFactory(account=quiet, owner=rep2, kind=note, subject="Renewal prep", opportunity=renewal)
    lead = LeadFactory(tenant=tenant, owner=rep1, first_name="Lena", last_name="Lead")
    rep2_lead = LeadFactory(tenant=tenant, owner=rep2, first_name="Otto", last_name="Other")
    # Logged by rep2 before the lead went to rep1: it stays with the lead.
    ActivityFactory(tenant=tenant, account=None, lead=lead, owner=rep2, subject="Lead intro call")
    # rep2's note on the lead about rep2's deal: the deal's name must not reach those who cannot see the deal.
    ActivityFactory(
        tenant=tenant,
        account=None,
        lead=lead,
        owner=rep2,
        kind=note,
        subject="Lead deal note",
        opportunity=deals[SECRET],
    )
    return World(tenant, people, harbor, quiet, contact, quiet_contact, deals, renewal, lead, rep2_lead)


def page(client, name, tenant, **kwargs):
    return client.get(reverse(f"accounts:{name}", kwargs={"slug": tenant.slug, **kwargs}))


def timeline_subjects(response) -> set[str]:
    return {item.activity.subject for item in response.context["timeline"] if item.kind == "activity"}


def text_of(response, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', response.content.decode())
    assert match, testid
    return match.group(1).strip()


# --- the account 360 page ---------------------------------------------------------------------------------------

# role: (deals listed, open pipeline, won amount)
ACCOUNT_360 = {
    "admin": ({SECRET, WON, MINE}, "600", "300"),
    "ops": ({SECRET, WON, MINE}, "600", "300"),
    "cs": ({SECRET, WON, MINE}, "600", "300"),
    "manager": ({MINE}, "100", "0"),
    "rep1": ({MINE}, "100", "0"),
    "rep2": ({SECRET, WON}, "500", "300"),
}


@pytest.mark.parametrize("role", ROLES)
def test_account_360_lists_and_sums_only_visible_deals(world, client_for, role):
    response = page(client_for(world.people[role]), "account-detail", world.tenant, pk=world.harbor.pk)
    assert response.status_code == 200
    listed, open_pipeline, won = ACCOUNT_360[role]
    html = response.content.decode()
    for name in (SECRET, WON, MINE):
        assert (name in html) == (name in listed), name
    assert {o.name for o in response.context["profile"].opportunities} == listed
    assert text_of(response, "account-deal-count") == str(len(listed))
    assert text_of(response, "account-open-pipeline") == f"{open_pipeline} CNY"
    assert text_of(response, "account-won-amount") == f"{won} CNY"
    assert 'data-testid="account-deals-cut"' not in html


# role: activity subjects on the Harbor timeline (account and contact pages alike)
HARBOR_TIMELINE = {
    "admin": {SECRET_NOTE, KICKOFF, FOLLOW_UP},
    "ops": {SECRET_NOTE, KICKOFF, FOLLOW_UP},
    "cs": {SECRET_NOTE, KICKOFF, FOLLOW_UP},
    "manager": {KICKOFF, FOLLOW_UP},
    "rep1": {KICKOFF, FOLLOW_UP},
    "rep2": {SECRET_NOTE, KICKOFF},  # rep1's deal is not theirs to see, so neither is the note on it
}


@pytest.mark.parametrize("role", ROLES)
def test_account_timeline_shows_only_visible_activities(world, client_for, role):
    response = page(client_for(world.people[role]), "account-detail", world.tenant, pk=world.harbor.pk)
    assert timeline_subjects(response) == HARBOR_TIMELINE[role]
    html = response.content.decode()
    for subject in (SECRET_NOTE, KICKOFF, FOLLOW_UP):
        assert (subject in html) == (subject in HARBOR_TIMELINE[role]), subject


def test_account_360_cut_lists_say_so_and_totals_cover_every_deal(world, client_for, monkeypatch):
    monkeypatch.setattr(accounts_selectors, "ACCOUNT_PROFILE_DEALS", 2)
    monkeypatch.setattr(accounts_selectors, "ACCOUNT_PROFILE_CONTACTS", 1)
    ContactFactory(account=world.harbor, first_name="Second")
    response = page(client_for(world.people["admin"]), "account-detail", world.tenant, pk=world.harbor.pk)
    html = response.content.decode()
    assert len(response.context["profile"].opportunities) == 2
    assert text_of(response, "account-deal-count") == "3"
    assert text_of(response, "account-open-pipeline") == "600 CNY"
    assert text_of(response, "account-won-amount") == "300 CNY"
    assert "Showing 2 of 3." in html
    deals_url = reverse("accounts:opportunity-list", kwargs={"slug": world.tenant.slug})
    assert f'href="{deals_url}?account={world.harbor.pk}"' in html
    assert text_of(response, "account-contact-count") == "2"
    assert "Showing 1 of 2." in html
    contacts_url = reverse("accounts:contact-list", kwargs={"slug": world.tenant.slug})
    assert f'href="{contacts_url}?account={world.harbor.pk}"' in html


def test_account_360_cut_list_links_lead_to_the_same_deals(world, client_for, monkeypatch):
    """The "showing N of M" link opens the deal list filtered by the account: the same M deals."""
    monkeypatch.setattr(accounts_selectors, "ACCOUNT_PROFILE_DEALS", 1)
    client = client_for(world.people["rep2"])
    response = page(client, "account-detail", world.tenant, pk=world.harbor.pk)
    assert "Showing 1 of 2." in response.content.decode()
    listed = client.get(
        reverse("accounts:opportunity-list", kwargs={"slug": world.tenant.slug}), {"account": world.harbor.pk}
    )
    assert {o.name for o in listed.context["page"].rows} == {SECRET, WON}


def test_invisible_account_is_404_for_cs(world, client_for):
    assert (
        page(client_for(world.people["cs"]), "account-detail", world.tenant, pk=world.quiet.pk).status_code
        == 404
    )


# --- the contact page -------------------------------------------------------------------------------------------

CONTACT_DEALS = {
    "admin": {SECRET, MINE},
    "ops": {SECRET, MINE},
    "cs": {SECRET, MINE},
    "manager": {MINE},
    "rep1": {MINE},
    "rep2": {SECRET},
}


@pytest.mark.parametrize("role", ROLES)
def test_contact_page_lists_only_visible_deals_and_activities(world, client_for, role):
    response = page(client_for(world.people[role]), "contact-detail", world.tenant, pk=world.contact.pk)
    assert response.status_code == 200
    assert {o.name for o in response.context["deals"]} == CONTACT_DEALS[role]
    html = response.content.decode()
    for name in (SECRET, MINE):
        assert (name in html) == (name in CONTACT_DEALS[role]), name
    assert timeline_subjects(response) == HARBOR_TIMELINE[role]
    assert (SECRET_NOTE in html) == (SECRET_NOTE in HARBOR_TIMELINE[role])


# --- the deal and lead pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_deal_page_timeline(world, client_for, role):
    client = client_for(world.people[role])
    secret = page(client, "opportunity-detail", world.tenant, pk=world.deals[SECRET].pk)
    if role in {"manager", "rep1"}:
        assert secret.status_code == 404
    else:
        assert timeline_subjects(secret) == {SECRET_NOTE, "Lead deal note"}
    mine = page(client, "opportunity-detail", world.tenant, pk=world.deals[MINE].pk)
    if role == "rep2":
        assert mine.status_code == 404
    else:
        assert timeline_subjects(mine) == {FOLLOW_UP}


@pytest.mark.parametrize("role", ROLES)
def test_renewal_deal_timeline_for_those_who_see_the_deal_but_not_the_account(world, client_for, role):
    """cs opens renewal deals of accounts it does not see: the notes on the deal come with it."""
    response = page(client_for(world.people[role]), "opportunity-detail", world.tenant, pk=world.renewal.pk)
    if role in {"manager", "rep1"}:
        assert response.status_code == 404
    else:
        assert "Renewal prep" in response.content.decode()
        assert timeline_subjects(response) == {"Renewal prep"}


# role: lead page status, activity subjects on its timeline
LEAD_TIMELINE = {
    "admin": (200, {"Lead intro call", "Lead deal note"}),
    "ops": (200, {"Lead intro call", "Lead deal note"}),
    "cs": (404, set()),
    "manager": (200, {"Lead intro call"}),
    "rep1": (200, {"Lead intro call"}),
    "rep2": (404, set()),
}


@pytest.mark.parametrize("role", ROLES)
def test_lead_page_timeline(world, client_for, role):
    response = client_for(world.people[role]).get(
        reverse("leads:lead-detail", kwargs={"slug": world.tenant.slug, "pk": world.lead.pk})
    )
    status, subjects = LEAD_TIMELINE[role]
    assert response.status_code == status
    if status == 200:
        assert timeline_subjects(response) == subjects
        assert (SECRET in response.content.decode()) == (SECRET in ACCOUNT_360[role][0])


@pytest.mark.parametrize("role", ROLES)
def test_activity_list_api_follows_the_same_rule(world, api_client_for, role):
    """The timeline and the activity API share activity_visibility_q."""
    response = api_client_for(world.people[role]).get(
        f"/api/v1/t/{world.tenant.slug}/activities/", {"account": world.harbor.pk}
    )
    assert response.status_code == 200
    assert {row["subject"] for row in response.json()["results"]} == HARBOR_TIMELINE[role]


# --- "Show more" on timelines -----------------------------------------------------------------------------------


def more(client, tenant, timeline):
    return client.get(
        reverse("accounts:timeline-more", kwargs={"slug": tenant.slug}),
        {timeline.target_kind: timeline.target_id, "cursor": timeline.next_cursor},
        HTTP_HX_REQUEST="true",
    )


def add_activities(account, owner, count, *, start, step=dt.timedelta(minutes=1), **fields):
    with tenant_context(account.tenant):
        Activity.objects.bulk_create(
            Activity(
                tenant=account.tenant,
                account=account,
                owner=owner,
                kind=ActivityKind.CALL,
                subject=f"Call {owner.pk}-{index}",
                done=True,
                occurred_at=start - step * (index // 3),  # three at each instant: ties must not drop items
                **fields,
            )
            for index in range(count)
        )


def test_show_more_walks_the_whole_timeline_without_gaps_or_leaks(world, client_for):
    rep1, rep2 = world.people["rep1"], world.people["rep2"]
    start = timezone.now() - dt.timedelta(days=1)
    add_activities(world.harbor, rep1.user, 70, start=start)
    # rep2's notes on rep2's deal, between rep1's calls: never shown to rep1, on any page.
    add_activities(world.harbor, rep2.user, 40, start=start, opportunity=world.deals[SECRET])
    client = client_for(rep1)
    response = page(client, "account-detail", world.tenant, pk=world.harbor.pk)
    timeline = response.context["timeline"]
    assert len(timeline) == 50 and timeline.next_cursor
    assert 'data-testid="timeline-more"' in response.content.decode()
    seen = [item.sort_key for item in timeline]
    subjects = timeline_subjects(response)
    pages = 1
    while timeline.next_cursor:
        response = more(client, world.tenant, timeline)
        assert response.status_code == 200
        timeline = response.context["timeline"]
        seen += [item.sort_key for item in timeline]
        subjects |= timeline_subjects(response)
        pages += 1
        assert pages < 10
    assert 'data-testid="timeline-more"' not in response.content.decode()
    assert pages == 2
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen))
    expected = {f"Call {rep1.user.pk}-{i}" for i in range(70)} | HARBOR_TIMELINE["rep1"]
    assert subjects == expected
    history = [key for key in seen if key[1] == 0]
    assert len(seen) == len(expected) + len(history)
    assert not any(s.startswith(f"Call {rep2.user.pk}-") for s in subjects)


def test_show_more_query_count_does_not_grow(world, client_for, django_assert_num_queries):
    rep1 = world.people["rep1"]
    start = timezone.now() - dt.timedelta(days=1)
    add_activities(world.harbor, rep1.user, 160, start=start)
    client = client_for(rep1)
    first = page(client, "account-detail", world.tenant, pk=world.harbor.pk).context["timeline"]
    with CaptureQueriesContext(connection) as second_page:
        response = more(client, world.tenant, first)
    second = response.context["timeline"]
    assert len(second) == 50 and second.next_cursor
    with django_assert_num_queries(len(second_page.captured_queries)):
        third = more(client, world.tenant, second).context["timeline"]
    add_activities(world.harbor, rep1.user, 60, start=start - dt.timedelta(days=3))
    with django_assert_num_queries(len(second_page.captured_queries)):
        fourth = more(client, world.tenant, third).context["timeline"]
    assert len(fourth) == 50


def test_show_more_of_a_record_one_may_not_see_is_404(world, client_for):
    rep1 = world.people["rep1"]
    url = reverse("accounts:timeline-more", kwargs={"slug": world.tenant.slug})
    client = client_for(rep1)
    assert client.get(url, {"opportunity": world.deals[SECRET].pk}).status_code == 404
    assert client.get(url, {"account": world.quiet.pk}).status_code == 404
    assert client.get(url, {"lead": world.rep2_lead.pk}).status_code == 404
    assert client.get(url, {"account": "x"}).status_code == 404
    assert client.get(url).status_code == 404
    assert client.get(url, {"account": world.harbor.pk, "cursor": "garbage"}).status_code == 200


# --- API: foreign keys to records one may not see are "does not exist" -------------------------------------------

MISSING = 987654321


def api_error(api, path, payload):
    response = api.post(f"/api/v1/t/{api._tenant_slug}/{path}", payload, format="json")
    return response.status_code, response.json()


def same_as_missing(api, path, payload, field, hidden_id):
    """Posting a hidden id answers exactly like posting an id that does not exist."""
    status, body = api_error(api, path, {**payload, field: hidden_id})
    missing_status, missing_body = api_error(api, path, {**payload, field: MISSING})
    assert status == missing_status == 400
    assert str(body).replace(str(hidden_id), "ID") == str(missing_body).replace(str(MISSING), "ID")
    assert field in str(body) and "not exist" in str(body)


@pytest.fixture
def api_for(api_client_for, world):
    def _api_for(role):
        api = api_client_for(world.people[role])
        api._tenant_slug = world.tenant.slug
        return api

    return _api_for


# role: status of POST deal with rep2's lead
DEAL_WITH_REP2_LEAD = {"admin": 201, "ops": 403, "cs": 400, "manager": 400, "rep1": 400, "rep2": 201}


@pytest.mark.parametrize("role", ROLES)
def test_deal_create_refuses_a_lead_one_may_not_see(world, api_for, client_for, role):
    api = api_for(role)
    payload = {"account": world.harbor.pk, "name": "From a lead", "amount": "10", "type": "renewal"}
    status, body = api_error(api, "opportunities/", {**payload, "lead": world.rep2_lead.pk})
    assert status == DEAL_WITH_REP2_LEAD[role], body
    if status == 400:
        same_as_missing(api, "opportunities/", payload, "lead", world.rep2_lead.pk)
    if status == 201:
        deal_page = page(client_for(world.people[role]), "opportunity-detail", world.tenant, pk=body["id"])
        assert "Otto" in deal_page.content.decode()


def test_deal_create_accepts_the_reps_own_lead(world, api_for):
    status, body = api_error(
        api_for("rep1"),
        "opportunities/",
        {"account": world.harbor.pk, "name": "Mine", "amount": "10", "lead": world.lead.pk},
    )
    assert status == 201, body
    assert body["lead"] == world.lead.pk


@pytest.mark.parametrize("role", ["manager", "rep1"])
def test_activity_create_refuses_a_deal_one_may_not_see(world, api_for, role):
    payload = {"kind": "note", "subject": "x", "account": world.harbor.pk}
    same_as_missing(api_for(role), "activities/", payload, "opportunity", world.deals[SECRET].pk)


@pytest.mark.parametrize("role", ["cs", "manager", "rep1"])
def test_account_and_contact_create_refuse_an_account_one_may_not_see(world, api_for, role):
    api = api_for(role)
    same_as_missing(api, "accounts/", {"name": "Child Co"}, "parent", world.quiet.pk)
    same_as_missing(api, "contacts/", {"first_name": "Zed"}, "account", world.quiet.pk)
    same_as_missing(api, "activities/", {"kind": "note", "subject": "x"}, "contact", world.quiet_contact.pk)
    same_as_missing(api, "activities/", {"kind": "note", "subject": "x"}, "lead", world.rep2_lead.pk)


def test_deal_contact_add_refuses_a_contact_one_may_not_see(world, api_for):
    """cs may edit the renewal deal but does not see its (non-customer) account's contacts."""
    url = f"opportunities/{world.renewal.pk}/contacts/"
    hidden = api_for("cs").post(
        f"/api/v1/t/{world.tenant.slug}/{url}", {"contact": world.quiet_contact.pk}, format="json"
    )
    missing = api_for("cs").post(f"/api/v1/t/{world.tenant.slug}/{url}", {"contact": MISSING}, format="json")
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == missing.json()
    added = api_for("admin").post(
        f"/api/v1/t/{world.tenant.slug}/{url}", {"contact": world.quiet_contact.pk}, format="json"
    )
    assert added.status_code == 201


@pytest.mark.parametrize("role", ["admin", "cs", "rep2"])
def test_deal_page_names_only_the_contacts_and_lead_one_may_see(world, client_for, api_for, role):
    """cs opens the renewal deal of an account it does not see: the account's contact and rep2's lead stay
    unnamed, on the page and in the API."""
    OpportunityContactFactory(opportunity=world.renewal, contact=world.quiet_contact)
    with tenant_context(world.tenant):
        world.renewal.lead = world.rep2_lead
        world.renewal.save(update_fields=["lead"])
    response = page(client_for(world.people[role]), "opportunity-detail", world.tenant, pk=world.renewal.pk)
    assert response.status_code == 200
    html = response.content.decode()
    sees = role != "cs"
    assert ("Quentin" in html) == sees
    assert ("Otto" in html) == sees
    links = api_for(role).get(f"/api/v1/t/{world.tenant.slug}/opportunities/{world.renewal.pk}/contacts/")
    assert [row["contact"] for row in links.json()] == ([world.quiet_contact.pk] if sees else [])


@pytest.mark.parametrize("role", ["admin", "rep1"])
def test_parent_account_is_named_only_when_visible(world, client_for, api_for, role):
    """rep1 sees Harbor Logistics, not its parent: the page, the list, the API and the history keep the
    parent's name back (a hidden parent reads like a missing one)."""
    with tenant_context(world.tenant):
        world.harbor.parent = world.quiet
        world.harbor.save(update_fields=["parent"])
    sees = role == "admin"
    client, api = client_for(world.people[role]), api_for(role)
    response = page(client, "account-detail", world.tenant, pk=world.harbor.pk)
    assert ("Quiet Yard" in response.content.decode()) == sees
    history = [
        entry for item in response.context["timeline"] if item.kind == "history" for entry in [item.entry]
    ]
    parent_changes = [change for entry in history for change in entry.changes if change[0] == "parent"]
    assert parent_changes and parent_changes[-1][2] == ("Quiet Yard" if sees else f"#{world.quiet.pk}")
    listing = page(client, "account-list", world.tenant)
    assert ("Quiet Yard" in listing.content.decode()) == sees
    base = f"/api/v1/t/{world.tenant.slug}/accounts"
    assert api.get(f"{base}/{world.harbor.pk}/").json()["parent_name"] == ("Quiet Yard" if sees else None)
    assert ("Quiet Yard" in str(api.get(f"{base}/{world.harbor.pk}/history/").json())) == sees


@pytest.mark.parametrize("role", ["admin", "cs"])
def test_deal_history_api_names_only_the_lead_one_may_see(world, api_for, role):
    """The deal's change history names its lead only for those who may see the lead (cs opens the renewal deal
    but not rep2's lead), like the deal page."""
    with tenant_context(world.tenant):
        world.renewal.lead = world.rep2_lead
        world.renewal.save(update_fields=["lead"])
    response = api_for(role).get(f"/api/v1/t/{world.tenant.slug}/opportunities/{world.renewal.pk}/history/")
    assert response.status_code == 200
    lead_changes = [
        change for entry in response.json() for change in entry["changes"] if change["field"] == "lead"
    ]
    assert lead_changes
    assert ("Otto" in str(lead_changes)) == (role == "admin")
    assert (f"#{world.rep2_lead.pk}" in str(lead_changes)) == (role == "cs")


def test_editing_an_account_whose_parent_one_may_not_see_keeps_the_parent_unnamed(world, client_for):
    """rep1 owns a subsidiary of rep2's Quiet Yard: the edit form neither names the parent nor refuses to save
    it; the parent stays as it was."""
    rep1 = world.people["rep1"]
    child = AccountFactory(tenant=world.tenant, name="East Child", owner=rep1.user, parent=world.quiet)
    client = client_for(rep1)
    response = page(client, "account-edit", world.tenant, pk=child.pk)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Quiet Yard" not in html
    assert f"An account you cannot see (#{world.quiet.pk})" in html
    form = response.context["form"]
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update(name="East Child Renamed", owner=rep1.user.pk, parent=world.quiet.pk)
    response = client.post(
        reverse("accounts:account-edit", kwargs={"slug": world.tenant.slug, "pk": child.pk}), data
    )
    assert response.status_code == 302, response.context["form"].errors if response.context else None
    with tenant_context(world.tenant):
        child.refresh_from_db()
    assert (child.name, child.parent_id) == ("East Child Renamed", world.quiet.pk)
