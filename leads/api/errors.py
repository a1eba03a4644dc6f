"""How the lead API answers a service's refusal: a visible-but-not-editable lead is 403."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from rest_framework.exceptions import PermissionDenied


def service_errors(call):  # type: ignore[no-untyped-def]
    """Run a service call; a visible-but-not-editable lead answers 403."""
    try:
        return call()
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc
