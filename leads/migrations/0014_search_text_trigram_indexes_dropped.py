"""No trigram index on search_text (models.py): under row-level security PostgreSQL cannot use one for
LIKE, so it only slowed every insert and update of the searched columns (docs/scaling.md)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0013_lead_insert_event_per_statement"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="lead",
            name="leads_lead_search_trgm",
        ),
    ]
