from django.db import connection

from crm_platform.celery import tenant_task


@tenant_task(name="kernel.tenant_ping", time_limit=10)
def tenant_ping_task() -> str:
    """Answer with the schema the task ran in: a check of a tenant's background path."""
    return connection.schema_name
