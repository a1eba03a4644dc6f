"""Campaigns (writes): create, edit, soft delete and restore; budget, dates and owner are validated here."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.imported import owner_statuses
from crm.models import Membership, Tenant, User, ValueListKey
from crm.money import AMOUNT_TOO_LARGE, amount_too_large
from crm.value_lists import value_list_check
from leads.models import Campaign, LeadSource, SourceKind

CAMPAIGN_FIELDS = (
    "name",
    "external_id",
    "channel",
    "source",
    "source_kind",
    "cost",
    "currency",
    "start_date",
    "end_date",
    "owner",
)


def _active_member_user(tenant: Tenant, user: User | None) -> bool:
    return (
        user is None
        or Membership.objects.filter(tenant=tenant, user=user, status__in=owner_statuses()).exists()
    )


def _validate_campaign(tenant: Tenant, campaign: Campaign) -> None:
    errors: dict[str, str] = {}
    if not campaign.name:
        errors["name"] = _("Enter a name.")
    stored = Campaign.objects.filter(tenant=tenant, pk=campaign.pk).values_list("channel", flat=True).first()
    if not campaign.channel:
        errors["channel"] = _("Choose a channel.")
    else:
        try:
            value_list_check(
                tenant=tenant,
                list_key=ValueListKey.CHANNEL,
                value=campaign.channel,
                field="channel",
                current=stored or "",
            )
        except ValidationError:
            errors["channel"] = _("Choose a channel of this company's list.")
    if campaign.source_id is not None:
        source = LeadSource.objects.filter(
            tenant=tenant, pk=campaign.source_id, deleted_at__isnull=True
        ).first()
        if source is None:
            errors["source"] = _("This lead source does not exist.")
        elif campaign.source_kind and campaign.source_kind != source.kind:
            errors["source_kind"] = _(
                "The source “%(source)s” is %(kind)s; leave the kind empty or match it."
            ) % {
                "source": source.name,
                "kind": source.get_kind_display(),
            }
        else:
            campaign.source_kind = source.kind
    if campaign.source_kind and campaign.source_kind not in SourceKind.values:
        errors["source_kind"] = _("Choose inbound or incentive.")
    if campaign.cost is None or Decimal(campaign.cost) < 0:
        errors["cost"] = _("The cost cannot be negative.")
    elif amount_too_large(campaign.cost):
        errors["cost"] = str(AMOUNT_TOO_LARGE)
    if not (len(campaign.currency) == 3 and campaign.currency.isalpha()):
        errors["currency"] = _("Use a three-letter ISO 4217 code such as CNY or EUR.")
    if not campaign.start_date:
        errors["start_date"] = _("Enter a start date.")
    if not campaign.end_date:
        errors["end_date"] = _("Enter an end date.")
    elif campaign.start_date and campaign.end_date < campaign.start_date:
        errors["end_date"] = _("The end date cannot be before the start date.")
    if not _active_member_user(tenant, campaign.owner):
        errors["owner"] = _("Choose an active member of this company.")
    if campaign.external_id:
        clash = Campaign.objects.filter(tenant=tenant, external_id=campaign.external_id).exclude(
            pk=campaign.pk
        )
        if clash.exists():
            errors["external_id"] = _("Another campaign has this external id.")
    if errors:
        raise ValidationError(errors)


def _apply_campaign_fields(tenant: Tenant, campaign: Campaign, fields: dict) -> None:
    for key in CAMPAIGN_FIELDS:
        if key not in fields:
            continue
        value = fields[key]
        if isinstance(value, str):
            value = value.strip()
        if key == "currency":
            value = (value or tenant.currency).upper()
        if key in {"external_id", "source_kind"}:
            value = value or ""
        setattr(campaign, key, value)


@transaction.atomic
def campaign_create(*, tenant: Tenant, actor: User, **fields: object) -> Campaign:
    """Create a campaign (currency defaults to the tenant's; the kind follows the source). Side effects: none."""
    campaign = Campaign(tenant=tenant, currency=tenant.currency)
    _apply_campaign_fields(tenant, campaign, fields)
    _validate_campaign(tenant, campaign)
    campaign.save()
    return campaign


@transaction.atomic
def campaign_update(*, tenant: Tenant, actor: User, campaign: Campaign, **fields: object) -> Campaign:
    """Change any campaign field given; validation as on create."""
    campaign = Campaign.objects.select_for_update().get(
        tenant=tenant, pk=campaign.pk, deleted_at__isnull=True
    )
    _apply_campaign_fields(tenant, campaign, fields)
    _validate_campaign(tenant, campaign)
    campaign.save()
    return campaign


@transaction.atomic
def campaign_delete(*, tenant: Tenant, actor: User, campaign: Campaign) -> Campaign:
    """Soft-delete: hidden from lists and pickers, its leads keep the link; undo with restore."""
    Campaign.objects.filter(tenant=tenant, pk=campaign.pk).update(deleted_at=timezone.now())
    campaign.refresh_from_db()
    return campaign


@transaction.atomic
def campaign_restore(*, tenant: Tenant, actor: User, campaign: Campaign) -> Campaign:
    Campaign.objects.filter(tenant=tenant, pk=campaign.pk).update(deleted_at=None)
    campaign.refresh_from_db()
    return campaign
