"""The lead conversion page: account, contact and deal in one step."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from crm.decorators import tenant_roles_required
from crm.errors import AppError
from crm.types import TenantHttpRequest
from leads.forms.leads import ConvertForm
from leads.models import LeadStatus
from leads.services import conversion as conversion_services
from leads.views.helpers import WRITERS, lead_detail_redirect, lead_or_404


@tenant_roles_required(WRITERS)
def lead_convert(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    from accounts import models as accounts_models
    from accounts.selectors import duplicates as duplicates_selectors
    from accounts.selectors import visibility as visibility_selectors

    tenant, membership = request.tenant, request.membership
    lead = lead_or_404(request, pk)
    if not lead.can_edit:
        raise Http404
    if lead.status == LeadStatus.CONVERTED:
        messages.info(request, _("This lead is already converted."))
        return lead_detail_redirect(lead, slug)
    initial = {
        "account_choice": "new",
        "contact_choice": "new",
        "account_name": lead.company or lead.full_name,
        "account_domain": conversion_services.email_domain(lead.email),
        "deal_name": _("%(company)s – new business") % {"company": lead.company or lead.full_name},
        "deal_currency": tenant.currency,
    }
    form = ConvertForm(request.POST or None, initial=initial)
    # Only records the member may see are suggested (DESIGN.md: an invisible record does not exist for them).
    account_suggestions = duplicates_selectors.account_duplicates(
        tenant=tenant,
        name=lead.company or "",
        domain=conversion_services.email_domain(lead.email),
        membership=membership,
    )
    contact_suggestions = duplicates_selectors.contact_duplicates(
        tenant=tenant, email=lead.email, phone=lead.phone, membership=membership
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        account = contact = None
        try:
            if data["account_choice"] != "new":
                account = visibility_selectors.account_queryset(tenant=tenant, membership=membership).get(
                    pk=int(data["account_choice"])
                )
            if data["contact_choice"] != "new":
                contact = visibility_selectors.contact_queryset(tenant=tenant, membership=membership).get(
                    pk=int(data["contact_choice"])
                )
        except (accounts_models.Account.DoesNotExist, accounts_models.Contact.DoesNotExist):
            form.add_error(None, _("Choose an account and a contact you can see."))
        if not form.errors:
            try:
                conversion_services.lead_convert(
                    tenant=tenant,
                    actor=request.user,
                    lead=lead,
                    account=account,
                    account_name=data["account_name"],
                    account_domain=data["account_domain"],
                    contact=contact,
                    create_deal=not data["no_deal"],
                    deal_name=data["deal_name"],
                    deal_amount=data["deal_amount"] or 0,
                    deal_currency=data["deal_currency"] or None,
                    deal_close_date=data["deal_close_date"],
                )
            except ValidationError as exc:
                _convert_errors(form, exc)
            except (AppError, PermissionDenied) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Lead converted."))
                return lead_detail_redirect(lead, slug)
    context = {
        "lead": lead,
        "form": form,
        "account_suggestions": account_suggestions,
        "contact_suggestions": contact_suggestions,
        "account_choice": form["account_choice"].value() or "new",
        "contact_choice": form["contact_choice"].value() or "new",
    }
    return render(request, "leads/lead_convert.html", context, status=400 if form.errors else 200)


def _convert_errors(form: ConvertForm, exc: ValidationError) -> None:
    """Map the account/contact/deal services' field errors onto the convert form's fields."""
    mapping = {
        "name": "deal_name",
        "amount": "deal_amount",
        "currency": "deal_currency",
        "expected_close_date": "deal_close_date",
        "domain": "account_domain",
    }
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = mapping.get(field, field)
            for message in errors:
                form.add_error(target if target in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)
