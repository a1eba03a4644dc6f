"""The navigation shell: the active tenant, the user's other tenants (switcher) and the role-aware menu."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from crm.navigation import navigation_for
from crm.selectors import memberships_for_user
from crm.types import tenant_request


def shell(request: HttpRequest) -> dict:
    tenant = getattr(request, "tenant", None)
    membership = getattr(request, "membership", None)
    if tenant is None or membership is None:
        return {"current_tenant": None, "current_membership": None}
    return {
        "current_tenant": tenant,
        "current_membership": membership,
        "nav_sections": navigation_for(request, membership),
        # Lazy: one query, only when the switcher is rendered.
        "user_memberships": SimpleLazyObject(lambda: memberships_for_user(user=tenant_request(request).user)),
    }
