"""The Redis cache answers as an empty cache, and logs, while Redis cannot be reached (crm/cache.py)."""

from __future__ import annotations

import logging

from crm import cache as resilient
from crm.cache import ResilientRedisCache


def _unreachable() -> ResilientRedisCache:
    # Nothing listens on the discard port.
    return ResilientRedisCache("redis://127.0.0.1:9/0", {"OPTIONS": {"socket_connect_timeout": 0.5}})


def test_every_call_answers_as_an_empty_cache_when_redis_is_down(caplog, monkeypatch):
    monkeypatch.setattr(resilient, "_last_logged", float("-inf"))
    cache = _unreachable()
    with caplog.at_level(logging.ERROR, logger="crm.cache"):
        assert cache.get("k") is None
        assert cache.get("k", "fallback") == "fallback"
        assert cache.get_many(["a", "b"]) == {}
        assert cache.add("k", 1) is False
        cache.set("k", 1)
        assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
        assert cache.incr("k") == 1 and cache.incr("k", 5) == 5
        assert cache.delete("k") is False
        assert cache.has_key("k") is False
        assert cache.touch("k") is False
        cache.delete_many(["a"])
        cache.clear()
    # Logged once for the burst, not once per call.
    assert [record.getMessage()[:36] for record in caplog.records] == ["cache unavailable (Redis): get answe"]
