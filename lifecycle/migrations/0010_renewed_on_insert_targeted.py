"""The `renewed` flags after an INSERT of subscriptions, worked out only where an insert can change them.

Until now a statement that inserted terms had the flags of every term of every account it touched worked out again
(lifecycle_refresh_renewed: an EXISTS over the account's other terms for each of them). An import's chunk of 1,000
terms spread over 800 accounts of 50 terms each redid 40,000 flags, each over 50 terms, for 1,000 new rows: 331 µs
of PostgreSQL per imported term against 103 µs at 5 terms per account (bench/README.md, "Stop 25").

An insert adds terms; it removes none. So a stored term's flag can only turn on, and only when a new live term
renews it: by its link (`renews_from`), or by the implied rule (same account, starting after it, within
[end - 90 days, end + grace_days]). The insert branch now works out in full only the new terms' own flags (a
successor may be stored already, or be another new term), and turns on the flags of the stored terms that a new
term renews. Updates and deletes, which can also turn flags off, keep the whole refresh of the touched accounts.
The rule is still the one of lifecycle.selectors.subscriptions.successor_exists (tests/lifecycle/test_renewed_flag.py
checks random histories of inserts, updates and deletes against it).
"""

from django.db import migrations

# The grace days of a tenant (30 when it has no settings row), as lifecycle_refresh_renewed reads them.
GRACE = """
        CROSS JOIN LATERAL (
            SELECT COALESCE(
                (SELECT ls.grace_days FROM lifecycle_lifecyclesettings ls WHERE ls.tenant_id = t.tenant_id), 30
            ) AS grace
        ) g"""


# The trigger function around what an INSERT does; an UPDATE and a DELETE refresh every term of the accounts they
# touched (lifecycle 0004), either way.
_HEAD = """
CREATE OR REPLACE FUNCTION lifecycle_subscription_renewed_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() > 1 THEN
        RETURN NULL;  -- the refresh's own UPDATE
    END IF;
    IF TG_OP = 'INSERT' THEN
"""
_TAIL = """    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM lifecycle_refresh_renewed_of((
            SELECT jsonb_agg(DISTINCT jsonb_build_object(
                'tenant_id', tenant_id, 'account_id', account_id, 'renews_from_id', renews_from_id))
            FROM (SELECT tenant_id, account_id, renews_from_id FROM lifecycle_new_rows
                  UNION SELECT tenant_id, account_id, renews_from_id FROM lifecycle_old_rows) rows));
    ELSE
        PERFORM lifecycle_refresh_renewed_of((
            SELECT jsonb_agg(DISTINCT jsonb_build_object(
                'tenant_id', tenant_id, 'account_id', account_id, 'renews_from_id', renews_from_id))
            FROM lifecycle_old_rows));
    END IF;
    RETURN NULL;
END;
$$;
"""


def _trigger_function(insert: str) -> str:
    return _HEAD + insert + _TAIL


# The new terms' flags in full, then the stored terms a new live term renews, turned on.
TARGETED_INSERT = f"""        -- The new terms: their own flags in full.
        UPDATE lifecycle_subscription s SET renewed = x.r, renewal_won = x.w
        FROM (
            SELECT t.id, t.tenant_id, EXISTS (
                SELECT 1 FROM lifecycle_subscription n
                WHERE n.tenant_id = t.tenant_id AND n.deleted_at IS NULL AND n.id <> t.id
                  AND (n.renews_from_id = t.id
                       OR (n.account_id = t.account_id AND n.start_date > t.start_date
                           AND n.start_date >= t.end_date - 90 AND n.start_date <= t.end_date + g.grace))
            ) AS r,
            COALESCE((
                SELECT st.kind = 'won' FROM accounts_opportunity o JOIN accounts_stage st ON st.id = o.stage_id
                WHERE o.id = t.renewal_opportunity_id
            ), false) AS w
            FROM lifecycle_new_rows t{GRACE}
        ) x
        WHERE s.id = x.id AND s.tenant_id = x.tenant_id
          AND (s.renewed IS DISTINCT FROM x.r OR s.renewal_won IS DISTINCT FROM x.w);
        -- Stored terms a new live term renews by its link.
        UPDATE lifecycle_subscription s SET renewed = true
        FROM lifecycle_new_rows n
        WHERE n.deleted_at IS NULL AND s.id = n.renews_from_id AND s.tenant_id = n.tenant_id
          AND s.id <> n.id AND NOT s.renewed;
        -- Stored terms of the new terms' accounts whose renewal window holds a new live term's start.
        UPDATE lifecycle_subscription s SET renewed = true
        FROM lifecycle_new_rows t{GRACE}
        WHERE t.deleted_at IS NULL AND s.tenant_id = t.tenant_id AND s.account_id = t.account_id
          AND s.id <> t.id AND NOT s.renewed
          AND t.start_date > s.start_date AND t.start_date >= s.end_date - 90
          AND t.start_date <= s.end_date + g.grace;
"""  # noqa: S608 -- DDL from this module's constant fragments; no values

# lifecycle 0004's: every term of every touched account worked out again, for an insert too.
WHOLE_INSERT = """        PERFORM lifecycle_refresh_renewed_of((
            SELECT jsonb_agg(DISTINCT jsonb_build_object(
                'tenant_id', tenant_id, 'account_id', account_id, 'renews_from_id', renews_from_id))
            FROM lifecycle_new_rows));
"""

TARGETED_SQL = _trigger_function(TARGETED_INSERT)
WHOLE_SQL = _trigger_function(WHOLE_INSERT)


class Migration(migrations.Migration):
    dependencies = [("lifecycle", "0009_feedback_history")]

    operations = [migrations.RunSQL(TARGETED_SQL, WHOLE_SQL)]
