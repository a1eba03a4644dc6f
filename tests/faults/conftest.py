"""Fixtures of the fault tests: private servers and the test database's URL for the processes they start."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.faults.procs import PrivateRedis, Worker


def database_url_of_test_database() -> str:
    """The app role's URL of the test database (pytest-django has switched NAME to it), for a worker process."""
    db = settings.DATABASES["default"]
    return f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def start_worker(private_redis, tmp_path):
    """start_worker() -> a running Worker on the test database and the private Redis; all stopped at the end."""
    started: list[Worker] = []

    def _start() -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        worker = Worker(database_url=database_url_of_test_database(), redis_url=private_redis.url, log=log)
        started.append(worker)
        return worker.start()

    yield _start
    for worker in started:
        worker.stop()
