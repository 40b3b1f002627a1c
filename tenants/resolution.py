"""Host -> tenant resolution with an in-process cache.

Warm requests cost a dict lookup: no query. Changes to a Tenant or Domain clear this
process's cache at once and bump a generation counter in Redis after commit; other
processes compare generations at most every TENANT_CACHE_CHECK_SECONDS and clear theirs.
If Redis is unreachable the cache is simply dropped at each check (a short TTL).
"""

import logging
import threading
import time

import redis
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save

logger = logging.getLogger(__name__)

GENERATION_KEY = "crm:tenant-hosts:generation"
MAX_HOSTS = 10_000  # unknown hosts are cached too; bound what a flood of them can cost
_MISSING = object()


class HostCache:
    def __init__(self):
        self._hosts: dict[str, object] = {}
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
            generation = self._client().get(GENERATION_KEY)
        except redis.RedisError:
            generation = None
            self._hosts = {}
        if generation != self._generation:
            self._hosts = {}
            self._generation = generation

    def get(self, host: str, load):
        now = time.monotonic()
        if now - self._checked_at > settings.TENANT_CACHE_CHECK_SECONDS:
            with self._lock:
                self._sync(now)
        tenant = self._hosts.get(host, _MISSING)
        if tenant is _MISSING:
            tenant = load(host)
            if len(self._hosts) >= MAX_HOSTS:
                self._hosts = {}
            self._hosts[host] = tenant
        return tenant

    def clear_local(self) -> None:
        self._hosts = {}

    def bump(self) -> None:
        try:
            self._client().incr(GENERATION_KEY)
        except redis.RedisError:
            logger.warning("tenant host cache: could not bump generation", exc_info=True)


host_cache = HostCache()


def _invalidate(**kwargs):
    host_cache.clear_local()
    transaction.on_commit(host_cache.bump)
    # Also clear after commit, in case this process re-read the old row before commit.
    transaction.on_commit(host_cache.clear_local)


def connect_invalidation() -> None:
    from .models import Domain, Tenant

    for model in (Tenant, Domain):
        post_save.connect(
            _invalidate, sender=model, dispatch_uid=f"host-cache-save-{model.__name__}"
        )
        post_delete.connect(
            _invalidate, sender=model, dispatch_uid=f"host-cache-del-{model.__name__}"
        )
