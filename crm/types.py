"""Typed views of the request objects that the tenant middleware decorates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.http import HttpRequest

if TYPE_CHECKING:
    from crm.models import ApiToken, Membership, Tenant, User


class TenantHttpRequest(HttpRequest):
    """A request under /t/<slug>/ or /api/v1/t/<slug>/ after TenantMiddleware: a member is logged in."""

    tenant: Tenant
    membership: Membership
    user: User  # type: ignore[assignment]
    api_token: ApiToken
    htmx: Any


def tenant_request(request: Any) -> TenantHttpRequest:
    """The same request, typed (DRF's Request proxies these attributes to the Django request)."""
    return cast(TenantHttpRequest, request)
