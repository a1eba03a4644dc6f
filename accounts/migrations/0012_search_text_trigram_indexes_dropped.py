"""No trigram index on search_text (models.py): under row-level security PostgreSQL cannot use one for
LIKE, so it only slowed every insert and update of the searched columns (docs/scaling.md)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_activity_insert_event_per_statement"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="account",
            name="accounts_acct_search_trgm",
        ),
        migrations.RemoveIndex(
            model_name="contact",
            name="accounts_contact_search_trgm",
        ),
    ]
