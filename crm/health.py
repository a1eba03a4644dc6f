"""Health report for load balancers: database, Redis and the Celery worker heartbeat."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection

HEARTBEAT_KEY = "platform:worker-heartbeat"


def record_heartbeat() -> None:
    cache.set(HEARTBEAT_KEY, time.time(), timeout=settings.WORKER_HEARTBEAT_MAX_AGE * 10)


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"status": "ok"}
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return {"status": "error", "error": exc.__class__.__name__}


def _redis() -> dict:
    if not settings.REDIS_URL:
        return {"status": "disabled"}
    try:
        import redis

        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
        return {"status": "ok"}
    except Exception as exc:  # noqa: BLE001
        return {"status": "error", "error": exc.__class__.__name__}


def _worker() -> dict:
    if not settings.REDIS_URL:
        return {"status": "inline", "detail": "tasks run in-process (no REDIS_URL)"}
    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception as exc:  # noqa: BLE001
        return {"status": "error", "error": exc.__class__.__name__}
    if beat is None:
        return {"status": "error", "error": "no heartbeat"}
    age = time.time() - float(beat)
    status = "ok" if age <= settings.WORKER_HEARTBEAT_MAX_AGE else "error"
    return {"status": status, "age_seconds": round(age, 1)}


def report() -> dict:
    checks = {"database": _database(), "redis": _redis(), "worker": _worker()}
    healthy = all(check["status"] in {"ok", "disabled", "inline"} for check in checks.values())
    return {"status": "ok" if healthy else "error", "checks": checks}
