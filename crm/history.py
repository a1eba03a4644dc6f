"""Who made a change: the actor stamped into django-pghistory's context, for every app's services."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import pghistory
from pghistory import runtime

from crm.models import User

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def history_actor(actor: User | None, **extra: Any) -> Iterator[None]:
    """Book the tracked writes inside the block to `actor` (None: the system), with optional extra metadata.

    A context is opened for a system actor too: pghistory keeps its context id in transaction-local settings,
    so a write after an earlier context closed in the same transaction would otherwise be booked to that earlier
    actor. Inside an outer context of another actor (a task acting for several people, a service called for
    someone else during a request), the block gets a fresh context and the outer one is restored after it,
    because pghistory merges nested metadata into one context row and would re-book the outer events too.
    """
    user_id = actor.pk if actor is not None else None
    outer = getattr(runtime._tracker, "value", None)
    if outer is None:
        with pghistory.context(user=user_id, **extra):
            yield
        return
    if outer.metadata.get("user") == user_id:
        with pghistory.context(**extra):
            yield
        return
    runtime._tracker.value = runtime.Context(
        id=uuid.uuid4(), metadata={**outer.metadata, **extra, "user": user_id}
    )
    try:
        yield
    finally:
        runtime._tracker.value = outer


def stamps_actor(func: Callable[P, R]) -> Callable[P, R]:
    """Run a keyword-only service inside history_actor(its `actor` argument; none given: the system)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        actor = kwargs.get("actor")
        with history_actor(actor if isinstance(actor, User) else None):
            return func(*args, **kwargs)

    return wrapper
