"""Lead services (writes): create, edit, status flow, assignment, conversion, the public pool, duplicates and
merges. Keyword-only functions `lead_<verb>(*, tenant, actor, ...)`, each one transaction.

Every write stamps the actor into the django-pghistory context (the lead page's history shows who), keeps
`search_text` current and bumps `version` (optimistic locking: edits send the version they loaded).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.errors import AppError, ConflictError
from crm.history import history_actor
from crm.models import Membership, MembershipStatus, Role, Tenant, User
from crm.visibility import can_edit_owned
from leads.models import (
    Lead,
    LeadPoolEvent,
    LeadSettings,
    LeadStatus,
    PoolEventKind,
    SizeBand,
)
from leads.selectors.leads import (
    ASSIGNABLE_ROLES,
    CLAIM_ROLES,
    OPEN_STATUSES,
    STATUS_ORDER,
    lead_can_edit,
    lead_settings_get,
    normalize_company,
    open_claims_count,
    phone_digits,
    phone_tail,
)

if TYPE_CHECKING:
    from accounts.models import MergeRecord

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
# Blank fields of a merge's survivor are filled from the merged lead.
MERGE_FILL_FIELDS = (
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
STATUS_STAMP: dict[str, str] = {
    LeadStatus.WORKING: "working_at",
    LeadStatus.MQL: "mql_at",
    LeadStatus.SQL: "sql_at",
    LeadStatus.CONVERTED: "converted_at",
    LeadStatus.DISQUALIFIED: "disqualified_at",
}
WORKING_KINDS = {"call", "email", "meeting"}


# --- helpers --------------------------------------------------------------------------------------------------


def _history(actor: User | None, **extra: Any) -> AbstractContextManager[Any]:
    """Stamp the actor (None: the system) and a reason into the pghistory context of the writes that follow; a
    context is opened for the system too, so no earlier actor of the same transaction is credited."""
    return history_actor(actor, **extra)


def _membership(*, tenant: Tenant, actor: User | None) -> Membership | None:
    """The actor's active membership; None for system actors (tasks, imports without a user)."""
    if actor is None:
        return None
    cached = getattr(actor, "_lead_membership_cache", None)
    if cached is not None and cached.tenant_id == tenant.pk:
        return cached
    membership = (
        Membership.objects.select_related("team")
        .filter(tenant=tenant, user=actor, status=MembershipStatus.ACTIVE)
        .first()
    )
    if membership is None:
        raise PermissionDenied(_("You are not a member of this company."))
    actor._lead_membership_cache = membership  # type: ignore[attr-defined]  # a per-instance cache
    return membership


def _check_can_edit(membership: Membership | None, lead: Lead) -> None:
    if not lead_can_edit(membership=membership, lead=lead):
        raise PermissionDenied(_("You can view this lead but not change it."))


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
        "company_key": normalize_company(lead.company)[:200],
    }


_PHONE_TAIL_FILL_SQL = """
UPDATE leads_lead SET phone_tail = CASE WHEN length(d) >= 7 THEN right(d, 7) ELSE '' END
FROM (SELECT id AS lead_id, regexp_replace(phone, '\\D', '', 'g') AS d FROM leads_lead
      WHERE tenant_id = %s AND phone <> '') AS digits
WHERE leads_lead.id = digits.lead_id AND leads_lead.tenant_id = %s
"""
_FILL_BATCH = 5000


def lead_fill_duplicate_keys(*, tenant_id: int, cursor: Any) -> None:
    """Recompute phone_tail and company_key of every lead of one tenant from phone and company, for rows written
    without the services (the migration that added the keys, the benchmark's bulk SQL). Runs inside the tenant's
    RLS setting; the history triggers ignore these columns."""
    cursor.execute(_PHONE_TAIL_FILL_SQL, [tenant_id, tenant_id])
    last_id = 0
    while True:
        cursor.execute(
            "SELECT id, company FROM leads_lead WHERE tenant_id = %s AND id > %s AND company <> ''"
            " ORDER BY id LIMIT %s",
            [tenant_id, last_id, _FILL_BATCH],
        )
        rows = cursor.fetchall()
        if not rows:
            return
        last_id = rows[-1][0]
        keys = [(pk, normalize_company(company)[:200]) for pk, company in rows]
        values = ", ".join(["(%s::bigint, %s::text)"] * len(keys))
        cursor.execute(
            f"UPDATE leads_lead AS l SET company_key = v.key FROM (VALUES {values}) AS v(id, key)"
            " WHERE l.id = v.id AND l.tenant_id = %s",
            [param for row in keys for param in row] + [tenant_id],
        )


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


def _same_tenant(tenant: Tenant, obj: Any, field: str) -> None:
    if obj is not None and getattr(obj, "tenant_id", tenant.pk) != tenant.pk:
        raise ValidationError(
            {field: _("Select a valid choice. That choice is not one of the available choices.")}
        )


def _clean(tenant: Tenant, lead: Lead) -> None:
    for name in ("first_name", "last_name", "phone", "company", "title", "region", "industry", "external_id"):
        setattr(lead, name, re.sub(r"\s+", " ", (getattr(lead, name) or "").strip()))
    lead.email = (lead.email or "").strip().lower()
    if not (lead.first_name or lead.last_name or lead.email or lead.company):
        raise ValidationError({"last_name": _("Enter a name, a company or an email address.")})
    if lead.size_band and lead.size_band not in SizeBand.values:
        raise ValidationError({"size_band": _("Choose a company size from the list.")})
    _same_tenant(tenant, lead.source, "source")
    _same_tenant(tenant, lead.campaign, "campaign")
    if lead.external_id:
        clash = Lead.objects.filter(tenant=tenant, external_id=lead.external_id).exclude(pk=lead.pk)
        if clash.exists():
            raise ValidationError({"external_id": _("Another lead has this external id.")})
    lead.full_clean(
        exclude=[
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
        ]
    )
    lead_set_derived(lead)


def _check_owner(*, tenant: Tenant, membership: Membership | None, owner: User | None) -> None:
    """`owner` works leads in this company and the actor may give them a lead."""
    if owner is None:
        return
    if not Membership.objects.filter(
        tenant=tenant, user=owner, status=MembershipStatus.ACTIVE, role__in=ASSIGNABLE_ROLES
    ).exists():
        raise ValidationError({"owner": _("The owner must be an active member who works leads.")})
    if membership is not None and not can_edit_owned(membership, owner.pk):
        raise ValidationError({"owner": _("You cannot give a lead to this person.")})


def _apply_rules_and_score(*, tenant: Tenant, lead: Lead) -> None:
    """Assignment rules (when nobody owns the lead) and scoring of the ops area, if it offers them."""
    try:
        from leads.services import ops
    except ImportError:  # pragma: no cover - the ops area ships with the app
        return
    if lead.owner_id is None and hasattr(ops, "lead_assign_by_rules"):
        ops.lead_assign_by_rules(tenant=tenant, lead=lead)
    if hasattr(ops, "lead_rescore"):
        ops.lead_rescore(tenant=tenant, lead=lead)


# --- create, edit, delete -----------------------------------------------------------------------------------


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
    """Create a lead. A manual owner wins; otherwise the ops assignment rules pick one (or the lead starts in the
    pool). Scored by the ops scoring rules. Side effects: history event with the actor.

    `status` and `status_stamps` (mql_at, ...) are for imports: a migrated lead keeps its history as given."""
    unknown = set(fields) - set(EDIT_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    membership = _membership(tenant=tenant, actor=actor)
    if membership is not None and membership.role not in ASSIGNABLE_ROLES:
        raise PermissionDenied(_("Your role cannot create leads."))
    _check_owner(tenant=tenant, membership=membership, owner=owner)
    now = timezone.now()
    lead = Lead(tenant=tenant, owner=owner, created_at=created_at or now, **fields)
    _apply_imported_status(lead, status, status_stamps)
    _clean(tenant, lead)
    if apply_rules:
        _apply_rules_and_score(tenant=tenant, lead=lead)
    if lead.owner_id:
        lead.assigned_at = lead.created_at
    with _history(actor):
        lead.save()
    return lead


def _apply_imported_status(
    lead: Lead, status: str | None, stamps: Mapping[str, datetime.datetime | None] | None
) -> dict[str, Any]:
    """Set a status and status timestamps as given (imports); returns the column values it set."""
    values: dict[str, Any] = {}
    if status is not None:
        if status not in LeadStatus.values:
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
    membership = _membership(tenant=tenant, actor=actor)
    _check_can_edit(membership, lead)
    candidate = Lead.objects.get(tenant=tenant, pk=lead.pk)
    for name, value in fields.items():
        setattr(candidate, name, value)
    imported = _apply_imported_status(candidate, status, status_stamps)
    _clean(tenant, candidate)
    values = {name: getattr(candidate, name) for name in fields}
    values.update(imported)
    values.update(lead_derived_values(candidate))
    qs = Lead.objects.filter(tenant=tenant, pk=lead.pk, deleted_at=None)
    if version is not None:
        qs = qs.filter(version=version)
    with _history(actor):
        updated = qs.update(**values, version=F("version") + 1, updated_at=timezone.now())
    if not updated:
        current = Lead.objects.filter(tenant=tenant, pk=lead.pk, deleted_at=None).first()
        if current is None:
            raise Lead.DoesNotExist
        raise ConflictError(
            _(
                "This lead was changed by someone else since you opened it. Review their changes and save again."
            ),
            your_version=version,
            current_version=current.version,
            current=lead_snapshot(current),
        )
    lead.refresh_from_db()
    _rescore(tenant, lead)
    return lead


def _rescore(tenant: Tenant, lead: Lead) -> None:
    try:
        from leads.services.ops import lead_rescore
    except ImportError:  # pragma: no cover
        return
    lead_rescore(tenant=tenant, lead=lead)


@transaction.atomic
def lead_delete(*, tenant: Tenant, actor: User | None, lead: Lead) -> Lead:
    """Soft delete (the inbox offers Undo = lead_restore)."""
    _check_can_edit(_membership(tenant=tenant, actor=actor), lead)
    with _history(actor):
        Lead.objects.filter(tenant=tenant, pk=lead.pk, deleted_at=None).update(
            deleted_at=timezone.now(), version=F("version") + 1, updated_at=timezone.now()
        )
    lead.refresh_from_db()
    return lead


@transaction.atomic
def lead_restore(*, tenant: Tenant, actor: User | None, lead: Lead) -> Lead:
    _check_can_edit(_membership(tenant=tenant, actor=actor), lead)
    if lead.merged_into_id:
        raise AppError(_("This lead was merged into another one: undo the merge instead."))
    with _history(actor):
        Lead.objects.filter(tenant=tenant, pk=lead.pk).exclude(deleted_at=None).update(
            deleted_at=None, version=F("version") + 1, updated_at=timezone.now()
        )
    lead.refresh_from_db()
    return lead


# --- activity hook, status flow ---------------------------------------------------------------------------------


def lead_check_can_log_activity(*, tenant: Tenant, actor: User | None, lead: Lead) -> None:
    """Logging an activity on a lead needs edit rights on it (DESIGN.md: ops read leads only; a rep claims a pool
    lead before working it). Raises PermissionDenied with the reason; system actors (None) may always log."""
    membership = _membership(tenant=tenant, actor=actor)
    if lead_can_edit(membership=membership, lead=lead):
        return
    if membership is not None and membership.role in CLAIM_ROLES and lead.owner_id is None:
        raise PermissionDenied(_("Claim this lead from the pool before logging activities on it."))
    raise PermissionDenied(_("You can view this lead but not log activities on it."))


@transaction.atomic
def lead_record_activity(
    *, tenant: Tenant, lead: Lead, at: datetime.datetime | None, kind: str, done: bool
) -> None:
    """An activity was logged (or a task completed) on `lead` at `at`.

    Only done calls, emails and meetings work a lead (KPIS.md "Activities count when done"): they move
    last_activity_at forward (never back: a back-dated activity does not make a lead look fresher, and so the pool
    clock) and a `new` lead becomes `working` (stamping working_at). Notes, tasks and open activities change
    neither. Set-based, so concurrent loggers do not lose each other's updates; `lead` is refreshed in place.
    Side effect: any done activity rescores the lead after commit (the "recent activities" engagement rules)."""
    if not done or at is None:
        return
    if kind in WORKING_KINDS:
        qs = Lead.objects.filter(pk=lead.pk, tenant_id=tenant.pk)
        qs.update(last_activity_at=Greatest(Coalesce("last_activity_at", Value(at)), Value(at)))
        qs.filter(status=LeadStatus.NEW).update(
            status=LeadStatus.WORKING,
            working_at=Coalesce("working_at", Value(at)),
            version=F("version") + 1,
        )
        lead.refresh_from_db(fields=["last_activity_at", "status", "working_at", "version"])
    _enqueue_lead_rescore(tenant=tenant, lead_id=lead.pk)


@dataclass
class _RescoreBatch:
    """The leads to rescore when the current transaction commits (one task per lead, however many activities an
    import logs on it). Tied to the connection's list of on-commit callbacks: Django replaces that list when it
    commits, rolls back or drops a savepoint's callbacks, which starts a new batch."""

    hooks: list
    keys: set[tuple[int, int]] = field(default_factory=set)
    sent: bool = False

    def send(self) -> None:
        from leads.tasks import rescore_lead

        self.sent = True
        for tenant_id, lead_id in sorted(self.keys):
            rescore_lead.delay(tenant_id, lead_id)


def _enqueue_lead_rescore(*, tenant: Tenant, lead_id: int) -> None:
    """Rescore the lead after commit (Celery `leads.tasks.rescore_lead`), once per lead and transaction."""
    batch: _RescoreBatch | None = getattr(connection, "_lead_rescore_batch", None)
    if batch is None or batch.sent or batch.hooks is not connection.run_on_commit:
        batch = _RescoreBatch(hooks=connection.run_on_commit)
        connection._lead_rescore_batch = batch  # type: ignore[attr-defined]  # per-connection state
        batch.keys.add((tenant.pk, lead_id))
        transaction.on_commit(batch.send)  # outside a transaction this sends at once
        return
    batch.keys.add((tenant.pk, lead_id))


def _status_values(status: str, at: datetime.datetime, reason: str) -> dict[str, Any]:
    """Column values of a move to `status`: its timestamp is stamped if missing (earlier ones are not back-filled:
    KPIS.md counts a lead as having reached a status when it has that timestamp or a later one)."""
    values: dict[str, Any] = {"status": status}
    if status == LeadStatus.DISQUALIFIED:
        values["disqualified_at"] = Value(at)
        values["disqualify_reason"] = reason
    else:
        values["disqualified_at"] = None
        values["disqualify_reason"] = ""
        stamp = STATUS_STAMP.get(status)
        if stamp:
            values[stamp] = Coalesce(stamp, Value(at))
    return values


def _validate_status_change(lead: Lead, status: str, reason: str) -> None:
    if status not in LeadStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    if lead.status == LeadStatus.CONVERTED:
        raise ValidationError({"status": _("A converted lead keeps its status.")})
    if status == LeadStatus.CONVERTED:
        raise ValidationError({"status": _("Use Convert to turn a lead into an account, contact and deal.")})
    if status == LeadStatus.DISQUALIFIED and not reason.strip():
        raise ValidationError({"reason": _("Say why the lead is disqualified.")})


@transaction.atomic
def lead_change_status(
    *,
    tenant: Tenant,
    actor: User | None,
    lead: Lead,
    status: str,
    reason: str = "",
    at: datetime.datetime | None = None,
) -> Lead:
    """Move a lead along new → working → mql → sql (or back), disqualify it (a reason is required) or reopen a
    disqualified one. Converting goes through lead_convert. Side effects: the status timestamp, history."""
    membership = _membership(tenant=tenant, actor=actor)
    _check_can_edit(membership, lead)
    reason = (reason or "").strip()[:200]
    _validate_status_change(lead, status, reason)
    if status == lead.status and status != LeadStatus.DISQUALIFIED:
        return lead
    at = at or timezone.now()
    with _history(actor):
        Lead.objects.filter(tenant=tenant, pk=lead.pk).update(
            **_status_values(status, at, reason), version=F("version") + 1, updated_at=timezone.now()
        )
    lead.refresh_from_db()
    return lead


@transaction.atomic
def leads_bulk_change_status(
    *, tenant: Tenant, actor: User | None, leads: list[Lead], status: str, reason: str = ""
) -> int:
    """The same status move for many leads in one UPDATE (the caller resolved the ids through the selector, so
    they are visible and editable). Converted leads refuse the whole request."""
    membership = _membership(tenant=tenant, actor=actor)
    reason = (reason or "").strip()[:200]
    for lead in leads:
        _check_can_edit(membership, lead)
        _validate_status_change(lead, status, reason)
    ids = [lead.pk for lead in leads if lead.status != status or status == LeadStatus.DISQUALIFIED]
    if not ids:
        return 0
    now = timezone.now()
    with _history(actor):
        return Lead.objects.filter(tenant=tenant, pk__in=ids).update(
            **_status_values(status, now, reason), version=F("version") + 1, updated_at=now
        )


# --- assignment and the pool ------------------------------------------------------------------------------------


def _assign_values(owner: User | None, now: datetime.datetime) -> dict[str, Any]:
    if owner is None:
        return {"owner": None, "assigned_at": None, "claimed_at": None, "pooled_at": now}
    return {"owner": owner, "assigned_at": now, "claimed_at": None, "pooled_at": None}


@transaction.atomic
def lead_assign(*, tenant: Tenant, actor: User | None, lead: Lead, owner: User | None) -> Lead:
    """Give a lead to `owner` (a manual assignment overrides the rules), or release it to the pool (None).
    Side effects: the pool clock restarts; history; a release counts as a return in the pool figures."""
    membership = _membership(tenant=tenant, actor=actor)
    _check_can_edit(membership, lead)
    _check_owner(tenant=tenant, membership=membership, owner=owner)
    if lead.status not in OPEN_STATUSES and owner is None:
        raise ValidationError({"owner": _("Only open leads go to the pool.")})
    if owner is not None and owner.pk == lead.owner_id:
        return lead
    now = timezone.now()
    previous_owner = lead.owner_id
    with _history(actor):
        Lead.objects.filter(tenant=tenant, pk=lead.pk).update(
            **_assign_values(owner, now), version=F("version") + 1, updated_at=now
        )
    if owner is None and previous_owner:
        LeadPoolEvent.objects.create(
            tenant=tenant, lead=lead, kind=PoolEventKind.RETURNED, user_id=previous_owner, at=now
        )
    lead.refresh_from_db()
    return lead


@transaction.atomic
def leads_bulk_assign(*, tenant: Tenant, actor: User | None, leads: list[Lead], owner: User | None) -> int:
    """Give many leads (already resolved through the selector) to one owner in one UPDATE."""
    membership = _membership(tenant=tenant, actor=actor)
    for lead in leads:
        _check_can_edit(membership, lead)
    _check_owner(tenant=tenant, membership=membership, owner=owner)
    if owner is None and any(lead.status not in OPEN_STATUSES for lead in leads):
        raise ValidationError({"owner": _("Only open leads go to the pool.")})
    ids = [lead.pk for lead in leads if owner is None or lead.owner_id != (owner.pk if owner else None)]
    if not ids:
        return 0
    now = timezone.now()
    with _history(actor):
        count = Lead.objects.filter(tenant=tenant, pk__in=ids).update(
            **_assign_values(owner, now), version=F("version") + 1, updated_at=now
        )
    if owner is None:
        LeadPoolEvent.objects.bulk_create(
            [
                LeadPoolEvent(
                    tenant=tenant, lead=lead, kind=PoolEventKind.RETURNED, user_id=lead.owner_id, at=now
                )
                for lead in leads
                if lead.pk in ids and lead.owner_id
            ]
        )
    return count


@transaction.atomic
def lead_claim(*, tenant: Tenant, actor: User, lead: Lead) -> Lead:
    """A rep takes an open lead from the pool, up to LeadSettings.pool_claim_cap open claims at once.

    Concurrency: the claimer's membership row is locked first (so two claims by one rep count one after the
    other and cannot pass the cap together), then the lead row (so two reps cannot both take it)."""
    membership = _membership(tenant=tenant, actor=actor)
    if membership is None or membership.role not in CLAIM_ROLES:
        raise PermissionDenied(_("Your role cannot claim leads."))
    Membership.objects.select_for_update().filter(pk=membership.pk).first()
    locked = Lead.objects.select_for_update().filter(tenant=tenant, pk=lead.pk, deleted_at=None).first()
    if locked is None:
        raise Lead.DoesNotExist
    if locked.owner_id is not None or locked.status not in OPEN_STATUSES:
        raise AppError(_("Someone else took this lead from the pool."))
    settings = lead_settings_get(tenant=tenant)
    held = open_claims_count(tenant=tenant, user_id=actor.pk)
    if held >= settings.pool_claim_cap:
        raise AppError(
            ngettext(
                "You already hold %(cap)d open lead claimed from the pool: work or close it first.",
                "You already hold %(cap)d open leads claimed from the pool: work or close some first.",
                settings.pool_claim_cap,
            )
            % {"cap": settings.pool_claim_cap}
        )
    now = timezone.now()
    with _history(actor):
        Lead.objects.filter(tenant=tenant, pk=lead.pk).update(
            owner=actor,
            claimed_at=now,
            assigned_at=now,
            pooled_at=None,
            version=F("version") + 1,
            updated_at=now,
        )
    LeadPoolEvent.objects.create(
        tenant=tenant, lead_id=lead.pk, kind=PoolEventKind.CLAIMED, user=actor, at=now
    )
    lead.refresh_from_db()
    return lead


_RETURN_SQL = """
WITH stale AS (
    SELECT id, owner_id, {clock} AS idle_since
    FROM leads_lead
    WHERE tenant_id = %(tenant)s
      AND owner_id IS NOT NULL
      AND deleted_at IS NULL
      AND status IN ('new', 'working', 'mql', 'sql')
      AND {clock} < %(cutoff)s
    FOR UPDATE SKIP LOCKED
)
UPDATE leads_lead AS l
SET owner_id = NULL, pooled_at = %(now)s, claimed_at = NULL, assigned_at = NULL,
    version = l.version + 1, updated_at = %(now)s
FROM stale
WHERE l.id = stale.id AND l.tenant_id = %(tenant)s
RETURNING l.id, stale.owner_id, stale.idle_since
"""
_CLOCK_SQL = "GREATEST(COALESCE(last_activity_at, created_at), COALESCE(assigned_at, created_at), created_at)"


@transaction.atomic
def leads_return_stale_to_pool(*, tenant: Tenant, now: datetime.datetime | None = None) -> int:
    """Leads nobody worked within the tenant's window go back to the pool: one set-based UPDATE.

    Idle time starts at the latest of the last activity, the assignment or claim, and the creation (so a lead
    just claimed gets the full window). Converted and disqualified leads never return. Side effects: a
    LeadPoolEvent per lead (pool figures) and a note on its timeline ("Returned to pool after N days without
    activity", no owner), both inserted in batches. Idempotent: a second run finds nothing to move."""
    now = now or timezone.now()
    settings = lead_settings_get(tenant=tenant)
    cutoff = now - datetime.timedelta(days=settings.pool_window_days)
    with _history(None, reason="pool_return"), connection.cursor() as cursor:
        cursor.execute(
            _RETURN_SQL.format(clock=_CLOCK_SQL), {"tenant": tenant.pk, "cutoff": cutoff, "now": now}
        )
        moved = cursor.fetchall()
    if not moved:
        return 0
    LeadPoolEvent.objects.bulk_create(
        [
            LeadPoolEvent(
                tenant=tenant,
                lead_id=lead_id,
                kind=PoolEventKind.RETURNED,
                user_id=owner_id,
                at=now,
                idle_days=max(0, (now - idle_since).days),
            )
            for lead_id, owner_id, idle_since in moved
        ],
        batch_size=2000,
    )
    _pool_notes(tenant=tenant, moved=moved, now=now)
    return len(moved)


def _pool_notes(*, tenant: Tenant, moved: list[tuple], now: datetime.datetime) -> None:
    """The timeline note of each returned lead, in the tenant's language (the text is stored)."""
    from accounts.models import Activity, ActivityKind

    with translation.override(tenant.default_locale or "en"):
        subjects: dict[int, str] = {}
        notes = []
        for lead_id, _owner_id, idle_since in moved:
            days = max(0, (now - idle_since).days)
            if days not in subjects:
                subjects[days] = ngettext(
                    "Returned to pool after %(days)d day without activity",
                    "Returned to pool after %(days)d days without activity",
                    days,
                ) % {"days": days}
            notes.append(
                Activity(
                    tenant=tenant,
                    kind=ActivityKind.NOTE,
                    subject=subjects[days],
                    owner=None,
                    lead_id=lead_id,
                    occurred_at=now,
                    done=True,
                )
            )
    Activity.objects.bulk_create(notes, batch_size=2000)


@transaction.atomic
def lead_settings_update(
    *, tenant: Tenant, actor: User | None, pool_window_days: int, pool_claim_cap: int
) -> LeadSettings:
    """Admins and ops set the pool window (days without activity) and the per-rep claim cap."""
    membership = _membership(tenant=tenant, actor=actor)
    if membership is not None and membership.role not in (Role.ADMIN, Role.OPS):
        raise PermissionDenied(_("Only admins and ops change the pool settings."))
    errors = {}
    if not 1 <= int(pool_window_days) <= 365:
        errors["pool_window_days"] = _("Use 1 to 365 days.")
    if not 1 <= int(pool_claim_cap) <= 1000:
        errors["pool_claim_cap"] = _("Use 1 to 1000 leads.")
    if errors:
        raise ValidationError(errors)
    settings, _created = LeadSettings.objects.update_or_create(
        tenant=tenant,
        defaults={"pool_window_days": int(pool_window_days), "pool_claim_cap": int(pool_claim_cap)},
    )
    return settings


# --- conversion ------------------------------------------------------------------------------------------------


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
    from accounts.services import records as record_services

    membership = _membership(tenant=tenant, actor=actor)
    _check_can_edit(membership, lead)
    locked = Lead.objects.select_for_update().get(tenant=tenant, pk=lead.pk, deleted_at=None)
    if locked.status == LeadStatus.CONVERTED:
        raise AppError(_("This lead is already converted."))
    if locked.status == LeadStatus.DISQUALIFIED:
        raise AppError(_("Reopen a disqualified lead before converting it."))
    at = at or timezone.now()
    owner = locked.owner or actor
    _same_tenant(tenant, account, "account")
    _same_tenant(tenant, contact, "contact")
    with _history(actor):
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
            account = record_services.account_create(tenant=tenant, actor=actor, **fields)
        if contact is None and create_contact:
            contact = record_services.contact_create(
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
            contact = record_services.contact_update(
                tenant=tenant, actor=actor, contact=contact, version=None, account=account
            )
        opportunity = None
        if create_deal:
            from accounts.services.deals import opportunity_create

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
                from accounts.services.deals import opportunity_contact_add

                opportunity_contact_add(
                    tenant=tenant, actor=actor, opportunity=opportunity, contact=contact, is_primary=True
                )
        values = _status_values(LeadStatus.CONVERTED, at, "")
        Lead.objects.filter(tenant=tenant, pk=lead.pk).update(
            **values,
            owner=owner,
            converted_account=account,
            converted_contact=contact,
            converted_opportunity=opportunity,
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        _move_activities(
            tenant=tenant, lead=locked, account=account, contact=contact, opportunity=opportunity
        )
    lead.refresh_from_db()
    return lead


def _move_activities(*, tenant: Tenant, lead: Lead, account: Any, contact: Any, opportunity: Any) -> None:
    """The lead's activities stay on the lead and now also belong to the account (and contact), so the account's
    timeline tells the whole story; links they already had are kept."""
    from accounts.models import Activity

    activities = Activity.objects.filter(tenant=tenant, lead=lead)
    activities.filter(account__isnull=True).update(account=account, updated_at=timezone.now())
    if contact is not None:
        activities.filter(contact__isnull=True).update(contact=contact, updated_at=timezone.now())


# --- merges ----------------------------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _merge_state(lead: Lead) -> dict[str, Any]:
    fields = {
        name: _json_value(getattr(lead, f"{name}_id" if name in ("source", "campaign") else name))
        for name in MERGE_FILL_FIELDS
    }
    fields.update(
        {
            "last_activity_at": _json_value(lead.last_activity_at),
            "score": lead.score,
            "score_reasons": lead.score_reasons,
            "search_text": lead.search_text,
            "version": lead.version,
            "deleted_at": _json_value(lead.deleted_at),
        }
    )
    return fields


def _column(name: str) -> str:
    return f"{name}_id" if name in ("source", "campaign") else name


@transaction.atomic
def lead_merge(*, tenant: Tenant, actor: User | None, survivor: Lead, merged: Lead) -> MergeRecord:
    """Merge `merged` into `survivor`: the survivor keeps its values and fills its blanks from the merged lead,
    every activity and deal of the merged lead moves to the survivor, the merged lead is soft-deleted with
    merged_into. Returns the accounts.MergeRecord (entity "lead") that holds what lead_merge_undo needs.
    Both leads' history stays (pghistory keeps the merged lead's events under its id)."""
    from accounts.models import Activity, MergeEntity, MergeRecord, Opportunity

    membership = _membership(tenant=tenant, actor=actor)
    if survivor.pk == merged.pk:
        raise ValidationError({"merged": _("Choose two different leads.")})
    locked = {
        lead.pk: lead
        for lead in Lead.objects.select_for_update()
        .filter(tenant=tenant, pk__in=[survivor.pk, merged.pk], deleted_at=None)
        .order_by("pk")
    }
    if len(locked) != 2:
        raise Lead.DoesNotExist
    keep, gone = locked[survivor.pk], locked[merged.pk]
    _check_can_edit(membership, keep)
    _check_can_edit(membership, gone)
    if gone.status == LeadStatus.CONVERTED:
        raise ValidationError({"merged": _("A converted lead can only be the one that stays.")})
    now = timezone.now()
    filled = {}
    for name in MERGE_FILL_FIELDS:
        column = _column(name)
        if not getattr(keep, column) and getattr(gone, column):
            filled[column] = getattr(gone, column)
    activity_ids = list(Activity.objects.filter(tenant=tenant, lead=gone).values_list("pk", flat=True))
    opportunity_ids = list(Opportunity.objects.filter(tenant=tenant, lead=gone).values_list("pk", flat=True))
    snapshot = {
        "survivor": _merge_state(keep),
        "merged": _merge_state(gone),
        "filled": sorted(filled),
        "activity_ids": activity_ids,
        "opportunity_ids": opportunity_ids,
    }
    for column, value in filled.items():
        setattr(keep, column, value)
    if gone.last_activity_at and (not keep.last_activity_at or gone.last_activity_at > keep.last_activity_at):
        filled["last_activity_at"] = gone.last_activity_at
    filled.update(lead_derived_values(keep))
    with _history(actor, reason="lead_merge"):
        Lead.objects.filter(tenant=tenant, pk=keep.pk).update(
            **filled, version=F("version") + 1, updated_at=now
        )
        Lead.objects.filter(tenant=tenant, pk=gone.pk).update(
            deleted_at=now, merged_into=keep, version=F("version") + 1, updated_at=now
        )
        Activity.objects.filter(tenant=tenant, pk__in=activity_ids).update(lead=keep, updated_at=now)
        Opportunity.objects.filter(tenant=tenant, pk__in=opportunity_ids).update(lead=keep, updated_at=now)
    record = MergeRecord.objects.create(
        tenant=tenant,
        entity=MergeEntity.LEAD,
        survivor_id=keep.pk,
        merged_id=gone.pk,
        snapshot=snapshot,
        actor=actor,
    )
    survivor.refresh_from_db()
    _rescore(tenant, survivor)
    return record


@transaction.atomic
def lead_merge_undo(*, tenant: Tenant, actor: User | None, record: MergeRecord) -> Lead:
    """Undo a lead merge: the merged lead comes back as it was (live, its own activities and deals), and the
    survivor's filled blanks are emptied again unless someone changed them since. Returns the restored lead."""
    from accounts.models import Activity, MergeEntity, Opportunity

    if record.entity != MergeEntity.LEAD:
        raise ValidationError({"record": _("This is not a lead merge.")})
    if record.undone_at is not None:
        raise AppError(_("This merge was already undone."))
    membership = _membership(tenant=tenant, actor=actor)
    locked = {
        lead.pk: lead
        for lead in Lead.objects.select_for_update()
        .filter(tenant=tenant, pk__in=[record.survivor_id, record.merged_id])
        .order_by("pk")
    }
    keep, gone = locked.get(record.survivor_id), locked.get(record.merged_id)
    if keep is None or gone is None or gone.merged_into_id != keep.pk:
        raise AppError(_("These leads changed too much since the merge to undo it."))
    _check_can_edit(membership, keep)
    snapshot = record.snapshot
    before = snapshot["survivor"]
    merged_state = snapshot["merged"]
    now = timezone.now()
    restore: dict[str, Any] = {}
    for name in snapshot.get("filled", []):
        field_name = name[:-3] if name.endswith("_id") else name
        filled_value = merged_state.get(field_name)
        if getattr(keep, name) == filled_value:
            restore[name] = before.get(field_name) or ("" if not name.endswith("_id") else None)
    if keep.last_activity_at and _json_value(keep.last_activity_at) == merged_state["last_activity_at"]:
        restore["last_activity_at"] = before["last_activity_at"]
    for column, value in restore.items():
        setattr(keep, column, value)
    restore.update(lead_derived_values(keep))
    with _history(actor, reason="lead_merge_undo"):
        Lead.objects.filter(tenant=tenant, pk=keep.pk).update(
            **restore, version=F("version") + 1, updated_at=now
        )
        Lead.objects.filter(tenant=tenant, pk=gone.pk).update(
            deleted_at=None, merged_into=None, version=F("version") + 1, updated_at=now
        )
        Activity.objects.filter(tenant=tenant, pk__in=snapshot["activity_ids"], lead=keep).update(
            lead=gone, updated_at=now
        )
        Opportunity.objects.filter(tenant=tenant, pk__in=snapshot["opportunity_ids"], lead=keep).update(
            lead=gone, updated_at=now
        )
    type(record).objects.filter(tenant=tenant, pk=record.pk).update(undone_at=now)
    record.refresh_from_db()
    keep.refresh_from_db()
    _rescore(tenant, keep)
    gone.refresh_from_db()
    return gone


def lead_status_reached(lead: Lead, status: str) -> bool:
    """KPIS.md: a lead reached a status if it has that timestamp or the timestamp of any later status."""
    if status == LeadStatus.NEW:
        return True
    index = STATUS_ORDER.index(status)
    return any(getattr(lead, STATUS_STAMP[s]) for s in STATUS_ORDER[index:] if s in STATUS_STAMP)
