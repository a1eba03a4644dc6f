"""Exact query counts of lead pages and endpoints that do not grow with rows: bulk actions (a manager's team is
read once, not per lead), the API's retrieve and pool list, the convert page and the merge page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.models import Role
from crm.tenancy import tenant_context
from leads.models import Lead, LeadStatus
from tests.factories_leads import LeadFactory
from tests.factories_ops import LeadSourceFactory

pytestmark = pytest.mark.django_db

# Session, user, tenant, savepoint + set_config, membership, the form's owner choices, the leads, the manager's
# team (once), the UPDATE, history context, ... : the same for 2 leads as for 20 (it was 19 vs 55 before).
BULK_QUERIES = {"assign": 20, "status": 17}


def url(name: str, tenant, **kwargs) -> str:
    return reverse(f"leads:{name}", kwargs={"slug": tenant.slug, **kwargs})


@pytest.fixture
def east(member):
    manager = member(role=Role.SALES_MANAGER, team="East")
    rep = member(role=Role.SALES_REP, team="East")
    assert rep.team_id == manager.team_id
    return manager, rep


@pytest.mark.parametrize("count", [2, 20])
@pytest.mark.parametrize("action", ["assign", "status"])
def test_bulk_actions_cost_the_same_for_2_or_20_leads(
    tenant, client_for, east, django_assert_num_queries, count, action
):
    manager, rep = east
    with tenant_context(tenant):
        leads = LeadFactory.create_batch(count, tenant=tenant, owner=rep.user)
    client = client_for(manager)
    data = {"ids": [lead.pk for lead in leads], "action": action}
    data.update({"owner": manager.user_id} if action == "assign" else {"status": "mql"})
    with django_assert_num_queries(BULK_QUERIES[action]):
        response = client.post(url("lead-bulk", tenant), data)
    assert response.status_code == 302
    with tenant_context(tenant):
        changed = Lead.objects.filter(pk__in=[lead.pk for lead in leads])
        if action == "assign":
            assert set(changed.values_list("owner_id", flat=True)) == {manager.user_id}
        else:
            assert set(changed.values_list("status", flat=True)) == {LeadStatus.MQL}


def _api(tenant, path: str = "") -> str:
    return f"/api/v1/t/{tenant.slug}/leads/{path}"


def test_api_retrieve_query_count(tenant, member, api_client_for, django_assert_num_queries):
    rep = member()
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, owner=rep.user, source=LeadSourceFactory(tenant=tenant))
    client = api_client_for(rep)
    with django_assert_num_queries(9):
        response = client.get(_api(tenant, f"{lead.pk}/"))
    assert response.status_code == 200 and response.json()["source_name"]


@pytest.mark.parametrize("count", [2, 12])
def test_api_pool_list_query_count(tenant, member, api_client_for, django_assert_num_queries, count):
    rep = member()
    with tenant_context(tenant):
        source = LeadSourceFactory(tenant=tenant)
        LeadFactory.create_batch(count, tenant=tenant, owner=None, source=source)
        LeadFactory(tenant=tenant, owner=rep.user)
    client = api_client_for(rep)
    with django_assert_num_queries(9):
        response = client.get(_api(tenant, "pool/"))
    assert response.status_code == 200 and len(response.json()["results"]) == count


@pytest.mark.parametrize("count", [1, 6])
def test_convert_page_query_count(tenant, member, client_for, django_assert_num_queries, count):
    from tests.factories_accounts import AccountFactory, ContactFactory

    rep = member()
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, owner=rep.user, company="Dragon Tech Ltd", email="li@dragon.cn")
        for number in range(count):
            account = AccountFactory(tenant=tenant, owner=rep.user, name=f"Dragon Tech {number}")
            ContactFactory(tenant=tenant, account=account, email="li@dragon.cn")
    client = client_for(rep)
    with django_assert_num_queries(12):
        response = client.get(url("lead-convert", tenant, pk=lead.pk))
    assert response.status_code == 200
    assert len(response.context["account_suggestions"]) == min(count, 8)
    assert len(response.context["contact_suggestions"]) == count


def test_merge_page_query_count(tenant, member, client_for, django_assert_num_queries):
    rep = member()
    with tenant_context(tenant):
        source = LeadSourceFactory(tenant=tenant)
        keep = LeadFactory(tenant=tenant, owner=rep.user, email="same@x.cn", source=source)
        gone = LeadFactory(tenant=tenant, owner=rep.user, email="same@x.cn", source=source)
    client = client_for(rep)
    with django_assert_num_queries(11):
        response = client.get(url("lead-merge", tenant, pk=keep.pk), {"other": gone.pk})
    assert response.status_code == 200
