"""The activity hook: what a logged activity does to a lead (done calls, emails and meetings work it) and who may
log one; the after-commit rescore of the leads that had activities."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils.translation import gettext as _

from crm.imported import historical_import_running, lead_clocks_deferred
from crm.models import Membership, Tenant, User
from crm.records import actor_membership
from leads.models import Lead, LeadStatus
from leads.selectors.leads import CLAIM_ROLES, lead_can_edit
from leads.services.scoring import leads_rescore_ids, scores_recent_since

WORKING_KINDS = {"call", "email", "meeting"}

# The activities that move a lead's activity clock (leads_record_activities' rule), as SQL over `accounts_activity
# AS a` with the parameter %(clock_kinds)s = clock_params()'s: done calls, emails and meetings with a time, not
# deleted. The import's catch-up and the pool's return (leads.services.pool) read the clock by this one rule.
CLOCK_ACTIVITY_SQL = (
    "a.done AND a.kind = ANY(%(clock_kinds)s) AND a.occurred_at IS NOT NULL AND a.deleted_at IS NULL"
)


def clock_params() -> dict[str, list[str]]:
    return {"clock_kinds": sorted(WORKING_KINDS)}


def lead_check_can_log_activity(*, tenant: Tenant, actor: User | None, lead: Lead) -> None:
    """Logging an activity on a lead needs edit rights on it (DESIGN.md: ops read leads only; a rep claims a pool
    lead before working it). Raises PermissionDenied with the reason; system actors (None) may always log."""
    refusal = _refusal(actor_membership(tenant=tenant, actor=actor), lead)
    if refusal is not None:
        raise refusal


def leads_refusing_activities(
    *, tenant: Tenant, actor: User | None, leads: Iterable[Lead]
) -> dict[int, PermissionDenied]:
    """lead_check_can_log_activity for many leads (an import's chunk), the actor's membership read once: the leads
    refused, by id, with the reason."""
    membership = actor_membership(tenant=tenant, actor=actor)
    refused = {}
    for lead in leads:
        refusal = _refusal(membership, lead)
        if refusal is not None:
            refused[lead.pk] = refusal
    return refused


def _refusal(membership: Membership | None, lead: Lead) -> PermissionDenied | None:
    if lead_can_edit(membership=membership, lead=lead):
        return None
    if membership is not None and membership.role in CLAIM_ROLES and lead.owner_id is None:
        return PermissionDenied(_("Claim this lead from the pool before logging activities on it."))
    return PermissionDenied(_("You can view this lead but not log activities on it."))


@transaction.atomic
def lead_record_activity(
    *, tenant: Tenant, lead: Lead, at: datetime.datetime | None, kind: str, done: bool
) -> None:
    """An activity was logged (or a task completed) on `lead` at `at`.

    Only done calls, emails and meetings work a lead (KPIS.md "Activities count when done"): they move
    last_activity_at forward (never back: a back-dated activity does not make a lead look fresher, and so the pool
    clock) and a `new` lead becomes `working` (stamping working_at). Notes, tasks and open activities change
    neither, and an import (crm.imported) replays history: it moves no status. Set-based, so concurrent loggers
    do not lose each other's updates; `lead` is refreshed in place.
    Side effect: any done activity rescores the lead after commit (the "recent activities" engagement rules)."""
    if not done or at is None:
        return
    if kind in WORKING_KINDS:
        qs = Lead.objects.filter(pk=lead.pk, tenant_id=tenant.pk)
        qs.update(last_activity_at=Greatest(Coalesce("last_activity_at", Value(at)), Value(at)))
        if historical_import_running():
            # An imported activity is history: the lead's imported status and its stamps are the truth (a lead
            # that stayed `new` in the old CRM stays `new`); only the activity clock above follows the record.
            lead.refresh_from_db(fields=["last_activity_at"])
            _enqueue_lead_rescore(tenant=tenant, lead_id=lead.pk)
            return
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


@transaction.atomic
def leads_record_activities(*, tenant: Tenant, activities: Sequence[Any]) -> None:
    """lead_record_activity for many activities at once (an import's chunk, accounts.services.activities_log_many):
    the same rules, as a set. Each lead's activity clock moves to its latest done call, email or meeting (never
    back); outside an import a `new` lead becomes `working`, stamped with the first of them in order. A done
    activity changes a score only through the "recent activities" rules (done in the last 30 days): the leads
    with such an activity are rescored in one UPDATE (leads.services.scoring.leads_rescore_ids); an import of
    older history leaves the scores, which it cannot change, alone. Inside crm.imported.lead_clocks_at_end() (an
    import job's set of new activities) the clocks are left to the job's end (leads_catch_up_activity_clocks)."""
    latest: dict[int, datetime.datetime] = {}
    first: dict[int, datetime.datetime] = {}
    rescore: set[int] = set()
    recent_since = scores_recent_since(tenant=tenant)
    clocks = not lead_clocks_deferred()
    for activity in activities:
        lead_id, at = activity.lead_id, activity.occurred_at
        if not lead_id or not activity.done or at is None:
            continue
        if recent_since is not None and at >= recent_since:
            rescore.add(lead_id)
        if clocks and activity.kind in WORKING_KINDS:
            latest[lead_id] = max(latest.get(lead_id, at), at)
            first.setdefault(lead_id, at)
    if latest:
        ids = sorted(latest)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE leads_lead l
                SET last_activity_at = v.at
                FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at)
                WHERE l.id = v.id AND l.tenant_id = %s
                  AND (l.last_activity_at IS NULL OR l.last_activity_at < v.at)
                """,
                [ids, [latest[pk] for pk in ids], tenant.pk],
            )
            if not historical_import_running():
                cursor.execute(
                    """
                    UPDATE leads_lead l
                    SET status = %s, working_at = coalesce(l.working_at, v.at), version = l.version + 1
                    FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at)
                    WHERE l.id = v.id AND l.tenant_id = %s AND l.status = %s
                    """,
                    [LeadStatus.WORKING, ids, [first[pk] for pk in ids], tenant.pk, LeadStatus.NEW],
                )
    if rescore:
        leads_rescore_ids(tenant=tenant, lead_ids=sorted(rescore))


def leads_catch_up_activity_clocks(*, tenant: Tenant, after_activity_id: int) -> int:
    """Move the activity clock of every lead with done calls, emails or meetings among the tenant's activities of
    id above `after_activity_id` (the ones an import job logged, crm.imported.lead_clocks_at_end) to the latest of
    them, never back: leads_record_activities' clock rule, once per lead for the whole job. Idempotent (a job that
    resumes after its worker died may run it again). One statement; returns the number of leads whose clock
    moved. Imports replay history, so no status moves here (crm.imported)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _CATCH_UP_SQL.format(moves_clock=CLOCK_ACTIVITY_SQL),
            {"tenant": tenant.pk, "floor": after_activity_id, **clock_params()},
        )
        return cursor.rowcount


_CATCH_UP_SQL = """
UPDATE leads_lead l
SET last_activity_at = m.at
FROM (
    SELECT a.lead_id, max(a.occurred_at) AS at
    FROM accounts_activity a
    WHERE a.tenant_id = %(tenant)s AND a.id > %(floor)s AND a.lead_id IS NOT NULL AND {moves_clock}
    GROUP BY a.lead_id
) m
WHERE l.id = m.lead_id AND l.tenant_id = %(tenant)s
  AND (l.last_activity_at IS NULL OR l.last_activity_at < m.at)
"""
