"""An activity's account, contact and deal indexes without the empty ones (accounts/models.py): a lead's
activities (most of an import) wrote a null into each of the three."""

import django.db.models.deletion
from django.db import migrations, models


# The indexes Django made for the three foreign keys (accounts 0002): (name, column).
INDEXES = [
    ("accounts_activity_account_id_d7522568", "account_id"),
    ("accounts_activity_contact_id_4f645bab", "contact_id"),
    ("accounts_activity_opportunity_id_fc737408", "opportunity_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0012_search_text_trigram_indexes_dropped"),
    ]

    operations = [
        # The fields' db_index off, in the state only: the database drops the three indexes by name. Django's
        # AlterField would also drop and re-add each foreign key, checking every activity again under an
        # exclusive lock.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="activity",
                    name="account",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="activities",
                        to="accounts.account",
                    ),
                ),
                migrations.AlterField(
                    model_name="activity",
                    name="contact",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="activities",
                        to="accounts.contact",
                    ),
                ),
                migrations.AlterField(
                    model_name="activity",
                    name="opportunity",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="activities",
                        to="accounts.opportunity",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {index}",
                    reverse_sql=f"CREATE INDEX IF NOT EXISTS {index} ON accounts_activity ({column})",
                )
                for index, column in INDEXES
            ],
        ),
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                condition=models.Q(("account__isnull", False)),
                fields=["account"],
                name="accounts_act_account_fk",
            ),
        ),
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                condition=models.Q(("contact__isnull", False)),
                fields=["contact"],
                name="accounts_act_contact_fk",
            ),
        ),
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                condition=models.Q(("opportunity__isnull", False)),
                fields=["opportunity"],
                name="accounts_act_opportunity_fk",
            ),
        ),
    ]
