"""Lead merge page and merge undo."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Field
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.decorators import tenant_roles_required
from crm.errors import AppError
from crm.types import TenantHttpRequest
from crm.viewutils import apply_validation_error
from leads.forms.leads import MergeForm
from leads.models import Lead
from leads.services import merges as merges_services
from leads.views.helpers import WRITERS, error_message, lead_detail_redirect, lead_or_404


def _column_label(name: str) -> str | Promise:
    """The verbose name of one of the lead's own columns."""
    field = Lead._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"Lead.{name} is not a column")
    return field.verbose_name


@tenant_roles_required(WRITERS)
def lead_merge(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Compare this lead with a duplicate (GET) and merge them (POST: which one stays)."""
    lead = lead_or_404(request, pk)
    other_id = request.POST.get("other") or request.GET.get("other")
    if not other_id or not str(other_id).isdecimal():
        raise Http404
    other = lead_or_404(request, int(other_id))
    if not (lead.can_edit and other.can_edit) or other.pk == lead.pk:
        raise Http404
    form = MergeForm(request.POST or None, initial={"other": other.pk, "keep": "this"})
    if request.method == "POST" and form.is_valid():
        survivor, merged = (lead, other) if form.cleaned_data["keep"] == "this" else (other, lead)
        try:
            record = merges_services.lead_merge(
                tenant=request.tenant, actor=request.user, survivor=survivor, merged=merged
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        except (AppError, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Merged “%(merged)s” into this lead. You can undo it below.") % {"merged": merged}
            )
            return redirect("leads:lead-detail", slug=slug, pk=record.survivor_id)
    rows = []
    for name in ("first_name", "last_name", "email", "phone", "company", "title", "region", "industry"):
        rows.append(
            {
                "label": _column_label(name),
                "this": getattr(lead, name),
                "other": getattr(other, name),
            }
        )
    rows.append(
        {"label": _("status"), "this": lead.get_status_display(), "other": other.get_status_display()}
    )
    rows.append({"label": _("owner"), "this": lead.owner or "—", "other": other.owner or "—"})
    return render(
        request, "leads/lead_merge.html", {"lead": lead, "other": other, "form": form, "rows": rows}
    )


@require_POST
@tenant_roles_required(WRITERS)
def lead_merge_undo(request: TenantHttpRequest, slug: str, pk: int, record_id: int) -> HttpResponse:
    from accounts.models import MergeRecord
    from accounts.selectors.merges import merge_record_get

    lead = lead_or_404(request, pk)
    try:
        record = merge_record_get(tenant=request.tenant, pk=record_id, entity="lead")
    except MergeRecord.DoesNotExist as exc:
        raise Http404 from exc
    if record.survivor_id != lead.pk or not lead.can_edit:
        raise Http404
    try:
        restored = merges_services.lead_merge_undo(tenant=request.tenant, actor=request.user, record=record)
    except (ValidationError, AppError, PermissionDenied) as exc:
        error_message(request, exc)
        return lead_detail_redirect(lead, slug)
    messages.success(request, _("Merge undone: “%(name)s” is back.") % {"name": restored})
    return lead_detail_redirect(restored, slug)
