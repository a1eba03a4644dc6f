"""/healthz: database, Redis and worker-heartbeat checks for load balancers.

With REDIS_URL set (CI, docker-compose) a real Celery worker with embedded beat is started in a subprocess and
must get its heartbeat onto /healthz; without it, tasks run in-process and the worker check says so.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from crm import health
from crm.tasks import worker_heartbeat

BASE_DIR = Path(__file__).resolve().parent.parent
WORKER_START_TIMEOUT = 60  # seconds: worker boot plus beat's first 30 s tick
# The worker test runs against its own Redis database, so it neither consumes tasks that other test runs left
# in the shared broker queue nor races them for the heartbeat key.
WORKER_TEST_REDIS_DB = 15


def _healthz(client) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


@pytest.mark.django_db
def test_healthz_reports_each_check_and_200_when_healthy(client):
    health.record_heartbeat()  # what the worker does every 30 s

    status, body = _healthz(client)

    assert status == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "worker"}
    assert body["checks"]["database"] == {"status": "ok"}
    if settings.REDIS_URL:
        assert body["checks"]["redis"] == {"status": "ok"}
        assert body["checks"]["worker"]["status"] == "ok"
        assert body["checks"]["worker"]["age_seconds"] < settings.WORKER_HEARTBEAT_MAX_AGE
    else:
        assert body["checks"]["redis"] == {"status": "disabled"}
        assert body["checks"]["worker"]["status"] == "inline"


@pytest.mark.django_db
def test_healthz_needs_no_login(client):
    status, body = _healthz(client)

    assert status in {200, 503}
    assert "checks" in body


@pytest.mark.django_db
@override_settings(
    REDIS_URL="redis://127.0.0.1:9/0",  # nothing listens on the discard port
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "healthz"}},
)
def test_healthz_is_503_when_redis_is_unreachable_and_no_worker_beats(client):
    cache.clear()

    status, body = _healthz(client)

    assert status == 503
    assert body["status"] == "error"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["redis"] == {"status": "error", "error": "ConnectionError"}
    assert body["checks"]["worker"] == {"status": "error", "error": "no heartbeat"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_heartbeat_is_stale(client, settings):
    settings.REDIS_URL = settings.REDIS_URL or "redis://127.0.0.1:9/0"
    cache.set(health.HEARTBEAT_KEY, time.time() - settings.WORKER_HEARTBEAT_MAX_AGE - 5)

    status, body = _healthz(client)

    assert status == 503
    assert body["checks"]["worker"]["status"] == "error"
    assert body["checks"]["worker"]["age_seconds"] > settings.WORKER_HEARTBEAT_MAX_AGE
    cache.delete(health.HEARTBEAT_KEY)


def _redis_url_with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def _stop(process: subprocess.Popen) -> None:
    """Warm shutdown of the worker's whole process group (worker, pool children, beat), then kill."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.mark.django_db
def test_worker_heartbeat_reaches_healthz(client, tmp_path):
    if not settings.REDIS_URL:
        # No broker: the task runs in-process when called, and /healthz says tasks are inline.
        cache.delete(health.HEARTBEAT_KEY)
        worker_heartbeat.delay()
        assert cache.get(health.HEARTBEAT_KEY) is not None
        status, body = _healthz(client)
        assert status == 200
        assert body["checks"]["worker"]["status"] == "inline"
        return

    redis_url = _redis_url_with_db(settings.REDIS_URL, WORKER_TEST_REDIS_DB)
    redis.Redis.from_url(redis_url).flushdb()  # stale broker messages and heartbeats from earlier runs
    log_path = tmp_path / "celery.log"
    env = {**os.environ, "REDIS_URL": redis_url, "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "crm",
        "worker",
        "-B",
        "--loglevel=warning",
        "--concurrency=1",
        "--without-gossip",
        "--without-mingle",
        f"--schedule-filename={tmp_path / 'celerybeat-schedule'}",
        f"--hostname=healthz-test-{os.getpid()}@%h",
    ]
    redis_cache = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    with (
        override_settings(REDIS_URL=redis_url, CACHES=redis_cache),
        open(log_path, "wb") as log,
    ):
        status, body = _healthz(client)
        assert status == 503, "no worker runs yet, so there must be no heartbeat"
        assert body["checks"]["worker"] == {"status": "error", "error": "no heartbeat"}

        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + WORKER_START_TIMEOUT
            while time.monotonic() < deadline and process.poll() is None:
                status, body = _healthz(client)
                if body["checks"]["worker"]["status"] == "ok":
                    break
                time.sleep(1)
        finally:
            _stop(process)
        output = log_path.read_text(errors="replace")

    assert body["checks"]["worker"]["status"] == "ok", (
        f"no heartbeat within {WORKER_START_TIMEOUT}s:\n{output}"
    )
    assert status == 200, body
    assert body["checks"]["redis"] == {"status": "ok"}
