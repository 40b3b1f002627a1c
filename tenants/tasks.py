from contextvars import ContextVar

from celery import shared_task
from django_tenants.utils import get_tenant_model
from tenant_schemas_celery.scheduler import TenantAwarePersistentScheduler

from .provisioning import pool_refill
from .services import tenant_provision


@shared_task(name="tenants.pool_refill", time_limit=300)
def pool_refill_task() -> int:
    return pool_refill()


@shared_task(name="tenants.provision", time_limit=120)
def tenant_provision_task(tenant_id: int) -> bool:
    return tenant_provision(tenant_id=tenant_id) is not None


@shared_task(name="tenants.provision_pending", time_limit=300)
def tenant_provision_pending_task() -> int:
    """Sweep for signups whose provisioning task was lost (e.g. broker down at signup)."""
    Tenant = get_tenant_model()
    pending = Tenant.objects.filter(status=Tenant.Status.PROVISIONING).values_list("pk", flat=True)
    return sum(tenant_provision(tenant_id=pk) is not None for pk in pending)


# Periodic jobs a read-only company still gets: delivering what was already recorded
# (e-mails). Jobs that change its data (pool returns, reminders) wait until it is writable.
READ_ONLY_PERIODIC_TASKS = frozenset({"outbox.dispatch"})
_entry_task: ContextVar[str | None] = ContextVar("beat_entry_task", default=None)


class LiveTenantScheduler(TenantAwarePersistentScheduler):
    """Beat fans periodic tenant jobs out to companies in use, not the template or pool."""

    @classmethod
    def get_queryset(cls, task: str | None = None):
        Tenant = get_tenant_model()
        task = task or _entry_task.get()
        statuses = Tenant.LIVE_STATUSES
        if task is not None and task not in READ_ONLY_PERIODIC_TASKS:
            statuses = tuple(s for s in statuses if s != Tenant.Status.READ_ONLY)
        return Tenant.objects.filter(status__in=statuses) | Tenant.objects.filter(
            schema_name="public"
        )

    def apply_entry(self, entry, producer=None):
        token = _entry_task.set(entry.task)  # get_queryset is a classmethod: no instance state
        try:
            return super().apply_entry(entry, producer=producer)
        finally:
            _entry_task.reset(token)
