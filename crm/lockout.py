"""What the login lock-out (django-axes) answers: the lock-out page for people, JSON for the API.

The token endpoint (POST /api/v1/auth/token/) checks passwords through the same backend as the login page, so
the lock-out also stops it; a script there expects JSON like every other API answer, not an HTML page.
"""

from __future__ import annotations

from typing import Any

from axes.helpers import get_client_username, get_cool_off, get_cool_off_iso8601, get_failure_limit
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    status = getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429)
    cool_off = get_cool_off(request)
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "detail": _(
                    "Too many failed attempts: logging in is paused for this account from your address."
                )
            },
            status=status,
        )
        if cool_off:
            response["Retry-After"] = str(int(cool_off.total_seconds()))
        return response
    context: dict[str, Any] = {
        "failure_limit": get_failure_limit(request, credentials),
        "username": get_client_username(request, credentials) or "",
    }
    if cool_off:
        context.update({"cooloff_time": get_cool_off_iso8601(cool_off), "cooloff_timedelta": cool_off})
    return render(
        request, getattr(settings, "AXES_LOCKOUT_TEMPLATE", "crm/lockout.html"), context, status=status
    )
