from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    """pg_trgm is a trusted extension: the (non-superuser) database owner may create it."""

    dependencies = [("crm", "0001_initial")]

    operations = [TrigramExtension()]
