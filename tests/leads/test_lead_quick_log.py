"""Issue 12 item 5: the quick log with nothing typed saves nothing and says why; after a call is logged on a lead
page, the header, status track, status card and "last activity" come back out of band (leads:lead-summary, fetched
on the quick log's "activity-logged" trigger) without a reload."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Activity
from crm.models import Role
from crm.tenancy import tenant_context
from leads.models import LeadStatus
from tests.factories_leads import LeadFactory

pytestmark = pytest.mark.django_db


def _log_url(tenant):
    return reverse("accounts:activity-create", kwargs={"slug": tenant.slug})


def _summary_url(tenant, lead):
    return reverse("leads:lead-summary", kwargs={"slug": tenant.slug, "pk": lead.pk})


@pytest.mark.parametrize("kind", ["call", "email", "meeting", "note"])
def test_quick_log_with_nothing_typed_saves_nothing_and_says_why(tenant, member, client_for, kind):
    rep = member()
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, owner=rep.user, status=LeadStatus.NEW)
    client = client_for(rep)
    htmx = client.post(
        _log_url(tenant),
        {"kind": kind, "subject": "  ", "body": "", "lead": lead.pk, "timeline_id": "timeline"},
        HTTP_HX_REQUEST="true",
    )
    assert htmx.status_code == 200
    assert htmx["HX-Retarget"] == "#quick-log-timeline"
    assert "HX-Trigger" not in htmx
    assert "Say what happened: type a subject or notes." in htmx.content.decode()
    plain = client.post(_log_url(tenant), {"kind": kind, "lead": lead.pk})
    assert plain.status_code == 400
    with tenant_context(tenant):
        assert not Activity.objects.filter(lead=lead).exists()
        lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW and lead.last_activity_at is None


def test_quick_log_with_notes_only_is_logged_and_triggers_the_page_refresh(tenant, member, client_for):
    rep = member()
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, owner=rep.user, status=LeadStatus.NEW)
    response = client_for(rep).post(
        _log_url(tenant),
        {"kind": "call", "subject": "", "body": "Asked for a quote", "lead": lead.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "activity-logged"
    with tenant_context(tenant):
        assert list(Activity.objects.filter(lead=lead).values_list("body", flat=True)) == [
            "Asked for a quote"
        ]


def test_lead_page_listens_for_logged_activities(tenant, member, client_for):
    rep = member()
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, owner=rep.user)
    page = client_for(rep).get(reverse("leads:lead-detail", kwargs={"slug": tenant.slug, "pk": lead.pk}))
    body = page.content.decode()
    assert f'hx-get="{_summary_url(tenant, lead)}" hx-trigger="activity-logged from:body"' in body
    for part in ("lead-header", "lead-steps", "lead-status-card", "lead-score-card", "lead-details"):
        assert f'id="{part}"' in body
    assert 'hx-swap-oob="true"' not in body.split('data-testid="quick-log"')[0]


def test_lead_summary_after_a_call_shows_working_and_the_activity_clock(
    tenant, member, client_for, django_assert_num_queries
):
    rep = member()
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, owner=rep.user, status=LeadStatus.NEW)
    client = client_for(rep)
    before = client.get(_summary_url(tenant, lead), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="lead-last-activity">—' in before
    logged = client.post(
        _log_url(tenant), {"kind": "call", "subject": "Intro call", "lead": lead.pk}, HTTP_HX_REQUEST="true"
    )
    assert logged["HX-Trigger"] == "activity-logged"
    with django_assert_num_queries(10):
        response = client.get(_summary_url(tenant, lead), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    for part in ("lead-header", "lead-steps", "lead-status-card", "lead-score-card", "lead-details"):
        assert f'id="{part}" hx-swap-oob="true"' in body or f'id="{part}" data-testid' in body
    assert body.count('hx-swap-oob="true"') == 5
    assert 'data-testid="lead-status">Working<' in body
    assert 'class="lead-step reached current">\n    <span class="lead-step-label">Working' in body
    assert '<option value="working" selected>' in body
    with tenant_context(tenant):
        lead.refresh_from_db()
    assert lead.last_activity_at is not None
    assert 'data-testid="lead-last-activity">—' not in body


def test_lead_summary_of_a_lead_not_visible_is_404(tenant, other_tenant, member, client_for):
    rep, other_rep = member(), member()
    with tenant_context(tenant):
        others = LeadFactory(tenant=tenant, owner=other_rep.user)
    with tenant_context(other_tenant):
        foreign = LeadFactory(tenant=other_tenant)
    client = client_for(rep)
    assert client.get(_summary_url(tenant, others)).status_code == 404
    assert (
        client.get(reverse("leads:lead-summary", kwargs={"slug": tenant.slug, "pk": foreign.pk})).status_code
        == 404
    )
    assert client_for(member(role=Role.OPS)).get(_summary_url(tenant, others)).status_code == 200
