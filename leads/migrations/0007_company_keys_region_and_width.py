"""company_key now folds full-width forms (NFKC), drops a bracketed or leading region of a Chinese name
("腾讯科技（深圳）有限公司" -> "腾讯科技", "北京字节跳动科技有限公司" -> "字节跳动科技") and the spaces next to Chinese
characters (issue 12, item 10): recompute the stored keys that change (only those), so duplicate checks find old
and new leads alike."""

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
        ("leads", "0006_company_keys_one_normalizer"),
    ]

    operations = [migrations.RunPython(recompute_company_keys, migrations.RunPython.noop)]
