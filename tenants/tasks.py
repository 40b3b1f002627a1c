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


class LiveTenantScheduler(TenantAwarePersistentScheduler):
    """Beat fans periodic tenant jobs out to companies in use, not the template or pool."""

    @classmethod
    def get_queryset(cls):
        Tenant = get_tenant_model()
        return Tenant.objects.filter(status__in=Tenant.LIVE_STATUSES) | Tenant.objects.filter(
            schema_name="public"
        )
