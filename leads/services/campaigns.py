"""Campaigns (writes): create, edit, soft delete and restore; budget, dates and owner are validated here."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.bulk import copy_insert, copy_update, send_saves
from crm.imported import owner_statuses
from crm.models import Membership, Tenant, User, ValueListKey
from crm.money import AMOUNT_TOO_LARGE, amount_too_large
from crm.records import with_external_ids, without_external_id_clashes
from crm.value_lists import value_list, value_list_check
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


@dataclass
class _SetReads:
    """What _validate_campaign asks the database, read once for a set of campaigns (campaigns_create_many,
    campaigns_update_many) instead of once per campaign."""

    channels: frozenset[str]  # the active values of the company's channel list
    sources: dict[int, LeadSource]  # the live lead sources the set names, by id
    owners: frozenset[int]  # the users the set names who are members an owner may be (owner_statuses)
    stored_channels: dict[int, str]  # the channel each stored campaign of the set has now, by id
    # The campaign holding each external id the set asks for (campaigns_update_many; kept current as it goes)
    holders: dict[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, tenant: Tenant, campaigns: Sequence[Campaign], stored: dict[int, str]) -> _SetReads:
        source_ids = {campaign.source_id for campaign in campaigns if campaign.source_id is not None}
        owner_ids = {campaign.owner_id for campaign in campaigns if campaign.owner_id is not None}
        needs_channels = any(campaign.channel for campaign in campaigns)
        return cls(
            channels=frozenset(
                item.value
                for item in value_list(tenant=tenant, list_key=ValueListKey.CHANNEL)
                if not item.retired
            )
            if needs_channels
            else frozenset(),
            sources={
                source.pk: source
                for source in LeadSource.objects.filter(
                    tenant=tenant, pk__in=source_ids, deleted_at__isnull=True
                )
            }
            if source_ids
            else {},
            owners=frozenset(
                Membership.objects.filter(
                    tenant=tenant, user_id__in=owner_ids, status__in=owner_statuses()
                ).values_list("user_id", flat=True)
            )
            if owner_ids
            else frozenset(),
            stored_channels=stored,
        )


def _validate_campaign(
    tenant: Tenant, campaign: Campaign, reads: _SetReads | None = None, *, external_id_read: bool = False
) -> None:
    """Check `campaign` (setting its source kind from its source); ValidationError lists every problem.
    `reads`: what the checks ask the database, read for a set (else each asks it). `external_id_read`: the caller
    checks the external id against the other campaigns itself (campaigns_create_many, for the set)."""
    errors: dict[str, str] = {}
    if not campaign.name:
        errors["name"] = _("Enter a name.")
    if reads is None:
        stored = (
            Campaign.objects.filter(tenant=tenant, pk=campaign.pk).values_list("channel", flat=True).first()
        )
    else:
        stored = reads.stored_channels.get(campaign.pk) if campaign.pk is not None else None
    if not campaign.channel:
        errors["channel"] = _("Choose a channel.")
    elif reads is None:
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
    elif campaign.channel != (stored or "") and campaign.channel not in reads.channels:
        # value_list_check's rule on the list read for the set
        errors["channel"] = _("Choose a channel of this company's list.")
    if campaign.source_id is not None:
        if reads is None:
            source = LeadSource.objects.filter(
                tenant=tenant, pk=campaign.source_id, deleted_at__isnull=True
            ).first()
        else:
            source = reads.sources.get(campaign.source_id)
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
    if reads is None:
        owner_ok = _active_member_user(tenant, campaign.owner)
    else:
        owner_ok = campaign.owner_id is None or campaign.owner_id in reads.owners
    if not owner_ok:
        errors["owner"] = _("Choose an active member of this company.")
    if campaign.external_id and not external_id_read:
        if reads is None:
            taken = (
                Campaign.objects.filter(tenant=tenant, external_id=campaign.external_id)
                .exclude(pk=campaign.pk)
                .exists()
            )
        else:
            taken = reads.holders.get(campaign.external_id, campaign.pk) != campaign.pk
        if taken:
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
def campaigns_create_many(
    *,
    tenant: Tenant,
    actor: User | None,
    drafts: Sequence[Mapping[str, Any]],
    external_ids_read: bool = False,
) -> list[Campaign | Exception]:
    """campaign_create for many campaigns at once (an import's chunk): each draft is campaign_create's keyword
    arguments, checked by the same rules with one query per kind of lookup for the set (the channel list, the lead
    sources, the owners, the external ids), then one INSERT; pre_save and post_save are sent for each campaign as
    its save() sends them. Returns, in the order of `drafts`, each campaign created or the ValidationError that
    kept it out. Two drafts with one external id: the second is refused as a clash. A constraint only the database
    checks raises for the whole set (the import then writes its rows one by one). `external_ids_read`: the caller
    read, in this transaction, every campaign holding the drafts' external ids and passes only free ones."""
    campaigns = []
    for fields in drafts:
        campaign = Campaign(tenant=tenant, currency=tenant.currency)
        _apply_campaign_fields(tenant, campaign, dict(fields))
        campaigns.append(campaign)
    reads = _SetReads.read(tenant, campaigns, stored={})
    results: list[Campaign | Exception | None] = [None] * len(drafts)
    valid: list[tuple[int, Campaign]] = []
    for index, campaign in enumerate(campaigns):
        try:
            _validate_campaign(tenant, campaign, reads, external_id_read=True)
        except ValidationError as exc:
            results[index] = exc
            continue
        valid.append((index, campaign))
    valid = without_external_id_clashes(
        model=Campaign,
        tenant=tenant,
        valid=valid,
        results=results,
        can_edit=lambda _holder: True,  # campaign_create's message, whoever holds the id
        message=_("Another campaign has this external id."),
        read=external_ids_read,
    )
    created = [campaign for _index, campaign in valid]
    # Booked to history as campaign_create's save(): in the caller's history context (campaigns are not tracked).
    send_saves(pre_save, Campaign, created, created=True)
    copy_insert(Campaign, created)
    send_saves(post_save, Campaign, created, created=True)
    for index, campaign in valid:
        results[index] = campaign
    return cast(list[Campaign | Exception], results)  # every draft got its campaign or its error above


# What campaign_update's save() writes: every column but the id.
_SAVED_FIELDS = tuple(column.name for column in Campaign._meta.concrete_fields if not column.primary_key)


@transaction.atomic
def campaigns_update_many(
    *, tenant: Tenant, actor: User | None, changes: Sequence[tuple[Campaign, Mapping[str, Any]]]
) -> list[Campaign | Exception]:
    """campaign_update for many campaigns at once (imports: a file imported again): `changes` are (the campaign,
    the fields to change). The campaigns read again and locked in one query, the rules checked with one query per
    kind of lookup for the set, one UPDATE of every column (what save() writes); post_save is sent for each as
    its save() sends it. Returns, in the order of `changes`, each updated campaign or the error that kept it as it
    was (a campaign deleted meanwhile: Campaign.DoesNotExist). A constraint only the database checks raises for
    the whole set."""
    current: dict[int, Campaign] = {
        campaign.pk: campaign
        for campaign in Campaign.objects.select_for_update().filter(
            tenant=tenant, pk__in=[campaign.pk for campaign, _fields in changes], deleted_at__isnull=True
        )
    }
    # The lookups read once, for every campaign the changes may give (each as changed alone, and as stored).
    provisional = []
    for campaign, fields in changes:
        if campaign.pk in current:
            draft = copy.copy(current[campaign.pk])
            _apply_campaign_fields(tenant, draft, dict(fields))
            provisional.append(draft)
    reads = _SetReads.read(
        tenant,
        [*provisional, *current.values()],
        stored={pk: campaign.channel for pk, campaign in current.items()},
    )
    wanted = {draft.external_id for draft in provisional if draft.external_id}
    if wanted:
        reads.holders = dict(
            with_external_ids(Campaign, tenant=tenant, external_ids=wanted).values_list("external_id", "pk")
        )
    results: list[Campaign | Exception | None] = [None] * len(changes)
    valid: list[tuple[int, Campaign]] = []
    for index, (campaign, fields) in enumerate(changes):
        stored = current.get(campaign.pk)
        if stored is None:
            # what campaign_update's get() raises
            results[index] = Campaign.DoesNotExist("Campaign matching query does not exist.")
            continue
        draft = copy.copy(stored)
        _apply_campaign_fields(tenant, draft, dict(fields))
        try:
            _validate_campaign(tenant, draft, reads)
        except ValidationError as exc:
            results[index] = exc
            continue
        # What the next change of the set sees, as after this one's save() row by row.
        current[draft.pk] = draft
        reads.stored_channels[draft.pk] = draft.channel
        reads.holders = {key: pk for key, pk in reads.holders.items() if pk != draft.pk}
        if draft.external_id:
            reads.holders[draft.external_id] = draft.pk
        valid.append((index, draft))
    latest = {draft.pk: draft for _index, draft in valid}  # a campaign changed twice: its last state
    updated = list(latest.values())
    send_saves(pre_save, Campaign, updated, created=False)
    copy_update(Campaign, updated, _SAVED_FIELDS)
    send_saves(post_save, Campaign, updated, created=False)
    for index, draft in valid:
        results[index] = draft
    return cast(list[Campaign | Exception], results)  # every change got its campaign or its error above


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
