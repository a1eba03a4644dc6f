"""The global search's index (issue 12): crm_search_entry, kept by triggers of the apps (leads 0010, accounts 0009)
and read through the SECURITY DEFINER function crm_search_ids() (crm/search_index.py). btree_gin (a trusted
extension, like pg_trgm) puts tenant_id and kind in the GIN indexes next to the trigrams and the CJK grams."""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
import django.db.models.manager
import django.utils.timezone
from django.contrib.postgres.operations import BtreeGinExtension
from django.db import migrations, models

from crm.search_index import install_functions, remove_functions


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0006_outbox'),
    ]

    operations = [
        BtreeGinExtension(),
        migrations.CreateModel(
            name='SearchEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('kind', models.CharField(max_length=16)),
                ('record_id', models.BigIntegerField()),
                ('owner_id', models.BigIntegerField(default=0)),
                ('text', models.TextField(default='')),
                ('grams', django.contrib.postgres.fields.ArrayField(base_field=models.TextField(), default=list, size=None)),
                ('tenant', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='crm.tenant')),
            ],
            options={
                'db_table': 'crm_search_entry',
                'indexes': [django.contrib.postgres.indexes.GinIndex(models.F('tenant'), models.F('kind'), models.F('owner_id'), django.contrib.postgres.indexes.OpClass(models.F('text'), name='gin_trgm_ops'), name='crm_search_text_trgm'), django.contrib.postgres.indexes.GinIndex(models.F('tenant'), models.F('kind'), models.F('owner_id'), models.F('grams'), name='crm_search_grams')],
                'constraints': [models.UniqueConstraint(fields=('kind', 'record_id'), name='crm_search_entry_record_uniq')],
            },
            managers=[
                ('objects', django.db.models.manager.Manager()),
                ('all_tenants', django.db.models.manager.Manager()),
            ],
        ),
        migrations.RunPython(install_functions, remove_functions),
    ]
