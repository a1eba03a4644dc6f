"""DRF authentication by per-membership token. The middleware has already resolved and checked the token
against the tenant in the URL; this class only hands the result to DRF."""

from __future__ import annotations

from rest_framework import authentication
from rest_framework.request import Request


class TenantTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request):  # type: ignore[override]
        api_token = getattr(request._request, "api_token", None)
        if api_token is None:
            return None
        return (api_token.user, api_token)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
