from django.db import connection

from crm_platform.celery import tenant_task

from .services import DISPATCH_BATCH, outbox_dispatch_pending, wake_flag_clear


@tenant_task(name="outbox.dispatch", time_limit=120)
def outbox_dispatch_task() -> int:
    wake_flag_clear(connection.schema_name)  # before reading: later commits wake anew
    total = 0
    while count := outbox_dispatch_pending():
        total += count
        if count < DISPATCH_BATCH:
            break
    return total
