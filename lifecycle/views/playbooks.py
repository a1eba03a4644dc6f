"""Playbook templates: the tasks created when an account enters onboarding or becomes at risk."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.decorators import tenant_roles_required
from crm.types import TenantHttpRequest
from crm.viewutils import apply_validation_error
from lifecycle.forms.playbooks import PlaybookTemplateForm
from lifecycle.models import PlaybookTemplate
from lifecycle.services.playbooks import (
    playbook_template_create,
    playbook_template_delete,
    playbook_template_update,
    playbook_templates_ensure_defaults,
)
from lifecycle.views.common import CS_EDITORS


@tenant_roles_required(CS_EDITORS)
def playbook_list(request: TenantHttpRequest, slug: str) -> HttpResponse:
    tenant = request.tenant
    playbook_templates_ensure_defaults(tenant=tenant)
    form = PlaybookTemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            playbook_template_create(tenant=tenant, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Playbook task added."))
            return redirect("lifecycle:playbook-list", slug=slug)
    templates = list(PlaybookTemplate.objects.filter(tenant=tenant).order_by("trigger", "order", "id"))
    return render(request, "lifecycle/playbook_list.html", {"templates": templates, "form": form})


def _template(request: TenantHttpRequest, pk: int) -> PlaybookTemplate:
    found = PlaybookTemplate.objects.filter(tenant=request.tenant, pk=pk).first()
    if found is None:
        raise Http404
    return found


@tenant_roles_required(CS_EDITORS)
def playbook_edit(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    template = _template(request, pk)
    initial = {
        name: getattr(template, name)
        for name in ("trigger", "subject", "due_in_days", "assignee", "is_active")
    }
    form = PlaybookTemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            playbook_template_update(
                tenant=request.tenant, actor=request.user, template=template, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Playbook task saved."))
            return redirect("lifecycle:playbook-list", slug=slug)
    return render(request, "lifecycle/playbook_form.html", {"form": form, "template": template})


@tenant_roles_required(CS_EDITORS)
@require_POST
def playbook_delete(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    playbook_template_delete(tenant=request.tenant, actor=request.user, template=_template(request, pk))
    messages.success(request, _("Playbook task deleted."))
    return redirect("lifecycle:playbook-list", slug=slug)
