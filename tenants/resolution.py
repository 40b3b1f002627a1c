"""Host -> tenant resolution with an in-process cache (see kernel.localcache).

Warm requests cost a dict lookup: no query. Any change to a Tenant or Domain drops the
cache in every process (within TENANT_CACHE_CHECK_SECONDS for the others).
"""

from django.db.models.signals import post_delete, post_save

from crm_platform.kernel.localcache import GenerationCache

host_cache = GenerationCache("tenant-hosts")


def connect_invalidation() -> None:
    from .models import Domain, Tenant

    for model in (Tenant, Domain):
        post_save.connect(
            host_cache.invalidate, sender=model, dispatch_uid=f"host-cache-save-{model.__name__}"
        )
        post_delete.connect(
            host_cache.invalidate, sender=model, dispatch_uid=f"host-cache-del-{model.__name__}"
        )
