"""The embedded demo's worker thread: queued tasks run off the request's thread, in order, countdown honoured."""

from __future__ import annotations

import threading

from celery.app.task import Task

from crm import inline_worker
from crm.celery import app

seen: list[tuple[str, str]] = []
done = threading.Event()


@app.task(name="tests.inline_worker.record")
def record(value: str, last: bool = False) -> None:
    seen.append((value, threading.current_thread().name))
    if value == "parent":
        record.delay("child")  # a task queued by a task runs right after it, on the same thread
    if last:
        done.set()


def test_queued_tasks_run_on_the_worker_thread_in_order(settings):
    settings.REDIS_URL = ""
    original = Task.apply_async
    worker = inline_worker.start()
    assert worker is not None
    try:
        record.delay("parent")
        record.apply_async(("later",), {"last": True}, countdown=0.2)
        record.delay("second")
        assert done.wait(10)
    finally:
        worker.stop()
    assert Task.apply_async is original  # stopped: tasks run eagerly again, as in every other test
    assert [value for value, _thread in seen] == ["parent", "child", "second", "later"]
    assert {thread for _value, thread in seen} == {inline_worker.THREAD_NAME}


def test_not_started_with_a_broker(settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert inline_worker.start() is None
