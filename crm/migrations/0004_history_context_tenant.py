"""django-pghistory's shared context table gets a tenant and row-level security, like every tenant-owned table.

The column defaults to the transaction's `app.tenant_id`, the context function the history triggers call sets it
(and makes the context id per tenant), and existing rows are tagged with the tenant of the history events that
point to them, tenant by tenant (row-level security shows the migrating role one tenant's events at a time). A
context shared by events of two tenants gets a copy in the second, and that tenant's events point to the copy.
"""

from django.db import migrations

from crm.rls import CONTEXT_TABLE, TENANT_EXPR, context_policy_sql

EVENT_TABLES_SQL = """
SELECT c.relname FROM pg_class c
JOIN pg_attribute ctx ON ctx.attrelid = c.oid AND ctx.attname = 'pgh_context_id' AND NOT ctx.attisdropped
JOIN pg_attribute ten ON ten.attrelid = c.oid AND ten.attname = 'tenant_id' AND NOT ten.attisdropped
WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
ORDER BY c.relname
"""


def tag_existing_contexts(apps, schema_editor):
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(EVENT_TABLES_SQL)
        tables = [quote(row[0]) for row in cursor.fetchall()]
        if not tables:
            return
        cursor.execute("SELECT id FROM crm_tenant ORDER BY id")
        for (tenant_id,) in cursor.fetchall():
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
            for table in tables:
                cursor.execute(
                    f"UPDATE {CONTEXT_TABLE} SET tenant_id = %s "  # noqa: S608 -- names from the catalog
                    f"WHERE tenant_id IS NULL AND id IN (SELECT pgh_context_id FROM {table})",
                    [tenant_id],
                )
                cursor.execute(
                    f"INSERT INTO {CONTEXT_TABLE} (id, tenant_id, metadata, created_at, updated_at) "  # noqa: S608
                    f"SELECT md5(c.id::text || ':' || %s)::uuid, %s, c.metadata, c.created_at, c.updated_at "
                    f"FROM {CONTEXT_TABLE} c WHERE c.tenant_id <> %s "
                    f"AND c.id IN (SELECT pgh_context_id FROM {table}) ON CONFLICT (id) DO NOTHING",
                    [str(tenant_id), tenant_id, tenant_id],
                )
                cursor.execute(
                    f"UPDATE {table} e SET pgh_context_id = md5(e.pgh_context_id::text || ':' || %s)::uuid "  # noqa: S608
                    f"FROM {CONTEXT_TABLE} c WHERE c.id = e.pgh_context_id AND c.tenant_id <> %s",
                    [str(tenant_id), tenant_id],
                )
        cursor.execute("SELECT set_config('app.tenant_id', '', true)")


def apply_policy(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for statement in context_policy_sql():
            cursor.execute(statement)


def remove_policy(apps, schema_editor):
    from pghistory.models import Context

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {CONTEXT_TABLE}")
        cursor.execute(f"ALTER TABLE {CONTEXT_TABLE} NO FORCE ROW LEVEL SECURITY")
        cursor.execute(f"ALTER TABLE {CONTEXT_TABLE} DISABLE ROW LEVEL SECURITY")
    Context.install_pgh_attach_context_func(using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0003_apitoken_name_expiry"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]

    operations = [
        migrations.RunSQL(
            f"ALTER TABLE {CONTEXT_TABLE} ADD COLUMN tenant_id bigint DEFAULT {TENANT_EXPR}; "
            f"CREATE INDEX pghistory_context_tenant_id ON {CONTEXT_TABLE} (tenant_id)",
            f"DROP INDEX pghistory_context_tenant_id; ALTER TABLE {CONTEXT_TABLE} DROP COLUMN tenant_id",
        ),
        migrations.RunPython(tag_existing_contexts, migrations.RunPython.noop),
        migrations.RunPython(apply_policy, remove_policy),
    ]
