"""Per-process caches of a company's custom field definitions and field security rules
(read on every record request; changed rarely). Every write in services.py invalidates
them: this process at once, the others through the generation counter in Redis
(kernel.localcache)."""

from __future__ import annotations

from django.db import connection

from crm_platform.kernel.localcache import GenerationCache

customization_cache = GenerationCache("customization", max_entries=5_000)


def cached(kind: str, *parts, load):
    """`load()` once per (schema, kind, parts) until a definition or rule changes."""
    key = (connection.schema_name, kind, *parts)
    return customization_cache.get(key, lambda _key: load())


def invalidate() -> None:
    customization_cache.invalidate()
