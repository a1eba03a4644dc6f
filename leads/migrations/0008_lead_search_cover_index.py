"""The global search's narrow copy of the live leads' search_text (issue 12): under row-level security the trigram
index cannot serve LIKE, so a search reads this index (index-only, ~140 MB at a million leads) instead of the table
(~1.1 GB)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0007_company_keys_region_and_width"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True)),
                fields=["tenant", "owner"],
                include=("id", "status", "search_text"),
                name="leads_lead_search_cover_idx",
            ),
        ),
    ]
