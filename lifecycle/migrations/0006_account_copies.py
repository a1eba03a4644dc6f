"""Copies of the account's stage, owner and liveness on lifecycle_lifecyclechange and lifecycle_subscription, kept by
the database, so the lifecycle page's flows per month and MRR by stage filter by the viewer's visibility on the rows
themselves (accounts.selectors.visibility.AccountColumns) instead of joining every account (bench/lifecycle.py at
100,000 accounts: the two joins were most of the page's time).

- `lifecycle_copy_account()`: a BEFORE INSERT OR UPDATE OF account_id row trigger on both tables sets the copies from
  the account (whatever the writer sent: a model save sends the copies it loaded, possibly stale);
- `lifecycle_account_copies_changed()`: an AFTER UPDATE statement trigger on accounts_account (transition tables)
  rewrites the copies of the accounts whose stage, owner or deleted_at changed, set-based;
- the backfill runs per tenant (row-level security shows the migrating role one tenant at a time).
"""

from django.db import migrations, models

FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION lifecycle_copy_account() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT a.lifecycle_stage, a.owner_id, a.deleted_at IS NULL
    INTO NEW.account_stage, NEW.account_owner_id, NEW.account_live
    FROM accounts_account a WHERE a.id = NEW.account_id;
    RETURN NEW;
END;
$$;

CREATE TRIGGER lifecycle_chg_copy_account BEFORE INSERT OR UPDATE OF account_id ON lifecycle_lifecyclechange
    FOR EACH ROW EXECUTE FUNCTION lifecycle_copy_account();
CREATE TRIGGER lifecycle_sub_copy_account BEFORE INSERT OR UPDATE OF account_id ON lifecycle_subscription
    FOR EACH ROW EXECUTE FUNCTION lifecycle_copy_account();

CREATE OR REPLACE FUNCTION lifecycle_account_copies_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE lifecycle_lifecyclechange c
    SET account_stage = m.stage, account_owner_id = m.owner_id, account_live = m.live
    FROM (
        SELECT n.id, n.lifecycle_stage AS stage, n.owner_id, n.deleted_at IS NULL AS live
        FROM lifecycle_account_new n JOIN lifecycle_account_old o ON o.id = n.id
        WHERE (n.lifecycle_stage, n.owner_id, n.deleted_at IS NULL)
              IS DISTINCT FROM (o.lifecycle_stage, o.owner_id, o.deleted_at IS NULL)
    ) m
    WHERE c.account_id = m.id;
    UPDATE lifecycle_subscription s
    SET account_stage = m.stage, account_owner_id = m.owner_id, account_live = m.live
    FROM (
        SELECT n.id, n.lifecycle_stage AS stage, n.owner_id, n.deleted_at IS NULL AS live
        FROM lifecycle_account_new n JOIN lifecycle_account_old o ON o.id = n.id
        WHERE (n.lifecycle_stage, n.owner_id, n.deleted_at IS NULL)
              IS DISTINCT FROM (o.lifecycle_stage, o.owner_id, o.deleted_at IS NULL)
    ) m
    WHERE s.account_id = m.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER lifecycle_account_copies AFTER UPDATE ON accounts_account
    REFERENCING OLD TABLE AS lifecycle_account_old NEW TABLE AS lifecycle_account_new
    FOR EACH STATEMENT EXECUTE FUNCTION lifecycle_account_copies_changed();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS lifecycle_account_copies ON accounts_account;
DROP TRIGGER IF EXISTS lifecycle_sub_copy_account ON lifecycle_subscription;
DROP TRIGGER IF EXISTS lifecycle_chg_copy_account ON lifecycle_lifecyclechange;
DROP FUNCTION IF EXISTS lifecycle_account_copies_changed();
DROP FUNCTION IF EXISTS lifecycle_copy_account();
"""

BACKFILL_SQL = [
    """
UPDATE lifecycle_lifecyclechange c
SET account_stage = a.lifecycle_stage, account_owner_id = a.owner_id, account_live = a.deleted_at IS NULL
FROM accounts_account a WHERE c.tenant_id = %s AND a.id = c.account_id
""",
    """
UPDATE lifecycle_subscription s
SET account_stage = a.lifecycle_stage, account_owner_id = a.owner_id, account_live = a.deleted_at IS NULL
FROM accounts_account a WHERE s.tenant_id = %s AND a.id = s.account_id
""",
]


def backfill(apps, schema_editor):
    Tenant = apps.get_model("crm", "Tenant")
    with schema_editor.connection.cursor() as cursor:
        for tenant_id in Tenant.objects.order_by("pk").values_list("pk", flat=True):
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
            for sql in BACKFILL_SQL:
                cursor.execute(sql, [tenant_id])
        cursor.execute("SELECT set_config('app.tenant_id', '', true)")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_account_stage_live_index"),
        ("crm", "0004_history_context_tenant"),
        ("lifecycle", "0005_refresh_renewed_targeted"),
    ]

    operations = [
        migrations.AddField(
            model_name="lifecyclechange",
            name="account_live",
            field=models.BooleanField(default=True, editable=False),
        ),
        migrations.AddField(
            model_name="lifecyclechange",
            name="account_owner_id",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="lifecyclechange",
            name="account_stage",
            field=models.CharField(blank=True, default="", editable=False, max_length=12),
        ),
        migrations.AddField(
            model_name="subscription",
            name="account_live",
            field=models.BooleanField(default=True, editable=False),
        ),
        migrations.AddField(
            model_name="subscription",
            name="account_owner_id",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="subscription",
            name="account_stage",
            field=models.CharField(blank=True, default="", editable=False, max_length=12),
        ),
        migrations.RunSQL(FUNCTIONS_SQL, DROP_SQL),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="lifecyclechange",
            index=models.Index(
                condition=models.Q(("account_live", True)),
                fields=["tenant", "date"],
                include=("from_stage", "to_stage", "account_stage", "account_owner_id", "account_id"),
                name="lifecycle_chg_flows_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="subscription",
            index=models.Index(
                condition=models.Q(("account_live", True), ("deleted_at__isnull", True)),
                fields=["tenant", "account_stage"],
                include=("start_date", "end_date", "mrr", "account_owner_id", "account_id"),
                name="lifecycle_sub_stage_mrr_idx",
            ),
        ),
    ]
