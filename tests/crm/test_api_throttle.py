"""Issue 11 item 10: the authenticated API is rate limited per token and per tenant (crm/throttling.py), 429 with
Retry-After; the rates are settings (small here so a test reaches them)."""

from __future__ import annotations

import pytest

from crm.models import Role

pytestmark = pytest.mark.django_db


def _members(tenant, member):
    return member(role=Role.SALES_REP), member(role=Role.SALES_REP)


def test_a_token_over_its_rate_gets_429_with_retry_after(tenant, member, api_client_for, settings):
    settings.API_RATE_PER_TOKEN = "3/min"
    settings.API_RATE_PER_TENANT = "1000/min"
    first, second = _members(tenant, member)
    client = api_client_for(first)
    codes = [client.get(f"/api/v1/t/{tenant.slug}/leads/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get(f"/api/v1/t/{tenant.slug}/accounts/")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "detail" in refused.json()
    # Another token of the same company has its own count.
    assert api_client_for(second).get(f"/api/v1/t/{tenant.slug}/leads/").status_code == 200


def test_a_tenant_over_its_rate_gets_429_whatever_the_token(
    tenant, other_tenant, member, api_client_for, settings
):
    settings.API_RATE_PER_TOKEN = "1000/min"
    settings.API_RATE_PER_TENANT = "4/min"
    first, second = _members(tenant, member)
    clients = [api_client_for(first), api_client_for(second)]
    codes = [clients[i % 2].get(f"/api/v1/t/{tenant.slug}/leads/").status_code for i in range(5)]
    assert codes == [200, 200, 200, 200, 429]
    assert int(clients[0].get(f"/api/v1/t/{tenant.slug}/leads/")["Retry-After"]) > 0
    # Another company is not slowed down by this one.
    outsider = member(role=Role.SALES_REP, tenant=other_tenant)
    assert api_client_for(outsider).get(f"/api/v1/t/{other_tenant.slug}/leads/").status_code == 200


def test_a_browser_session_counts_per_user(tenant, member, client_for, settings):
    settings.API_RATE_PER_TOKEN = "2/min"
    settings.API_RATE_PER_TENANT = "1000/min"
    client = client_for(member(role=Role.SALES_REP))
    codes = [client.get(f"/api/v1/t/{tenant.slug}/leads/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_the_default_rates_are_generous(settings):
    from rest_framework.throttling import SimpleRateThrottle

    per_token = SimpleRateThrottle.parse_rate(None, settings.API_RATE_PER_TOKEN)  # type: ignore[arg-type]
    per_tenant = SimpleRateThrottle.parse_rate(None, settings.API_RATE_PER_TENANT)  # type: ignore[arg-type]
    assert per_token[0] / per_token[1] >= 10  # at least 10 requests a second per token
    assert per_tenant[0] / per_tenant[1] >= per_token[0] / per_token[1]


def test_the_limits_hold_per_process_while_redis_is_down(
    tenant, member, api_client_for, settings, monkeypatch
):
    """An outage must not remove the limits: the counts move to the process's memory (crm.cache.throttle_cache)
    while the shared cache cannot be reached, for the token, the tenant and the token endpoint alike."""
    from crm.cache import throttle_cache

    monkeypatch.setattr(throttle_cache, "_local", None)  # a fresh per-process count for this test
    settings.CACHES = {
        "default": {
            "BACKEND": "crm.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on the discard port: Redis is "down"
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    settings.API_RATE_PER_TOKEN = "3/min"
    settings.API_RATE_PER_TENANT = "6/min"
    first, second = _members(tenant, member)
    client = api_client_for(first)
    answers = [client.get(f"/api/v1/t/{tenant.slug}/leads/") for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]  # the token's limit
    assert 0 < int(answers[-1]["Retry-After"]) <= 60
    other = api_client_for(second)
    # The tenant counted all four (DRF counts a request for every throttle that lets it through): two more pass.
    assert [other.get(f"/api/v1/t/{tenant.slug}/leads/").status_code for _ in range(3)] == [200, 200, 429]
