"""Company size band, industry, region and lost reason come from the company's value lists (issue 10): the size
band columns lose their fixed choices (and take a list value's width), and every value records already use that
is not in its company's list yet is added to the list, so existing data stays valid (built-in values are in the
list without a row; a value longer than a list value, 100 characters, stays on its records, which keep it on
edit, and is not added). One INSERT per tenant and list (row-level security shows the migrating role one
tenant's rows at a time); ValueListItem has no history triggers."""

from django.db import migrations, models

# The built-in values as crm.value_lists.BUILT_IN has them when this migration was written.
BUILT_IN = {
    "channel": [
        "email",
        "event",
        "webinar",
        "paid_search",
        "social",
        "content",
        "referral",
        "partner",
        "other",
    ],
    "size_band": ["1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+"],
    "industry": [],
    "region": [],
    "lost_reason": ["Price", "Competitor", "No budget", "No decision", "Timing"],
}

# list key -> (table, column) pairs whose values belong to the list.
USES = {
    "channel": [("leads_campaign", "channel")],
    "size_band": [("accounts_account", "size_band"), ("leads_lead", "size_band")],
    "industry": [("accounts_account", "industry"), ("leads_lead", "industry")],
    "region": [("accounts_account", "region"), ("leads_lead", "region")],
    "lost_reason": [("accounts_opportunity", "lost_reason")],
}


def add_values_in_use(apps, schema_editor):
    Tenant = apps.get_model("crm", "Tenant")
    with schema_editor.connection.cursor() as cursor:
        for tenant_id in Tenant.objects.order_by("pk").values_list("pk", flat=True):
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
            for list_key, uses in USES.items():
                used = " UNION ".join(
                    f"SELECT {column} AS value FROM {table} WHERE tenant_id = %s"  # noqa: S608 -- names from USES
                    for table, column in uses
                )
                cursor.execute(
                    f"""
                    INSERT INTO crm_valuelistitem (tenant_id, created_at, updated_at, list_key, value, label)
                    SELECT %s, now(), now(), %s, used.value, ''
                    FROM ({used}) AS used
                    WHERE btrim(used.value) <> '' AND char_length(used.value) <= 100
                      AND NOT (used.value = ANY(%s))
                    ON CONFLICT (tenant_id, list_key, value) DO NOTHING
                    """,  # noqa: S608 -- names from USES
                    [tenant_id, list_key, *([tenant_id] * len(uses)), BUILT_IN[list_key]],
                )
        cursor.execute("SELECT set_config('app.tenant_id', '', true)")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_size_band_from_value_list"),
        ("crm", "0006_outbox"),
        ("leads", "0009_campaign_channel_from_value_list"),
    ]

    operations = [
        migrations.AlterField(
            model_name="lead",
            name="size_band",
            field=models.CharField(blank=True, max_length=100, verbose_name="company size"),
        ),
        migrations.AlterField(
            model_name="leadevent",
            name="size_band",
            field=models.CharField(blank=True, max_length=100, verbose_name="company size"),
        ),
        migrations.RunPython(add_values_in_use, migrations.RunPython.noop),
    ]
