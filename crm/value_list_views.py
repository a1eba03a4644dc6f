"""The admin page of the company's value lists (/t/<slug>/value-lists/): one list at a time, add a value, rename a
label, retire or bring back a value, delete a value the company added that no record uses."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm import value_lists
from crm.decorators import tenant_admin_required
from crm.models import ValueListKey
from crm.types import TenantHttpRequest

ACTIONS = ("add", "rename", "retire", "unretire", "delete")


@require_http_methods(["GET", "POST"])
@tenant_admin_required
def value_lists_page(request: TenantHttpRequest, slug: str) -> HttpResponse:
    list_key = request.GET.get("list") or request.POST.get("list") or ValueListKey.CHANNEL
    if list_key not in ValueListKey.values:
        list_key = ValueListKey.CHANNEL
    status = 200
    if request.method == "POST":
        try:
            _apply(request, list_key)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            status = 400
        else:
            return redirect(reverse("crm:value-lists", kwargs={"slug": slug}) + f"?list={list_key}")
    context = {
        "lists": ValueListKey.choices,
        "list_key": list_key,
        "list_label": ValueListKey(list_key).label,
        "values": value_lists.value_list(tenant=request.tenant, list_key=list_key),
    }
    return render(request, "crm/value_lists.html", context, status=status)


def _apply(request: TenantHttpRequest, list_key: str) -> None:
    action = request.POST.get("action", "")
    value = request.POST.get("value", "")
    label = request.POST.get("label", "")
    tenant, actor = request.tenant, request.user
    if action == "add":
        item = value_lists.value_add(tenant=tenant, actor=actor, list_key=list_key, value=value, label=label)
        messages.success(request, _("Added “%(value)s”.") % {"value": item.label})
        return
    if value not in {item.value for item in value_lists.value_list(tenant=tenant, list_key=list_key)}:
        raise ValidationError(_("This list has no such value."))
    if action == "rename":
        value_lists.value_update(tenant=tenant, actor=actor, list_key=list_key, value=value, label=label)
    elif action in ("retire", "unretire"):
        value_lists.value_update(
            tenant=tenant, actor=actor, list_key=list_key, value=value, retired=action == "retire"
        )
    elif action == "delete":
        value_lists.value_delete(tenant=tenant, actor=actor, list_key=list_key, value=value)
    else:
        raise ValidationError(_("Unknown action."))
    messages.success(request, _("Saved."))
