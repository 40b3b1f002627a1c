"""One Redis client per process for small shared flags and counters (rate windows,
wake-up flags). Short timeouts: callers treat Redis as optional and fail open."""

from __future__ import annotations

import redis
from django.conf import settings

_client: redis.Redis | None = None


def redis_client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=0.2, socket_timeout=0.2
        )
    return _client
