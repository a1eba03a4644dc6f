"""The search entries of new leads are put by one statement-level trigger (a transition table), so an import's
chunk of a thousand leads writes its entries in one INSERT instead of a thousand trigger calls (issue 10's
speed); updates and deletes keep the row-level trigger of 0011."""

from django.db import migrations

from crm.search_index import insert_trigger_drop_sql, insert_trigger_sql

TABLE, FUNCTION = "leads_lead", "leads_lead_search_entry"


def install(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for statement in insert_trigger_sql(
            table=TABLE, kind="lead", function=FUNCTION, text_column="search_text"
        ):
            cursor.execute(statement)


def uninstall(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for statement in insert_trigger_drop_sql(table=TABLE, function=FUNCTION):
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("leads", "0011_search_entry_triggers")]

    operations = [migrations.RunPython(install, uninstall)]
