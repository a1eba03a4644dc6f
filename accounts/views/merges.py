"""Pages of merges: merging two accounts or two contacts (pick the surviving values) and undoing a merge."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms.merges import MergeForm
from accounts.models import Account, Contact, MergeEntity, MergeRecord
from accounts.selectors import duplicates as duplicates_selectors
from accounts.selectors import merges as merges_selectors
from accounts.selectors import visibility as visibility_selectors
from accounts.services import merges as merges_services
from accounts.views.common import MERGERS, _account_for, _contact_for, _service_error
from crm.decorators import tenant_roles_required
from crm.errors import AppError
from crm.types import TenantHttpRequest


def _merge_page(request: TenantHttpRequest, slug: str, pk: int, *, entity: str) -> HttpResponse:
    is_account = entity == MergeEntity.ACCOUNT
    getter = _account_for if is_account else _contact_for
    record = getter(request, pk, for_edit=True)
    other = None
    other_id = request.POST.get("other") or request.GET.get("other")
    if other_id:
        if not str(other_id).isdecimal() or int(other_id) == record.pk:
            raise Http404
        other = getter(request, int(other_id), for_edit=True)
    fields = merges_services.MERGE_FIELDS[Account if is_account else Contact]
    form = MergeForm(request.POST or None, left=record, right=other, fields=fields) if other else None
    if request.method == "POST" and form is not None and form.is_valid():
        survivor, merged, choices = form.merge_arguments()
        try:
            if is_account:
                merge = merges_services.account_merge(
                    tenant=request.tenant,
                    actor=request.user,
                    survivor=survivor,
                    merged=merged,
                    choices=choices,
                )
            else:
                merge = merges_services.contact_merge(
                    tenant=request.tenant,
                    actor=request.user,
                    survivor=survivor,
                    merged=merged,
                    choices=choices,
                )
        except (ValidationError, AppError) as exc:
            _service_error(form, exc)
        else:
            name = "accounts:account-detail" if is_account else "accounts:contact-detail"
            return redirect(reverse(name, kwargs={"slug": slug, "pk": survivor.pk}) + f"?merged={merge.pk}")
    candidates: list = []
    q = request.GET.get("q", "").strip()
    if other is None:
        if q:
            base = (
                visibility_selectors.account_queryset(
                    tenant=request.tenant, membership=request.membership, for_edit=True
                )
                if is_account
                else visibility_selectors.contact_queryset(
                    tenant=request.tenant, membership=request.membership, for_edit=True
                )
            )
            candidates = list(
                base.filter(search_text__contains=q.lower()).exclude(pk=record.pk).order_by("pk")[:20]
            )
        elif isinstance(record, Account):
            candidates = duplicates_selectors.account_duplicates(
                tenant=request.tenant,
                name=record.name,
                domain=record.domain,
                exclude_id=record.pk,
                membership=request.membership,
            )
        else:
            candidates = duplicates_selectors.contact_duplicates(
                tenant=request.tenant,
                email=record.email,
                phone=record.phone,
                exclude_id=record.pk,
                membership=request.membership,
            )
    context = {
        "record": record,
        "other": other,
        "form": form,
        "candidates": candidates,
        "q": q,
        "is_account": is_account,
        "entity": entity,
    }
    return render(request, "accounts/merge_form.html", context)


@tenant_roles_required(MERGERS)
def account_merge(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    return _merge_page(request, slug, pk, entity=MergeEntity.ACCOUNT)


@tenant_roles_required(MERGERS)
def contact_merge(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    return _merge_page(request, slug, pk, entity=MergeEntity.CONTACT)


@tenant_roles_required(MERGERS)
@require_POST
def merge_undo(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    try:
        record = merges_selectors.merge_record_get(tenant=request.tenant, pk=pk)
    except MergeRecord.DoesNotExist as exc:
        raise Http404 from exc
    is_account = record.entity == MergeEntity.ACCOUNT
    getter = _account_for if is_account else _contact_for
    getter(request, record.survivor_id, for_edit=True)  # the survivor must be the member's to change
    try:
        merges_services.merge_undo(tenant=request.tenant, actor=request.user, merge_record=record)
    except AppError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Merge undone: both records are back as they were."))
    name = "accounts:account-detail" if is_account else "accounts:contact-detail"
    return redirect(name, slug=slug, pk=record.survivor_id)
