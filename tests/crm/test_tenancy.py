"""Fail-closed tenancy: the scoped manager, row-level security and the app's database role."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from crm.models import Membership, Team
from crm.rls import tenant_owned_models
from crm.tenancy import TenantNotSetError, tenant_context
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def test_scoped_manager_raises_without_tenant(tenant):
    with pytest.raises(TenantNotSetError):
        Team.objects.count()
    with pytest.raises(TenantNotSetError):
        list(Membership.objects.all())


def test_scoped_manager_filters_by_active_tenant(tenant, other_tenant):
    TeamFactory(tenant=tenant, name="East")
    TeamFactory(tenant=other_tenant, name="West")
    with tenant_context(tenant):
        assert list(Team.objects.values_list("name", flat=True)) == ["East"]
    with tenant_context(other_tenant):
        assert list(Team.objects.values_list("name", flat=True)) == ["West"]


def test_app_role_is_not_superuser_and_cannot_bypass_rls():
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)


def test_every_tenant_owned_table_has_forced_rls_and_policy():
    models = tenant_owned_models()
    assert {m._meta.label for m in models} >= {"crm.Team", "crm.Membership", "crm.Invitation"}
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(
                "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", [table]
            )
            assert cursor.fetchone() == (True, True), table
            cursor.execute(
                "SELECT policyname, cmd, permissive, qual, with_check FROM pg_policies WHERE tablename = %s",
                [table],
            )
            policies = {row[0]: row[1:] for row in cursor.fetchall()}
            # The isolation policy covers every command and compares tenant_id with the transaction's setting,
            # in USING and in WITH CHECK; nothing else widens writes.
            cmd, permissive, qual, with_check = policies.pop("tenant_isolation")
            assert (cmd, permissive) == ("ALL", "PERMISSIVE"), table
            for expression in (qual, with_check):
                assert expression.startswith("(tenant_id = (NULLIF(current_setting('app.tenant_id'"), (
                    table,
                    qual,
                )
            if model._meta.label == "crm.Membership":
                assert policies.pop("own_memberships_read")[0] == "SELECT"
            if model._meta.label == "crm.SearchEntry":
                # The global search's index: the table owner (never the app role) reads every row, inside the
                # SECURITY DEFINER function crm_search_ids() that matches app.tenant_id itself (crm/search_index.py).
                assert policies.pop("search_owner_reads") == ("ALL", "PERMISSIVE", "true", None)
                cursor.execute(
                    "SELECT roles, pg_get_userbyid(c.relowner), current_user FROM pg_policies p "
                    "JOIN pg_class c ON c.relname = p.tablename WHERE policyname = 'search_owner_reads'"
                )
                roles, owner, app_role = cursor.fetchone()
                assert roles == [owner] and owner != app_role
            assert policies == {}, (table, policies)


def test_membership_user_clause_reads_but_never_deletes_across_tenants(tenant, other_tenant):
    """A user sees their own memberships in every tenant (the switcher) but cannot delete or change the one in
    another tenant from inside this one, even by raw SQL."""
    from crm.models import Membership

    with tenant_context(other_tenant):
        user = Membership.objects.get(role="admin").user
    with tenant_context(tenant):
        Membership.objects.create(tenant=tenant, user=user, role="sales_rep")
    with tenant_context(tenant, user_id=user.pk), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM crm_membership WHERE user_id = %s", [user.pk])
        assert cursor.fetchone()[0] == 2
        cursor.execute("DELETE FROM crm_membership WHERE tenant_id = %s", [other_tenant.pk])
        assert cursor.rowcount == 0
        cursor.execute("UPDATE crm_membership SET role = 'ops' WHERE tenant_id = %s", [other_tenant.pk])
        assert cursor.rowcount == 0
    with tenant_context(other_tenant):
        assert Membership.objects.get(user=user).role == "admin"


def test_no_table_with_tenant_id_escapes_rls():
    """Catches tables made outside the model registry (raw SQL, third-party models) that carry tenant_id."""
    exempt = {"crm_apitoken"}  # platform credential table: looked up before the tenant is known, hashed keys
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.table_name, pc.relrowsecurity, pc.relforcerowsecurity
            FROM information_schema.columns c
            JOIN pg_class pc ON pc.relname = c.table_name AND pc.relkind = 'r'
            WHERE c.column_name = 'tenant_id' AND c.table_schema = current_schema()
            """
        )
        rows = cursor.fetchall()
    assert rows
    for table, enabled, forced in rows:
        if table in exempt:
            continue
        assert enabled and forced, table


def test_raw_sql_without_tenant_sees_nothing(tenant, other_tenant):
    TeamFactory(tenant=tenant, name="East")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM crm_team")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM crm_membership")
        assert cursor.fetchone()[0] == 0


def test_raw_sql_cannot_read_or_write_another_tenant(tenant, other_tenant):
    TeamFactory(tenant=other_tenant, name="Theirs")
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM crm_team WHERE name = 'Theirs'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("UPDATE crm_team SET name = 'Hacked' WHERE name = 'Theirs'")
        assert cursor.rowcount == 0
        cursor.execute("DELETE FROM crm_team WHERE name = 'Theirs'")
        assert cursor.rowcount == 0
        with pytest.raises(Exception, match="row-level security"), transaction.atomic():
            cursor.execute(
                "INSERT INTO crm_team (tenant_id, name, created_at, updated_at) VALUES (%s, 'Sneaky', now(), now())",
                [other_tenant.pk],
            )
    with tenant_context(other_tenant):
        assert list(Team.objects.values_list("name", flat=True)) == ["Theirs"]


def test_tenant_context_restores_previous_tenant(tenant, other_tenant):
    with tenant_context(tenant):
        with tenant_context(other_tenant), connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('app.tenant_id')")
            assert cursor.fetchone()[0] == str(other_tenant.pk)
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('app.tenant_id')")
            assert cursor.fetchone()[0] == str(tenant.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(current_setting('app.tenant_id', true), '')")
        assert cursor.fetchone()[0] == ""


def test_unscoped_queryset_raises_on_every_kind_of_sql(tenant):
    TeamFactory(tenant=tenant, name="East")
    unscoped = Team.objects.filter(name="East")  # building is allowed (django-filter introspects at import)
    assert unscoped.query is not None
    for run in (
        lambda: list(unscoped),
        lambda: unscoped.exists(),
        lambda: unscoped.update(name="x"),
        lambda: unscoped.delete(),
        lambda: Team.objects.get(name="East"),
        lambda: list(Membership.all_tenants.filter(team__in=Team.objects.all())),
    ):
        with pytest.raises(TenantNotSetError), transaction.atomic():
            run()
    with tenant_context(tenant):
        assert Team.objects.filter(name="East").count() == 1


def test_queryset_built_without_tenant_stays_closed_inside_a_tenant(tenant):
    """A queryset built at import time (no tenant) must not turn into an unscoped one later."""
    built_early = Team.objects.all()
    with tenant_context(tenant), pytest.raises(TenantNotSetError):
        list(built_early)


def _tenant_state() -> tuple[object, object, object]:
    from crm.tenancy import current_tenant_or_none

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true), current_setting('app.user_id', true)")
        tenant_setting, user_setting = cursor.fetchone()
    return current_tenant_or_none(), tenant_setting or None, user_setting or None


def test_middleware_leaves_no_tenant_behind(tenant, other_tenant, member, client_for):
    """After a page, a view that raises Http404, a non-member's 404 and an API call, neither the context variable
    nor the database settings keep the tenant: the next code on this thread starts fail-closed."""
    rep = member()
    client = client_for(rep)
    assert _tenant_state() == (None, None, None)
    for url, status in (
        (f"/t/{tenant.slug}/", 200),
        (f"/t/{tenant.slug}/leads/999999999/", 404),
        (f"/t/{other_tenant.slug}/", 404),
        (f"/api/v1/t/{tenant.slug}/me/", 200),
    ):
        response = client.get(url)
        assert response.status_code == status, url
        assert _tenant_state() == (None, None, None), url
    with pytest.raises(TenantNotSetError):
        Team.objects.count()
