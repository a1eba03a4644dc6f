"""The lifecycle stage engine: every account's full stage history derived from its data (KPIS.md, "Lifecycle of
an account"), set-based in SQL, and the scheduling of recomputes after the changes that can move it.

How the SQL works (one SELECT into a temporary table, per tenant, for all or some accounts; then only the rows
that differ from the stored history are deleted and inserted):
1. Events per account and local day: deals won (the local date of closed_at, by the stage's kind), subscriptions
   started (with their end; open-ended = infinity), and the days where only the passing of time can flip the churn
   condition (a won deal + lapse_days, an end_date, an end_date + grace_days), plus the account's created date.
   Every rule is a step function of the day that can only change on one of those days.
2. Running aggregates over those days (window functions): won deals so far, last won day, subscriptions started
   so far, their latest end. Churn on d = (subscriptions started by d, and their latest end + grace_days <= d; an
   open-ended one never ends, and "none active" follows from latest end <= d) or (no subscription started by d,
   a won deal, and the last one + lapse_days <= d).
3. Come-back days: a day where churn is false right after a day where it was true (lag()).
4. The onboarding ends (first customer date + onboarding_days, each come-back + onboarding_days) join the days,
   the aggregates run again and each day gets its stage; consecutive equal stages collapse (lag()), days before
   the account's created date or after today are left out. What remains are the changes.

Reading of KPIS.md decided here: "it has subscriptions" and "never had a subscription" are judged as of d (the
subscriptions started by d), so the history is what the rules gave on each day with the data known now; a
subscription that starts later does not stop an earlier churn, it is the come-back.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import LifecycleStageName, StageKind
from accounts.services.accounts import accounts_set_lifecycle_stages
from crm.dates import tenant_today
from crm.models import Tenant
from crm.oncommit import Changes, CommitBatch
from lifecycle.models import LifecycleChange, LifecycleSettings
from lifecycle.services.settings import lifecycle_settings_get
from lifecycle.services.sql import without_jit

STAGES_SQL = """
WITH acc AS (
    SELECT a.id AS account_id, (a.created_at AT TIME ZONE %(tz)s)::date AS created_date
    FROM accounts_account a
    WHERE a.tenant_id = %(tenant_id)s AND (%(all)s OR a.id = ANY(%(ids)s::bigint[]))
),
won AS (
    SELECT o.account_id, (o.closed_at AT TIME ZONE %(tz)s)::date AS day
    FROM accounts_opportunity o
    JOIN acc ON acc.account_id = o.account_id
    JOIN accounts_stage st ON st.id = o.stage_id AND st.tenant_id = %(tenant_id)s
    WHERE o.tenant_id = %(tenant_id)s AND st.kind = %(won_kind)s
      AND o.deleted_at IS NULL AND o.closed_at IS NOT NULL
),
sub AS (
    SELECT s.account_id, s.start_date, COALESCE(s.end_date, 'infinity'::date) AS end_date
    FROM lifecycle_subscription s
    JOIN acc ON acc.account_id = s.account_id
    WHERE s.tenant_id = %(tenant_id)s AND s.deleted_at IS NULL
),
events AS (
    SELECT account_id, day, 1 AS won, 0 AS started, NULL::date AS sub_end FROM won
    UNION ALL SELECT account_id, day + %(lapse)s, 0, 0, NULL FROM won
    UNION ALL SELECT account_id, start_date, 0, 1, end_date FROM sub
    UNION ALL SELECT account_id, end_date, 0, 0, NULL FROM sub WHERE end_date <> 'infinity'
    UNION ALL SELECT account_id, end_date + %(grace)s, 0, 0, NULL FROM sub WHERE end_date <> 'infinity'
    UNION ALL SELECT account_id, created_date, 0, 0, NULL FROM acc
),
days AS (
    SELECT account_id, day, sum(won) AS won, sum(started) AS started, max(sub_end) AS sub_end
    FROM events GROUP BY account_id, day
),
running AS (
    SELECT account_id, day,
        sum(won) OVER w AS n_won,
        max(CASE WHEN won > 0 THEN day END) OVER w AS last_won,
        sum(started) OVER w AS n_started,
        max(sub_end) OVER w AS last_end
    FROM days
    WINDOW w AS (PARTITION BY account_id ORDER BY day)
),
churn AS (
    SELECT account_id, day, n_won + n_started > 0 AS customer,
        COALESCE((n_started > 0 AND last_end + %(grace)s <= day)
            OR (n_started = 0 AND n_won > 0 AND last_won + %(lapse)s <= day), false) AS churned
    FROM running
),
comebacks AS (
    SELECT account_id, day FROM (
        SELECT account_id, day, churned,
            lag(churned) OVER (PARTITION BY account_id ORDER BY day) AS was_churned
        FROM churn
    ) flips
    WHERE was_churned AND NOT churned
),
firsts AS (
    SELECT account_id, min(day) AS first_customer_date FROM churn WHERE customer GROUP BY account_id
),
all_days AS (
    SELECT account_id, day, won, started, sub_end, false AS came_back FROM days
    UNION ALL SELECT account_id, first_customer_date + %(onboarding)s, 0, 0, NULL, false FROM firsts
    UNION ALL SELECT account_id, day, 0, 0, NULL, true FROM comebacks
    UNION ALL SELECT account_id, day + %(onboarding)s, 0, 0, NULL, false FROM comebacks
),
grouped AS (
    SELECT account_id, day, sum(won) AS won, sum(started) AS started, max(sub_end) AS sub_end,
        bool_or(came_back) AS came_back
    FROM all_days GROUP BY account_id, day
),
evaluated AS (
    SELECT account_id, day, won,
        sum(won) OVER w AS n_won,
        max(CASE WHEN won > 0 THEN day END) OVER w AS last_won,
        sum(started) OVER w AS n_started,
        max(sub_end) OVER w AS last_end,
        max(CASE WHEN came_back THEN day END) OVER w AS last_comeback
    FROM grouped
    WINDOW w AS (PARTITION BY account_id ORDER BY day)
),
staged AS (
    SELECT e.account_id, e.day, e.won, e.n_started,
        CASE
            WHEN e.n_won + e.n_started = 0 THEN %(acquisition)s
            WHEN (e.n_started > 0 AND e.last_end + %(grace)s <= e.day)
                OR (e.n_started = 0 AND e.last_won + %(lapse)s <= e.day) THEN %(churn)s
            WHEN e.day < GREATEST(f.first_customer_date, e.last_comeback) + %(onboarding)s THEN %(conversion)s
            ELSE %(retention)s
        END AS stage
    FROM evaluated e
    LEFT JOIN firsts f ON f.account_id = e.account_id
),
visible AS (
    SELECT s.account_id, s.day, s.won, s.n_started, s.stage,
        lag(s.stage) OVER (PARTITION BY s.account_id ORDER BY s.day) AS previous
    FROM staged s
    JOIN acc ON acc.account_id = s.account_id
    WHERE s.day >= acc.created_date AND s.day <= %(today)s
)
SELECT account_id, COALESCE(previous, '') AS from_stage, stage AS to_stage, day AS date,
    CASE
        WHEN previous IS NULL THEN 'created'
        WHEN stage = %(conversion)s AND previous = %(churn)s THEN 'came_back'
        WHEN stage = %(conversion)s AND won > 0 THEN 'first_won_deal'
        WHEN stage = %(conversion)s THEN 'first_subscription'
        WHEN stage = %(retention)s THEN 'onboarding_done'
        WHEN stage = %(churn)s AND n_started > 0 THEN 'churned'
        ELSE 'lapsed'
    END AS cause
FROM visible
WHERE previous IS DISTINCT FROM stage
"""

# The derived history goes to a temporary table first; only the rows that differ are then written: a nightly run
# (dates move on, little else) rewrites a handful of rows instead of the tenant's whole history (its WAL, index
# churn and dead rows). Dropped first in case an earlier recompute of the same transaction left it.
DERIVED = "lifecycle_recompute_derived"
DROP_DERIVED_SQL = f"DROP TABLE IF EXISTS pg_temp.{DERIVED}"
DERIVE_SQL = f"CREATE TEMPORARY TABLE {DERIVED} ON COMMIT DROP AS {STAGES_SQL}"
INDEX_DERIVED_SQL = f"CREATE INDEX ON pg_temp.{DERIVED} (account_id, date)"

# Rows of the accounts in scope that the derived history no longer has, exactly (a change of from, to or cause on
# the same date is a delete and an insert).
DELETE_SQL = f"""
DELETE FROM lifecycle_lifecyclechange c
WHERE c.tenant_id = %(tenant_id)s AND (%(all)s OR c.account_id = ANY(%(ids)s::bigint[]))
  AND NOT EXISTS (
      SELECT 1 FROM pg_temp.{DERIVED} d
      WHERE d.account_id = c.account_id AND d.date = c.date AND d.from_stage = c.from_stage
        AND d.to_stage = c.to_stage AND d.cause = c.cause
  )
"""  # noqa: S608 -- the temporary table's name is a module constant; every value is a bound parameter

# The derived rows not stored yet (after the delete, a stored row on the same account and date is identical).
INSERT_SQL = f"""
INSERT INTO lifecycle_lifecyclechange
    (tenant_id, account_id, from_stage, to_stage, date, cause, computed_at, created_at, updated_at)
SELECT %(tenant_id)s, d.account_id, d.from_stage, d.to_stage, d.date, d.cause, %(now)s, %(now)s, %(now)s
FROM pg_temp.{DERIVED} d
WHERE NOT EXISTS (
    SELECT 1 FROM lifecycle_lifecyclechange c
    WHERE c.tenant_id = %(tenant_id)s AND c.account_id = d.account_id AND c.date = d.date
)
"""  # noqa: S608 -- the temporary table's name is a module constant; every value is a bound parameter

# The accounts whose stored stage is not the one their derived history ends in (a nightly run: a few; a first run
# or a changed setting: many).
MOVED_SQL = f"""
SELECT d.account_id, d.to_stage
FROM (
    SELECT DISTINCT ON (account_id) account_id, to_stage FROM pg_temp.{DERIVED} ORDER BY account_id, date DESC
) d
JOIN accounts_account a ON a.id = d.account_id
WHERE a.tenant_id = %(tenant_id)s AND a.lifecycle_stage IS DISTINCT FROM d.to_stage
"""  # noqa: S608 -- the temporary table's name is a module constant; every value is a bound parameter
# Up to this many moved accounts are handed to the accounts service as ids; more, as querysets that stay in SQL.
MOVED_AS_IDS = 5000

# One recompute of a tenant at a time: two overlapping delete + insert runs would collide on (account, date).
LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('lifecycle_recompute:' || %s::text, 0))"


@transaction.atomic
def lifecycle_recompute(
    *, tenant: Tenant, account_ids: Iterable[int] | None = None, today: datetime.date | None = None
) -> int:
    """Derive the full stage history of the tenant's accounts (all, or `account_ids`) from deals and
    subscriptions, bring their LifecycleChange rows in line with it (rows that differ are deleted or inserted;
    identical rows stay, with their computed_at), and set each account's current stage (booked to the system).
    Idempotent. Returns the number of change rows in the derived history of those accounts."""
    ids = None if account_ids is None else sorted({int(pk) for pk in account_ids})
    if ids == []:
        return 0
    settings = lifecycle_settings_get(tenant=tenant)
    params = _params(tenant=tenant, settings=settings, ids=ids, today=today or tenant_today(tenant))
    with connection.cursor() as cursor:
        cursor.execute(LOCK_SQL, [tenant.pk])
        with without_jit(cursor):
            cursor.execute(DROP_DERIVED_SQL)
            cursor.execute(DERIVE_SQL, params)
            written = cursor.rowcount
            if ids is None:
                cursor.execute(INDEX_DERIVED_SQL)
                cursor.execute(f"ANALYZE pg_temp.{DERIVED}")
            cursor.execute(DELETE_SQL, params)
            cursor.execute(INSERT_SQL, params)
            cursor.execute(MOVED_SQL, params)
            moved = cursor.fetchmany(MOVED_AS_IDS + 1)
            cursor.execute(DROP_DERIVED_SQL)
    if len(moved) <= MOVED_AS_IDS:
        by_stage: dict[str, list[int]] = {stage: [] for stage in LifecycleStageName.values}
        for account_id, stage in moved:
            by_stage[stage].append(account_id)
        accounts_set_lifecycle_stages(tenant=tenant, stages=by_stage)
    else:
        accounts_set_lifecycle_stages(tenant=tenant, stages=current_stage_account_ids(tenant=tenant, ids=ids))
    # Health follows the stage (only customers have one) and the onboarding playbook follows a conversion entry;
    # the daily run of every tenant is also the nightly health recompute.
    from lifecycle.services.health import health_schedule_recompute

    health_schedule_recompute(tenant_id=tenant.pk, account_ids=ids)
    from lifecycle.signals import customer_data_recomputed

    customer_data_recomputed.send(sender=LifecycleChange, tenant_id=tenant.pk)
    return written


def _params(
    *, tenant: Tenant, settings: LifecycleSettings, ids: list[int] | None, today: datetime.date
) -> dict[str, Any]:
    return {
        "tenant_id": tenant.pk,
        "tz": tenant.time_zone,
        "all": ids is None,
        "ids": ids or [],
        "won_kind": StageKind.WON.value,
        "onboarding": settings.onboarding_days,
        "grace": settings.grace_days,
        "lapse": settings.lapse_days,
        "today": today,
        "now": timezone.now(),
        "acquisition": LifecycleStageName.ACQUISITION.value,
        "conversion": LifecycleStageName.CONVERSION.value,
        "retention": LifecycleStageName.RETENTION.value,
        "churn": LifecycleStageName.CHURN.value,
    }


def current_stage_account_ids(*, tenant: Tenant, ids: list[int] | None) -> dict[str, QuerySet]:
    """For each stage, a queryset of the ids of the accounts whose latest change (the stage today) leads to it."""
    later = LifecycleChange.objects.filter(
        tenant=tenant, account_id=OuterRef("account_id"), date__gt=OuterRef("date")
    )
    latest = LifecycleChange.objects.filter(tenant=tenant).exclude(Exists(later))
    if ids is not None:
        latest = latest.filter(account_id__in=ids)
    return {stage: latest.filter(to_stage=stage).values("account_id") for stage in LifecycleStageName.values}


# --- on-commit scheduling ---------------------------------------------------------------------------------------


def _queue_lifecycle(changes: Changes) -> None:
    from imports.signals import hold
    from lifecycle.tasks import recompute_lifecycle

    for tenant_id, ids in changes.items():
        if hold("lifecycle", tenant_id, ids):
            continue  # an import job runs: its end queues one recompute (lifecycle.receivers)
        recompute_lifecycle.delay(tenant_id, None if ids is None else sorted(ids))


_batch = CommitBatch(_queue_lifecycle)


def lifecycle_schedule_recompute(*, tenant_id: int, account_ids: Iterable[int] | None) -> None:
    """Recompute the stages of these accounts (None: the whole tenant) once the transaction commits.

    Debounced: all the calls of one transaction add to one batch (crm.oncommit), queued as one task per tenant on
    commit."""
    _batch.add(tenant_id, account_ids)
