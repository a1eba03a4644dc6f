"""`{% export_actions "leads" as actions %}`: whether the member may export / import a kind, and the URLs (the
export carries the list page's current filters)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from imports.registry import get_kind

register = template.Library()


@register.simple_tag(takes_context=True)
def export_actions(context: dict[str, Any], kind_key: str) -> dict[str, Any]:
    request = context.get("request")
    membership = getattr(request, "membership", None)
    tenant = getattr(request, "tenant", None)
    kind = get_kind(kind_key)
    if kind is None or membership is None or tenant is None:
        return {"can_export": False, "can_import": False}
    query = request.GET.urlencode() if request is not None else ""
    export_url = reverse("imports:export", kwargs={"slug": tenant.slug, "kind": kind.key})
    xlsx_url = reverse("imports:export-xlsx", kwargs={"slug": tenant.slug, "kind": kind.key})
    return {
        "can_export": kind.can_export(membership),
        "export_url": f"{export_url}?{query}" if query else export_url,
        "export_xlsx_url": f"{xlsx_url}?{query}" if query else xlsx_url,
        "can_import": kind.can_import(membership),
        "import_url": reverse("imports:import-list", kwargs={"slug": tenant.slug}) + f"?kind={kind.key}",
    }


@register.filter
def kind_label(kind_key: str) -> Any:
    """An import job's kind as the reader's language names it ("leads" -> "Leads" / "线索"); an unknown key as is."""
    kind = get_kind(kind_key)
    return kind.label if kind is not None else kind_key
