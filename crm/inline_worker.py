"""A worker thread for the embedded demo: with no REDIS_URL there is no broker and Celery runs tasks eagerly,
inside the request that queued them, so logging a call waited for the KPI recompute it triggered (~15 s on the
demo data). `manage.py rundemo` starts this thread once the demo data is loaded: from then on a queued task
(`delay`, `apply_async`, the on-commit recomputes) goes to an in-process queue and runs here, one at a time, in
the order queued; `countdown` is honoured with a timer, so the debounced recomputes still gather a burst. The
tasks are the same code a real worker runs; tests and a deployment with Redis never start it.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable
from typing import Any

from celery import states
from celery.app.task import Task
from celery.result import EagerResult
from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)

THREAD_NAME = "inline-worker"


class InlineWorker:
    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[str, tuple, dict] | None] = queue.Queue()
        self.thread = threading.Thread(target=self._loop, name=THREAD_NAME, daemon=True)
        self._original: Callable[..., Any] | None = None

    def start(self) -> InlineWorker:
        self._original = Task.apply_async
        worker = self
        original = self._original

        def apply_async(task: Task, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
            if threading.current_thread() is worker.thread and not options.get("countdown"):
                return original(
                    task, args, kwargs, **options
                )  # a task queued by a task runs at once, in order
            worker.submit(task.name, tuple(args or ()), dict(kwargs or {}), options.get("countdown"))
            return EagerResult(str(uuid.uuid4()), None, states.PENDING)

        Task.apply_async = apply_async  # type: ignore[method-assign]
        self.thread.start()
        return self

    def submit(self, name: str, args: tuple, kwargs: dict, countdown: float | None = None) -> None:
        if countdown:
            timer = threading.Timer(float(countdown), self.queue.put, args=((name, args, kwargs),))
            timer.daemon = True
            timer.start()
        else:
            self.queue.put((name, args, kwargs))

    def stop(self) -> None:
        if self._original is not None:
            Task.apply_async = self._original  # type: ignore[method-assign]
            self._original = None
        self.queue.put(None)
        self.thread.join(timeout=10)

    def _loop(self) -> None:
        from crm.celery import app

        while True:
            item = self.queue.get()
            if item is None:
                return
            name, args, kwargs = item
            close_old_connections()
            try:
                app.tasks[name].apply(args, kwargs, throw=True)
            except Exception:  # noqa: BLE001 - one failing task must not stop the others; it is logged with its trace
                logger.exception("task %s failed", name)
            finally:
                close_old_connections()
                self.queue.task_done()


def start() -> InlineWorker | None:
    """Start the worker thread when there is no broker; returns it (None with Redis, where real workers run)."""
    if settings.REDIS_URL:
        return None
    return InlineWorker().start()
