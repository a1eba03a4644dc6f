"""Tenant resolution for /t/<slug>/ and /api/v1/t/<slug>/, and the per-user language."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.models import ApiToken, Membership, MembershipStatus, Tenant, hash_token
from crm.tenancy import tenant_context
from crm.types import tenant_request

TENANT_PATH = re.compile(r"^/(?P<api>api/v1/)?t/(?P<slug>[^/]+)/")
TOKEN_HEADER = re.compile(r"^Token\s+(?P<key>\S+)\s*$")


def _not_found(request: HttpRequest, is_api: bool) -> HttpResponse:
    if is_api:
        return JsonResponse({"detail": _("Not found.")}, status=404)
    raise Http404


def _touch(api_token: ApiToken, now: datetime.datetime) -> None:
    """Record the token's use at most once per API_TOKEN_LAST_USED_SECONDS: a busy script would otherwise rewrite
    the row on every request (a new row version, WAL, index and vacuum work, and a row lock the token's other
    requests queue behind). The condition is in the UPDATE itself, so concurrent requests agree on one writer and
    a request within the interval matches no row: PostgreSQL then writes and locks nothing. (One statement per
    request either way, so the requests' query counts do not depend on how recently the token was used.)"""
    stale = now - datetime.timedelta(seconds=settings.API_TOKEN_LAST_USED_SECONDS)
    ApiToken.objects.filter(pk=api_token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale)
    ).update(last_used_at=now)


class TenantMiddleware:
    """Resolve the tenant in the URL, check membership (404 otherwise) and run the view in tenant_context.

    The whole view runs in one transaction, so `app.tenant_id` (transaction-local) covers every query; a 5xx
    response rolls the transaction back.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, http_request: HttpRequest) -> HttpResponse:
        request = tenant_request(http_request)
        request.tenant = None  # type: ignore[assignment]
        request.membership = None  # type: ignore[assignment]
        match = TENANT_PATH.match(request.path_info)
        if not match:
            return self.get_response(request)
        is_api = bool(match.group("api"))
        slug = match.group("slug")

        user = None
        auth_header = request.headers.get("Authorization", "")
        token_match = TOKEN_HEADER.match(auth_header) if is_api else None
        if token_match:
            api_token = (
                ApiToken.objects.select_related("tenant", "user")
                .filter(key_hash=hash_token(token_match.group("key")))
                .first()
            )
            if api_token is None or not api_token.user.is_active:
                return JsonResponse({"detail": _("Invalid token.")}, status=401)
            now = timezone.now()
            if api_token.expires_at <= now:
                expired = JsonResponse(
                    {
                        "detail": _(
                            "This API token expired on %(date)s (UTC). Create a new one on the API tokens page "
                            "or at POST /api/v1/auth/token/."
                        )
                        % {"date": api_token.expires_at.strftime("%Y-%m-%d %H:%M")},
                        "code": "token_expired",
                    },
                    status=401,
                )
                expired["WWW-Authenticate"] = "Token"
                return expired
            if api_token.tenant.slug != slug:
                return _not_found(request, is_api)  # a token works only for its tenant
            user = api_token.user
            request.api_token = api_token
            _touch(api_token, now)
        elif request.user.is_authenticated:
            user = request.user
        elif auth_header and is_api:
            return JsonResponse({"detail": _("Invalid token.")}, status=401)
        else:
            if is_api:
                return JsonResponse(
                    {"detail": _("Authentication credentials were not provided.")}, status=401
                )
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)

        tenant = Tenant.objects.filter(slug=slug, is_active=True).first()
        if tenant is None:
            return _not_found(request, is_api)

        with tenant_context(tenant, user_id=user.pk):
            membership = (
                Membership.objects.select_related("team", "user")
                .filter(user=user, status=MembershipStatus.ACTIVE)
                .first()
            )
            if membership is None:
                return _not_found(request, is_api)
            request.tenant = tenant
            request.membership = membership
            if not user.language and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
                translation.activate(tenant.default_locale)
                request.LANGUAGE_CODE = tenant.default_locale
            if token_match:
                request.user = user
                request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]  # token clients carry no cookie
            # Pages work in the tenant's zone: a time typed in a form is read in it, and every time shown is
            # shown in it. The API keeps UTC in its answers (ISO 8601 with offset, what clients compare).
            if not is_api:
                timezone.activate(tenant.tzinfo)
            try:
                response = self.get_response(request)
            finally:
                if not is_api:
                    timezone.deactivate()
            if response.status_code >= 500:
                transaction.set_rollback(True)
            return response


class UserLanguageMiddleware:
    """Activate the user's saved language, else the tenant's default, else what LocaleMiddleware chose."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        response = self.get_response(request)
        return response
