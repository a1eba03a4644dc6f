"""Health pages: the at-risk list (reasons in words, sorted by MRR at stake) and the health settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from crm.decorators import tenant_member_required, tenant_roles_required
from crm.types import TenantHttpRequest
from crm.viewutils import apply_validation_error
from lifecycle.forms.health import HealthSettingsForm
from lifecycle.selectors.health import at_risk_list, health_reasons
from lifecycle.services.health import WEIGHT_FIELDS, health_settings_get, health_settings_update
from lifecycle.services.settings import lifecycle_settings_get
from lifecycle.views.common import CS_EDITORS, _page


@tenant_member_required
def at_risk(request: TenantHttpRequest, slug: str) -> HttpResponse:
    """Visible accounts under the threshold with their reasons, the most MRR at stake first (paginated)."""
    page = _page(request, at_risk_list(tenant=request.tenant, membership=request.membership))
    rows = [{"health": health, "reasons": health_reasons(health.components)} for health in page]
    return render(
        request,
        "lifecycle/health_at_risk.html",
        {
            "page": page,
            "rows": rows,
            "threshold": lifecycle_settings_get(tenant=request.tenant).health_at_risk_threshold,
            "can_edit_settings": request.membership.role in CS_EDITORS,
        },
    )


@tenant_roles_required(CS_EDITORS)
def health_settings(request: TenantHttpRequest, slug: str) -> HttpResponse:
    current = health_settings_get(tenant=request.tenant)
    initial = {
        name: getattr(current, name)
        for name in (*WEIGHT_FIELDS, *(f"cadence_{t}" for t in current.cadence()))
    }
    initial["at_risk_threshold"] = lifecycle_settings_get(tenant=request.tenant).health_at_risk_threshold
    form = HealthSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            health_settings_update(tenant=request.tenant, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Health settings saved. Scores are being recomputed."))
            return redirect("lifecycle:health-settings", slug=slug)
    return render(request, "lifecycle/health_settings.html", {"form": form})
