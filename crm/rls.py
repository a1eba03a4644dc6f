"""Row-level security for every tenant-owned table, applied after every `migrate`.

Any concrete model with a `tenant` foreign key gets ENABLE + FORCE ROW LEVEL SECURITY and the isolation policy,
so a new tenant-owned model (including history event tables) cannot exist without its policy. The only exception
is a platform table that says `RLS_EXEMPT = True` with its reason (ApiToken); a test pins that list.
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


def apply_rls(**kwargs: object) -> None:
    using = str(kwargs.get("using", "default"))
    from django.db import connections

    with connections[using].cursor() as cursor:
        existing = set(connections[using].introspection.table_names(cursor))
        for model in tenant_owned_models():
            if model._meta.db_table not in existing:
                continue
            for statement in policy_sql(model):
                cursor.execute(statement)
