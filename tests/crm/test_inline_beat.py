"""The in-process beat of the embedded demo (no REDIS_URL): the same schedule as the real beat, run inline."""

from __future__ import annotations

from datetime import UTC, datetime

from celery.schedules import crontab
from django.conf import settings

from crm.inline_beat import InlineBeat


def at(hour: int, minute: int, day: int = 29) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_crontab_and_interval_entries_fire_when_due_and_once():
    beat = InlineBeat(
        {
            "heartbeat": {"task": "crm.tasks.worker_heartbeat", "schedule": 30.0},
            "daily": {
                "task": "leads.tasks.return_stale_leads_all_tenants",
                "schedule": crontab(hour=19, minute=20),
            },
            "hourly": {"task": "x.hourly", "schedule": 3600.0},
        },
        started=at(19, 0),
    )
    assert set(beat.tasks) == {
        "daily",
        "hourly",
    }  # the heartbeat is the real worker's liveness, not run inline
    due, wait = beat.due(at(19, 10))
    assert due == []
    assert 1.0 <= wait <= 600
    assert beat.due(at(19, 21))[0] == ["daily"]
    assert beat.due(at(19, 30))[0] == []
    assert beat.due(at(20, 1))[0] == ["hourly"]
    assert sorted(beat.due(at(19, 21, day=30))[0]) == ["daily", "hourly"]  # a day later both are due again


def test_every_scheduled_task_exists():
    """A beat entry naming a task that no app registers would fail silently in production and in the demo."""
    from crm.celery import app

    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
