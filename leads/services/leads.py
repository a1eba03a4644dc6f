"""Lead services (writes): create, edit, soft delete and restore; the derived columns (search text, duplicate
keys) and the edit-conflict snapshot. Keyword-only functions `lead_<verb>(*, tenant, actor, ...)`, each one
transaction. Status flow, pool, conversion and merges are their own modules in this package.

Every write stamps the actor into the django-pghistory context (the lead page's history shows who), keeps
`search_text` current and bumps `version` (optimistic locking: edits send the version they loaded)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.bulk import Maker, SetCleaner, copy_insert, copy_update
from crm.errors import AppError
from crm.history import history_actor
from crm.models import Membership, Tenant, User
from crm.normalize import company_key, phone_digits
from crm.records import (
    actor_membership,
    external_id_clash,
    record_restore,
    record_soft_delete,
    record_update_versioned,
    without_external_id_clashes,
)
from leads.models import Lead, LeadStatus
from leads.selectors.duplicates import phone_tail
from leads.selectors.leads import ASSIGNABLE_ROLES, lead_can_edit
from leads.services.access import check_can_edit, check_owner, check_owners, check_same_tenant
from leads.services.assignment import lead_assign_by_rules, leads_assign_by_rules_many
from leads.services.scoring import lead_rescore, lead_score_compute, rule_specs
from leads.services.status import STATUS_STAMP

EDIT_FIELDS = (
    "external_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "title",
    "region",
    "industry",
    "size_band",
    "source",
    "campaign",
)


def lead_search_text(lead: Lead) -> str:
    """What the inbox search looks in: name, company, email, phone and the phone's digits, lower-cased."""
    digits = phone_digits(lead.phone)
    parts = [lead.first_name, lead.last_name, lead.company, lead.email, lead.phone, digits]
    return " ".join(" ".join(p.split()) for p in parts if p).lower()


def lead_derived_values(lead: Lead) -> dict[str, str]:
    """The columns the services derive from a lead's details: search_text and the duplicate keys."""
    return {
        "search_text": lead_search_text(lead),
        "phone_tail": phone_tail(lead.phone),
        "company_key": company_key(lead.company)[:200],
    }


def lead_set_derived(lead: Lead) -> None:
    """Set the derived columns on an unsaved or about-to-be-saved lead (bulk creates call this too)."""
    for name, value in lead_derived_values(lead).items():
        setattr(lead, name, value)


def lead_snapshot(lead: Lead) -> dict[str, Any]:
    """The values an edit conflict shows (and the API returns with 409)."""
    return {
        "id": lead.pk,
        "version": lead.version,
        **{
            name: (getattr(lead, f"{name}_id") if name in ("source", "campaign") else getattr(lead, name))
            for name in EDIT_FIELDS
        },
        "status": lead.status,
        "owner": lead.owner_id,
    }


# What a lead's full_clean leaves to the services: relations (checked against the tenant here and by the owner
# rules) and the derived columns (set from the others after cleaning).
CLEAN_EXCLUDE = (
    "tenant",
    "owner",
    "source",
    "campaign",
    "territory",
    "converted_account",
    "converted_contact",
    "converted_opportunity",
    "merged_into",
    "search_text",
    "phone_tail",
    "company_key",
    "score_reasons",
)
_LEAD_STATUSES = frozenset(LeadStatus.values)


def _single_spaced(value: str | None) -> str:
    """Trimmed, every run of whitespace one space (str.split splits where the regex \\s+ matches)."""
    return " ".join((value or "").split())


def _clean(
    tenant: Tenant,
    lead: Lead,
    membership: Membership | None,
    *,
    one: bool = True,
    cleaner: SetCleaner | None = None,
) -> None:
    """The rules every lead meets. `one=False` (leads_create_many) leaves out what asks the database for each
    lead: the external id's clash (checked for the whole set at once) and full_clean's unique and constraint
    checks (the database's own constraints refuse the set, and its rows are then created one by one); its
    `cleaner` (crm.bulk.SetCleaner over CLEAN_EXCLUDE) does full_clean's field checks once per distinct value."""
    for name in ("first_name", "last_name", "phone", "company", "title", "region", "industry", "external_id"):
        setattr(lead, name, _single_spaced(getattr(lead, name)))
    lead.email = (lead.email or "").strip().lower()
    if not (lead.first_name or lead.last_name or lead.email or lead.company):
        raise ValidationError({"last_name": _("Enter a name, a company or an email address.")})
    # Region, industry and company size are values of the company's lists: the forms, the API and imports check
    # them (crm.value_lists); conversions and merges carry a record's values over as they are.
    check_same_tenant(tenant, lead.source, "source")
    check_same_tenant(tenant, lead.campaign, "campaign")
    if one and lead.external_id:
        clash = Lead.objects.filter(tenant=tenant, external_id=lead.external_id).exclude(pk=lead.pk).first()
        if clash is not None:
            # Said without telling whether the actor may see the other lead (crm.records.EXTERNAL_ID_UNAVAILABLE).
            raise external_id_clash(
                editable=lead_can_edit(membership=membership, lead=clash),
                message=_("Another lead has this external id."),
            )
    if cleaner is not None and not one:
        cleaner.clean(lead)
    else:
        lead.full_clean(exclude=list(CLEAN_EXCLUDE), validate_unique=one, validate_constraints=one)
    lead_set_derived(lead)


def _apply_rules_and_score(*, tenant: Tenant, lead: Lead) -> None:
    """Assignment rules (when nobody owns the lead) and scoring."""
    if lead.owner_id is None:
        lead_assign_by_rules(tenant=tenant, lead=lead)
    lead_rescore(tenant=tenant, lead=lead)


@transaction.atomic
def lead_create(
    *,
    tenant: Tenant,
    actor: User | None,
    owner: User | None = None,
    created_at: datetime.datetime | None = None,
    apply_rules: bool = True,
    status: str | None = None,
    status_stamps: Mapping[str, datetime.datetime | None] | None = None,
    **fields: Any,
) -> Lead:
    """Create a lead. A manual owner wins; otherwise the assignment rules
    (leads.services.assignment) pick one (or the lead starts in the
    pool). Scored by the scoring rules. Side effects: history event with the actor.

    `status` and `status_stamps` (mql_at, ...) are for imports: a migrated lead keeps its history as given."""
    unknown = set(fields) - set(EDIT_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    membership = actor_membership(tenant=tenant, actor=actor)
    if membership is not None and membership.role not in ASSIGNABLE_ROLES:
        raise PermissionDenied(_("Your role cannot create leads."))
    check_owner(tenant=tenant, membership=membership, owner=owner)
    now = timezone.now()
    lead = Lead(tenant=tenant, owner=owner, created_at=created_at or now, **fields)
    _apply_imported_status(lead, status, status_stamps)
    _clean(tenant, lead, membership)
    if apply_rules:
        _apply_rules_and_score(tenant=tenant, lead=lead)
    if lead.owner_id:
        lead.assigned_at = lead.created_at
    with history_actor(actor):
        lead.save()
    return lead


@dataclass
class LeadDraft:
    """One lead for leads_create_many: lead_create's arguments."""

    fields: dict[str, Any]
    owner: User | None = None
    created_at: datetime.datetime | None = None
    status: str | None = None
    status_stamps: Mapping[str, datetime.datetime | None] | None = None


@transaction.atomic
def leads_create_many(
    *, tenant: Tenant, actor: User | None, drafts: Sequence[LeadDraft], external_ids_read: bool = False
) -> list[Lead | Exception]:
    """lead_create for many leads at once (imports): the same rules, owner checks, assignment rules, scoring and
    history events (from the database's triggers, booked to the actor), with one query per kind of lookup and
    one INSERT instead of a dozen statements per lead. Returns, in the order of `drafts`, each created lead or the
    error (ValidationError, PermissionDenied) that kept it out; the others are created. Two drafts with one
    external id: the second is refused as a clash. A constraint only the database checks raises for the whole
    set (the caller creates the leads one by one to find the culprit). `external_ids_read`: the caller read, in
    this transaction, every lead that holds the drafts' external ids and passes only free ones (an import chunk's
    lookups), so they are not read again; a writer racing in between fails the INSERT on the unique constraint."""
    membership = actor_membership(tenant=tenant, actor=actor)
    if membership is not None and membership.role not in ASSIGNABLE_ROLES:
        raise PermissionDenied(_("Your role cannot create leads."))
    now = timezone.now()
    cleaner = SetCleaner(Lead, CLEAN_EXCLUDE)
    make_lead = Maker(Lead, now=now)
    results: list[Lead | Exception | None] = [None] * len(drafts)
    owners_checked = check_owners(
        tenant=tenant,
        membership=membership,
        owner_ids={draft.owner.pk for draft in drafts if draft.owner is not None},
    )
    valid: list[tuple[int, Lead]] = []
    for index, draft in enumerate(drafts):
        try:
            unknown = set(draft.fields) - set(EDIT_FIELDS)
            if unknown:
                raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
            owner = draft.owner
            if owner is not None:
                refused = owners_checked[owner.pk]
                if refused is not None:
                    raise refused
            lead = make_lead(tenant=tenant, owner=owner, created_at=draft.created_at or now, **draft.fields)
            _apply_imported_status(lead, draft.status, draft.status_stamps)
            _clean(tenant, lead, membership, one=False, cleaner=cleaner)
        except (ValidationError, PermissionDenied, AppError) as exc:
            results[index] = exc
            continue
        valid.append((index, lead))
    valid = without_external_id_clashes(
        model=Lead,
        tenant=tenant,
        valid=valid,
        results=results,
        can_edit=lambda holder: lead_can_edit(membership=membership, lead=holder),
        message=_("Another lead has this external id."),
        read=external_ids_read,
    )
    leads = [lead for _index, lead in valid]
    leads_assign_by_rules_many(tenant=tenant, leads=[lead for lead in leads if lead.owner_id is None])
    rules = rule_specs(tenant=tenant)
    for lead in leads:
        lead.score, lead.score_reasons = lead_score_compute(tenant=tenant, lead=lead, rules=rules)
        if lead.owner_id:
            lead.assigned_at = lead.created_at
    with history_actor(actor):
        copy_insert(Lead, leads)
    for index, lead in valid:
        results[index] = lead
    return cast(list[Lead | Exception], results)  # every draft got its lead or its error above


@dataclass
class LeadChange:
    """One lead for leads_update_many: lead_update's arguments, and the creation time an import keeps."""

    lead: Lead
    fields: dict[str, Any]
    status: str | None = None
    status_stamps: Mapping[str, datetime.datetime | None] | None = None
    created_at: datetime.datetime | None = None


# What leads_update_many writes besides the fields given: what lead_update, lead_rescore and an import's
# created_at write (the derived columns, the score, the version and the edit time).
_UPDATE_ALWAYS = (
    "search_text",
    "phone_tail",
    "company_key",
    "score",
    "score_reasons",
    "version",
    "updated_at",
)


@transaction.atomic
def leads_update_many(
    *, tenant: Tenant, actor: User | None, changes: Sequence[LeadChange]
) -> list[Lead | Exception]:
    """lead_update (with no version check) for many leads at once (imports: a file imported again), then each
    one's rescore and, when given, its creation time: the same rules, with the leads read again and locked in one
    query, scoring rules read once and one UPDATE for the set (a history event for each lead from the database's
    row trigger, booked to the actor) instead of three statements and a read per lead. An external id does not
    change here, except that a lead without one takes the one given (the caller read every lead holding the ids
    given: an import chunk's lookups; a writer racing in between fails the UPDATE on the unique constraint).
    Owners change through lead_assign. Returns, in the order of `changes`, each updated lead or the error that
    kept it as it was (a lead deleted meanwhile: Lead.DoesNotExist). A constraint only the database checks raises
    for the whole set (the caller updates them one by one to find the culprit)."""
    membership = actor_membership(tenant=tenant, actor=actor)
    cleaner = SetCleaner(Lead, CLEAN_EXCLUDE)
    results: list[Lead | Exception | None] = [None] * len(changes)
    fresh = {
        lead.pk: lead
        for lead in Lead.objects.select_for_update(of=("self",)).filter(
            tenant=tenant, pk__in=[change.lead.pk for change in changes], deleted_at=None
        )
    }
    rules = rule_specs(tenant=tenant) if fresh else []
    written: set[str] = set(_UPDATE_ALWAYS)
    valid: list[tuple[int, Lead]] = []
    for index, change in enumerate(changes):
        try:
            unknown = set(change.fields) - set(EDIT_FIELDS)
            if unknown:
                raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
            lead = fresh.get(change.lead.pk)
            if lead is None:
                raise Lead.DoesNotExist
            check_can_edit(membership, lead)
            if lead.external_id and change.fields.get("external_id", lead.external_id) != lead.external_id:
                raise ValidationError({"external_id": _("This field cannot be set here.")})
            for name, value in change.fields.items():
                setattr(lead, name, value)
            imported = _apply_imported_status(lead, change.status, change.status_stamps)
            _clean(tenant, lead, membership, one=False, cleaner=cleaner)
            lead.score, lead.score_reasons = lead_score_compute(tenant=tenant, lead=lead, rules=rules)
            if change.created_at is not None:
                lead.created_at = change.created_at
                written.add("created_at")
            lead.version += 1
        except (ValidationError, PermissionDenied, AppError, Lead.DoesNotExist) as exc:
            results[index] = exc
            continue
        written.update(change.fields, imported)
        valid.append((index, lead))
    leads = [lead for _index, lead in valid]
    with history_actor(actor):
        copy_update(Lead, leads, sorted(written))
    for index, lead in valid:
        results[index] = lead
    return cast(list[Lead | Exception], results)  # every change got its lead or its error above


def _apply_imported_status(
    lead: Lead, status: str | None, stamps: Mapping[str, datetime.datetime | None] | None
) -> dict[str, Any]:
    """Set a status and status timestamps as given (imports); returns the column values it set."""
    values: dict[str, Any] = {}
    if status is not None:
        if status not in _LEAD_STATUSES:
            raise ValidationError({"status": _("Unknown status.")})
        values["status"] = status
    for name, value in (stamps or {}).items():
        if name not in STATUS_STAMP.values():
            raise ValidationError({name: _("This field cannot be set here.")})
        values[name] = value
    for name, value in values.items():
        setattr(lead, name, value)
    return values


@transaction.atomic
def lead_update(
    *,
    tenant: Tenant,
    actor: User | None,
    lead: Lead,
    version: int | None,
    status: str | None = None,
    status_stamps: Mapping[str, datetime.datetime | None] | None = None,
    **fields: Any,
) -> Lead:
    """Change a lead's details; `version` is the one the user loaded (None: internal callers, no check).
    `status`/`status_stamps` set the status history as given (imports; the status flow is lead_change_status).

    Raises ConflictError (with the current values) when someone saved in between. Rescored afterwards."""
    unknown = set(fields) - set(EDIT_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    membership = actor_membership(tenant=tenant, actor=actor)
    check_can_edit(membership, lead)
    candidate = Lead.objects.get(tenant=tenant, pk=lead.pk)
    for name, value in fields.items():
        setattr(candidate, name, value)
    imported = _apply_imported_status(candidate, status, status_stamps)
    _clean(tenant, candidate, membership)
    values = {name: getattr(candidate, name) for name in fields}
    values.update(imported)
    values.update(lead_derived_values(candidate))
    record_update_versioned(
        queryset=Lead.objects.filter(tenant=tenant, deleted_at=None),
        instance=lead,
        expected_version=version,
        values=values,
        actor=actor,
        snapshot=lead_snapshot,
        message=_(
            "This lead was changed by someone else since you opened it. Review their changes and save again."
        ),
    )
    lead_rescore(tenant=tenant, lead=lead)
    return lead


@transaction.atomic
def lead_delete(*, tenant: Tenant, actor: User | None, lead: Lead) -> Lead:
    """Soft delete (the inbox offers Undo = lead_restore)."""
    check_can_edit(actor_membership(tenant=tenant, actor=actor), lead)
    return record_soft_delete(queryset=Lead.objects.filter(tenant=tenant), instance=lead, actor=actor)


@transaction.atomic
def lead_restore(*, tenant: Tenant, actor: User | None, lead: Lead) -> Lead:
    check_can_edit(actor_membership(tenant=tenant, actor=actor), lead)
    if lead.merged_into_id:
        raise AppError(_("This lead was merged into another one: undo the merge instead."))
    return record_restore(queryset=Lead.objects.filter(tenant=tenant), instance=lead, actor=actor)
