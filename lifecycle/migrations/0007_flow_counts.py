"""LifecycleFlowCount: stage changes of live accounts counted per (month, from, to, account stage, account owner), kept
by statement triggers on lifecycle_lifecyclechange, so the lifecycle page's flows per month sum a few hundred rows
instead of scanning a year of stage changes (bench/lifecycle.py: 114,000 changes in 12 months at 100,000 accounts).

Each INSERT, UPDATE or DELETE statement on the stage changes adds the counts of the rows it wrote and subtracts
those of the rows it removed (transition tables), in key order (two writers lock the same keys in the same order),
and drops the keys that reach zero. An account's change of stage, owner or liveness rewrites the copies on its
stage changes (migration 0006), which is an UPDATE of those rows and so moves their counts.
"""

import django.db.models.deletion
import django.db.models.manager
import django.utils.timezone
from django.db import migrations, models

DELTA = """
    INSERT INTO lifecycle_lifecycleflowcount
        (tenant_id, month, from_stage, to_stage, account_stage, account_owner_id, n, created_at, updated_at)
    SELECT tenant_id, month, from_stage, to_stage, account_stage, account_owner_id, sum(n), now(), now()
    FROM ({rows}) d
    GROUP BY tenant_id, month, from_stage, to_stage, account_stage, account_owner_id
    HAVING sum(n) <> 0
    ORDER BY tenant_id, month, from_stage, to_stage, account_stage, account_owner_id
    ON CONFLICT (tenant_id, month, from_stage, to_stage, account_stage, account_owner_id)
    DO UPDATE SET n = lifecycle_lifecycleflowcount.n + EXCLUDED.n, updated_at = EXCLUDED.updated_at;
"""
ROWS = """
        SELECT tenant_id, date_trunc('month', date)::date AS month, from_stage, to_stage, account_stage,
               account_owner_id, {sign} AS n
        FROM {table} WHERE account_live
"""
ADDED = ROWS.format(sign="1", table="lifecycle_chg_new")
REMOVED = ROWS.format(sign="-1", table="lifecycle_chg_old")
ZEROS = "    DELETE FROM lifecycle_lifecycleflowcount WHERE n = 0;\n"

FUNCTIONS_SQL = f"""
CREATE OR REPLACE FUNCTION lifecycle_flow_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{DELTA.format(rows=ADDED)}
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION lifecycle_flow_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{DELTA.format(rows=REMOVED)}
{ZEROS}
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION lifecycle_flow_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{DELTA.format(rows=ADDED + " UNION ALL " + REMOVED)}
{ZEROS}
    RETURN NULL;
END;
$$;

CREATE TRIGGER lifecycle_chg_flow_counts_ins AFTER INSERT ON lifecycle_lifecyclechange
    REFERENCING NEW TABLE AS lifecycle_chg_new
    FOR EACH STATEMENT EXECUTE FUNCTION lifecycle_flow_counts_insert();
CREATE TRIGGER lifecycle_chg_flow_counts_del AFTER DELETE ON lifecycle_lifecyclechange
    REFERENCING OLD TABLE AS lifecycle_chg_old
    FOR EACH STATEMENT EXECUTE FUNCTION lifecycle_flow_counts_delete();
CREATE TRIGGER lifecycle_chg_flow_counts_upd AFTER UPDATE ON lifecycle_lifecyclechange
    REFERENCING OLD TABLE AS lifecycle_chg_old NEW TABLE AS lifecycle_chg_new
    FOR EACH STATEMENT EXECUTE FUNCTION lifecycle_flow_counts_update();
"""  # noqa: S608 -- DDL from this module's constant fragments; no values

DROP_SQL = """
DROP TRIGGER IF EXISTS lifecycle_chg_flow_counts_upd ON lifecycle_lifecyclechange;
DROP TRIGGER IF EXISTS lifecycle_chg_flow_counts_del ON lifecycle_lifecyclechange;
DROP TRIGGER IF EXISTS lifecycle_chg_flow_counts_ins ON lifecycle_lifecyclechange;
DROP FUNCTION IF EXISTS lifecycle_flow_counts_update();
DROP FUNCTION IF EXISTS lifecycle_flow_counts_delete();
DROP FUNCTION IF EXISTS lifecycle_flow_counts_insert();
"""

BACKFILL_SQL = """
INSERT INTO lifecycle_lifecycleflowcount
    (tenant_id, month, from_stage, to_stage, account_stage, account_owner_id, n, created_at, updated_at)
SELECT tenant_id, date_trunc('month', date)::date, from_stage, to_stage, account_stage, account_owner_id, count(*),
       now(), now()
FROM lifecycle_lifecyclechange WHERE tenant_id = %s AND account_live
GROUP BY 1, 2, 3, 4, 5, 6
"""


def backfill(apps, schema_editor):
    Tenant = apps.get_model("crm", "Tenant")
    with schema_editor.connection.cursor() as cursor:
        for tenant_id in Tenant.objects.order_by("pk").values_list("pk", flat=True):
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
            cursor.execute(BACKFILL_SQL, [tenant_id])
        cursor.execute("SELECT set_config('app.tenant_id', '', true)")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0004_history_context_tenant"),
        ("lifecycle", "0006_account_copies"),
    ]

    operations = [
        migrations.CreateModel(
            name="LifecycleFlowCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("month", models.DateField()),
                ("from_stage", models.CharField(blank=True, max_length=12)),
                ("to_stage", models.CharField(max_length=12)),
                ("account_stage", models.CharField(blank=True, max_length=12)),
                ("account_owner_id", models.BigIntegerField(blank=True, null=True)),
                ("n", models.IntegerField(default=0)),
                (
                    "tenant",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="crm.tenant",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=(
                            "tenant",
                            "month",
                            "from_stage",
                            "to_stage",
                            "account_stage",
                            "account_owner_id",
                        ),
                        name="lifecycle_flowcount_key_uniq",
                        nulls_distinct=False,
                    )
                ],
            },
            managers=[
                ("objects", django.db.models.manager.Manager()),
                ("all_tenants", django.db.models.manager.Manager()),
            ],
        ),
        migrations.RunSQL(FUNCTIONS_SQL, DROP_SQL),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
