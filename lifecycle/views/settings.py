"""The admins' page of the lifecycle settings (the windows of KPIS.md's rules and the renewal lead time)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from crm.decorators import tenant_admin_required
from crm.types import tenant_request
from crm.viewutils import apply_validation_error
from lifecycle.forms.settings import LifecycleSettingsForm
from lifecycle.services.settings import lifecycle_settings_get, lifecycle_settings_update

FORM_FIELDS = ("onboarding_days", "grace_days", "lapse_days", "renewal_lead_days")


@tenant_admin_required
def lifecycle_settings(request: HttpRequest, slug: str) -> HttpResponse:
    req = tenant_request(request)
    current = lifecycle_settings_get(tenant=req.tenant)
    initial = {name: getattr(current, name) for name in FORM_FIELDS}
    form = LifecycleSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle_settings_update(tenant=req.tenant, actor=req.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Lifecycle settings saved. Stages are being recomputed."))
            return redirect("lifecycle:settings", slug=slug)
    return render(request, "lifecycle/settings_form.html", {"form": form})
