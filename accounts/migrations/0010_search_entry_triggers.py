"""The global search's entries of accounts, contacts and deals (issue 12; crm/search_index.py): triggers that keep
crm_search_entry, and the entries of the existing rows, set-based, tenant by tenant.

A deal's entry holds its name and its account's search_text (name and domain), as the deal list's `q` matches:
the account's trigger rewrites its deals' entries when its search_text changes."""

from django.db import migrations

from crm.search_index import backfill, drop_trigger_sql, trigger_sql

TEXT_FROM_ROW = "    v_text := NEW.search_text;"
ACCOUNT_BODY = """    v_text := NEW.search_text;
    IF TG_OP = 'UPDATE' AND NEW.search_text IS DISTINCT FROM OLD.search_text THEN
        UPDATE crm_search_entry AS entry
        SET text = lower(coalesce(deal.name, '')) || ' ' || coalesce(NEW.search_text, ''),
            grams = crm_search_grams(lower(coalesce(deal.name, '')) || ' ' || coalesce(NEW.search_text, '')),
            updated_at = now()
        FROM accounts_opportunity AS deal
        WHERE deal.account_id = NEW.id AND entry.kind = 'deal' AND entry.record_id = deal.id;
    END IF;"""
DEAL_BODY = """    v_text := lower(coalesce(NEW.name, '')) || ' '
        || coalesce((SELECT account.search_text FROM accounts_account AS account WHERE account.id = NEW.account_id), '');"""

TRIGGERS = [
    dict(
        table="accounts_account",
        kind="account",
        function="accounts_account_search_entry",
        body=ACCOUNT_BODY,
        columns=["search_text", "owner_id", "deleted_at", "tenant_id"],
    ),
    dict(
        table="accounts_contact",
        kind="contact",
        function="accounts_contact_search_entry",
        body=TEXT_FROM_ROW,
        columns=["search_text", "owner_id", "deleted_at", "tenant_id"],
    ),
    dict(
        table="accounts_opportunity",
        kind="deal",
        function="accounts_opportunity_search_entry",
        body=DEAL_BODY,
        columns=["name", "account_id", "owner_id", "deleted_at", "tenant_id"],
    ),
]

BACKFILL = {
    "account": "SELECT tenant_id, id, owner_id, search_text AS text FROM accounts_account WHERE deleted_at IS NULL",
    "contact": "SELECT tenant_id, id, owner_id, search_text AS text FROM accounts_contact WHERE deleted_at IS NULL",
    "deal": (
        "SELECT deal.tenant_id, deal.id, deal.owner_id, "
        "lower(coalesce(deal.name, '')) || ' ' || coalesce(account.search_text, '') AS text "
        "FROM accounts_opportunity AS deal LEFT JOIN accounts_account AS account ON account.id = deal.account_id "
        "WHERE deal.deleted_at IS NULL"
    ),
}


def install(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for trigger in TRIGGERS:
            for statement in trigger_sql(**trigger):
                cursor.execute(statement)
        for kind, select_sql in BACKFILL.items():
            backfill(cursor, select_sql, kind=kind)


def uninstall(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for trigger in TRIGGERS:
            for statement in drop_trigger_sql(table=trigger["table"], function=trigger["function"]):
                cursor.execute(statement)
        cursor.execute("DELETE FROM crm_search_entry WHERE kind IN ('account', 'contact', 'deal')")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_size_band_from_value_list"),
        ("crm", "0007_search_entry"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
