"""The Redis cache, degrading instead of failing while Redis is unreachable.

Django's RedisCache raises on every call when Redis is down, and the cache sits on the path of ordinary requests
(the API's rate limits, the debounced KPI recompute after a save, the survey rate limit): a stopped Redis would
turn those pages and writes into 500s. This backend answers as a cache that holds nothing instead (a read is a
miss, a write is not kept, `add` keeps nothing and says so) and logs the outage, at most once every
`LOG_EVERY` seconds per process. What that costs while Redis is down: the API rate limits count per web process
instead of across all of them (`OutageFallbackCache` below), the debounce of the recompute after a change is not
seen (the task goes to the outbox, crm.outbox, and the outbox keeps one row per task and arguments), the worker
heartbeat is not seen (/healthz says so).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis.exceptions
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
LOG_EVERY = 30.0
_last_logged = 0.0
# Whether this thread's latest call of a ResilientRedisCache met an outage (and was answered as a miss): the callers
# that must tell "not there" from "Redis down" ask `unavailable()` right after their call.
_state = threading.local()


def unavailable() -> bool:
    """Whether the latest cache call of this thread was answered as a miss because Redis was unreachable."""
    return bool(getattr(_state, "degraded", False))


def _log_outage(operation: str, exc: BaseException) -> None:
    global _last_logged
    now = time.monotonic()
    if now - _last_logged >= LOG_EVERY:
        _last_logged = now
        logger.error("cache unavailable (Redis): %s answered as a miss: %r", operation, exc)


def _degrading(fallback: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def wrapper(self: ResilientRedisCache, *args: Any, **kwargs: Any) -> Any:
            try:
                answer = method(self, *args, **kwargs)
            except UNAVAILABLE as exc:
                _state.degraded = True
                _log_outage(method.__name__, exc)
                return fallback(*args, **kwargs)
            _state.degraded = False
            return answer

        return wrapper

    return decorate


def _default(key: Any, default: Any = None, *args: Any, **kwargs: Any) -> Any:
    return default


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


def _false(*args: Any, **kwargs: Any) -> bool:
    return False


def _empty(*args: Any, **kwargs: Any) -> dict:
    return {}


def _all_failed(data: dict, *args: Any, **kwargs: Any) -> list:
    return list(data)


def _delta(key: Any, delta: int = 1, *args: Any, **kwargs: Any) -> int:
    return delta  # as for a key that was not there: the first of the window


class ResilientRedisCache(RedisCache):
    """RedisCache whose calls answer as an empty cache (and log) while Redis is unreachable."""

    get = _degrading(_default)(RedisCache.get)
    get_many = _degrading(_empty)(RedisCache.get_many)
    set = _degrading(_nothing)(RedisCache.set)
    set_many = _degrading(_all_failed)(RedisCache.set_many)
    add = _degrading(_false)(RedisCache.add)
    touch = _degrading(_false)(RedisCache.touch)
    delete = _degrading(_false)(RedisCache.delete)
    delete_many = _degrading(_nothing)(RedisCache.delete_many)
    has_key = _degrading(_false)(RedisCache.has_key)
    incr = _degrading(_delta)(RedisCache.incr)
    clear = _degrading(_false)(RedisCache.clear)


class OutageFallbackCache:
    """The default cache, or a per-process memory cache for the calls it cannot answer while Redis is down.

    For the rate limits (crm.throttling, the token endpoint's throttles in crm.api): answered by an empty cache,
    they would count nothing while Redis is down, and a leaked token or a password-guessing script would meet no
    limit at all during the outage. Counted per process instead, the limit holds per web process (N processes let
    through at most N times the rate: looser, never absent), and the counts start afresh in Redis when it is back.
    Everything else keeps failing open (see the module's docstring)."""

    def __init__(self) -> None:
        self._local: Any = None

    @property
    def local(self) -> Any:
        if self._local is None:
            from django.core.cache.backends.locmem import LocMemCache

            self._local = LocMemCache("crm-outage-fallback", {"OPTIONS": {"MAX_ENTRIES": 10000}})
        return self._local

    def get(self, key: str, default: Any = None) -> Any:
        from django.core.cache import cache

        value = cache.get(key, default)
        if unavailable():
            return self.local.get(key, default)
        return value

    def set(self, key: str, value: Any, timeout: Any = None) -> None:
        from django.core.cache import cache

        cache.set(key, value, timeout)
        if unavailable():
            self.local.set(key, value, timeout)


#: The rate limits' cache (DRF's throttles read `cache` from their class).
throttle_cache: Any = (
    OutageFallbackCache()
)  # DRF types `cache` as a BaseCache; this has the two calls it makes
