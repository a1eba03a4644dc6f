"""Issue 11 item 10: API tokens carry a name and an expiry, record their last use at most once a minute, and can be
listed and revoked by their owner (the API tokens page and /api/v1/t/<slug>/tokens/)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from crm import services
from crm.models import ApiToken, Role, hash_token

pytestmark = pytest.mark.django_db

# The tokens page: session, user, tenant, membership (middleware), the tokens, and the layout's own reads.
QUERIES = 10


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _token(key: str) -> ApiToken:
    return ApiToken.objects.get(key_hash=hash_token(key))


def test_the_token_endpoint_takes_a_name_and_a_lifetime(tenant, admin_member):
    body = {"email": admin_member.user.email, "password": "demo-pass-1234", "tenant": tenant.slug}
    admin_member.user.set_password("demo-pass-1234")
    admin_member.user.save()
    named = APIClient().post(
        "/api/v1/auth/token/", {**body, "name": "ERP sync", "expires_in_days": 30}, format="json"
    )
    assert named.status_code == 200, named.content
    token = _token(named.json()["token"])
    assert token.name == "ERP sync"
    assert token.expires_at - token.created_at == datetime.timedelta(days=30)
    assert named.json()["expires_at"].startswith(token.expires_at.strftime("%Y-%m-%dT%H:%M"))
    plain = APIClient().post("/api/v1/auth/token/", body, format="json")
    token = _token(plain.json()["token"])
    assert token.expires_at - token.created_at == datetime.timedelta(days=90)
    too_long = APIClient().post("/api/v1/auth/token/", {**body, "expires_in_days": 366}, format="json")
    assert too_long.status_code == 400 and "expires_in_days" in too_long.json()


def test_an_expired_token_answers_401_saying_so(tenant, member):
    rep = member(role=Role.SALES_REP)
    key = services.api_token_create(tenant=tenant, user=rep.user, name="Old laptop")
    ApiToken.objects.filter(key_hash=hash_token(key)).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    response = _client(key).get(f"/api/v1/t/{tenant.slug}/leads/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    assert "expired" in response.json()["detail"]
    assert response["WWW-Authenticate"] == "Token"
    # An unknown key is still the plain "Invalid token.".
    assert _client("0" * 40).get(f"/api/v1/t/{tenant.slug}/leads/").json() == {"detail": "Invalid token."}


def test_last_used_is_written_at_most_once_a_minute(tenant, member):
    rep = member(role=Role.SALES_REP)
    key = services.api_token_create(tenant=tenant, user=rep.user)
    assert _token(key).last_used_at is None
    client = _client(key)
    assert client.get(f"/api/v1/t/{tenant.slug}/me/").status_code == 200
    first = _token(key).last_used_at
    assert first is not None
    assert client.get(f"/api/v1/t/{tenant.slug}/me/").status_code == 200
    assert _token(key).last_used_at == first
    earlier = first - datetime.timedelta(seconds=61)
    ApiToken.objects.filter(key_hash=hash_token(key)).update(last_used_at=earlier)
    assert client.get(f"/api/v1/t/{tenant.slug}/me/").status_code == 200
    assert _token(key).last_used_at > first


def test_the_api_lists_and_revokes_only_the_members_own_tokens(tenant, other_tenant, member):
    rep, peer = member(role=Role.SALES_REP), member(role=Role.SALES_REP)
    key = services.api_token_create(tenant=tenant, user=rep.user, name="Laptop")
    spare = services.api_token_create(tenant=tenant, user=rep.user, name="Phone")
    peers = services.api_token_create(tenant=tenant, user=peer.user, name="Peer's")
    outsider = member(role=Role.SALES_REP, tenant=other_tenant)
    foreign = services.api_token_create(tenant=other_tenant, user=outsider.user, name="Beta")
    client = _client(key)
    listed = client.get(f"/api/v1/t/{tenant.slug}/tokens/")
    assert listed.status_code == 200
    rows = listed.json()
    assert sorted(row["name"] for row in rows) == ["Laptop", "Phone"]
    assert [row["current"] for row in rows if row["name"] == "Laptop"] == [True]
    assert set(rows[0]) == {"id", "name", "created_at", "last_used_at", "expires_at", "current"}
    for other in (peers, foreign):
        assert client.delete(f"/api/v1/t/{tenant.slug}/tokens/{_token(other).pk}/").status_code == 404
    assert _client(peers).get(f"/api/v1/t/{tenant.slug}/me/").status_code == 200
    assert client.delete(f"/api/v1/t/{tenant.slug}/tokens/{_token(spare).pk}/").status_code == 204
    assert _client(spare).get(f"/api/v1/t/{tenant.slug}/me/").status_code == 401
    assert client.get(f"/api/v1/t/{tenant.slug}/me/").status_code == 200
    assert _client(foreign).get(f"/api/v1/t/{other_tenant.slug}/me/").status_code == 200


def test_the_page_creates_lists_and_revokes_tokens(tenant, member, client_for):
    rep, peer = member(role=Role.SALES_REP), member(role=Role.SALES_REP)
    peers = services.api_token_create(tenant=tenant, user=peer.user, name="Peer's token")
    client = client_for(rep)
    url = f"/t/{tenant.slug}/api-tokens/"
    created = client.post(url, {"name": "Build server", "expires_in_days": "30"})
    assert created.status_code == 200
    page = created.content.decode()
    assert 'data-testid="new-token"' in page and "Build server" in page
    assert "Peer&#x27;s token" not in page and "Peer's token" not in page
    token = ApiToken.objects.get(user=rep.user)
    assert token.expires_at - token.created_at == datetime.timedelta(days=30)
    assert client.get(f"{url}{token.pk}/revoke/").status_code == 405
    assert client.post(f"{url}{_token(peers).pk}/revoke/").status_code == 404
    revoked = client.post(f"{url}{token.pk}/revoke/")
    assert revoked.status_code == 302
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    refused = client.post(url, {"name": "Bell\x07", "expires_in_days": "30"})
    assert "U+0007" in refused.content.decode()
    assert not ApiToken.objects.filter(user=rep.user).exists()


def test_the_page_in_chinese(tenant, member, client_for):
    rep = member(role=Role.SALES_REP)
    services.api_token_create(tenant=tenant, user=rep.user, name="笔记本")
    client = client_for(rep)
    client.cookies["django_language"] = "zh-hans"
    page = client.get(f"/t/{tenant.slug}/api-tokens/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "笔记本" in page
    for english in ("Last used", "Expires after", "Revoke", "Create token"):
        assert english not in page


@pytest.mark.parametrize("count", [1, 6])
def test_the_page_reads_a_fixed_number_of_queries(
    tenant, member, client_for, django_assert_num_queries, count
):
    rep = member(role=Role.SALES_REP)
    for n in range(count):
        services.api_token_create(tenant=tenant, user=rep.user, name=f"Device {n}")
    client = client_for(rep)
    client.get(f"/t/{tenant.slug}/api-tokens/")  # warm the session and the membership caches
    with django_assert_num_queries(QUERIES):
        response = client.get(f"/t/{tenant.slug}/api-tokens/")
    assert response.content.decode().count('data-testid="token-row"') == count
