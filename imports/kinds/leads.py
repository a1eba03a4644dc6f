"""Leads: written through leads.services (assignment rules when no owner is given, scoring), exported through
the inbox's selector (role visibility, the inbox tab and filters)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.filtering import filters_check
from crm.models import Membership, Role, Tenant, ValueListKey
from crm.records import EXTERNAL_ID_UNAVAILABLE
from imports.kinds.common import (
    column_values,
    email_of,
    iso,
    keep_created_at,
    list_value,
    prepare_list_values,
)
from imports.registry import CREATED, UPDATED, ImportKind, RowImporter, register
from imports.rows import Row, RowError, export_id
from leads.models import Campaign, Lead, LeadSource, LeadStatus, SourceKind
from leads.selectors.inbox import lead_inbox
from leads.selectors.leads import LEAD_ROLES, lead_can_edit, lead_scopes
from leads.selectors.setup_roles import EDIT_ROLES as SOURCE_EDIT_ROLES
from leads.selectors.sources import source_choices
from leads.services.access import check_owners
from leads.services.leads import (
    LeadChange,
    LeadDraft,
    lead_create,
    lead_update,
    leads_create_many,
    leads_update_many,
)
from leads.services.pool import lead_assign, leads_assign_many
from leads.services.sources import source_create

COLUMNS = (
    "external_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "title",
    "source",
    "source_kind",
    "campaign_external_id",
    "status",
    "owner_email",
    "region",
    "industry",
    "created_at",
    "mql_at",
    "sql_at",
    "converted_at",
    "disqualified_at",
)
TEXT_COLUMNS = {
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "phone": 40,
    "company": 200,
    "title": 120,
}
# Columns whose values come from the company's value lists (named like the lists).
LIST_COLUMNS = (ValueListKey.REGION, ValueListKey.INDUSTRY)
STAMP_COLUMNS = ("mql_at", "sql_at", "converted_at", "disqualified_at")
# The latest status a lead with these timestamps reached, when the file gives no status.
STATUS_BY_STAMP = (
    ("disqualified_at", LeadStatus.DISQUALIFIED),
    ("converted_at", LeadStatus.CONVERTED),
    ("sql_at", LeadStatus.SQL),
    ("mql_at", LeadStatus.MQL),
)


class LeadImporter(RowImporter):
    field_columns = {
        "owner": "owner_email",
        "campaign": "campaign_external_id",
        "reason": "status",
        "name": "source",
        "kind": "source_kind",
    }

    def prepare(self, rows: Sequence[Row]) -> None:
        context = self.context
        context.load_members(column_values(rows, "owner_email"))
        context.load_records(Lead, column_values(rows, "external_id"), select_related=("owner",))
        context.load_records(Campaign, column_values(rows, "campaign_external_id"))
        for column in LIST_COLUMNS:
            prepare_list_values(context, rows, column, column)
        if "sources" not in context.extras:
            context.extras["sources"] = {
                source.name.lower(): source for source in source_choices(tenant=context.tenant)
            }

    def _source(self, row: Row) -> LeadSource | None:
        name = row.text("source", 120)
        if not name:
            return None
        sources: dict[str, LeadSource] = self.context.extras["sources"]
        source = sources.get(name.lower())
        if source is None:
            # A migration brings its sources along; only roles that manage sources may add one this way.
            if self.context.membership.role not in SOURCE_EDIT_ROLES:
                raise RowError("source", _("No lead source is called “%(name)s”.") % {"name": name})
            kind = row.choice("source_kind", SourceKind, default=SourceKind.INBOUND)
            source = source_create(tenant=self.context.tenant, actor=self.context.user, name=name, kind=kind)
            sources[name.lower()] = source
            self.new_sources.append(name.lower())
        return source

    def import_row(self, row: Row) -> str:
        self.new_sources: list[str] = []
        try:
            return self._import_row(row)
        except BaseException:
            # The runner rolls the row back to its savepoint, the sources it created included: forget them, so
            # that the next row naming one creates it again instead of pointing at a row that is not there.
            for key in self.new_sources:
                self.context.extras["sources"].pop(key, None)
            raise

    def _parse(self, row: Row) -> tuple[str, dict[str, Any], str | None, dict[str, Any], Any, Any]:
        """The row's values as the services take them: (external_id, fields, status, stamps, owner, created_at);
        raises the row's cell errors."""
        context = self.context
        external_id = row.text("external_id", 100)
        fields: dict[str, Any] = {"external_id": external_id}
        for column, max_length in TEXT_COLUMNS.items():
            if row.given(column):
                fields[column] = row.text(column, max_length)
        known = context.lookup(Lead, external_id) if external_id else None
        for column in LIST_COLUMNS:
            if row.given(column):
                current = getattr(known, column, "") if known is not None else ""
                fields[column] = list_value(context, row, column, column, current=current)
        if row.given("source"):
            fields["source"] = self._source(row)
        if row.given("campaign_external_id"):
            fields["campaign"] = row.record("campaign_external_id", Campaign)
        stamps = {column: row.timestamp(column) for column in STAMP_COLUMNS if row.given(column)}
        status: str | None = None
        if row.given("status"):
            status = row.choice("status", LeadStatus)
        if not status and stamps:
            status = next((value for column, value in STATUS_BY_STAMP if stamps.get(column)), None)
        owner = row.member("owner_email")
        created_at = row.timestamp("created_at")
        row.check()
        return external_id, fields, status, stamps, owner, created_at

    def import_many(self, rows: Sequence[Row]) -> dict[int, str | Exception]:
        """New leads as a set (leads_create_many), and the leads the file names again as another
        (leads_update_many). Left to import_row, besides the rows RowImporter.split_rows leaves out: a row that
        names a source to create, names a lead the importer may not change, or gives a lead to someone the importer
        may not give it to (their errors). New owners of known leads are given as a set after the update
        (leads_assign_many: lead_assign's rules), as import_row gives them after lead_update."""
        context = self.context
        sources: dict[str, LeadSource] = context.extras["sources"]
        acting = None if context.actor is None else context.membership

        refusals: dict[int, Any] = {}

        def refused(owner: Any) -> bool:
            """Whether lead_assign would refuse the importer to give a lead to `owner` (the members the job
            knows are checked in one query, when a row first gives a known lead a new owner)."""
            if owner.pk not in refusals:
                known = {user.pk for user in context.members.values() if user is not None} | {owner.pk}
                refusals.update(check_owners(tenant=context.tenant, membership=acting, owner_ids=known))
            return refusals[owner.pk] is not None

        def waits(row: Row) -> bool:
            source = (row.values.get("source") or "").strip().lower()
            external_id = (row.values.get("external_id") or "").strip()
            existing = context.lookup(Lead, external_id) if external_id else None
            if existing is None:
                return bool(source and source not in sources)
            owner = context.members.get((row.values.get("owner_email") or "").strip().lower())
            return (
                bool(source and source not in sources)
                or not lead_can_edit(membership=acting, lead=existing)
                or (owner is not None and owner.pk != existing.owner_id and refused(owner))
            )

        split = self.split_rows(rows, Lead, self._parse, wait=waits)
        drafts = []
        for _index, (_external_id, fields, status, stamps, owner, created_at) in split.new:
            if owner is None and context.membership.role == Role.SALES_REP:
                owner = context.user  # a rep imports their own leads
            drafts.append(
                LeadDraft(
                    fields=fields,
                    owner=owner,
                    created_at=created_at,
                    status=status or None,
                    status_stamps=stamps,
                )
            )
        changes = [
            LeadChange(lead, fields, status, stamps, created_at)
            for _index, lead, (_external_id, fields, status, stamps, _owner, created_at) in split.known
        ]
        # prepare() read every lead holding the chunk's external ids; the new rows name none of them.
        created = leads_create_many(
            tenant=context.tenant, actor=context.actor, drafts=drafts, external_ids_read=True
        )
        updated = leads_update_many(tenant=context.tenant, actor=context.actor, changes=changes)
        # Then, as import_row does after lead_update, the new owners (lead_assign's rules, for the set).
        leads_assign_many(
            tenant=context.tenant,
            actor=context.actor,
            assignments=[
                (lead, parsed[4])
                for (_index, _known, parsed), lead in zip(split.known, updated, strict=True)
                if isinstance(lead, Lead) and parsed[4] is not None and parsed[4].pk != lead.owner_id
            ],
        )
        return self.set_outcomes(split, created, updated)

    def _import_row(self, row: Row) -> str:
        context = self.context
        external_id, fields, status, stamps, owner, created_at = self._parse(row)
        existing = context.lookup(Lead, external_id) if external_id else None
        if existing is not None:
            # A lead the importer may not change answers the same whether they can see it or not, deleted or not
            # (crm.records.EXTERNAL_ID_UNAVAILABLE): the id is taken, and that is all the row says.
            acting = None if context.actor is None else context.membership
            if not lead_can_edit(membership=acting, lead=existing):
                raise RowError("external_id", str(EXTERNAL_ID_UNAVAILABLE))
            if existing.deleted_at is not None:
                raise RowError(
                    "external_id", _("This external id belongs to a deleted record; restore it first.")
                )
            lead = lead_update(
                tenant=context.tenant,
                actor=context.actor,
                lead=existing,
                version=None,
                status=status,
                status_stamps=stamps,
                **fields,
            )
            if owner is not None and owner.pk != lead.owner_id:
                lead = lead_assign(tenant=context.tenant, actor=context.actor, lead=lead, owner=owner)
            keep_created_at(context, lead, created_at)
            context.remember(lead)
            return UPDATED
        if owner is None and context.membership.role == Role.SALES_REP:
            owner = context.user  # a rep imports their own leads
        lead = lead_create(
            tenant=context.tenant,
            actor=context.actor,
            owner=owner,
            created_at=created_at,
            apply_rules=True,
            status=status or None,
            status_stamps=stamps,
            **fields,
        )
        context.remember(lead)
        return CREATED


def _export_queryset(tenant: Tenant, membership: Membership, params: QueryDict) -> QuerySet[Lead]:
    scopes = [key for key, _label in lead_scopes(membership)]
    scope = params.get("scope")
    if scope not in scopes:
        scope = scopes[0] if scopes else "my"
    filterset, rows = lead_inbox(tenant=tenant, membership=membership, params=params, scope=scope)
    filters_check(filterset)  # invalid filters: the list API's 400, not an empty file
    return rows


def _export_row(lead: Lead) -> dict[str, Any]:
    return {
        "external_id": export_id(lead),
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "email": lead.email,
        "phone": lead.phone,
        "company": lead.company,
        "title": lead.title,
        "source": lead.source.name if lead.source is not None else "",
        "source_kind": lead.source.kind if lead.source is not None else "",
        "campaign_external_id": export_id(lead.campaign) if lead.campaign_id else "",
        "status": lead.status,
        "owner_email": email_of(lead.owner),
        "region": lead.region,
        "industry": lead.industry,
        "created_at": iso(lead.created_at),
        "mql_at": iso(lead.mql_at),
        "sql_at": iso(lead.sql_at),
        "converted_at": iso(lead.converted_at),
        "disqualified_at": iso(lead.disqualified_at),
    }


register(
    ImportKind(
        key="leads",
        label=gettext_lazy("Leads"),
        columns=COLUMNS,
        import_roles=frozenset({Role.ADMIN, Role.OPS, Role.SALES_MANAGER, Role.SALES_REP}),
        export_roles=frozenset(LEAD_ROLES),
        importer=LeadImporter,
        export_queryset=_export_queryset,
        export_row=_export_row,
        own_rows_roles=frozenset({Role.SALES_REP}),
        model=Lead,
    )
)
