from django.db import connection

from crm_platform.celery import tenant_task


@tenant_task(name="kernel.tenant_ping", time_limit=10)
def tenant_ping_task() -> str:
    """Answer with the schema the task ran in: a check of a tenant's background path."""
    return connection.schema_name


@tenant_task(name="kernel.database_ping", time_limit=10)
def database_ping_task() -> int:
    """Answer with the PostgreSQL backend serving this task: a worker keeps its
    connection from task to task (CELERY_DB_REUSE_MAX), so the answers repeat."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]
