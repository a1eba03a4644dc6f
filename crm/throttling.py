"""Rate limits of the authenticated API (issue 11 item 10): one per token and one per tenant, both generous, so a
runaway script or a leaked token cannot take a company's share (or the server) for itself. DRF counts the requests
in the default cache (Redis in production, so every web process shares the counts) and answers 429 with
Retry-After in seconds when a limit is reached. While Redis is down the counts are kept per web process
(crm.cache.OutageFallbackCache): the limits hold per process instead of disappearing with the outage.

The rates are settings (`API_RATE_PER_TOKEN`, `API_RATE_PER_TENANT`, e.g. "1200/min"; docs/operations.md), read
at each request so a deployment or a test can change them. A browser session using the API (the interactive docs)
counts as one "token" per user and tenant. Requests without a tenant (the token endpoint, the schema) are not
counted here; the token endpoint has its own throttles (crm.api)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from crm.cache import throttle_cache

if TYPE_CHECKING:  # rest_framework.views imports this module through the settings: no import at run time
    from rest_framework.request import Request
    from rest_framework.views import APIView


class _TenantApiThrottle(SimpleRateThrottle):
    setting_name = ""
    cache = throttle_cache

    def get_rate(self) -> str | None:
        return getattr(settings, self.setting_name, None) or None

    def allow_request(self, request: Request, view: APIView) -> bool:
        # The rate is read per request (not once per process), so override_settings and deployments agree.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)  # type: ignore[assignment]
        return super().allow_request(request, view)

    def _tenant(self, request: Request) -> Any:
        return getattr(request._request, "tenant", None)

    def _key(self, ident: str) -> str:
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenRateThrottle(_TenantApiThrottle):
    """Per API token (per user and tenant for a browser session)."""

    scope = "api_token"
    setting_name = "API_RATE_PER_TOKEN"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        tenant = self._tenant(request)
        if tenant is None or not request.user or not request.user.is_authenticated:
            return None
        api_token = getattr(request._request, "api_token", None)
        if api_token is not None:
            return self._key(f"token-{api_token.key_hash}")
        return self._key(f"session-{tenant.pk}-{request.user.pk}-{tenant.created_at.timestamp()}")


class TenantRateThrottle(_TenantApiThrottle):
    """Per tenant, every member and token together."""

    scope = "api_tenant"
    setting_name = "API_RATE_PER_TENANT"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        tenant = self._tenant(request)
        if tenant is None or not request.user or not request.user.is_authenticated:
            return None
        # The creation time keeps two databases' tenants of one id apart when they share a cache (test runs).
        return self._key(f"{tenant.pk}-{tenant.created_at.timestamp()}")
