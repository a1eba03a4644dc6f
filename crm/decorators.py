"""View guards. The middleware already 404s non-members; these check the role inside the tenant."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse

from crm.models import Role


def tenant_roles_required(roles: Iterable[str]) -> Callable:
    allowed = frozenset(roles)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            membership = getattr(request, "membership", None)
            # Invisible to the role behaves like missing: 404, never 403.
            if membership is None or membership.role not in allowed:
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def tenant_member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    return tenant_roles_required(Role.values)(view)


tenant_admin_required = tenant_roles_required([Role.ADMIN])
