"""Pages of the exchange-rate table: the list with the add form, edit, delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms.rates import ExchangeRateForm
from accounts.models import ExchangeRate
from accounts.selectors import rates as rates_selectors
from accounts.services import rates as rates_services
from accounts.views.common import _service_error
from crm.decorators import tenant_admin_required
from crm.errors import AppError
from crm.types import TenantHttpRequest


@tenant_admin_required
def rate_list(request: TenantHttpRequest, slug: str) -> HttpResponse:
    form = ExchangeRateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rates_services.exchange_rate_create(
                tenant=request.tenant, actor=request.user, **form.cleaned_data
            )
        except (ValidationError, AppError) as exc:
            _service_error(form, exc)
        else:
            messages.success(request, _("Rate added."))
            return redirect("accounts:rate-list", slug=slug)
    rates = list(rates_selectors.exchange_rate_list(tenant=request.tenant, filters=request.GET or None)[:500])
    context = {
        "form": form,
        "rates": rates,
        "current_rates": rates_selectors.exchange_rates_current(tenant=request.tenant),
        "currency_filter": request.GET.get("currency", ""),
    }
    return render(request, "accounts/rate_list.html", context)


@tenant_admin_required
def rate_edit(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    try:
        rate = rates_selectors.exchange_rate_get(tenant=request.tenant, pk=pk)
    except ExchangeRate.DoesNotExist as exc:
        raise Http404 from exc
    form = ExchangeRateForm(request.POST or None, instance=rate)
    if request.method == "POST" and form.is_valid():
        try:
            rates_services.exchange_rate_update(
                tenant=request.tenant, actor=request.user, exchange_rate=rate, **form.cleaned_data
            )
        except (ValidationError, AppError) as exc:
            _service_error(form, exc)
        else:
            messages.success(request, _("Rate saved."))
            return redirect("accounts:rate-list", slug=slug)
    return render(request, "accounts/rate_form.html", {"form": form, "rate": rate})


@tenant_admin_required
@require_POST
def rate_delete(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    try:
        rate = rates_selectors.exchange_rate_get(tenant=request.tenant, pk=pk)
    except ExchangeRate.DoesNotExist as exc:
        raise Http404 from exc
    rates_services.exchange_rate_delete(tenant=request.tenant, actor=request.user, exchange_rate=rate)
    messages.success(request, _("Rate deleted."))
    return redirect("accounts:rate-list", slug=slug)
