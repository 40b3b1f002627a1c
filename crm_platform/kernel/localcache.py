"""In-process caches that every process drops together.

A warm lookup is a dict access: no query, no network. A change calls `invalidate()`,
which clears this process's dict at once and, after commit, bumps a generation counter
in Redis; other processes compare generations at most every `check_seconds` and clear
theirs. If Redis is unreachable the dict is simply dropped at each check (a short TTL).
Used for host -> tenant resolution and API token lookups.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable

import redis
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

_MISSING = object()


class GenerationCache:
    def __init__(self, name: str, *, max_entries: int = 10_000):
        self.key = f"crm:{name}:generation"
        self.max_entries = max_entries  # misses are cached too; bound what a flood costs
        self._entries: dict[Hashable, object] = {}
        self._lock = threading.Lock()
        self._generation: bytes | None = None
        self._checked_at = 0.0
        self._redis = None

    def _client(self):
        if self._redis is None:
            self._redis = redis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=0.2, socket_timeout=0.2
            )
        return self._redis

    def _sync(self, now: float) -> None:
        self._checked_at = now
        try:
            generation = self._client().get(self.key)
        except redis.RedisError:
            generation = None
            self._entries = {}
        if generation != self._generation:
            self._entries = {}
            self._generation = generation

    def get(self, key: Hashable, load: Callable[[Hashable], object]):
        now = time.monotonic()
        if now - self._checked_at > settings.TENANT_CACHE_CHECK_SECONDS:
            with self._lock:
                self._sync(now)
        value = self._entries.get(key, _MISSING)
        if value is _MISSING:
            value = load(key)
            if len(self._entries) >= self.max_entries:
                self._entries = {}
            self._entries[key] = value
        return value

    def clear_local(self) -> None:
        self._entries = {}

    def bump(self) -> None:
        try:
            self._client().incr(self.key)
        except redis.RedisError:
            logger.warning("cache %s: could not bump generation", self.key, exc_info=True)

    def invalidate(self, **_signal_kwargs) -> None:
        """Drop this process's entries now; every process's after commit."""
        self.clear_local()
        transaction.on_commit(self.bump)
        # Clear again after commit, in case this process re-read the old row meanwhile.
        transaction.on_commit(self.clear_local)
