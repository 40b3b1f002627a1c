"""The plan's API rate: requests per minute per company, counted in Redis.

A fixed one-minute window per company, counted by a small server-side script (INCR, and
EXPIRE when the window's key is new): one atomic command and one reply per request, where
a MULTI/INCR/EXPIRE/EXEC pipeline sent four. The plan's rate is read through a
short-lived process cache: plans change rarely and the request path must not query the
public schema each time. If Redis is unreachable the request passes (logged), like the
other rate limits.
"""

from __future__ import annotations

import logging
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
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
_count = None  # redis-py Script (EVALSHA, loading the script when the server lacks it)
_rates: dict[str, tuple[float, int | None]] = {}


def plan_rate(schema_name: str) -> int | None:
    now = time.monotonic()
    cached = _rates.get(schema_name)
    if cached is None or now - cached[0] > RATE_CACHE_SECONDS:
        cached = (now, plan_limits(schema_name=schema_name)["api_rate_per_minute"])
        _rates[schema_name] = cached
    return cached[1]


def _window_count(key: str) -> int:
    global _count
    if _count is None:
        _count = redis_client().register_script(_COUNT_SCRIPT)
    return _count(keys=[key], args=[WINDOW_KEY_SECONDS])


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
            count = _window_count(key)
        except redis.RedisError:
            logger.warning("throttle: cache unreachable, request allowed", exc_info=True)
            return True
        self.retry_after = 60 - int(time.time()) % 60
        return count <= rate

    def wait(self):
        return getattr(self, "retry_after", 60)
