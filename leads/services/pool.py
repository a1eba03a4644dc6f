"""Ownership and the public pool: manual assignment or release, claims from the pool (with the per-rep cap),
the periodic return of stale leads, the pool settings."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.services.activities import activity_notes_create_for_leads
from crm.errors import AppError
from crm.history import history_actor
from crm.models import Membership, Role, Tenant, User
from crm.records import actor_membership
from leads.models import Lead, LeadPoolEvent, LeadSettings, PoolEventKind
from leads.selectors.leads import CLAIM_ROLES, OPEN_STATUSES
from leads.selectors.pool import lead_settings_get, open_claims_count
from leads.services.access import check_can_edit, check_owner, check_owners
from leads.services.activity import CLOCK_ACTIVITY_SQL, clock_params


def _assign_values(owner: User | None, now: datetime.datetime) -> dict[str, Any]:
    if owner is None:
        return {"owner": None, "assigned_at": None, "claimed_at": None, "pooled_at": now}
    return {"owner": owner, "assigned_at": now, "claimed_at": None, "pooled_at": None}


@transaction.atomic
def lead_assign(*, tenant: Tenant, actor: User | None, lead: Lead, owner: User | None) -> Lead:
    """Give a lead to `owner` (a manual assignment overrides the rules), or release it to the pool (None).
    Side effects: the pool clock restarts; history; a release counts as a return in the pool figures."""
    membership = actor_membership(tenant=tenant, actor=actor)
    check_can_edit(membership, lead)
    check_owner(tenant=tenant, membership=membership, owner=owner)
    if lead.status not in OPEN_STATUSES and owner is None:
        raise ValidationError({"owner": _("Only open leads go to the pool.")})
    if owner is not None and owner.pk == lead.owner_id:
        return lead
    now = timezone.now()
    previous_owner = lead.owner_id
    with history_actor(actor):
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
def leads_assign_many(
    *, tenant: Tenant, actor: User | None, assignments: Sequence[tuple[Lead, User]]
) -> list[Lead]:
    """lead_assign to an owner for many leads at once (an import's chunk: leads its file gives new owners), each
    lead to its own owner: the same checks, the owners checked in one query, and one UPDATE per owner (a history
    event for each lead, booked to the actor) instead of a statement and a read per lead. The leads are updated in
    memory as the UPDATE left them. All or nothing: a refusal raises for the set. Returns the leads that changed."""
    membership = actor_membership(tenant=tenant, actor=actor)
    refusals = check_owners(
        tenant=tenant, membership=membership, owner_ids={owner.pk for _lead, owner in assignments}
    )
    by_owner: dict[int, tuple[User, list[Lead]]] = {}
    for lead, owner in assignments:
        check_can_edit(membership, lead)
        refused = refusals[owner.pk]
        if refused is not None:
            raise refused
        if owner.pk != lead.owner_id:
            by_owner.setdefault(owner.pk, (owner, []))[1].append(lead)
    now = timezone.now()
    changed: list[Lead] = []
    with history_actor(actor):
        for owner, leads in by_owner.values():
            values = _assign_values(owner, now)
            Lead.objects.filter(tenant=tenant, pk__in=[lead.pk for lead in leads]).update(
                **values, version=F("version") + 1, updated_at=now
            )
            for lead in leads:
                for name, value in values.items():
                    setattr(lead, name, value)
                lead.version += 1
                lead.updated_at = now
            changed.extend(leads)
    return changed


@transaction.atomic
def leads_bulk_assign(*, tenant: Tenant, actor: User | None, leads: list[Lead], owner: User | None) -> int:
    """Give many leads (already resolved through the selector) to one owner in one UPDATE."""
    membership = actor_membership(tenant=tenant, actor=actor)
    for lead in leads:
        check_can_edit(membership, lead)
    check_owner(tenant=tenant, membership=membership, owner=owner)
    if owner is None and any(lead.status not in OPEN_STATUSES for lead in leads):
        raise ValidationError({"owner": _("Only open leads go to the pool.")})
    ids = [lead.pk for lead in leads if owner is None or lead.owner_id != (owner.pk if owner else None)]
    if not ids:
        return 0
    now = timezone.now()
    with history_actor(actor):
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
    membership = actor_membership(tenant=tenant, actor=actor)
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
    with history_actor(actor):
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


# A lead's idle clock: the latest of its activity clock, its assignment or claim, and its creation. Its activity
# clock can lag behind the activities table while an import job runs (the job moves the clocks of the leads it
# logged activities on once, at its end: crm.imported.lead_clocks_at_end), so a lead is only stale when its latest
# done call, email or meeting in the table (leads.services.activity.CLOCK_ACTIVITY_SQL) is old too: one index
# probe per candidate (accounts_activity_lead_idx, newest first).
_RETURN_SQL = """
WITH stale AS (
    SELECT l.id, l.owner_id, GREATEST({clock}, latest.at) AS idle_since
    FROM leads_lead AS l
    LEFT JOIN LATERAL (
        SELECT a.occurred_at AS at
        FROM accounts_activity AS a
        WHERE a.tenant_id = l.tenant_id AND a.lead_id = l.id AND {moves_clock}
        ORDER BY a.occurred_at DESC
        LIMIT 1
    ) AS latest ON true
    WHERE l.tenant_id = %(tenant)s
      AND l.owner_id IS NOT NULL
      AND l.deleted_at IS NULL
      AND l.status IN ('new', 'working', 'mql', 'sql')
      AND {clock} < %(cutoff)s
      AND (latest.at IS NULL OR latest.at < %(cutoff)s)
    FOR UPDATE OF l SKIP LOCKED
)
UPDATE leads_lead AS l
SET owner_id = NULL, pooled_at = %(now)s, claimed_at = NULL, assigned_at = NULL,
    version = l.version + 1, updated_at = %(now)s
FROM stale
WHERE l.id = stale.id AND l.tenant_id = %(tenant)s
RETURNING l.id, stale.owner_id, stale.idle_since
"""


_CLOCK_SQL = "GREATEST(COALESCE(l.last_activity_at, l.created_at), COALESCE(l.assigned_at, l.created_at), l.created_at)"


@transaction.atomic
def leads_return_stale_to_pool(*, tenant: Tenant, now: datetime.datetime | None = None) -> int:
    """Leads nobody worked within the tenant's window go back to the pool: one set-based UPDATE.

    Idle time starts at the latest of the last activity, the assignment or claim, and the creation (so a lead
    just claimed gets the full window); the last activity is read from the activities too, so a lead whose clock
    an import job has not moved yet (it does at its end) is not taken for idle. Converted and disqualified leads
    never return. Side effects: a LeadPoolEvent per lead (pool figures) and a note on its timeline ("Returned to
    pool after N days without activity", no owner), both inserted in batches. Idempotent: a second run finds
    nothing to move."""
    now = now or timezone.now()
    settings = lead_settings_get(tenant=tenant)
    cutoff = now - datetime.timedelta(days=settings.pool_window_days)
    with history_actor(None, reason="pool_return"), connection.cursor() as cursor:
        cursor.execute(
            _RETURN_SQL.format(clock=_CLOCK_SQL, moves_clock=CLOCK_ACTIVITY_SQL),
            {"tenant": tenant.pk, "cutoff": cutoff, "now": now, **clock_params()},
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
            notes.append((lead_id, subjects[days]))
    activity_notes_create_for_leads(tenant=tenant, notes=notes, at=now)


@transaction.atomic
def lead_settings_update(
    *, tenant: Tenant, actor: User | None, pool_window_days: int, pool_claim_cap: int
) -> LeadSettings:
    """Admins and ops set the pool window (days without activity) and the per-rep claim cap."""
    membership = actor_membership(tenant=tenant, actor=actor)
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
