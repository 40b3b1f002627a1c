"""The tenant-aware Celery app.

Tasks sent from a request or a `schema_context` carry the sender's schema in a header
(tenant-schemas-celery) and run in it. That library falls back to the public schema when
a task has no tenant; tasks declared with `@tenant_task` refuse to run there instead.
"""

import os

from celery import shared_task
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections, connection
from tenant_schemas_celery.app import CeleryApp
from tenant_schemas_celery.task import TenantTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_platform.settings")

app = CeleryApp("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class MissingTenantError(RuntimeError):
    """A tenant task was sent without a tenant (it would otherwise run in public)."""


class TenantOnlyTask(TenantTask):
    abstract = True

    def __call__(self, *args, **kwargs):
        if connection.schema_name == "public":
            raise MissingTenantError(f"Task {self.name} needs a tenant and was sent without one.")
        return super().__call__(*args, **kwargs)


def tenant_task(*, name: str, **options):
    """Declare a task that runs inside one tenant's schema (the sender's)."""
    options.setdefault("time_limit", 120)
    return shared_task(name=name, base=TenantOnlyTask, **options)


@task_prerun.connect(dispatch_uid="crm_task_context")
def _task_context(task=None, **kwargs):
    from crm_platform.kernel.context_vars import request_id_var, tenant_var
    from crm_platform.kernel.sentry import tag_tenant

    tenant_var.set(connection.schema_name)
    request_id_var.set(getattr(task.request, "id", None) or "-")
    tag_tenant(connection.schema_name)


@task_prerun.connect(dispatch_uid="crm_task_connections_before")
@task_postrun.connect(dispatch_uid="crm_task_connections_after")
def _task_connections(task=None, **kwargs):
    """What Django does around a request: keep a healthy connection (see
    CELERY_DB_REUSE_MAX), close one that is too old or unusable. Not for a task run
    eagerly, inside its caller's transaction."""
    if not getattr(task.request, "is_eager", False):
        close_old_connections()
