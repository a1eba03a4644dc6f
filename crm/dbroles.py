"""The two database roles and the database, set up with a superuser connection (idempotent).

- The **owner** role (`crm_owner`, `DATABASE_OWNER_ROLE`) owns the database, the tables, sequences and functions.
  Only `migrate` (and `flush`, and the test set-up) connect as it. NOSUPERUSER NOBYPASSRLS, so the tables' FORCE
  ROW LEVEL SECURITY binds it too (data migrations set `app.tenant_id` per tenant). NOLOGIN unless it is given a
  password: by default migrations connect with `DATABASE_ADMIN_URL` and assume the role (Django's `assume_role`,
  i.e. `SET ROLE`), so no new secret is needed.
- The **app** role (`crm_app`, the user of `DATABASE_URL`) is what the web app and the workers connect as. It owns
  nothing and holds only SELECT, INSERT, UPDATE, DELETE on the tables and USAGE, SELECT on the sequences (default
  privileges of the owner role cover tables made by later migrations): no DDL, no TRUNCATE, no CREATE in the
  schema, no CREATEDB. One SQL injection therefore cannot `ALTER TABLE ... DISABLE ROW LEVEL SECURITY`, drop a
  policy or a table, or empty one with TRUNCATE (which ignores row-level security).

A database where the app role still owns the objects (made before the owner role existed: an older deployment,
`var/pgdata` of an older demo, a reused test database) is adopted: ownership of everything the app role owns in
that database moves to the owner role, then the app role gets its data privileges.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import sql

DEFAULT_APP_ROLE = "crm_app"
DEFAULT_OWNER_ROLE = "crm_owner"
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_PRIVILEGES = "USAGE, SELECT"


def _ensure_role(conn: psycopg.Connection, role: str, attributes: str, password: str | None) -> None:
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
    login = sql.SQL("LOGIN PASSWORD {}").format(sql.Literal(password)) if password else sql.SQL("NOLOGIN")
    conn.execute(
        sql.SQL("{} ROLE {} {} {}").format(
            sql.SQL("ALTER" if exists else "CREATE"), sql.Identifier(role), login, sql.SQL(attributes)
        )
    )


def ensure_owner_role(admin_url: str, *, owner_role: str, owner_password: str | None = None) -> None:
    """The owner role: NOSUPERUSER NOBYPASSRLS CREATEDB (the test set-up creates its database as it); the admin
    connection must be able to assume it (a superuser can; a managed server's admin is made a member)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        _ensure_role(conn, owner_role, "NOSUPERUSER NOBYPASSRLS CREATEDB NOCREATEROLE", owner_password)
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        if not (superuser and superuser[0]):
            conn.execute(sql.SQL("GRANT {} TO current_user").format(sql.Identifier(owner_role)))


def ensure_roles(
    admin_url: str,
    *,
    app_role: str,
    app_password: str,
    owner_role: str,
    database: str,
    owner_password: str | None = None,
) -> None:
    """Create (or bring up to date) both roles and the database owned by the owner role; adopt the database if
    the app role still owns things in it; grant the app role its data privileges."""
    ensure_owner_role(admin_url, owner_role=owner_role, owner_password=owner_password)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        _ensure_role(conn, app_role, "NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE", app_password)
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
                    sql.Identifier(database), sql.Identifier(owner_role)
                )
            )
    prepare_database(admin_url, database, app_role=app_role, owner_role=owner_role)


def ensure_app_role(admin_url: str, *, role: str, password: str, database: str) -> None:
    """Kept for callers of the one-role set-up: both roles, with the default owner role name."""
    ensure_roles(
        admin_url, app_role=role, app_password=password, owner_role=DEFAULT_OWNER_ROLE, database=database
    )


def database_url(url: str, database: str) -> str:
    return psycopg.conninfo.make_conninfo(url, dbname=database)


def prepare_database(admin_url: str, database: str, *, app_role: str, owner_role: str) -> None:
    """In `database`: move everything the app role owns (the database itself included) to the owner role, take
    DDL rights on the schema from the app role and give it its data privileges. One transaction; idempotent."""
    ident = sql.Identifier
    with psycopg.connect(database_url(admin_url, database)) as conn, conn.transaction():
        # REASSIGN OWNED also moves the app role's other databases (a colleague's test database on a shared
        # server): they are given back, in the same transaction, and adopted when they are next used.
        others = [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = %s) "
                "AND datname <> %s",
                [app_role, database],
            )
        ]
        conn.execute(sql.SQL("REASSIGN OWNED BY {} TO {}").format(ident(app_role), ident(owner_role)))
        for other in others:
            conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(ident(other), ident(app_role)))
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(ident(database), ident(owner_role)))
        conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
        conn.execute(sql.SQL("REVOKE ALL ON SCHEMA public FROM {}").format(ident(app_role)))
        conn.execute(
            sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(ident(database), ident(app_role))
        )
        for statement in app_privileges_sql(app_role=app_role, owner_role=owner_role):
            conn.execute(statement)


def app_privileges_sql(*, app_role: str, owner_role: str | None = None) -> list[sql.Composed]:
    """The app role's data privileges on what exists, and the owner role's default privileges for what later
    migrations create (run by the owner role itself, `owner_role` None, or by a superuser for it)."""
    app = sql.Identifier(app_role)
    for_role = sql.SQL("FOR ROLE {} ").format(sql.Identifier(owner_role)) if owner_role else sql.SQL("")
    return [
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(app),
        sql.SQL("REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {}").format(app),
        sql.SQL("GRANT " + TABLE_PRIVILEGES + " ON ALL TABLES IN SCHEMA public TO {}").format(app),
        sql.SQL("GRANT " + SEQUENCE_PRIVILEGES + " ON ALL SEQUENCES IN SCHEMA public TO {}").format(app),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES {}IN SCHEMA public GRANT " + TABLE_PRIVILEGES + " ON TABLES TO {}"
        ).format(for_role, app),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES {}IN SCHEMA public GRANT " + SEQUENCE_PRIVILEGES + " ON SEQUENCES TO {}"
        ).format(for_role, app),
    ]


# --- Django side: connecting as the owner role ------------------------------------------------------------------


def owner_connection_settings(*, owner_url: str, admin_url: str, owner_role: str) -> dict[str, Any] | None:
    """Connection parameters (USER, PASSWORD, HOST, PORT, OPTIONS) of the owner role, for settings: an explicit
    `DATABASE_OWNER_URL` (a login owner role) as it is; else `DATABASE_ADMIN_URL` assuming the owner role; else
    None (nothing but the app role is known: migrations then run as the app role, the old single-role layout)."""
    import dj_database_url

    if owner_url:
        parsed = dj_database_url.parse(owner_url)
        options = dict(parsed.get("OPTIONS") or {})
    elif admin_url:
        parsed = dj_database_url.parse(admin_url)
        options = {**(parsed.get("OPTIONS") or {}), "assume_role": owner_role}
    else:
        return None
    return {
        "USER": parsed.get("USER") or "",
        "PASSWORD": parsed.get("PASSWORD") or "",
        "HOST": parsed.get("HOST") or "",
        "PORT": str(parsed.get("PORT") or ""),
        "OPTIONS": options,
    }


def _owner_settings_dict(settings_dict: dict[str, Any]) -> dict[str, Any] | None:
    from django.conf import settings

    owner = settings.DATABASE_OWNER["CONNECTION"]
    if owner is None:
        return None
    return {**settings_dict, **owner, "OPTIONS": {**owner["OPTIONS"]}}


def _same_login(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("USER", "HOST", "PORT")
    return all(str(a.get(k) or "") == str(b.get(k) or "") for k in keys) and (a.get("OPTIONS") or {}).get(
        "assume_role"
    ) == (b.get("OPTIONS") or {}).get("assume_role")


@contextlib.contextmanager
def as_owner(using: str = "default") -> Iterator[bool]:
    """Run the block on a connection of the owner role (this thread's connection only; other threads keep the
    app role). Yields False, doing nothing, when no owner role is configured. Not inside a transaction: the
    connection is closed before and after."""
    from django.db import connections

    conn = connections[using]
    original = conn.settings_dict
    owner = _owner_settings_dict(original)
    if owner is None or _same_login(original, owner):
        yield owner is not None
        return
    if conn.in_atomic_block:
        raise RuntimeError("as_owner() cannot switch roles inside a transaction")
    conn.close()
    conn.settings_dict = owner
    try:
        yield True
    finally:
        conn.close()
        conn.settings_dict = original


def use_owner_settings(using: str = "default") -> dict[str, Any]:
    """Switch the alias's settings (for every thread) to the owner role, returning the previous login values;
    the test set-up creates, migrates and drops its database this way."""
    from django.db import connections

    conn = connections[using]
    owner = _owner_settings_dict(conn.settings_dict)
    previous = {k: conn.settings_dict.get(k) for k in ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS")}
    if owner is not None:
        conn.close()
        conn.settings_dict.update({k: owner[k] for k in previous})
    return previous


def restore_settings(previous: dict[str, Any], using: str = "default") -> dict[str, Any]:
    """Put back login values from use_owner_settings(); returns the ones they replace."""
    from django.db import connections

    conn = connections[using]
    replaced = {k: conn.settings_dict.get(k) for k in previous}
    conn.close()
    conn.settings_dict.update(previous)
    return replaced


def grant_app_privileges(cursor: Any) -> None:
    """After migrate, on the owner role's connection: the app role's privileges on every table (belt and braces
    next to the default privileges). Nothing to do when the app role itself migrates (the old layout)."""
    from django.conf import settings

    app_role = settings.DATABASE_OWNER["APP_ROLE"]
    cursor.execute("SELECT current_user")
    if not app_role or cursor.fetchone()[0] == app_role:
        return
    for statement in app_privileges_sql(app_role=app_role):
        cursor.execute(statement.as_string(cursor.connection))


def main() -> None:
    """`python -m crm.dbroles`: the same as `manage.py db_bootstrap`, without loading Django settings.

    Settings start the embedded server when DATABASE_URL is unset; CI and container init steps only want the
    roles and database on the server named by DATABASE_ADMIN_URL.
    """
    import os
    import sys

    admin_url = os.environ.get("DATABASE_ADMIN_URL", "")
    if not admin_url:
        sys.exit(
            "DATABASE_ADMIN_URL is not set (a superuser URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres)"
        )
    role = os.environ.get("DATABASE_APP_ROLE", DEFAULT_APP_ROLE)
    owner = os.environ.get("DATABASE_OWNER_ROLE", DEFAULT_OWNER_ROLE)
    database = os.environ.get("DATABASE_NAME", "crm")
    ensure_roles(
        admin_url,
        app_role=role,
        app_password=os.environ.get("DATABASE_APP_PASSWORD", "crm_app"),
        owner_role=owner,
        database=database,
        owner_password=os.environ.get("DATABASE_OWNER_PASSWORD") or None,
    )
    sys.stdout.write(f"roles {owner} (owner) and {role} (app) and database {database} ready\n")


if __name__ == "__main__":
    main()
