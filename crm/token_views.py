"""The member's API tokens page (the user menu's "API tokens"): create a named token with an expiry, see each
token's name, creation, last use and expiry, revoke one (POST, after a confirmation)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm import selectors, services
from crm.decorators import tenant_member_required
from crm.formstyle import StyledForm
from crm.models import ApiToken
from crm.types import TenantHttpRequest
from crm.viewutils import apply_validation_error

LIFETIMES = (
    (30, gettext_lazy("30 days")),
    (90, gettext_lazy("90 days")),
    (180, gettext_lazy("180 days")),
    (365, gettext_lazy("1 year")),
)


class ApiTokenForm(StyledForm):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("The device or script that will use it, e.g. “Laptop” or “Nightly ERP sync”."),
    )
    expires_in_days = forms.TypedChoiceField(
        label=gettext_lazy("Expires after"),
        choices=LIFETIMES,
        coerce=int,
        initial=90,
        required=False,
        empty_value=None,  # settings.API_TOKEN_DAYS
    )


@tenant_member_required
def api_tokens(request: TenantHttpRequest, slug: str) -> HttpResponse:
    new_token = None
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            new_token = services.api_token_create(
                tenant=request.tenant,
                user=request.user,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["expires_in_days"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            form = ApiTokenForm()
    tokens = selectors.api_tokens_for(tenant=request.tenant, user=request.user)
    return render(request, "crm/api_tokens.html", {"tokens": tokens, "new_token": new_token, "form": form})


@require_POST
@tenant_member_required
def api_token_revoke(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    try:
        services.api_token_revoke(tenant=request.tenant, user=request.user, token_id=pk)
    except ApiToken.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(request, _("Token revoked. Clients using it now get 401."))
    return redirect("crm:api-tokens", slug=slug)
