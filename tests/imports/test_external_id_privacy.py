"""Issue 11 item 8: an external id that another record holds cannot be used (one per company, a unique key), and
the answer says no more than that. A record the actor may not change answers the same whether they cannot see it,
see it read-only or it is deleted, in the API, the pages and imports, for every kind with an external id
(crm.records.EXTERNAL_ID_UNAVAILABLE)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AccountAccess, Contact
from crm.models import Role
from crm.records import EXTERNAL_ID_UNAVAILABLE
from crm.tenancy import tenant_context
from leads.models import Lead
from sales_ops.models import Quota
from tests.factories_accounts import AccountFactory, AccountMemberFactory, ActivityFactory, ContactFactory
from tests.factories_deals import OpportunityFactory
from tests.factories_leads import LeadFactory
from tests.factories_lifecycle import SubscriptionFactory
from tests.imports.conftest import csv_text

pytestmark = pytest.mark.django_db

UNAVAILABLE = str(EXTERNAL_ID_UNAVAILABLE)


def api(tenant, path):
    return f"/api/v1/t/{tenant.slug}/{path}"


@pytest.fixture
def people(member):
    return {
        "manager": member(role=Role.SALES_MANAGER, team="East"),
        "rep": member(role=Role.SALES_REP, team="East"),
        "west": member(role=Role.SALES_REP, team="West"),
        "cs": member(role=Role.CS),
    }


def _errors(job):
    return [(error["row"], error["column"], error["reason"]) for error in job.row_errors]


# --- leads ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def leads(tenant, people):
    """A West rep's lead (a rep of East cannot see it), a pool lead (everyone sees it, nobody changes it before
    claiming it), a deleted West lead, and the East rep's own lead."""
    return {
        "hidden": LeadFactory(tenant=tenant, owner=people["west"].user, external_id="L-HIDDEN"),
        "pool": LeadFactory(tenant=tenant, owner=None, external_id="L-POOL"),
        "deleted": LeadFactory(
            tenant=tenant, owner=people["west"].user, external_id="L-GONE", deleted_at=timezone.now()
        ),
        "own": LeadFactory(tenant=tenant, owner=people["rep"].user, external_id="L-OWN"),
    }


def test_a_rep_creating_a_lead_gets_one_answer_for_a_hidden_a_read_only_and_a_deleted_lead(
    tenant, people, leads, api_client_for
):
    client = api_client_for(people["rep"])
    answers = {}
    for key in ("hidden", "pool", "deleted"):
        response = client.post(
            api(tenant, "leads/"),
            {"last_name": "Probe", "external_id": leads[key].external_id},
            format="json",
        )
        assert response.status_code == 400, response.content
        answers[key] = response.json()
    assert answers["hidden"] == answers["pool"] == answers["deleted"] == {"external_id": [UNAVAILABLE]}
    # Their own lead's id: they may open that lead anyway, so the answer names the kind.
    own = client.post(api(tenant, "leads/"), {"last_name": "Probe", "external_id": "L-OWN"}, format="json")
    assert own.json() == {"external_id": ["Another lead has this external id."]}
    fresh = client.post(api(tenant, "leads/"), {"last_name": "Probe", "external_id": "L-NEW"}, format="json")
    assert fresh.status_code == 201
    with tenant_context(tenant):
        assert Lead.objects.filter(last_name="Probe").count() == 1


def test_a_rep_renaming_their_lead_to_a_hidden_id_gets_the_same_answer(tenant, people, leads, api_client_for):
    client = api_client_for(people["rep"])
    own = leads["own"]
    answers = [
        client.patch(
            api(tenant, f"leads/{own.pk}/"),
            {"external_id": external_id, "version": own.version},
            format="json",
        )
        for external_id in ("L-HIDDEN", "L-POOL", "L-GONE")
    ]
    assert {response.status_code for response in answers} == {400}
    assert all(response.json() == {"external_id": [UNAVAILABLE]} for response in answers)


def test_the_lead_page_says_the_same_for_a_hidden_and_a_pool_lead(tenant, people, leads, client_for):
    client = client_for(people["rep"])
    pages = []
    for external_id in ("L-HIDDEN", "L-POOL"):
        response = client.post(
            f"/t/{tenant.slug}/leads/new/",
            {"last_name": "Form probe", "external_id": external_id, "confirm_duplicates": "1"},
        )
        assert response.status_code == 200
        pages.append(response.content.decode())
    for page in pages:
        assert UNAVAILABLE in page
        assert "Another lead has this external id" not in page
        assert "view this lead" not in page
    with tenant_context(tenant):
        assert not Lead.objects.filter(last_name="Form probe").exists()


def test_a_rep_importing_leads_gets_one_row_error_for_hidden_read_only_and_deleted_leads(
    tenant, people, leads, run_import
):
    job = run_import(
        people["rep"],
        "leads",
        csv_text(
            "external_id,last_name", "L-HIDDEN,Li", "L-POOL,Wang", "L-GONE,Zhao", "L-OWN,Own", "L-NEW,New"
        ),
    )
    assert _errors(job) == [
        (2, "external_id", UNAVAILABLE),
        (3, "external_id", UNAVAILABLE),
        (4, "external_id", UNAVAILABLE),
    ]
    with tenant_context(tenant):
        assert Lead.objects.get(pk=leads["hidden"].pk).last_name == leads["hidden"].last_name
        assert Lead.objects.get(pk=leads["own"].pk).last_name == "Own"
        assert Lead.objects.filter(external_id="L-NEW", owner=people["rep"].user).exists()


def test_an_admin_still_hears_which_record_holds_the_id(
    tenant, admin_member, leads, api_client_for, run_import
):
    response = api_client_for(admin_member).post(
        api(tenant, "leads/"), {"last_name": "Probe", "external_id": "L-HIDDEN"}, format="json"
    )
    assert response.json() == {"external_id": ["Another lead has this external id."]}
    job = run_import(admin_member, "leads", csv_text("external_id,last_name", "L-GONE,Li"))
    assert _errors(job) == [
        (2, "external_id", "This external id belongs to a deleted record; restore it first.")
    ]


# --- the sales records ----------------------------------------------------------------------------------------------


def test_accounts_contacts_deals_and_activities_answer_alike_for_hidden_and_read_only_records(
    tenant, people, api_client_for
):
    rep, west = people["rep"], people["west"]
    hidden_account = AccountFactory(tenant=tenant, owner=west.user, external_id="A-HIDDEN")
    shared_account = AccountFactory(tenant=tenant, owner=west.user, external_id="A-SHARED")
    AccountMemberFactory(tenant=tenant, account=shared_account, user=rep.user, access=AccountAccess.READ)
    own_account = AccountFactory(tenant=tenant, owner=rep.user, external_id="A-OWN")
    ContactFactory(tenant=tenant, account=hidden_account, owner=west.user, external_id="C-HIDDEN")
    ContactFactory(tenant=tenant, account=shared_account, owner=west.user, external_id="C-SHARED")
    OpportunityFactory(tenant=tenant, account=hidden_account, owner=west.user, external_id="D-HIDDEN")
    OpportunityFactory(tenant=tenant, account=shared_account, owner=west.user, external_id="D-SHARED")
    ActivityFactory(tenant=tenant, account=hidden_account, owner=west.user, external_id="T-HIDDEN")
    ActivityFactory(tenant=tenant, account=shared_account, owner=west.user, external_id="T-SHARED")
    client = api_client_for(rep)
    bodies = {
        "accounts/": ("A", {"name": "Probe"}),
        "contacts/": ("C", {"last_name": "Probe", "account": own_account.pk}),
        "opportunities/": ("D", {"name": "Probe", "account": own_account.pk, "amount": "100"}),
        "activities/": ("T", {"kind": "call", "subject": "Probe", "account": own_account.pk}),
    }
    for path, (prefix, body) in bodies.items():
        for suffix in ("HIDDEN", "SHARED"):
            response = client.post(
                api(tenant, path), {**body, "external_id": f"{prefix}-{suffix}"}, format="json"
            )
            assert response.status_code == 400, (path, suffix, response.content)
            assert response.json() == {"external_id": [UNAVAILABLE]}, (path, suffix)
        fresh = client.post(api(tenant, path), {**body, "external_id": f"{prefix}-NEW"}, format="json")
        assert fresh.status_code == 201, (path, fresh.content)
    with tenant_context(tenant):
        assert Contact.objects.filter(last_name="Probe").count() == 1


def test_an_activity_with_a_taken_external_id_is_a_400_not_a_500(tenant, people, api_client_for):
    rep = people["rep"]
    account = AccountFactory(tenant=tenant, owner=rep.user)
    ActivityFactory(tenant=tenant, account=account, owner=rep.user, external_id="T-MINE")
    response = api_client_for(rep).post(
        api(tenant, "activities/"),
        {"kind": "note", "subject": "Again", "account": account.pk, "external_id": "T-MINE"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"external_id": ["Another activity has this external id."]}


# --- subscriptions and quotas ---------------------------------------------------------------------------------------


def test_a_subscription_import_answers_alike_for_a_record_the_member_cannot_change(
    tenant, people, run_import
):
    """cs writes subscriptions of customers; an acquisition-stage account's subscription is not theirs, deleted or
    not, and the row says only that the id is taken."""
    prospect = AccountFactory(
        tenant=tenant, owner=people["west"].user, external_id="A-PROSPECT", lifecycle_stage="acquisition"
    )
    SubscriptionFactory(tenant=tenant, account=prospect, external_id="S-HIDDEN")
    SubscriptionFactory(tenant=tenant, account=prospect, external_id="S-GONE", deleted_at=timezone.now())
    job = run_import(
        people["cs"],
        "subscriptions",
        csv_text(
            "external_id,plan,mrr",
            "S-HIDDEN,Pro,10",
            "S-GONE,Pro,10",
        ),
    )
    assert _errors(job) == [(2, "external_id", UNAVAILABLE), (3, "external_id", UNAVAILABLE)]


def test_a_manager_creating_a_quota_with_another_teams_id_hears_only_that_it_is_taken(
    tenant, people, member, api_client_for, run_import
):
    west_manager = member(role=Role.SALES_MANAGER, team="West")
    month = datetime.date(2026, 1, 1)
    with tenant_context(tenant):
        Quota.objects.create(
            tenant=tenant, owner=people["west"].user, month=month, amount=Decimal("100"), external_id="Q-WEST"
        )
    assert west_manager.team_id != people["manager"].team_id
    job = run_import(
        people["manager"],
        "quotas",
        csv_text(
            "external_id,owner_email,period_start,amount", f"Q-WEST,{people['rep'].user.email},2026-02-01,5"
        ),
    )
    assert _errors(job) == [(2, "external_id", UNAVAILABLE)]
