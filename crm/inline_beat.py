"""The beat schedule without a broker: with no REDIS_URL (the embedded demo) there is no worker and no beat, so
`manage.py rundemo` runs this thread, which calls each periodic task of CELERY_BEAT_SCHEDULE in-process when it
is due. The tasks are the same code a real beat sends to a worker; only the trigger differs."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from celery.schedules import BaseSchedule, schedule
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)

# Liveness of an in-process runner is the process itself; /healthz says "inline" for it.
SKIPPED = {"crm.tasks.worker_heartbeat"}


def _as_schedule(value: Any) -> BaseSchedule:
    if isinstance(value, BaseSchedule):
        return value
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return schedule(run_every=timedelta(seconds=seconds))


class InlineBeat:
    """Due-time bookkeeping for the schedule, separate from the thread so it can be tested with a fixed clock."""

    def __init__(self, entries: dict[str, dict[str, Any]], *, started: datetime) -> None:
        self.entries = {
            name: _as_schedule(entry["schedule"])
            for name, entry in entries.items()
            if entry["task"] not in SKIPPED
        }
        self.tasks = {name: entries[name]["task"] for name in self.entries}
        self.last_run = dict.fromkeys(self.entries, started)

    def due(self, now: datetime) -> tuple[list[str], float]:
        """Names of the entries due at `now` (marked as run), and the seconds until the next check."""
        due, wait = [], 3600.0
        for name, sched in self.entries.items():
            sched.nowfun = lambda: now  # type: ignore[attr-defined]  # judge against the given clock
            is_due, next_check = sched.is_due(self.last_run[name])
            if is_due:
                due.append(name)
                self.last_run[name] = now
            wait = min(wait, next_check)
        return due, max(wait, 1.0)


def _run(task_name: str) -> None:
    from crm.celery import app

    close_old_connections()
    try:
        app.tasks[task_name].apply(throw=True)
    except Exception:  # noqa: BLE001 - one failing job must not stop the others; it is logged with its trace
        logger.exception("periodic task %s failed", task_name)
    finally:
        close_old_connections()


def start() -> threading.Thread | None:
    """Start the daemon thread when there is no broker; returns it (None with a real beat)."""
    if settings.REDIS_URL:
        return None
    beat = InlineBeat(settings.CELERY_BEAT_SCHEDULE, started=timezone.now())
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            names, wait = beat.due(timezone.now())
            for name in names:
                _run(beat.tasks[name])
            stop.wait(wait)

    thread = threading.Thread(target=loop, name="inline-beat", daemon=True)
    thread.start()
    return thread
