"""Issue 12 item 8: with DEBUG off (the default), a page that does not exist or that the role may not open answers
the app's own 404 page, and a refused action its 403 page: inside the layout (top bar, the tenant's sidebar), in the
user's language, never Django's debug page listing the URLs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.services import opportunities as opportunities_services
from crm.models import Role, User
from crm.tenancy import tenant_context
from tests.factories_deals import deal_account

pytestmark = pytest.mark.django_db


def test_debug_is_off_by_default():
    assert settings.DEBUG is False


def _assert_app_page(response, status, testid):
    body = response.content.decode()
    assert response.status_code == status
    assert [t.name for t in response.templates][:2] == [f"{status}.html", "base.html"]
    assert f'data-testid="{testid}"' in body
    assert 'data-testid="user-menu"' in body  # the layout's top bar
    assert "URLconf" not in body and "Traceback" not in body
    return body


def test_unknown_page_in_a_tenant_is_the_apps_404_inside_the_layout(tenant, member, client_for):
    rep = member(role=Role.SALES_REP)
    response = client_for(rep).get(f"/t/{tenant.slug}/no-such-page/")
    body = _assert_app_page(response, 404, "error-404")
    assert "Page not found" in body
    assert 'class="app-sidebar' in body  # the tenant's sidebar
    assert (
        f'href="{reverse("crm:tenant-home", kwargs={"slug": tenant.slug})}" data-testid="error-home"' in body
    )


def test_a_page_the_role_may_not_open_is_the_apps_404(tenant, member, client_for):
    rep = member(role=Role.SALES_REP)
    response = client_for(rep).get(reverse("crm:member-list", kwargs={"slug": tenant.slug}))
    body = _assert_app_page(response, 404, "error-404")
    assert 'class="app-sidebar' in body


def test_a_missing_record_is_the_apps_404(tenant, member, client_for):
    rep = member(role=Role.SALES_REP)
    response = client_for(rep).get(reverse("leads:lead-detail", kwargs={"slug": tenant.slug, "pk": 987654}))
    _assert_app_page(response, 404, "error-404")


def test_the_404_reads_in_the_users_language(tenant, member, client_for):
    rep = member(role=Role.SALES_REP)
    User.objects.filter(pk=rep.user_id).update(language="zh-hans")
    body = _assert_app_page(client_for(rep).get(f"/t/{tenant.slug}/no-such-page/"), 404, "error-404")
    assert "页面不存在" in body and '<html lang="zh-hans">' in body


def test_another_companys_page_is_the_apps_404_without_its_sidebar(tenant, other_tenant, member, client_for):
    rep = member(role=Role.SALES_REP)
    response = client_for(rep).get(reverse("crm:tenant-home", kwargs={"slug": other_tenant.slug}))
    body = _assert_app_page(response, 404, "error-404")
    assert other_tenant.name not in body and 'class="app-sidebar' not in body


def test_a_refused_action_is_the_apps_403_inside_the_layout(tenant, member, client_for):
    rep, ops = member(role=Role.SALES_REP), member(role=Role.OPS)
    account = deal_account(tenant, owner=rep.user)
    with tenant_context(tenant):
        deal = opportunities_services.opportunity_create(
            tenant=tenant, actor=rep.user, account=account, name="Read only for ops", amount=Decimal("10")
        )
    User.objects.filter(pk=ops.user_id).update(language="zh-hans")
    url = reverse("accounts:opportunity-detail", kwargs={"slug": tenant.slug, "pk": deal.pk})
    response = client_for(ops).post(url, {"name": "Renamed", "version": deal.version})
    body = _assert_app_page(response, 403, "error-403")
    assert "不允许" in body and 'class="app-sidebar' in body


def test_anonymous_404_outside_a_tenant(client):
    response = client.get("/no-such-page/")
    body = response.content.decode()
    assert response.status_code == 404 and 'data-testid="error-404"' in body and "URLconf" not in body
