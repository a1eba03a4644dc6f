"""Typed views of the request objects that the tenant middleware decorates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    from crm.models import ApiToken, Membership, Tenant, User


class TenantHttpRequest(HttpRequest):
    """A request under /t/<slug>/ or /api/v1/t/<slug>/ after TenantMiddleware: a member is logged in."""

    tenant: Tenant
    membership: Membership
    user: User  # type: ignore[assignment]
    api_token: ApiToken
    htmx: Any


class TenantRequest(Request):
    """A DRF request under /api/v1/t/<slug>/ after TenantMiddleware and authentication: a member is logged in.
    For annotations only (views subclass nothing here); DRF's Request proxies these to the Django request."""

    tenant: Tenant
    membership: Membership
    user: User  # type: ignore[assignment]  # a member is logged in; DRF's property also allows AnonymousUser
    api_token: ApiToken


def tenant_request(request: Any) -> TenantHttpRequest:
    """The same request, typed (DRF's Request proxies these attributes to the Django request)."""
    return cast(TenantHttpRequest, request)
