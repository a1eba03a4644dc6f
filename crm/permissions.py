from __future__ import annotations

from rest_framework.permissions import BasePermission

from crm.models import Role


class IsTenantMember(BasePermission):
    """Every tenant API route needs a membership resolved by the middleware (non-members already got 404)."""

    def has_permission(self, request, view) -> bool:  # type: ignore[no-untyped-def]
        return bool(request.user and request.user.is_authenticated and getattr(request, "membership", None))


class IsTenantAdmin(IsTenantMember):
    def has_permission(self, request, view) -> bool:  # type: ignore[no-untyped-def]
        return super().has_permission(request, view) and request.membership.role == Role.ADMIN


def role_in(*roles: str) -> type[BasePermission]:
    class _RoleIn(IsTenantMember):
        def has_permission(self, request, view) -> bool:  # type: ignore[no-untyped-def]
            return super().has_permission(request, view) and request.membership.role in roles

    return _RoleIn
