"""Lead conversion: a lead becomes an account, a contact and optionally a deal, in one step."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import accounts as accounts_services
from accounts.services import contacts as contacts_services
from accounts.services.activities import activities_attach_lead_to_account
from accounts.services.opportunities import opportunity_create
from accounts.services.opportunity_contacts import opportunity_contact_add
from crm.errors import AppError
from crm.history import history_actor
from crm.models import Tenant, User
from crm.records import actor_membership
from leads.models import Lead, LeadStatus
from leads.services.access import check_can_edit, check_same_tenant
from leads.services.status import status_values


def email_domain(email: str) -> str:
    domain = (email or "").rpartition("@")[2].lower()
    public = {
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "yahoo.com",
        "qq.com",
        "163.com",
        "126.com",
        "gmx.de",
        "web.de",
    }
    return "" if not domain or domain in public else domain


@transaction.atomic
def lead_convert(
    *,
    tenant: Tenant,
    actor: User | None,
    lead: Lead,
    account: Any = None,
    account_name: str = "",
    account_domain: str = "",
    contact: Any = None,
    create_contact: bool = True,
    create_deal: bool = True,
    deal_name: str = "",
    deal_amount: Decimal | str | int = 0,
    deal_currency: str | None = None,
    deal_close_date: datetime.date | None = None,
    at: datetime.datetime | None = None,
) -> Lead:
    """Convert a lead in one step: link `account` or create one (name and domain default to the lead's), link
    `contact` or create one from the lead's person, optionally create a deal (its `lead` points back), then set
    status converted and converted_at, the lead's links to what it became, and move the lead's activities onto
    the account and contact. The contact (when it belongs to the account) becomes the new deal's primary contact.
    All or nothing.

    The caller resolves `account` and `contact` through the accounts selectors (visible to the actor)."""
    membership = actor_membership(tenant=tenant, actor=actor)
    check_can_edit(membership, lead)
    locked = Lead.objects.select_for_update().get(tenant=tenant, pk=lead.pk, deleted_at=None)
    if locked.status == LeadStatus.CONVERTED:
        raise AppError(_("This lead is already converted."))
    if locked.status == LeadStatus.DISQUALIFIED:
        raise AppError(_("Reopen a disqualified lead before converting it."))
    at = at or timezone.now()
    owner = locked.owner or actor
    check_same_tenant(tenant, account, "account")
    check_same_tenant(tenant, contact, "contact")
    with history_actor(actor):
        if account is None:
            fields: dict[str, Any] = {
                "name": (account_name or locked.company or locked.full_name or locked.email).strip(),
                "domain": account_domain or email_domain(locked.email),
                "industry": locked.industry,
                "region": locked.region,
                "owner": owner,
            }
            if locked.size_band:
                fields["size_band"] = locked.size_band
            account = accounts_services.account_create(tenant=tenant, actor=actor, **fields)
        if contact is None and create_contact:
            contact = contacts_services.contact_create(
                tenant=tenant,
                actor=actor,
                account=account,
                first_name=locked.first_name,
                last_name=locked.last_name or ("" if locked.first_name else locked.email.partition("@")[0]),
                email=locked.email,
                phone=locked.phone,
                title=locked.title,
                owner=owner,
            )
        elif contact is not None and contact.account_id is None:
            contact = contacts_services.contact_update(
                tenant=tenant, actor=actor, contact=contact, version=None, account=account
            )
        opportunity = None
        if create_deal:
            opportunity = opportunity_create(
                tenant=tenant,
                actor=actor,
                account=account,
                name=(deal_name or "").strip() or _("%(company)s – new business") % {"company": account.name},
                amount=deal_amount or 0,
                currency=deal_currency or None,
                expected_close_date=deal_close_date,
                owner=owner,
                lead=locked,
                created_at=at,
            )
            if contact is not None and contact.account_id == account.pk:
                # The person the rep was talking to is the deal's primary contact from day one.
                opportunity_contact_add(
                    tenant=tenant, actor=actor, opportunity=opportunity, contact=contact, is_primary=True
                )
        values = status_values(LeadStatus.CONVERTED, at, "")
        Lead.objects.filter(tenant=tenant, pk=lead.pk).update(
            **values,
            owner=owner,
            converted_account=account,
            converted_contact=contact,
            converted_opportunity=opportunity,
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        # The lead's activities stay on the lead and now also belong to the account (and contact), so the
        # account's timeline tells the whole story.
        activities_attach_lead_to_account(tenant=tenant, lead_id=locked.pk, account=account, contact=contact)
    lead.refresh_from_db()
    return lead
