"""lifecycle_refresh_renewed(tenant, accounts) with a plan per case.

As one SQL statement with `p_accounts IS NULL OR t.account_id = ANY(p_accounts)`, the function's plan could not use
the (tenant, account) index for the accounts case: every call read all of the tenant's subscriptions (157 ms at
200,000 subscriptions in bench/lifecycle.py), and the call runs after every statement that writes a subscription
or moves a renewal deal's stage. The nightly renewal-deal task (one deal and one subscription link per ending
term) took 85 s for 672 deals. Now the accounts case is its own statement, read through the index.
"""

from django.db import migrations

REFRESH_SELECT = """
        SELECT t.id, EXISTS (
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
        FROM lifecycle_subscription t
        CROSS JOIN (
            SELECT COALESCE(
                (SELECT ls.grace_days FROM lifecycle_lifecyclesettings ls WHERE ls.tenant_id = p_tenant), 30
            ) AS grace
        ) g
"""

TARGETED_SQL = f"""
CREATE OR REPLACE FUNCTION lifecycle_refresh_renewed(p_tenant bigint, p_accounts bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_accounts IS NULL THEN
        UPDATE lifecycle_subscription s SET renewed = x.r, renewal_won = x.w
        FROM ({REFRESH_SELECT}
            WHERE t.tenant_id = p_tenant
        ) x
        WHERE s.id = x.id AND s.tenant_id = p_tenant
          AND (s.renewed IS DISTINCT FROM x.r OR s.renewal_won IS DISTINCT FROM x.w);
    ELSE
        UPDATE lifecycle_subscription s SET renewed = x.r, renewal_won = x.w
        FROM ({REFRESH_SELECT}
            WHERE t.tenant_id = p_tenant AND t.account_id = ANY(p_accounts)
        ) x
        WHERE s.id = x.id AND s.tenant_id = p_tenant AND s.account_id = ANY(p_accounts)
          AND (s.renewed IS DISTINCT FROM x.r OR s.renewal_won IS DISTINCT FROM x.w);
    END IF;
END;
$$;
"""  # noqa: S608 -- DDL from this module's constant fragments; no values

SINGLE_STATEMENT_SQL = f"""
DROP FUNCTION lifecycle_refresh_renewed(bigint, bigint[]);
CREATE FUNCTION lifecycle_refresh_renewed(p_tenant bigint, p_accounts bigint[]) RETURNS void
LANGUAGE sql AS $$
    UPDATE lifecycle_subscription s SET renewed = x.r, renewal_won = x.w
    FROM ({REFRESH_SELECT}
        WHERE t.tenant_id = p_tenant AND (p_accounts IS NULL OR t.account_id = ANY(p_accounts))
    ) x
    WHERE s.id = x.id AND s.tenant_id = p_tenant
      AND (s.renewed IS DISTINCT FROM x.r OR s.renewal_won IS DISTINCT FROM x.w)
$$;
"""  # noqa: S608 -- DDL from this module's constant fragments; no values


class Migration(migrations.Migration):
    dependencies = [("lifecycle", "0004_subscription_renewed")]

    operations = [migrations.RunSQL(TARGETED_SQL, SINGLE_STATEMENT_SQL)]
