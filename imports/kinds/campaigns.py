"""Campaigns: written through leads.services.campaigns, exported through leads.selectors.campaigns.campaign_list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import Membership, Tenant, ValueListKey
from imports.kinds.common import ADMIN_OPS, column_values, iso, list_value, prepare_list_values
from imports.registry import CREATED, UPDATED, ImportKind, RowImporter, register
from imports.rows import Row, RowError, export_id
from leads.models import Campaign, Channel, SourceKind
from leads.selectors.campaigns import campaign_list
from leads.selectors.setup_roles import SOURCE_READ_ROLES
from leads.services.campaigns import (
    campaign_create,
    campaign_update,
    campaigns_create_many,
    campaigns_update_many,
)

COLUMNS = ("external_id", "name", "channel", "source_kind", "cost", "currency", "start_date", "end_date")


class CampaignImporter(RowImporter):
    def prepare(self, rows: Sequence[Row]) -> None:
        self.context.load_records(Campaign, column_values(rows, "external_id"))
        prepare_list_values(self.context, rows, "channel", ValueListKey.CHANNEL)

    def _parse(self, row: Row) -> tuple[str, dict[str, Any]]:
        """(external_id, fields) as the services take them; raises the row's cell errors."""
        external_id = row.text("external_id", 100)
        fields: dict[str, Any] = {}
        if row.given("name"):
            fields["name"] = row.text("name", 200)
        if row.given("channel"):
            fields["channel"] = (
                list_value(self.context, row, "channel", ValueListKey.CHANNEL) or Channel.OTHER
            )
        if row.given("source_kind"):
            fields["source_kind"] = row.choice("source_kind", SourceKind)
        if row.given("cost"):
            fields["cost"] = row.money("cost") or 0
        if row.given("currency"):
            fields["currency"] = row.text("currency").upper()
        for column in ("start_date", "end_date"):
            if row.given(column):
                fields[column] = row.date(column)
        row.check()
        return external_id, fields

    def import_many(self, rows: Sequence[Row]) -> dict[int, str | Exception]:
        """New campaigns as a set (campaigns_create_many) and the campaigns the file names again as another
        (campaigns_update_many); the rows RowImporter.split_rows leaves out go to import_row."""
        context = self.context
        split = self.split_rows(rows, Campaign, self._parse)
        # prepare() read every campaign holding the chunk's external ids; the new rows name none of them.
        created = campaigns_create_many(
            tenant=context.tenant,
            actor=context.user,
            drafts=[{**fields, "external_id": external_id} for _index, (external_id, fields) in split.new],
            external_ids_read=True,
        )
        updated = campaigns_update_many(
            tenant=context.tenant,
            actor=context.user,
            changes=[
                (campaign, {**fields, "external_id": external_id})
                for _index, campaign, (external_id, fields) in split.known
            ],
        )
        return self.set_outcomes(split, created, updated)

    def import_row(self, row: Row) -> str:
        external_id, fields = self._parse(row)
        existing = self.context.lookup(Campaign, external_id) if external_id else None
        user = self.context.user
        if existing is not None:
            if existing.deleted_at is not None:
                raise RowError(
                    "external_id", _("This external id belongs to a deleted record; restore it first.")
                )
            campaign = campaign_update(
                tenant=self.context.tenant, actor=user, campaign=existing, external_id=external_id, **fields
            )
            self.context.remember(campaign)
            return UPDATED
        campaign = campaign_create(tenant=self.context.tenant, actor=user, external_id=external_id, **fields)
        self.context.remember(campaign)
        return CREATED


def _export_queryset(tenant: Tenant, membership: Membership, params: QueryDict) -> QuerySet[Campaign]:
    return campaign_list(tenant=tenant, membership=membership, filters=params)


def _export_row(campaign: Campaign) -> dict[str, Any]:
    return {
        "external_id": export_id(campaign),
        "name": campaign.name,
        "channel": campaign.channel,
        "source_kind": campaign.source_kind,
        "cost": iso(campaign.cost),
        "currency": campaign.currency,
        "start_date": iso(campaign.start_date),
        "end_date": iso(campaign.end_date),
    }


register(
    ImportKind(
        key="campaigns",
        label=gettext_lazy("Campaigns"),
        columns=COLUMNS,
        import_roles=ADMIN_OPS,
        export_roles=frozenset(SOURCE_READ_ROLES),
        importer=CampaignImporter,
        export_queryset=_export_queryset,
        export_row=_export_row,
        model=Campaign,
    )
)
