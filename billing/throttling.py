"""The plan's API rate: requests per minute per company, counted in Redis.

A fixed one-minute window per company, counted by a small server-side script (INCRBY,
and EXPIRE when the window's key has no expiry yet): one atomic command and one reply.

Each process takes the window's requests from Redis in blocks of up to 1% of the rate
(at most 16; one request at a time below 200 a minute) and hands them out locally, so a
busy company's requests mostly skip the round trip (~10% of a small list request's time).
A block counts in Redis when taken, so the rate is never exceeded; near the limit, the
unused rest of other processes' blocks can refuse a few requests early (at most 1% of
the rate per process).

The plan's rate is read through a short-lived process cache: plans change rarely and the
request path must not query the public schema each time. If Redis is unreachable the
request passes (logged), like the other rate limits.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from django.conf import settings
from django.db import connection
from rest_framework.throttling import BaseThrottle

from crm_platform.kernel.redis_client import redis_client

from .selectors import plan_limits

logger = logging.getLogger(__name__)

RATE_CACHE_SECONDS = 60
WINDOW_KEY_SECONDS = 120  # outlives its minute, so a late request still finds it
BLOCK_SHARE = 100  # a block is at most this fraction (1/100) of the rate
MAX_BLOCK = 16
_COUNT_SCRIPT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
_count = None  # redis-py Script (EVALSHA, loading the script when the server lacks it)
_rates: dict[str, tuple[float, int | None]] = {}
# schema -> (window key, requests left of the blocks this process took in that window)
_leases: dict[str, tuple[str, int]] = {}
_leases_lock = threading.Lock()


def plan_rate(schema_name: str) -> int | None:
    now = time.monotonic()
    cached = _rates.get(schema_name)
    if cached is None or now - cached[0] > RATE_CACHE_SECONDS:
        cached = (now, plan_limits(schema_name=schema_name)["api_rate_per_minute"])
        _rates[schema_name] = cached
    return cached[1]


def _window_count(key: str, block: int) -> int:
    """The window's count after adding `block` requests."""
    global _count
    if _count is None:
        _count = redis_client().register_script(_COUNT_SCRIPT)
    return _count(keys=[key], args=[WINDOW_KEY_SECONDS, block])


def request_allowed(schema_name: str, rate: int, key: str) -> bool:
    """One request of the window `key`: from this process's block, or a new block."""
    with _leases_lock:
        lease = _leases.get(schema_name)
        if lease and lease[0] == key and lease[1] > 0:
            _leases[schema_name] = (key, lease[1] - 1)
            return True
    block = max(1, min(MAX_BLOCK, rate // BLOCK_SHARE))
    count = _window_count(key, block)  # requests count - block + 1 .. count are ours
    granted = max(0, min(block, rate - (count - block)))
    if granted > 1:
        with _leases_lock:
            lease = _leases.get(schema_name)
            left = lease[1] if lease and lease[0] == key else 0
            if len(_leases) >= 10_000:  # companies this process has served
                _leases.clear()
            _leases[schema_name] = (key, left + granted - 1)
    return granted > 0


class PlanRateThrottle(BaseThrottle):
    """429 once a company has made its plan's requests this minute (company hosts only)."""

    def allow_request(self, request, view):
        schema_name = connection.schema_name
        if not settings.API_PLAN_RATE_LIMITS or schema_name == settings.PUBLIC_SCHEMA_NAME:
            return True
        rate = plan_rate(schema_name)
        if not rate:
            return True
        minute = int(time.time() // 60)
        key = f"crm:api-rate:{schema_name}:{minute}"
        try:
            allowed = request_allowed(schema_name, rate, key)
        except redis.RedisError:
            logger.warning("throttle: cache unreachable, request allowed", exc_info=True)
            return True
        self.retry_after = 60 - int(time.time()) % 60
        return allowed

    def wait(self):
        return getattr(self, "retry_after", 60)
