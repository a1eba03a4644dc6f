"""Defence in depth in the database (issue 11): the app role has data privileges only (crm/dbroles.py), so one SQL
injection cannot switch row-level security off; and django-pghistory's context rows are tenant-owned (crm/rls.py)."""

from __future__ import annotations

import json
import uuid

import pghistory
import psycopg.errors
import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from crm.history import history_actor
from crm.tenancy import tenant_context
from tests.factories import TeamFactory
from tests.factories_accounts import AccountFactory

pytestmark = pytest.mark.django_db

# What one injected statement would try, on a tenant table, the history context table and the schema.
FORBIDDEN = [
    "ALTER TABLE accounts_account DISABLE ROW LEVEL SECURITY",
    "ALTER TABLE accounts_account NO FORCE ROW LEVEL SECURITY",
    "ALTER TABLE accounts_account ADD COLUMN injected integer",
    "ALTER TABLE accounts_account DISABLE TRIGGER ALL",
    "ALTER TABLE accounts_account OWNER TO CURRENT_USER",
    "DROP POLICY tenant_isolation ON accounts_account",
    "CREATE POLICY injected ON accounts_account USING (true)",
    "DROP TABLE accounts_account",
    "TRUNCATE accounts_account",
    "TRUNCATE crm_tenant CASCADE",
    "ALTER TABLE pghistory_context DISABLE ROW LEVEL SECURITY",
    "DROP POLICY tenant_isolation ON pghistory_context",
    "TRUNCATE pghistory_context",
    "CREATE OR REPLACE FUNCTION _pgh_attach_context() RETURNS uuid AS 'SELECT NULL::uuid' LANGUAGE sql",
    "DROP EXTENSION pg_trgm CASCADE",
    "CREATE TABLE injected (id integer)",
    "CREATE INDEX injected ON accounts_account (name)",
]


@pytest.mark.parametrize("statement", FORBIDDEN)
def test_app_role_cannot_change_the_schema(statement):
    with pytest.raises(DatabaseError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert isinstance(error.value.__cause__, psycopg.errors.InsufficientPrivilege), error.value


def test_app_role_owns_nothing_and_has_no_role_attributes():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolbypassrls, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
        )
        assert cursor.fetchone() == (False, False, False, False)
        cursor.execute(
            """
            SELECT 'database', datname FROM pg_database WHERE datname = current_database() AND datdba = current_user::regrole
            UNION ALL SELECT 'schema', nspname FROM pg_namespace WHERE nspowner = current_user::regrole
            UNION ALL SELECT 'relation', relname FROM pg_class WHERE relowner = current_user::regrole
            UNION ALL SELECT 'function', proname FROM pg_proc WHERE proowner = current_user::regrole
            UNION ALL SELECT 'extension', extname FROM pg_extension WHERE extowner = current_user::regrole
            UNION ALL SELECT 'type', typname FROM pg_type WHERE typowner = current_user::regrole
            """
        )
        assert cursor.fetchall() == []
        cursor.execute("SELECT has_schema_privilege('public', 'CREATE')")
        assert cursor.fetchone() == (False,)


def test_app_role_has_data_privileges_on_every_table_and_sequence():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname,
                   has_table_privilege(c.oid, 'SELECT') AND has_table_privilege(c.oid, 'INSERT')
                   AND has_table_privilege(c.oid, 'UPDATE') AND has_table_privilege(c.oid, 'DELETE'),
                   has_table_privilege(c.oid, 'TRUNCATE') OR has_table_privilege(c.oid, 'TRIGGER')
                   OR has_table_privilege(c.oid, 'REFERENCES')
            FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
            """
        )
        rows = cursor.fetchall()
        assert len(rows) > 50
        assert [table for table, data, more in rows if not data or more] == []
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
            "AND CASE WHEN c.relkind = 'S' THEN NOT has_sequence_privilege(c.oid, 'USAGE') ELSE false END"
        )
        assert cursor.fetchall() == []


def test_owner_default_privileges_cover_tables_of_later_migrations():
    owner = settings.DATABASE_OWNER["ROLE"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT defaclobjtype, defaclacl::text[] FROM pg_default_acl "
            "WHERE defaclrole = %s::regrole AND defaclnamespace = 'public'::regnamespace",
            [owner],
        )
        acls = dict(cursor.fetchall())
        cursor.execute("SELECT current_user")
        app = cursor.fetchone()[0]
    assert any(entry.startswith(f"{app}=arwd/") for entry in acls["r"]), acls
    assert any(entry.startswith(f"{app}=rU/") for entry in acls["S"]), acls


def test_app_role_reads_and_writes_under_its_tenant(tenant, other_tenant):
    TeamFactory(tenant=tenant, name="East")
    TeamFactory(tenant=other_tenant, name="West")
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute("UPDATE crm_team SET name = name || ' 2'")
        assert cursor.rowcount == 1
        cursor.execute(
            "INSERT INTO crm_team (tenant_id, name, created_at, updated_at) VALUES (%s, 'North', now(), now())",
            [tenant.pk],
        )
        cursor.execute("SELECT name FROM crm_team ORDER BY name")
        assert cursor.fetchall() == [("East 2",), ("North",)]
        cursor.execute("DELETE FROM crm_team WHERE name = 'North'")
        assert cursor.rowcount == 1


# --- history context ---------------------------------------------------------------------------------------------


def _contexts(tenant=None) -> list[tuple[int | None, dict]]:
    sql = "SELECT tenant_id, metadata FROM pghistory_context ORDER BY created_at"
    scope = transaction.atomic() if tenant is None else tenant_context(tenant)
    with scope, connection.cursor() as cursor:
        cursor.execute(sql)
        return [(tenant_id, json.loads(metadata)) for tenant_id, metadata in cursor.fetchall()]


def _account_actors(tenant) -> list[int | None]:
    """Who made each change of the tenant's accounts, read as the history does (event joined to its context)."""
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(
            "SELECT (c.metadata ->> 'user')::bigint FROM accounts_accountevent e "
            "LEFT JOIN pghistory_context c ON c.id = e.pgh_context_id ORDER BY e.pgh_id"
        )
        return [row[0] for row in cursor.fetchall()]


def _admin(tenant):
    from crm.models import Membership

    with tenant_context(tenant):
        return Membership.objects.select_related("user").get(role="admin").user


def test_raw_sql_in_one_tenant_sees_none_of_another_tenants_history_context(tenant, other_tenant):
    alice, bob = _admin(tenant), _admin(other_tenant)
    with history_actor(alice, url="/t/alpha/accounts/"):
        AccountFactory(tenant=tenant, name="Alpha account")
    with history_actor(bob, url="/t/beta/accounts/"):
        AccountFactory(tenant=other_tenant, name="Beta account")

    mine, theirs = _contexts(tenant), _contexts(other_tenant)
    assert mine and theirs
    assert {row[0] for row in mine} == {tenant.pk}
    assert {row[0] for row in theirs} == {other_tenant.pk}
    assert "/t/beta/" not in json.dumps([row[1] for row in mine])
    assert bob.pk not in {row[1].get("user") for row in mine}
    # No tenant set: no tenant's context rows, as for every tenant-owned table.
    assert _contexts() == []
    # History still records who made each change, in both tenants.
    assert _account_actors(tenant) == [alice.pk]
    assert _account_actors(other_tenant) == [bob.pk]


def test_one_history_context_spanning_two_tenants_records_in_each(tenant, other_tenant):
    """A task acting for the system in tenant after tenant keeps one pghistory context: each tenant gets its own
    context row (no update of a row the second tenant cannot see), and both record the actor."""
    alice = _admin(tenant)
    with pghistory.context(user=alice.pk):
        AccountFactory(tenant=tenant)
        AccountFactory(tenant=other_tenant)
        with pghistory.context(step="second"):  # changed metadata: the upsert updates each tenant's own row
            AccountFactory(tenant=tenant)
            AccountFactory(tenant=other_tenant)
    assert _account_actors(tenant) == [alice.pk, alice.pk]
    assert _account_actors(other_tenant) == [alice.pk, alice.pk]
    assert [(t, m.get("step")) for t, m in _contexts(tenant)] == [(tenant.pk, "second")]
    assert [(t, m.get("step")) for t, m in _contexts(other_tenant)] == [(other_tenant.pk, "second")]


def test_a_tenant_cannot_write_or_move_context_rows_of_another(tenant, other_tenant):
    with history_actor(_admin(other_tenant)):
        AccountFactory(tenant=other_tenant)
    with tenant_context(tenant), connection.cursor() as cursor:
        with pytest.raises(DatabaseError) as error, transaction.atomic():
            cursor.execute(
                "INSERT INTO pghistory_context (id, tenant_id, metadata, created_at, updated_at) "
                "VALUES (%s, %s, '{}', now(), now())",
                [uuid.uuid4(), other_tenant.pk],
            )
        assert isinstance(error.value.__cause__, psycopg.errors.InsufficientPrivilege), error.value
        cursor.execute("UPDATE pghistory_context SET tenant_id = %s", [tenant.pk])
        assert cursor.rowcount == 0
        cursor.execute("DELETE FROM pghistory_context")
        assert cursor.rowcount == 0
    assert len(_contexts(other_tenant)) == 1


def test_history_context_written_with_no_tenant_stays_out_of_every_tenant(tenant):
    """A tracked write outside any tenant (none exists today: every tracked model is tenant-owned) still records
    its context, visible only to sessions with no tenant."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pghistory.context_id', %s, true), "
            "set_config('pghistory.context_metadata', '{\"command\": \"maintenance\"}', true)",
            [str(uuid.uuid4())],
        )
        cursor.execute("SELECT _pgh_attach_context()")
        assert cursor.fetchone()[0] is not None
    assert [(t, m) for t, m in _contexts()] == [(None, {"command": "maintenance"})]
    assert _contexts(tenant) == []
