"""Row-level security for every tenant-owned table, applied after every `migrate`.

Any concrete model with a `tenant` foreign key gets ENABLE + FORCE ROW LEVEL SECURITY and the isolation policy,
so a new tenant-owned model (including history event tables) cannot exist without its policy. The only exception
is a platform table that says `RLS_EXEMPT = True` with its reason (ApiToken); a test pins that list.

django-pghistory's shared context table (who made a change, from which URL) is tenant-owned too: it has a tenant_id
column (migration crm 0004), filled from `app.tenant_id` by the context function the history triggers call, and the
same policy, widened only for rows written with no tenant (visible only to sessions with no tenant). After every
migrate the hook also gives the app role its data privileges on new tables (crm/dbroles.py).
"""

from __future__ import annotations

from django.apps import apps
from django.db import connection
from django.db.models import Model

POLICY = "tenant_isolation"
TENANT_EXPR = "nullif(current_setting('app.tenant_id', true), '')::bigint"
USER_EXPR = "nullif(current_setting('app.user_id', true), '')::bigint"


def tenant_owned_models() -> list[type[Model]]:
    found = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.abstract or meta.proxy or not meta.managed or getattr(model, "RLS_EXEMPT", False):
            continue
        field_names = {f.name for f in meta.concrete_fields}
        if "tenant" in field_names:
            found.append(model)
    return found


OWN_MEMBERSHIPS_POLICY = "own_memberships_read"
TENANT_CONDITION = f"tenant_id = {TENANT_EXPR}"


def policy_sql(model: type[Model]) -> list[str]:
    table = connection.ops.quote_name(model._meta.db_table)
    statements = [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {table}",
        f"DROP POLICY IF EXISTS {OWN_MEMBERSHIPS_POLICY} ON {table}",
        f"CREATE POLICY {POLICY} ON {table} USING ({TENANT_CONDITION}) WITH CHECK ({TENANT_CONDITION})",
    ]
    if model._meta.label == "crm.Membership":
        # A user may list their own memberships in every tenant (the tenant switcher). This is a SELECT-only
        # policy: permissive policies are OR-ed per command, so UPDATE and DELETE stay tenant-only (a USING
        # clause on a FOR ALL policy would also let DELETE reach the user's rows in other tenants).
        statements.append(
            f"CREATE POLICY {OWN_MEMBERSHIPS_POLICY} ON {table} FOR SELECT USING (user_id = {USER_EXPR})"
        )
    return statements


CONTEXT_TABLE = "pghistory_context"
# Rows written with no tenant set (a tracked write outside any tenant, e.g. a maintenance command) carry no
# tenant: only a session with no tenant sees them, and a tenant's session sees only its own.
CONTEXT_CONDITION = f"tenant_id = {TENANT_EXPR} OR (tenant_id IS NULL AND {TENANT_EXPR} IS NULL)"
# pghistory's _pgh_attach_context() (django-pghistory 3.x), called by every history trigger, with two changes: the
# row gets the tenant of the transaction, and the context id is made per tenant (md5 of pghistory's id and the
# tenant), so one pghistory.context() spanning writes in two tenants (a task looping over tenants) makes one row
# in each instead of updating a row the second tenant may not see.
CONTEXT_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION _pgh_attach_context() RETURNS {CONTEXT_TABLE}.id%TYPE AS $$
    DECLARE
        _pgh_context_id UUID;
        _pgh_context_metadata JSONB;
        _tenant_id BIGINT := {TENANT_EXPR};
    BEGIN
        BEGIN
            SELECT INTO _pgh_context_id CURRENT_SETTING('pghistory.context_id');
            SELECT INTO _pgh_context_metadata CURRENT_SETTING('pghistory.context_metadata');
            EXCEPTION WHEN OTHERS THEN
        END;
        IF _pgh_context_id IS NOT NULL AND _pgh_context_metadata IS NOT NULL THEN
            IF _tenant_id IS NOT NULL THEN
                _pgh_context_id := md5(_pgh_context_id::text || ':' || _tenant_id::text)::uuid;
            END IF;
            INSERT INTO {CONTEXT_TABLE} (id, tenant_id, metadata, created_at, updated_at)
                VALUES (_pgh_context_id, _tenant_id, _pgh_context_metadata, NOW(), NOW())
                ON CONFLICT (id) DO UPDATE
                    SET metadata = EXCLUDED.metadata,
                        updated_at = EXCLUDED.updated_at
                    WHERE {CONTEXT_TABLE}.metadata != EXCLUDED.metadata;
            RETURN _pgh_context_id;
        ELSE
            RETURN NULL;
        END IF;
    END;
$$ LANGUAGE plpgsql
"""  # noqa: S608 -- constants only


def context_policy_sql() -> list[str]:
    return [
        CONTEXT_FUNCTION_SQL,
        f"ALTER TABLE {CONTEXT_TABLE} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {CONTEXT_TABLE} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {CONTEXT_TABLE}",
        f"CREATE POLICY {POLICY} ON {CONTEXT_TABLE} USING ({CONTEXT_CONDITION}) WITH CHECK ({CONTEXT_CONDITION})",
    ]


def apply_rls(**kwargs: object) -> None:
    using = str(kwargs.get("using", "default"))
    from django.db import connections

    from crm.dbroles import grant_app_privileges

    connection = connections[using]
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        for model in tenant_owned_models():
            if model._meta.db_table not in existing:
                continue
            for statement in policy_sql(model):
                cursor.execute(statement)
        # Re-asserted after every migrate: a pghistory upgrade that reinstalls its own function would otherwise
        # silently stop making per-tenant context rows (the column default would still set the tenant).
        if CONTEXT_TABLE in existing and "tenant_id" in {
            c.name for c in connection.introspection.get_table_description(cursor, CONTEXT_TABLE)
        }:
            for statement in context_policy_sql():
                cursor.execute(statement)
        grant_app_privileges(cursor)
