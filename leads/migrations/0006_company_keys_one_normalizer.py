"""Leads and accounts now share one company-name normalizer (crm.normalize.company_key: the union of both apps'
legal suffixes, dropped from the end of the name only). Some stored keys change ("Globex Company" -> "GLOBEX",
"Acme Co Industries" keeps its "CO"): recompute them, so duplicate checks find old and new leads alike."""

from django.db import migrations


def recompute_company_keys(apps, schema_editor):
    """Tenant by tenant (row-level security shows the migrating role one tenant's rows at a time); only the keys
    that change are written, in batches; the history triggers ignore these columns."""
    from leads.services.duplicates import lead_fill_duplicate_keys

    Tenant = apps.get_model("crm", "Tenant")
    with schema_editor.connection.cursor() as cursor:
        for tenant_id in Tenant.objects.order_by("pk").values_list("pk", flat=True):
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
            lead_fill_duplicate_keys(tenant_id=tenant_id, cursor=cursor)
        cursor.execute("SELECT set_config('app.tenant_id', '', true)")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0002_extensions"),
        ("leads", "0005_lead_duplicate_keys"),
    ]

    operations = [migrations.RunPython(recompute_company_keys, migrations.RunPython.noop)]
