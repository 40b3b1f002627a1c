"""The plan's API rate: requests per minute per company, counted in Redis.

A fixed one-minute window per company (one INCR and EXPIRE in a single round trip). The
plan's rate is read through a short-lived process cache: plans change rarely and the
request path must not query the public schema each time. If Redis is unreachable the
request passes (logged), like the other rate limits.
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
_rates: dict[str, tuple[float, int | None]] = {}


def plan_rate(schema_name: str) -> int | None:
    now = time.monotonic()
    cached = _rates.get(schema_name)
    if cached is None or now - cached[0] > RATE_CACHE_SECONDS:
        cached = (now, plan_limits(schema_name=schema_name)["api_rate_per_minute"])
        _rates[schema_name] = cached
    return cached[1]


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
            count, _expiry = redis_client().pipeline().incr(key).expire(key, 120).execute()
        except redis.RedisError:
            logger.warning("throttle: cache unreachable, request allowed", exc_info=True)
            return True
        self.retry_after = 60 - int(time.time()) % 60
        return count <= rate

    def wait(self):
        return getattr(self, "retry_after", 60)
