"""PostgreSQL restarted under traffic, against real processes: gunicorn serving the app from a private PostgreSQL
cluster (its own data directory and port, the crm_owner/crm_app roles made as crm/dbroles.py makes them, the schema
of the migrated test database), while client threads create leads through the API and read pages and lists.

The test stops the cluster (fast shutdown: sessions are cut mid-request) and starts it again. During the outage
every request answers 503 with Retry-After (JSON under /api/, a page elsewhere), never 500; afterwards the app
serves again by itself, on the same gunicorn process (persistent connections are health-checked); and every
lead whose creation was answered 201 is in the database."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests
from celery import Celery
from django.conf import settings
from django.db import connection

from crm import dbroles
from tests.factories import PASSWORD
from tests.faults.procs import BASE_DIR, PYTHON, PrivatePostgres, WebServer, Worker, wait_until

SLUG = "restart"
EMAIL = "admin@restart.test"
CLIENTS = 3
TIMEOUT = 120.0


def _shared_admin_url(database: str) -> str:
    admin_url = os.environ.get("DATABASE_ADMIN_URL", "")
    if not admin_url:
        from crm.embedded_db import embedded_admin_url

        admin_url = embedded_admin_url()
    return dbroles.database_url(admin_url, database)


def _copy_schema(cluster: PrivatePostgres) -> None:
    """The schema of the migrated test database (tables, row-level security, triggers, functions) and the
    migration-made reference rows, loaded as the owner role into the private cluster's database crm."""
    source = _shared_admin_url(settings.DATABASES["default"]["NAME"])
    dump = subprocess.run(
        [str(cluster.bin / "pg_dump"), "--schema-only", "--no-owner", "--no-privileges", source],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    reference = subprocess.run(
        [
            str(cluster.bin / "pg_dump"),
            "--data-only",
            "--table=django_content_type",
            "--table=auth_permission",
            "--table=django_migrations",
            source,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    target = dbroles.database_url(cluster.admin_url, "crm")
    subprocess.run(
        [str(cluster.bin / "psql"), "-q", "-v", "ON_ERROR_STOP=1", target],
        input=f"SET ROLE {dbroles.DEFAULT_OWNER_ROLE};\n{dump}\n{reference}",
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )


@dataclass
class Traffic:
    """Responses seen by the client threads, in order: (phase, kind, status, retry-after, lead email), and the
    phase each request was sent in."""

    phase: str = "up"
    seen: list[tuple[str, str, int, str | None, str]] = field(default_factory=list)
    sent_in: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, sent_in: str, kind: str, response: requests.Response, email: str = "") -> None:
        """`sent_in`: the phase in force when the request was sent (the answer is booked to the current one)."""
        with self.lock:
            self.seen.append(
                (self.phase, kind, response.status_code, response.headers.get("Retry-After"), email)
            )
            self.sent_in.append(sent_in)

    def count(self, phase: str, ok: bool | None = None) -> int:
        with self.lock:
            return sum(1 for seen in self.seen if seen[0] == phase and (ok is None or (seen[2] < 400) == ok))


def _client(server: WebServer, token: str, browser: requests.Session, traffic: Traffic, number: int) -> None:
    api = {"Authorization": f"Token {token}"}
    api_base, page = f"{server.url}/api/v1/t/{SLUG}", f"{server.url}/t/{SLUG}/leads/"
    n = 0
    while not traffic.stop.is_set():
        n += 1
        email = f"c{number}-{n}@restart.test"
        phase = traffic.phase
        created = requests.post(
            f"{api_base}/leads/",
            json={"last_name": f"C{number} {n}", "email": email},
            headers=api,
            timeout=30,
        )
        traffic.record(phase, "api write", created, email)
        if created.status_code == 503:
            assert created.headers["Content-Type"].startswith("application/json"), created.text[:300]
            assert created.json()["detail"]
        phase = traffic.phase
        traffic.record(phase, "api read", requests.get(f"{api_base}/leads/", headers=api, timeout=30))
        phase = traffic.phase
        read = browser.get(page, timeout=30)
        traffic.record(phase, "page", read)
        if read.status_code == 503:
            assert 'data-testid="error-503"' in read.text


@contextmanager
def _private_cluster_with_tenant() -> Iterator[tuple[PrivatePostgres, str]]:
    """A private cluster holding the test database's schema and the tenant SLUG with its admin EMAIL; yields it
    and the app role's URL, and removes it at the end."""
    workdir = Path(tempfile.mkdtemp(prefix="crm-faults-pg-"))
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        major = int(cursor.fetchone()[0]) // 10000
    cluster = PrivatePostgres(workdir, major=major).init()
    try:
        cluster.start()
        dbroles.ensure_roles(
            cluster.admin_url,
            app_role="crm_app",
            app_password="crm_app",
            owner_role=dbroles.DEFAULT_OWNER_ROLE,
            database="crm",
        )
        _copy_schema(cluster)
        dbroles.prepare_database(
            cluster.admin_url, "crm", app_role="crm_app", owner_role=dbroles.DEFAULT_OWNER_ROLE
        )
        app_url = f"postgresql://crm_app:crm_app@127.0.0.1:{cluster.port}/crm"
        env = {
            "DATABASE_URL": app_url,
            "DATABASE_ADMIN_URL": cluster.admin_url,
            "REDIS_URL": "",  # tasks in-process: this test is about the database
            "KPI_RECOMPUTE_ON_CHANGE": "0",
        }
        subprocess.run(
            [
                PYTHON,
                "manage.py",
                "create_tenant",
                SLUG,
                "--name",
                "Restart",
                "--time-zone",
                "UTC",
                "--currency",
                "USD",
                "--admin-email",
                EMAIL,
                "--admin-password",
                PASSWORD,
            ],
            cwd=BASE_DIR,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield cluster, app_url
    finally:
        if cluster.running():
            cluster.stop("immediate")
        shutil.rmtree(workdir, ignore_errors=True)


def _web_server(cluster: PrivatePostgres, app_url: str, log: Path) -> WebServer:
    """gunicorn on the private cluster with persistent connections (DB_CONN_MAX_AGE, as docker-compose sets)."""
    return WebServer(
        database_url=app_url,
        redis_url="",
        log=log,
        DATABASE_ADMIN_URL=cluster.admin_url,
        KPI_RECOMPUTE_ON_CHANGE="0",
        DB_CONN_MAX_AGE="600",
    ).start()


def _login(server: WebServer) -> requests.Session:
    browser = requests.Session()
    browser.get(f"{server.url}/login/", timeout=30)
    login = browser.post(
        f"{server.url}/login/",
        data={"username": EMAIL, "password": PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": f"{server.url}/login/"},
        timeout=30,
        allow_redirects=False,
    )
    assert login.status_code == 302
    return browser


def _token(server: WebServer) -> str:
    return requests.post(
        f"{server.url}/api/v1/auth/token/",
        json={"email": EMAIL, "password": PASSWORD, "tenant": SLUG},
        timeout=30,
    ).json()["token"]


@pytest.mark.django_db  # the schema comes from the migrated test database
def test_postgres_restart_answers_503_meanwhile_and_recovers_without_losing_a_write(tmp_path):
    server = None
    with _private_cluster_with_tenant() as (cluster, app_url):
        try:
            server = _web_server(cluster, app_url, tmp_path / "web.log")
            token = _token(server)
            browsers = [_login(server) for _number in range(CLIENTS)]

            traffic = Traffic()
            clients = [
                threading.Thread(target=_client, args=(server, token, browsers[i], traffic, i), daemon=True)
                for i in range(CLIENTS)
            ]
            for client in clients:
                client.start()
            wait_until(lambda: traffic.count("up", ok=True) >= 15, timeout=TIMEOUT, what="traffic")

            traffic.phase = "down"  # from here on (a request in flight may already meet the shutdown)
            cluster.stop("fast")  # sessions are terminated, in-flight requests lose their connection
            wait_until(
                lambda: traffic.count("down") >= 15, timeout=TIMEOUT, what="requests during the outage"
            )
            cluster.start()
            traffic.phase = "back"
            wait_until(
                lambda: traffic.count("back", ok=True) >= 30, timeout=TIMEOUT, what="the app to serve again"
            )
            traffic.phase = "done"
            traffic.stop.set()
            for client in clients:
                client.join(timeout=60)

            statuses = Counter((phase, kind, status) for phase, kind, status, _retry, _email in traffic.seen)
            assert not [s for s in statuses if s[2] >= 500 and s[2] != 503], statuses  # no 500 at all
            assert {status for phase, kind, status in statuses if phase == "up"} <= {200, 201}, statuses
            down = [seen for seen in traffic.seen if seen[0] == "down"]
            assert sum(1 for seen in down if seen[2] == 503) >= 10, statuses
            assert all(seen[3] for seen in traffic.seen if seen[2] == 503)  # Retry-After on every 503
            # Recovered at once: every request sent after the cluster accepted connections again succeeds (the
            # phase is the one in force when the request was sent), the first ones included.
            back = [
                seen
                for seen, sent_in in zip(traffic.seen, traffic.sent_in, strict=True)
                if sent_in in ("back", "done")
            ]
            assert len(back) >= 30 and all(seen[2] < 400 for seen in back), statuses
            # No committed write lost: every 201 is a row.
            answered = {
                email
                for _phase, kind, status, _retry, email in traffic.seen
                if kind == "api write" and status == 201
            }
            with psycopg.connect(dbroles.database_url(cluster.admin_url, "crm")) as conn:
                stored = {row[0] for row in conn.execute("SELECT email FROM leads_lead")}
            assert answered and answered <= stored
            log = server.log.read_text()
            assert "Internal Server Error" not in log
        finally:
            if server is not None:
                server.stop()


def _app_connections(cluster: PrivatePostgres) -> set[int]:
    with psycopg.connect(dbroles.database_url(cluster.admin_url, "crm")) as conn:
        return {
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE usename = 'crm_app' AND datname = 'crm'"
            )
        }


@pytest.mark.django_db  # the schema comes from the migrated test database
def test_the_first_requests_after_a_restart_succeed_on_persistent_connections(tmp_path, private_redis):
    """No traffic during the outage, so every web thread and the worker still hold the connection the restart
    killed: the first request of each thread, and the worker's first task, must find it dead and reconnect
    (CONN_HEALTH_CHECKS) instead of failing once with 500 or a retry."""
    server = None
    worker = None
    with _private_cluster_with_tenant() as (cluster, app_url):
        try:
            server = _web_server(cluster, app_url, tmp_path / "web.log")
            worker = Worker(database_url=app_url, redis_url=private_redis.url, log=tmp_path / "worker.log")
            worker.env.update({"DATABASE_ADMIN_URL": cluster.admin_url, "DB_CONN_MAX_AGE": "600"})
            worker.start()
            token = _token(server)
            browser = _login(server)
            with psycopg.connect(dbroles.database_url(cluster.admin_url, "crm")) as conn:
                (tenant_id,) = conn.execute("SELECT id FROM crm_tenant WHERE slug = %s", [SLUG]).fetchone()

            def burst(round_: int) -> list[int]:
                """Four requests at once (gunicorn has four threads): pages, API reads and an API write."""
                api = {"Authorization": f"Token {token}"}
                calls = [
                    lambda: browser.get(f"{server.url}/t/{SLUG}/leads/", timeout=30),
                    lambda: requests.get(f"{server.url}/api/v1/t/{SLUG}/leads/", headers=api, timeout=30),
                    lambda: requests.post(
                        f"{server.url}/api/v1/t/{SLUG}/leads/",
                        json={"last_name": f"R{round_}", "email": f"r{round_}@restart.test"},
                        headers=api,
                        timeout=30,
                    ),
                    lambda: requests.get(f"{server.url}/api/v1/t/{SLUG}/accounts/", headers=api, timeout=30),
                ]
                with ThreadPoolExecutor(len(calls)) as pool:
                    return [response.status_code for response in pool.map(lambda call: call(), calls)]

            def task_runs() -> int:
                return sum(
                    1
                    for line in worker.log.read_text().splitlines()
                    if "Task sales_ops.tasks.recompute_kpis[" in line and " succeeded in " in line
                )

            # Warm up: the web threads and the worker open their persistent connections.
            for round_ in range(3):
                assert burst(round_) == [200, 200, 201, 200]
            _send(private_redis.url, "sales_ops.tasks.recompute_kpis", tenant_id)
            wait_until(lambda: task_runs() == 1, timeout=TIMEOUT, what="the worker's first task")
            before = _app_connections(cluster)
            assert len(before) >= 2, before  # at least one web thread's and the worker's

            cluster.stop("fast")  # every session is terminated; nobody asks meanwhile
            cluster.start()
            # The web threads' and the worker's connections died with the restart.
            assert _app_connections(cluster) == set()

            # The very first requests after the restart, one per thread, and the next rounds: all succeed.
            assert [burst(round_) for round_ in (10, 11, 12)] == [[200, 200, 201, 200]] * 3
            runs = task_runs()
            _send(private_redis.url, "sales_ops.tasks.recompute_kpis", tenant_id)
            wait_until(
                lambda: task_runs() >= runs + 1, timeout=TIMEOUT, what="the worker's task after the restart"
            )
            wait_until(
                lambda: worker.log.read_text().count("succeeded in") >= 2,
                timeout=TIMEOUT,
                what="the task to end",
            )
            log = worker.log.read_text()
            assert "Retry in" not in log and "OperationalError" not in log, log[-3000:]
            assert "Internal Server Error" not in server.log.read_text()
        finally:
            if worker is not None:
                worker.stop()
            if server is not None:
                server.stop()


def _send(redis_url: str, task: str, *args: object) -> None:
    client = Celery(
        broker=redis_url, set_as_current=False
    )  # crm's app stays the current one (eager in tests)
    client.conf.task_serializer = "json"
    client.send_task(task, args=list(args))
    client.close()
