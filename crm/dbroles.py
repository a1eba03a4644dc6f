"""Create the application's database role and database with a superuser connection (idempotent).

Used by the embedded set-up and by `manage.py db_bootstrap` (CI, docker-compose). The role may create
databases (pytest-django makes its test database) but is neither superuser nor BYPASSRLS.
"""

from __future__ import annotations

import psycopg
from psycopg import sql


def ensure_app_role(admin_url: str, *, role: str, password: str, database: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        stmt = "CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOBYPASSRLS CREATEDB NOCREATEROLE"
        if exists:
            stmt = "ALTER ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOBYPASSRLS CREATEDB NOCREATEROLE"
        conn.execute(sql.SQL(stmt).format(sql.Identifier(role), sql.Literal(password)))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
                    sql.Identifier(database), sql.Identifier(role)
                )
            )


def main() -> None:
    """`python -m crm.dbroles`: the same as `manage.py db_bootstrap`, without loading Django settings.

    Settings start the embedded server when DATABASE_URL is unset; CI and container init steps only want the
    role and database on the server named by DATABASE_ADMIN_URL.
    """
    import os
    import sys

    admin_url = os.environ.get("DATABASE_ADMIN_URL", "")
    if not admin_url:
        sys.exit(
            "DATABASE_ADMIN_URL is not set (a superuser URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres)"
        )
    role = os.environ.get("DATABASE_APP_ROLE", "crm_app")
    database = os.environ.get("DATABASE_NAME", "crm")
    ensure_app_role(
        admin_url,
        role=role,
        password=os.environ.get("DATABASE_APP_PASSWORD", "crm_app"),
        database=database,
    )
    sys.stdout.write(f"role {role} and database {database} ready\n")


if __name__ == "__main__":
    main()
