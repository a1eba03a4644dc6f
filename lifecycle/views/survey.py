"""Survey pages. The link a CS member makes for a contact (in the tenant), and the customer-facing survey page
at /survey/<token>/: no login, outside /t/<slug>/ (the tenant middleware does not run), so the tenant is set
here, explicitly, and only after the token's signature is verified. The page is in the tenant's language and
shows nothing of the tenant but its name. Requests are rate-limited per IP (cache): over the limit, 429 and
nothing read or written.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from accounts.models import Contact
from accounts.selectors.contacts import contact_get
from crm.decorators import tenant_roles_required
from crm.models import Tenant
from crm.tenancy import tenant_context
from crm.types import TenantHttpRequest
from lifecycle.forms.survey import SurveyAnswerForm, SurveyLinkForm
from lifecycle.models import FEEDBACK_RANGES
from lifecycle.services.survey import (
    SurveyLinkError,
    survey_answer,
    survey_link_make,
    survey_link_read,
    survey_link_used,
)
from lifecycle.views.common import CS_EDITORS


@tenant_roles_required(CS_EDITORS)
def survey_link(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Make a survey link for a contact (POST kind); the partial shows it to copy."""
    try:
        contact = contact_get(tenant=request.tenant, membership=request.membership, pk=pk)
    except Contact.DoesNotExist as exc:
        raise Http404 from exc
    form = SurveyLinkForm(request.POST or None)
    url = None
    if request.method == "POST" and form.is_valid() and contact.account_id:
        token = survey_link_make(tenant=request.tenant, contact=contact, kind=form.cleaned_data["kind"])
        url = request.build_absolute_uri(reverse("survey:answer", kwargs={"token": token}))
    context = {"contact": contact, "form": form, "survey_url": url}
    template = "lifecycle/partials/_survey_link.html" if request.htmx else "lifecycle/survey_link.html"
    return render(request, template, context)


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def rate_limited(request: HttpRequest) -> bool:
    """Count this request against the IP's window; True once it is over SURVEY_RATE_LIMIT requests."""
    limit = getattr(settings, "SURVEY_RATE_LIMIT", 30)
    window = getattr(settings, "SURVEY_RATE_WINDOW", 600)
    key = f"survey-rate:{_client_ip(request)}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window)
        count = 1
    return count > limit


def _refused(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return render(request, "lifecycle/survey_refused.html", {"reason": reason}, status=status)


@never_cache
@csrf_protect
def survey_answer_view(request: HttpRequest, token: str) -> HttpResponse:
    if rate_limited(request):
        return _refused(request, "rate", 429)
    try:
        link = survey_link_read(token)
    except SurveyLinkError as exc:
        return _refused(request, exc.reason, 400 if exc.reason == "invalid" else 410)
    tenant = Tenant.objects.filter(pk=link.tenant_id, is_active=True).first()
    if tenant is None:
        return _refused(request, "invalid", 400)
    with translation.override(tenant.default_locale), tenant_context(tenant):
        low, high = FEEDBACK_RANGES[link.kind]
        context: dict[str, Any] = {
            "tenant_name": tenant.name,
            "kind": link.kind,
            "scores": range(low, high + 1),
        }
        if survey_link_used(tenant=tenant, link=link):
            return _refused(request, "used", 410)
        form = SurveyAnswerForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                survey_answer(
                    tenant=tenant,
                    link=link,
                    score=form.cleaned_data["score"],
                    comment=form.cleaned_data["comment"],
                )
            except SurveyLinkError as exc:
                return _refused(request, exc.reason, 410 if exc.reason == "used" else 400)
            except ValidationError:
                form.add_error("score", "")
            else:
                return render(request, "lifecycle/survey_thanks.html", context)
        context["form"] = form
        status = 400 if request.method == "POST" else 200
        return render(request, "lifecycle/survey_answer.html", context, status=status)
