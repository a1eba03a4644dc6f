"""The benchmark database: a separate database (default `crm_bench`) on the server the app uses.

With DATABASE_URL set, that server (DATABASE_ADMIN_URL, when given, creates the database; otherwise the app role
must have CREATEDB). With DATABASE_URL unset, the embedded PostgreSQL under var/ is started, exactly as the demo
does, and its superuser creates the database. Unlike the app's database (crm/dbroles.py), the benchmark database is
owned by the app role, which also migrates it. The app's own database is never touched: the benchmark refuses to run against it.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def _database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _role_of(url: str) -> str:
    return urlsplit(url).username or ""


def app_url() -> str:
    """The app role's URL on the server the project uses (starting the embedded server when needed)."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    from crm.embedded_db import embedded_database_url

    return embedded_database_url()


def bench_url(database: str) -> str:
    """The app role's URL of the benchmark database; refuses the app's own database."""
    url = app_url()
    if database == _database_of(url):
        raise SystemExit(f"refusing to use the app's own database {database!r} for the benchmark")
    return _with_database(url, database)


def database_exists(url: str, database: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone() is not None


def ensure_database(database: str, *, recreate: bool) -> bool:
    """Create the benchmark database owned by the app role (dropping it first when `recreate`). True when it was
    created now (so it needs data)."""
    url = app_url()
    owner = _role_of(url)
    if os.environ.get("DATABASE_URL"):
        admin = os.environ.get("DATABASE_ADMIN_URL")
    else:
        from crm.embedded_db import embedded_admin_url

        admin = embedded_admin_url()
    creator = admin or url  # else the app role needs CREATEDB
    exists = database_exists(creator, database)
    with psycopg.connect(creator, autocommit=True) as conn:
        if exists and recreate:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))
            exists = False
        if not exists:
            stmt = "CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0"
            conn.execute(sql.SQL(stmt).format(sql.Identifier(database), sql.Identifier(owner)))
    return not exists


def drop_database(database: str) -> None:
    """Drop the benchmark database, to free the disk after a run. The caller checked the name with bench_url()
    before pointing the app at it (DATABASE_URL names the benchmark database by now)."""
    admin = os.environ.get("DATABASE_ADMIN_URL")
    creator = admin or _with_database(app_url(), "postgres")
    with psycopg.connect(creator, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
