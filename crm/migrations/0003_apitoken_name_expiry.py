"""API tokens get a name (the device or script holding them) and an expiry (issue 11 item 10). Tokens issued
before this migration expire 90 days after it runs, not at once: their holders get the same notice as a new
token's."""

import datetime

from django.db import migrations, models
from django.utils import timezone


def expire_existing_later(apps, schema_editor):
    ApiToken = apps.get_model("crm", "ApiToken")
    ApiToken.objects.filter(expires_at__isnull=True).update(
        expires_at=timezone.now() + datetime.timedelta(days=90)
    )


class Migration(migrations.Migration):
    dependencies = [("crm", "0002_extensions")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="name",
            field=models.CharField(blank=True, max_length=100, verbose_name="name"),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True, verbose_name="expires"),
        ),
        migrations.RunPython(expire_existing_later, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(verbose_name="expires"),
        ),
    ]
