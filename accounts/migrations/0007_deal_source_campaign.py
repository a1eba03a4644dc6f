"""A deal originated from a lead carries the lead's source and campaign (issue 12, item 2): two columns with
tenant-leading indexes for the source and campaign reports, backfilled from each deal's originating lead.

The backfill runs while the history triggers are dropped (between RemoveTrigger and AddTrigger), so it adds no
history event per deal; it is one UPDATE ... FROM per tenant (row-level security shows the migrating role one
tenant's rows at a time)."""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


BACKFILL_SQL = """
UPDATE accounts_opportunity o
SET source_id = l.source_id, campaign_id = l.campaign_id
FROM leads_lead l
WHERE o.tenant_id = %s AND l.tenant_id = o.tenant_id AND l.id = o.lead_id
  AND (l.source_id IS NOT NULL OR l.campaign_id IS NOT NULL)
"""


def backfill_from_leads(apps, schema_editor):
    Tenant = apps.get_model("crm", "Tenant")
    with schema_editor.connection.cursor() as cursor:
        for tenant_id in Tenant.objects.order_by("pk").values_list("pk", flat=True):
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
            cursor.execute(BACKFILL_SQL, [tenant_id])
        cursor.execute("SELECT set_config('app.tenant_id', '', true)")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_call_outcome_and_deal_next_step"),
        ("crm", "0002_extensions"),
        ("leads", "0006_company_keys_one_normalizer"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="opportunity",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="opportunity",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="opportunity",
            name="delete_delete",
        ),
        migrations.AddField(
            model_name="opportunity",
            name="campaign",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="The campaign of the lead this deal originated from.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="opportunities",
                to="leads.campaign",
            ),
        ),
        migrations.AddField(
            model_name="opportunity",
            name="source",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="The lead source of the lead this deal originated from.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="opportunities",
                to="leads.leadsource",
            ),
        ),
        migrations.AddField(
            model_name="opportunityevent",
            name="campaign",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The campaign of the lead this deal originated from.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="leads.campaign",
            ),
        ),
        migrations.AddField(
            model_name="opportunityevent",
            name="source",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The lead source of the lead this deal originated from.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="leads.leadsource",
            ),
        ),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(fields=["tenant", "source"], name="accounts_opp_source_idx"),
        ),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(fields=["tenant", "campaign"], name="accounts_opp_campaign_idx"),
        ),
        migrations.RunPython(backfill_from_leads, migrations.RunPython.noop),
        pgtrigger.migrations.AddTrigger(
            model_name="opportunity",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "accounts_opportunityevent" ("account_id", "amount", "amount_reporting", "campaign_id", "closed_at", "created_at", "currency", "deleted_at", "expected_close_date", "external_id", "forecast_category", "id", "lead_id", "lost_reason", "name", "next_step", "next_step_date", "owner_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "pipeline_id", "probability", "source_id", "stage_id", "tenant_id", "type", "updated_at", "version") VALUES (NEW."account_id", NEW."amount", NEW."amount_reporting", NEW."campaign_id", NEW."closed_at", NEW."created_at", NEW."currency", NEW."deleted_at", NEW."expected_close_date", NEW."external_id", NEW."forecast_category", NEW."id", NEW."lead_id", NEW."lost_reason", NEW."name", NEW."next_step", NEW."next_step_date", NEW."owner_id", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."pipeline_id", NEW."probability", NEW."source_id", NEW."stage_id", NEW."tenant_id", NEW."type", NEW."updated_at", NEW."version"); RETURN NULL;',
                    hash="7979cd39d9c616685a4c227695d9c2e69e266c58",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_ecbbe",
                    table="accounts_opportunity",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="opportunity",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "accounts_opportunityevent" ("account_id", "amount", "amount_reporting", "campaign_id", "closed_at", "created_at", "currency", "deleted_at", "expected_close_date", "external_id", "forecast_category", "id", "lead_id", "lost_reason", "name", "next_step", "next_step_date", "owner_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "pipeline_id", "probability", "source_id", "stage_id", "tenant_id", "type", "updated_at", "version") VALUES (NEW."account_id", NEW."amount", NEW."amount_reporting", NEW."campaign_id", NEW."closed_at", NEW."created_at", NEW."currency", NEW."deleted_at", NEW."expected_close_date", NEW."external_id", NEW."forecast_category", NEW."id", NEW."lead_id", NEW."lost_reason", NEW."name", NEW."next_step", NEW."next_step_date", NEW."owner_id", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."pipeline_id", NEW."probability", NEW."source_id", NEW."stage_id", NEW."tenant_id", NEW."type", NEW."updated_at", NEW."version"); RETURN NULL;',
                    hash="d771378f3409593456eb5fef1ec60f18908b7922",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_00860",
                    table="accounts_opportunity",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="opportunity",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "accounts_opportunityevent" ("account_id", "amount", "amount_reporting", "campaign_id", "closed_at", "created_at", "currency", "deleted_at", "expected_close_date", "external_id", "forecast_category", "id", "lead_id", "lost_reason", "name", "next_step", "next_step_date", "owner_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "pipeline_id", "probability", "source_id", "stage_id", "tenant_id", "type", "updated_at", "version") VALUES (OLD."account_id", OLD."amount", OLD."amount_reporting", OLD."campaign_id", OLD."closed_at", OLD."created_at", OLD."currency", OLD."deleted_at", OLD."expected_close_date", OLD."external_id", OLD."forecast_category", OLD."id", OLD."lead_id", OLD."lost_reason", OLD."name", OLD."next_step", OLD."next_step_date", OLD."owner_id", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."pipeline_id", OLD."probability", OLD."source_id", OLD."stage_id", OLD."tenant_id", OLD."type", OLD."updated_at", OLD."version"); RETURN NULL;',
                    hash="29f1af6f37224f935b8c043474c5123f9cb5c7ba",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_85234",
                    table="accounts_opportunity",
                    when="AFTER",
                ),
            ),
        ),
    ]
