"""The global search's entries of leads (issue 12; crm/search_index.py): the trigger that keeps crm_search_entry
from the lead's search_text (kept by the services: name, company, email, phone and its digits), its owner and its
liveness, and the entries of the existing leads, set-based, tenant by tenant."""

from django.db import migrations

from crm.search_index import backfill, drop_trigger_sql, trigger_sql

TRIGGER = dict(
    table="leads_lead",
    kind="lead",
    function="leads_lead_search_entry",
    body="    v_text := NEW.search_text;",
    columns=["search_text", "owner_id", "deleted_at", "tenant_id"],
)
BACKFILL_SQL = "SELECT tenant_id, id, owner_id, search_text AS text FROM leads_lead WHERE deleted_at IS NULL"


def install(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for statement in trigger_sql(**TRIGGER):
            cursor.execute(statement)
        backfill(cursor, BACKFILL_SQL, kind="lead")


def uninstall(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for statement in drop_trigger_sql(table=TRIGGER["table"], function=TRIGGER["function"]):
            cursor.execute(statement)
        cursor.execute("DELETE FROM crm_search_entry WHERE kind = 'lead'")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0010_size_band_from_value_list"),
        ("crm", "0007_search_entry"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
