"""Subscription.renewed (whether a live subscription renews the term) and Subscription.renewal_won (whether its
renewal deal is in a won stage), kept by the database.

The renewals page asked, for every term of its windows, whether a successor exists (an anti-join per term: 0.4-1 s
at 100,000 accounts). The answer depends only on the subscriptions and the tenant's grace_days, so it is stored:

- `lifecycle_refresh_renewed(tenant, accounts)` recomputes the flag of the terms of these accounts (NULL: all of the
  tenant's), set-based, writing only the rows whose flag changes;
- statement triggers on lifecycle_subscription (insert, update, delete; with transition tables, so bulk writes
  cost one refresh per statement) call it for every account a statement touched, and for the accounts of the terms
  the touched rows renew (a link may point elsewhere); its own UPDATE does not fire them again;
- a change of grace_days refreshes the whole tenant (a row trigger on lifecycle_lifecyclesettings);
- a deal whose stage changes (statement trigger on accounts_opportunity) and a stage whose kind changes (row trigger
  on accounts_stage) refresh the accounts of the terms they renew.

The rule is the one of lifecycle.selectors.subscriptions.successor_exists (a test keeps the two equal).
"""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION lifecycle_refresh_renewed(p_tenant bigint, p_accounts bigint[]) RETURNS void
LANGUAGE sql AS $$
    UPDATE lifecycle_subscription s SET renewed = x.r, renewal_won = x.w
    FROM (
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
        WHERE t.tenant_id = p_tenant AND (p_accounts IS NULL OR t.account_id = ANY(p_accounts))
    ) x
    WHERE s.id = x.id AND s.tenant_id = p_tenant
      AND (s.renewed IS DISTINCT FROM x.r OR s.renewal_won IS DISTINCT FROM x.w)
$$;

CREATE OR REPLACE FUNCTION lifecycle_refresh_renewed_of(p_changed jsonb) RETURNS void
LANGUAGE plpgsql AS $$
-- p_changed: [{"tenant_id", "account_id", "renews_from_id"}] of the rows a statement wrote or removed.
DECLARE
    item record;
BEGIN
    FOR item IN
        WITH changed AS (
            SELECT (c ->> 'tenant_id')::bigint AS tenant_id, (c ->> 'account_id')::bigint AS account_id,
                   (c ->> 'renews_from_id')::bigint AS renews_from_id
            FROM jsonb_array_elements(p_changed) c
        )
        SELECT tenant_id, array_agg(DISTINCT account_id) AS accounts FROM (
            SELECT tenant_id, account_id FROM changed
            UNION SELECT p.tenant_id, p.account_id FROM lifecycle_subscription p
                JOIN changed c ON p.id = c.renews_from_id AND p.tenant_id = c.tenant_id
        ) touched
        GROUP BY tenant_id
    LOOP
        PERFORM lifecycle_refresh_renewed(item.tenant_id, item.accounts);
    END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION lifecycle_subscription_renewed_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() > 1 THEN
        RETURN NULL;  -- the refresh's own UPDATE
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM lifecycle_refresh_renewed_of((
            SELECT jsonb_agg(DISTINCT jsonb_build_object(
                'tenant_id', tenant_id, 'account_id', account_id, 'renews_from_id', renews_from_id))
            FROM lifecycle_new_rows));
    ELSIF TG_OP = 'UPDATE' THEN
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

CREATE TRIGGER lifecycle_sub_renewed_ins AFTER INSERT ON lifecycle_subscription
    REFERENCING NEW TABLE AS lifecycle_new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION lifecycle_subscription_renewed_trigger();
CREATE TRIGGER lifecycle_sub_renewed_upd AFTER UPDATE ON lifecycle_subscription
    REFERENCING OLD TABLE AS lifecycle_old_rows NEW TABLE AS lifecycle_new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION lifecycle_subscription_renewed_trigger();
CREATE TRIGGER lifecycle_sub_renewed_del AFTER DELETE ON lifecycle_subscription
    REFERENCING OLD TABLE AS lifecycle_old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION lifecycle_subscription_renewed_trigger();

-- A deal that changes stage (or a stage that changes kind) moves `renewal_won` of the terms it renews.
CREATE OR REPLACE FUNCTION lifecycle_opportunity_renewal_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    item record;
BEGIN
    IF pg_trigger_depth() > 1 THEN
        RETURN NULL;
    END IF;
    FOR item IN
        SELECT s.tenant_id, array_agg(DISTINCT s.account_id) AS accounts
        FROM lifecycle_new_rows n
        JOIN lifecycle_old_rows o ON o.id = n.id
        JOIN lifecycle_subscription s ON s.renewal_opportunity_id = n.id AND s.tenant_id = n.tenant_id
        WHERE n.stage_id IS DISTINCT FROM o.stage_id
        GROUP BY s.tenant_id
    LOOP
        PERFORM lifecycle_refresh_renewed(item.tenant_id, item.accounts);
    END LOOP;
    RETURN NULL;
END;
$$;
CREATE TRIGGER lifecycle_opp_renewal_won AFTER UPDATE ON accounts_opportunity
    REFERENCING OLD TABLE AS lifecycle_old_rows NEW TABLE AS lifecycle_new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION lifecycle_opportunity_renewal_trigger();

CREATE OR REPLACE FUNCTION lifecycle_stage_kind_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT s.tenant_id, array_agg(DISTINCT s.account_id) AS accounts
        FROM lifecycle_subscription s JOIN accounts_opportunity o ON o.id = s.renewal_opportunity_id
        WHERE o.stage_id = NEW.id AND s.tenant_id = NEW.tenant_id
        GROUP BY s.tenant_id
    LOOP
        PERFORM lifecycle_refresh_renewed(item.tenant_id, item.accounts);
    END LOOP;
    RETURN NULL;
END;
$$;
CREATE TRIGGER lifecycle_stage_kind AFTER UPDATE OF kind ON accounts_stage
    FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind) EXECUTE FUNCTION lifecycle_stage_kind_trigger();

-- A change of grace_days moves the implied renewals of the whole tenant (30: the model's default, also the
-- default of lifecycle_refresh_renewed when a tenant has no settings row yet).
CREATE OR REPLACE FUNCTION lifecycle_settings_renewed_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lifecycle_refresh_renewed(NEW.tenant_id, NULL);
    RETURN NULL;
END;
$$;
CREATE TRIGGER lifecycle_settings_renewed_ins AFTER INSERT ON lifecycle_lifecyclesettings
    FOR EACH ROW WHEN (NEW.grace_days <> 30) EXECUTE FUNCTION lifecycle_settings_renewed_trigger();
CREATE TRIGGER lifecycle_settings_renewed_upd AFTER UPDATE OF grace_days ON lifecycle_lifecyclesettings
    FOR EACH ROW WHEN (OLD.grace_days IS DISTINCT FROM NEW.grace_days)
    EXECUTE FUNCTION lifecycle_settings_renewed_trigger();

-- Every tenant's terms now (row-level security is forced: each tenant under its own app.tenant_id).
DO $$
DECLARE
    tid bigint;
BEGIN
    FOR tid IN SELECT id FROM crm_tenant LOOP
        PERFORM set_config('app.tenant_id', tid::text, true);
        PERFORM lifecycle_refresh_renewed(tid, NULL);
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
END;
$$;
"""

DROP_SQL = """
DROP FUNCTION IF EXISTS lifecycle_subscription_renewed_trigger() CASCADE;
DROP FUNCTION IF EXISTS lifecycle_settings_renewed_trigger() CASCADE;
DROP FUNCTION IF EXISTS lifecycle_opportunity_renewal_trigger() CASCADE;
DROP FUNCTION IF EXISTS lifecycle_stage_kind_trigger() CASCADE;
DROP FUNCTION IF EXISTS lifecycle_refresh_renewed_of(jsonb);
DROP FUNCTION IF EXISTS lifecycle_refresh_renewed(bigint, bigint[]);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("lifecycle", "0003_healthscore_fillfactor"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="subscription",
            name="update_update",
        ),
        migrations.AddField(
            model_name="subscription",
            name="renewed",
            field=models.BooleanField(default=False, editable=False, verbose_name="renewed"),
        ),
        migrations.AddIndex(
            model_name="subscription",
            index=models.Index(
                condition=models.Q(
                    ("deleted_at__isnull", True), ("end_date__isnull", False), ("renewed", False)
                ),
                fields=["tenant", "end_date"],
                name="lifecycle_sub_due_idx",
            ),
        ),
        migrations.AddField(
            model_name="subscription",
            name="renewal_won",
            field=models.BooleanField(default=False, editable=False, verbose_name="renewal won"),
        ),
        migrations.AddIndex(
            model_name="subscription",
            index=models.Index(
                condition=models.Q(
                    ("deleted_at__isnull", True),
                    ("end_date__isnull", False),
                    ("renewal_won", True),
                    ("renewed", False),
                ),
                fields=["tenant", "end_date"],
                name="lifecycle_sub_won_idx",
            ),
        ),
        migrations.RunSQL(FUNCTIONS_SQL, DROP_SQL),
        pgtrigger.migrations.AddTrigger(
            model_name="subscription",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."account_id" IS DISTINCT FROM (NEW."account_id") OR OLD."churn_reason" IS DISTINCT FROM (NEW."churn_reason") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."currency" IS DISTINCT FROM (NEW."currency") OR OLD."deleted_at" IS DISTINCT FROM (NEW."deleted_at") OR OLD."end_date" IS DISTINCT FROM (NEW."end_date") OR OLD."external_id" IS DISTINCT FROM (NEW."external_id") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."mrr" IS DISTINCT FROM (NEW."mrr") OR OLD."plan" IS DISTINCT FROM (NEW."plan") OR OLD."renewal_opportunity_id" IS DISTINCT FROM (NEW."renewal_opportunity_id") OR OLD."renews_from_id" IS DISTINCT FROM (NEW."renews_from_id") OR OLD."start_date" IS DISTINCT FROM (NEW."start_date") OR OLD."tenant_id" IS DISTINCT FROM (NEW."tenant_id") OR OLD."updated_at" IS DISTINCT FROM (NEW."updated_at") OR OLD."version" IS DISTINCT FROM (NEW."version"))',
                    func='INSERT INTO "lifecycle_subscriptionevent" ("account_id", "churn_reason", "created_at", "currency", "deleted_at", "end_date", "external_id", "id", "mrr", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "plan", "renewal_opportunity_id", "renews_from_id", "start_date", "tenant_id", "updated_at", "version") VALUES (NEW."account_id", NEW."churn_reason", NEW."created_at", NEW."currency", NEW."deleted_at", NEW."end_date", NEW."external_id", NEW."id", NEW."mrr", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."plan", NEW."renewal_opportunity_id", NEW."renews_from_id", NEW."start_date", NEW."tenant_id", NEW."updated_at", NEW."version"); RETURN NULL;',
                    hash="50177d4791006f96193e25db5dcd321213b3e165",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_8a204",
                    table="lifecycle_subscription",
                    when="AFTER",
                ),
            ),
        ),
    ]
