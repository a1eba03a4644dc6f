"""Accounts, contacts, opportunities and activities: written through accounts.services, exported through the
list selectors of accounts.selectors (role visibility and the list pages' filters)."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.filters.opportunities import OpportunityFilter
from accounts.models import (
    Account,
    Activity,
    ActivityKind,
    Contact,
    ForecastCategory,
    Opportunity,
    OpportunityType,
    Pipeline,
    Tier,
)
from accounts.selectors.accounts import account_list
from accounts.selectors.activities import activity_list
from accounts.selectors.contacts import contact_list
from accounts.selectors.opportunities import opportunity_list
from accounts.selectors.pipelines import pipeline_choices
from accounts.services.accounts import (
    account_create,
    account_update,
    accounts_create_many,
    accounts_update_many,
)
from accounts.services.activities import (
    ActivityDraft,
    activities_log_many,
    activities_update_many,
    activity_log,
    activity_update,
)
from accounts.services.contacts import (
    contact_create,
    contact_update,
    contacts_create_many,
    contacts_update_many,
)
from accounts.services.opportunities import (
    opportunities_create_many,
    opportunities_update_many,
    opportunity_create,
    opportunity_update,
)
from crm.filtering import filterset_rows
from crm.imported import lead_clocks_at_end
from crm.models import Membership, Tenant, ValueListKey
from imports.kinds.common import (
    ADMIN_OPS,
    ALL_ROLES,
    column_values,
    email_of,
    iso,
    keep_created_at,
    keep_created_at_many,
    list_value,
    prepare_list_values,
)
from imports.registry import CREATED, UPDATED, ImportKind, RowImporter, register
from imports.rows import Row, RowError, export_id
from leads.models import Lead
from leads.services.activity import leads_catch_up_activity_clocks

DELETED = gettext_lazy("This external id belongs to a deleted record; restore it first.")


def _existing(importer: RowImporter, model: type, external_id: str) -> Any:
    obj = importer.context.lookup(model, external_id) if external_id else None
    if obj is not None and getattr(obj, "deleted_at", None) is not None:
        raise RowError("external_id", str(DELETED))
    return obj


def _texts(row: Row, columns: dict[str, int]) -> dict[str, str]:
    return {
        column: row.text(column, max_length) for column, max_length in columns.items() if row.given(column)
    }


# --- accounts -----------------------------------------------------------------------------------------------------

ACCOUNT_COLUMNS = (
    "external_id",
    "name",
    "domain",
    "industry",
    "size_band",
    "region",
    "tier",
    "owner_email",
    "parent_external_id",
    "created_at",
)


# Columns whose values come from the company's value lists (named like the lists).
ACCOUNT_LIST_COLUMNS = (ValueListKey.INDUSTRY, ValueListKey.SIZE_BAND, ValueListKey.REGION)


class AccountImporter(RowImporter):
    field_columns = {"owner": "owner_email", "parent": "parent_external_id"}

    def prepare(self, rows: Sequence[Row]) -> None:
        self.context.load_members(column_values(rows, "owner_email"))
        self.context.load_records(
            Account, column_values(rows, "external_id") + column_values(rows, "parent_external_id")
        )
        for column in ACCOUNT_LIST_COLUMNS:
            prepare_list_values(self.context, rows, column, column)

    def _parse(self, row: Row) -> tuple[str, dict[str, Any], Any, Any]:
        """(external_id, fields, owner, created_at) as the services take them; raises the row's cell errors."""
        context = self.context
        external_id = row.text("external_id", 100)
        fields: dict[str, Any] = {"external_id": external_id}
        fields.update(_texts(row, {"name": 200, "domain": 200}))
        known = context.lookup(Account, external_id) if external_id else None
        for column in ACCOUNT_LIST_COLUMNS:
            if row.given(column):
                current = getattr(known, column, "") if known is not None else ""
                fields[column] = list_value(context, row, column, column, current=current)
        if row.given("tier"):
            fields["tier"] = row.choice("tier", Tier, default=Tier.STANDARD)
        if row.given("parent_external_id"):
            fields["parent"] = row.record("parent_external_id", Account)
        owner = row.member("owner_email")
        created_at = row.timestamp("created_at")
        row.check()
        return external_id, fields, owner, created_at

    def import_many(self, rows: Sequence[Row]) -> dict[int, str | Exception]:
        """New accounts as a set (accounts_create_many) and the accounts the file names again as another
        (accounts_update_many). Left to import_row (RowImporter.split_rows), and also a row that names as its
        parent an account that an earlier row of the chunk creates (it exists only once the set is written; a
        parent created by a later row is unknown to the row, as row by row)."""
        context = self.context
        earlier: set[str] = set()  # the external ids of the chunk's rows so far

        def parent_made_before(row: Row) -> bool:
            parent = (row.values.get("parent_external_id") or "").strip()
            waits = parent in earlier and context.lookup(Account, parent) is None
            earlier.add((row.values.get("external_id") or "").strip())
            return waits

        split = self.split_rows(rows, Account, self._parse, wait=parent_made_before)
        drafts = []
        for _index, (_external_id, fields, owner, created_at) in split.new:
            if created_at is not None:
                fields["created_at"] = created_at
            drafts.append({**fields, "owner": owner or context.user})
        changes = []
        for _index, account, (_external_id, fields, owner, created_at) in split.known:
            changes.append(
                (account, {**fields, **({"owner": owner} if owner is not None else {})}, created_at)
            )
        # prepare() read every account holding the chunk's external ids; the new rows name none of them.
        created = accounts_create_many(
            tenant=context.tenant, actor=context.actor, drafts=drafts, external_ids_read=True
        )
        updated = accounts_update_many(tenant=context.tenant, actor=context.actor, changes=changes)
        return self.set_outcomes(split, created, updated)

    def import_row(self, row: Row) -> str:
        context = self.context
        external_id, fields, owner, created_at = self._parse(row)
        existing = _existing(self, Account, external_id)
        if existing is not None:
            if owner is not None:
                fields["owner"] = owner
            account = account_update(
                tenant=context.tenant, actor=context.actor, account=existing, version=None, **fields
            )
            keep_created_at(context, account, created_at)
            context.remember(account)
            return UPDATED
        if created_at is not None:
            fields["created_at"] = created_at
        fields["owner"] = owner or context.user
        account = account_create(tenant=context.tenant, actor=context.actor, **fields)
        context.remember(account)
        return CREATED


def _accounts(tenant: Tenant, membership: Membership, params: QueryDict) -> QuerySet[Account]:
    return account_list(tenant=tenant, membership=membership, filters=params)


def _account_row(account: Account) -> dict[str, Any]:
    return {
        "external_id": export_id(account),
        "name": account.name,
        "domain": account.domain,
        "industry": account.industry,
        "size_band": account.size_band,
        "region": account.region,
        "tier": account.tier,
        "owner_email": email_of(account.owner),
        "parent_external_id": export_id(account.parent) if account.parent_id else "",
        "created_at": iso(account.created_at),
    }


# --- contacts -----------------------------------------------------------------------------------------------------

CONTACT_COLUMNS = (
    "external_id",
    "account_external_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "created_at",
)


class ContactImporter(RowImporter):
    field_columns = {"account": "account_external_id"}

    def prepare(self, rows: Sequence[Row]) -> None:
        self.context.load_records(Contact, column_values(rows, "external_id"))
        self.context.load_records(Account, column_values(rows, "account_external_id"))

    def _parse(self, row: Row) -> tuple[str, dict[str, Any], Any]:
        """(external_id, fields, created_at) as the services take them; raises the row's cell errors."""
        external_id = row.text("external_id", 100)
        fields: dict[str, Any] = {"external_id": external_id}
        fields.update(
            _texts(row, {"first_name": 100, "last_name": 100, "email": 254, "phone": 40, "title": 120})
        )
        if row.given("account_external_id"):
            fields["account"] = row.record("account_external_id", Account)
        created_at = row.timestamp("created_at")
        row.check()
        return external_id, fields, created_at

    def _new(self, fields: dict[str, Any], created_at: Any) -> dict[str, Any]:
        """contact_create's arguments for a new contact: its creation time, and the importer as its owner when
        its account has none to pass on."""
        if created_at is not None:
            fields["created_at"] = created_at
        account = fields.get("account")
        if account is None or not account.owner_id:
            fields["owner"] = self.context.user
        return fields

    def import_many(self, rows: Sequence[Row]) -> dict[int, str | Exception]:
        """New contacts as a set (contacts_create_many) and the contacts the file names again as another
        (contacts_update_many); the rows RowImporter.split_rows leaves out go to import_row."""
        context = self.context
        split = self.split_rows(rows, Contact, self._parse)
        drafts = [self._new(fields, created_at) for _index, (_id, fields, created_at) in split.new]
        changes = [
            (contact, fields, created_at) for _index, contact, (_id, fields, created_at) in split.known
        ]
        # prepare() read every contact holding the chunk's external ids; the new rows name none of them.
        created = contacts_create_many(
            tenant=context.tenant, actor=context.actor, drafts=drafts, external_ids_read=True
        )
        updated = contacts_update_many(tenant=context.tenant, actor=context.actor, changes=changes)
        return self.set_outcomes(split, created, updated)

    def import_row(self, row: Row) -> str:
        context = self.context
        external_id, fields, created_at = self._parse(row)
        existing = _existing(self, Contact, external_id)
        if existing is not None:
            contact = contact_update(
                tenant=context.tenant, actor=context.actor, contact=existing, version=None, **fields
            )
            keep_created_at(context, contact, created_at)
            context.remember(contact)
            return UPDATED
        contact = contact_create(tenant=context.tenant, actor=context.actor, **self._new(fields, created_at))
        context.remember(contact)
        return CREATED


def _contacts(tenant: Tenant, membership: Membership, params: QueryDict) -> QuerySet[Contact]:
    return contact_list(tenant=tenant, membership=membership, filters=params)


def _contact_row(contact: Contact) -> dict[str, Any]:
    return {
        "external_id": export_id(contact),
        "account_external_id": export_id(contact.account) if contact.account_id else "",
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
        "title": contact.title,
        "created_at": iso(contact.created_at),
    }


# --- opportunities ------------------------------------------------------------------------------------------------

OPPORTUNITY_COLUMNS = (
    "external_id",
    "account_external_id",
    "lead_external_id",
    "name",
    "type",
    "pipeline",
    "stage",
    "amount",
    "currency",
    "probability",
    "forecast_category",
    "expected_close_date",
    "owner_email",
    "created_at",
    "closed_at",
    "lost_reason",
)


class OpportunityImporter(RowImporter):
    field_columns = {
        "owner": "owner_email",
        "account": "account_external_id",
        "lead": "lead_external_id",
    }

    def prepare(self, rows: Sequence[Row]) -> None:
        context = self.context
        context.load_members(column_values(rows, "owner_email"))
        context.load_records(
            Opportunity, column_values(rows, "external_id"), select_related=("stage", "pipeline")
        )
        context.load_records(Account, column_values(rows, "account_external_id"))
        context.load_records(Lead, column_values(rows, "lead_external_id"))
        if "pipelines" not in context.extras:
            pipelines = list(pipeline_choices(tenant=context.tenant))
            context.extras["pipelines"] = {pipeline.name.lower(): pipeline for pipeline in pipelines}
            context.extras["default_pipeline"] = next((p for p in pipelines if p.is_default), None)
        prepare_list_values(context, rows, "lost_reason", ValueListKey.LOST_REASON)

    def _pipeline(self, row: Row) -> Pipeline | None:
        name = row.text("pipeline")
        if not name:
            return self.context.extras["default_pipeline"]
        pipeline = self.context.extras["pipelines"].get(name.lower())
        if pipeline is None:
            raise RowError("pipeline", _("No pipeline is called “%(name)s”.") % {"name": name})
        return pipeline

    def _parse(self, row: Row) -> tuple[str, dict[str, Any], Any, Any, Any, Any, Any]:
        """(external_id, fields, account, owner, lead, created_at, closed_at) as the services take them; raises the
        row's cell errors."""
        context = self.context
        external_id = row.text("external_id", 100)
        fields: dict[str, Any] = {"external_id": external_id}
        if row.given("name"):
            fields["name"] = row.text("name", 200)
        if row.given("type"):
            fields["type"] = row.choice("type", OpportunityType, default=OpportunityType.NEW_BUSINESS)
        if row.given("amount"):
            fields["amount"] = row.money("amount") or 0
        if row.given("currency"):
            fields["currency"] = row.text("currency").upper()
        if row.given("pipeline") or row.given("stage"):
            fields["pipeline"] = self._pipeline(row)
        if row.text("stage"):
            fields["stage"] = row.text("stage")
        probability = row.decimal_for("probability", Opportunity, "probability")
        if probability is not None:
            fields["probability"] = probability
        forecast = row.choice("forecast_category", ForecastCategory)
        if forecast:
            fields["forecast_category"] = forecast
        if row.given("expected_close_date"):
            fields["expected_close_date"] = row.date("expected_close_date")
        if row.given("lost_reason"):
            known = context.lookup(Opportunity, external_id) if external_id else None
            fields["lost_reason"] = list_value(
                context,
                row,
                "lost_reason",
                ValueListKey.LOST_REASON,
                current=known.lost_reason if known is not None else "",
            )
        account = row.record("account_external_id", Account)
        owner = row.member("owner_email")
        closed_at = row.timestamp("closed_at")
        lead = row.record("lead_external_id", Lead)
        created_at = row.timestamp("created_at")
        row.check()
        return external_id, fields, account, owner, lead, created_at, closed_at

    def _new(self, parsed: tuple[str, dict[str, Any], Any, Any, Any, Any, Any]) -> dict[str, Any]:
        """opportunity_create's arguments for a new deal (besides tenant and actor)."""
        _external_id, fields, account, owner, lead, created_at, closed_at = parsed
        if account is None:
            raise RowError("account_external_id", _("A deal needs the external id of its account."))
        fields = dict(fields)
        return {
            "account": account,
            "name": fields.pop("name", ""),
            "amount": fields.pop("amount", 0),
            "owner": owner or self.context.user,
            "lead": lead,
            "created_at": created_at,
            "closed_at": closed_at,
            **fields,
        }

    @staticmethod
    def _changes(parsed: tuple[str, dict[str, Any], Any, Any, Any, Any, Any]) -> dict[str, Any]:
        """opportunity_update's arguments for a deal the file names again (its creation time aside)."""
        _external_id, fields, account, owner, _lead, _created_at, closed_at = parsed
        fields = dict(fields)
        if account is not None:
            fields["account"] = account
        if owner is not None:
            fields["owner"] = owner
        return {**fields, "closed_at": closed_at}

    def _update(
        self, existing: Opportunity, parsed: tuple[str, dict[str, Any], Any, Any, Any, Any, Any]
    ) -> str:
        """A deal the file names again: opportunity_update with the row's values, its creation time kept."""
        context = self.context
        deal = opportunity_update(
            tenant=context.tenant,
            actor=context.actor,
            opportunity=existing,
            version=None,
            **self._changes(parsed),
        )
        keep_created_at(context, deal, parsed[5])
        context.remember(deal)
        return UPDATED

    def import_many(self, rows: Sequence[Row]) -> dict[int, str | Exception]:
        """New deals as a set (opportunities_create_many) and the deals the file names again as another
        (opportunities_update_many, then their creation times as the file gives them); the rows
        RowImporter.split_rows leaves out go to import_row."""
        context = self.context
        split = self.split_rows(rows, Opportunity, self._parse)
        drafts = []
        new = []
        for index, parsed in split.new:
            try:
                drafts.append(self._new(parsed))
            except RowError as exc:
                split.outcomes[index] = exc
                continue
            new.append((index, parsed))
        split.new = new
        # prepare() read every deal holding the chunk's external ids; the new rows name none of them.
        created = opportunities_create_many(
            tenant=context.tenant, actor=context.actor, drafts=drafts, external_ids_read=True
        )
        updated = opportunities_update_many(
            tenant=context.tenant,
            actor=context.actor,
            changes=[(existing, self._changes(parsed)) for _index, existing, parsed in split.known],
        )
        keep_created_at_many(
            context,
            Opportunity,
            [
                (deal, parsed[5])
                for deal, (_index, _existing, parsed) in zip(updated, split.known, strict=True)
                if isinstance(deal, Opportunity)
            ],
        )
        return self.set_outcomes(split, created, updated)

    def import_row(self, row: Row) -> str:
        context = self.context
        parsed = self._parse(row)
        existing = _existing(self, Opportunity, parsed[0])
        if existing is not None:
            return self._update(existing, parsed)
        deal = opportunity_create(tenant=context.tenant, actor=context.actor, **self._new(parsed))
        context.remember(deal)
        return CREATED


def _opportunities(tenant: Tenant, membership: Membership, params: QueryDict) -> QuerySet[Opportunity]:
    base = opportunity_list(tenant=tenant, membership=membership).select_related("lead")
    request = SimpleNamespace(tenant=tenant, membership=membership)
    return filterset_rows(OpportunityFilter(params, queryset=base, request=request))


def _opportunity_row(deal: Opportunity) -> dict[str, Any]:
    return {
        "external_id": export_id(deal),
        "account_external_id": export_id(deal.account),
        "lead_external_id": export_id(deal.lead) if deal.lead_id else "",
        "name": deal.name,
        "type": deal.type,
        "pipeline": deal.pipeline.name,
        "stage": deal.stage.name,
        "amount": iso(deal.amount),
        "currency": deal.currency,
        "probability": iso(deal.probability),
        "forecast_category": deal.forecast_category,
        "expected_close_date": iso(deal.expected_close_date),
        "owner_email": email_of(deal.owner),
        "created_at": iso(deal.created_at),
        "closed_at": iso(deal.closed_at),
        "lost_reason": deal.lost_reason,
    }


# --- activities ---------------------------------------------------------------------------------------------------

ACTIVITY_COLUMNS = (
    "external_id",
    "kind",
    "subject",
    "owner_email",
    "occurred_at",
    "due_at",
    "done",
    "lead_external_id",
    "account_external_id",
    "contact_external_id",
    "opportunity_external_id",
)
ACTIVITY_LINKS = (
    ("lead", "lead_external_id", Lead),
    ("account", "account_external_id", Account),
    ("contact", "contact_external_id", Contact),
    ("opportunity", "opportunity_external_id", Opportunity),
)


def _has_column(model: type[Any], attname: str) -> bool:
    return any(field.attname == attname for field in model._meta.concrete_fields)


class ActivityImporter(RowImporter):
    field_columns = {"owner": "owner_email", **{name: column for name, column, _model in ACTIVITY_LINKS}}

    def prepare(self, rows: Sequence[Row]) -> None:
        context = self.context
        context.load_members(column_values(rows, "owner_email"))
        context.load_records(Activity, column_values(rows, "external_id"))
        for _name, column, model in ACTIVITY_LINKS:
            # An activity only links to these: their owner (edit rights) and account (a deal's or contact's).
            linked = tuple(name for name in ("owner_id", "account_id") if _has_column(model, name))
            context.load_records(model, column_values(rows, column), only=linked)

    def _parse(self, row: Row) -> tuple[str, dict[str, Any], Any]:
        """(external_id, fields, owner) as the services take them; raises the row's cell errors."""
        external_id = row.text("external_id", 100)
        fields: dict[str, Any] = {"external_id": external_id}
        if row.given("kind"):
            fields["kind"] = row.choice("kind", ActivityKind)
        if row.given("subject"):
            fields["subject"] = row.text("subject", 200)
        for column in ("occurred_at", "due_at"):
            if row.given(column):
                fields[column] = row.timestamp(column)
        done = row.boolean("done")
        if done is not None:
            fields["done"] = done
        for name, column, model in ACTIVITY_LINKS:
            if row.given(column):
                fields[name] = row.record(column, model)
        owner = row.member("owner_email")
        row.check()
        return external_id, fields, owner

    def import_many(self, rows: Sequence[Row]) -> dict[int, str | Exception]:
        """New activities as a set (activities_log_many), and the activities the file names again as another
        (activities_update_many); the rows RowImporter.split_rows leaves out go to import_row."""
        context = self.context
        split = self.split_rows(rows, Activity, self._parse)
        drafts: list[ActivityDraft] = []
        new = []
        for index, (_external_id, fields, owner) in split.new:
            if not fields.get("kind"):
                split.outcomes[index] = RowError("kind", _("Choose call, email, meeting, note or task."))
                continue
            kind, subject = fields.pop("kind"), fields.pop("subject", "")
            drafts.append(
                ActivityDraft(kind=kind, subject=subject, owner=owner or context.user, fields=fields)
            )
            new.append((index, None))
        split.new = new
        changes = [
            (activity, {**fields, **({"owner": owner} if owner is not None else {})})
            for _index, activity, (_external_id, fields, owner) in split.known
        ]
        # prepare() read every activity holding the chunk's external ids; the new rows name none of them. The
        # leads' activity clocks of these new activities move once at the job's end (settle).
        with lead_clocks_at_end():
            logged = activities_log_many(
                tenant=context.tenant, actor=context.actor, drafts=drafts, external_ids_read=True
            )
        updated = activities_update_many(tenant=context.tenant, actor=context.actor, changes=changes)
        return self.set_outcomes(split, logged, updated)

    @classmethod
    def settle(cls, *, tenant: Tenant, job: Any) -> None:
        """The leads' activity clocks for the activities the job logged as sets (import_many), once per lead."""
        leads_catch_up_activity_clocks(tenant=tenant, after_activity_id=job.id_floor or 0)

    def import_row(self, row: Row) -> str:
        context = self.context
        external_id, fields, owner = self._parse(row)
        existing = _existing(self, Activity, external_id)
        if existing is not None:
            if owner is not None:
                fields["owner"] = owner
            activity = activity_update(
                tenant=context.tenant, actor=context.actor, activity=existing, **fields
            )
            context.remember(activity)
            return UPDATED
        if not fields.get("kind"):
            raise RowError("kind", _("Choose call, email, meeting, note or task."))
        activity = activity_log(
            tenant=context.tenant,
            actor=context.actor,
            subject=fields.pop("subject", ""),
            owner=owner or context.user,
            **fields,
        )
        context.remember(activity)
        return CREATED


def _activities(tenant: Tenant, membership: Membership, params: QueryDict) -> QuerySet[Activity]:
    return activity_list(tenant=tenant, membership=membership, filters=params)


def _activity_row(activity: Activity) -> dict[str, Any]:
    return {
        "external_id": export_id(activity),
        "kind": activity.kind,
        "subject": activity.subject,
        "owner_email": email_of(activity.owner),
        "occurred_at": iso(activity.occurred_at),
        "due_at": iso(activity.due_at),
        "done": iso(activity.done),
        "lead_external_id": export_id(activity.lead) if activity.lead_id else "",
        "account_external_id": export_id(activity.account) if activity.account_id else "",
        "contact_external_id": export_id(activity.contact) if activity.contact_id else "",
        "opportunity_external_id": export_id(activity.opportunity) if activity.opportunity_id else "",
    }


for _kind in (
    ImportKind(
        key="accounts",
        label=gettext_lazy("Accounts"),
        columns=ACCOUNT_COLUMNS,
        import_roles=ADMIN_OPS,
        export_roles=ALL_ROLES,
        importer=AccountImporter,
        export_queryset=_accounts,
        export_row=_account_row,
        model=Account,
    ),
    ImportKind(
        key="contacts",
        label=gettext_lazy("Contacts"),
        columns=CONTACT_COLUMNS,
        import_roles=ADMIN_OPS,
        export_roles=ALL_ROLES,
        importer=ContactImporter,
        export_queryset=_contacts,
        export_row=_contact_row,
        model=Contact,
    ),
    ImportKind(
        key="opportunities",
        label=gettext_lazy("Deals"),
        columns=OPPORTUNITY_COLUMNS,
        import_roles=ADMIN_OPS,
        export_roles=ALL_ROLES,
        importer=OpportunityImporter,
        export_queryset=_opportunities,
        export_row=_opportunity_row,
        model=Opportunity,
    ),
    ImportKind(
        key="activities",
        label=gettext_lazy("Activities"),
        columns=ACTIVITY_COLUMNS,
        import_roles=ADMIN_OPS,
        export_roles=ALL_ROLES,
        importer=ActivityImporter,
        export_queryset=_activities,
        export_row=_activity_row,
        model=Activity,
    ),
):
    register(_kind)
