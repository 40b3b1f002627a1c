from datetime import timedelta

from .core import TESTING
from .env import env

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Every key carries the tenant's schema name, so tenants never share an entry.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
    }
}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
# The product never reads task results; tests do (Redis database 1), diagnostics may.
CELERY_RESULT_BACKEND = (
    env.str("CELERY_RESULT_BACKEND", default=REDIS_URL.rsplit("/", 1)[0] + "/1" if TESTING else "")
    or None
)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
# Recycle workers: each connection's catalog cache grows with every tenant touched.
CELERY_WORKER_MAX_TASKS_PER_CHILD = 1000
# Without this, Celery's Django fixup closes the database connection before and after
# every task: a new PostgreSQL connection (~10 ms, a backend forked) per outbox dispatch
# or workflow pass. With it, the fixup closes only every this many tasks, and
# crm_platform.celery closes the connections Django would close after a request (older
# than CONN_MAX_AGE, broken, or left in a transaction) around each task.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request must not hang when the broker is down: fail fast, the outbox catches up.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    # Publishing gives up after one quick retry instead of kombu's long back-off.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_PUBLISH_RETRY = False
# tenant-schemas-celery looks the sender's company up by schema before every task (a
# query each); tasks only read its name and address, so a few seconds' copy is enough.
CELERY_TASK_TENANT_CACHE_SECONDS = 10
CELERY_BEAT_SCHEDULER = "tenants.tasks:LiveTenantScheduler"

# Periodic jobs. Entries without `tenant_schemas` fan out to every live tenant.
CELERY_BEAT_SCHEDULE = {
    "outbox-dispatch": {
        "task": "outbox.dispatch",
        "schedule": timedelta(seconds=env.int("OUTBOX_SWEEP_SECONDS", default=30)),
    },
    # CRM: public-pool warnings and automatic returns; reminders (tasks, follow-ups,
    # birthdays) into the notification centre. Both fan out to every live company.
    "crm-pool-sweep": {
        "task": "crm.pool_sweep",
        "schedule": timedelta(minutes=env.int("CRM_POOL_SWEEP_MINUTES", default=15)),
    },
    "crm-reminders": {
        "task": "crm.reminders_compute",
        "schedule": timedelta(minutes=env.int("CRM_REMINDERS_MINUTES", default=15)),
    },
    # Workflow rules: time-based triggers, finished waits, runs whose wake-up was lost.
    "workflows-sweep": {
        "task": "workflows.sweep",
        "schedule": timedelta(minutes=env.int("WORKFLOWS_SWEEP_MINUTES", default=5)),
    },
    # Custom fields: build the expression indexes whose queued build was lost.
    "customization-index-sweep": {
        "task": "customization.index_sweep",
        "schedule": timedelta(minutes=5),
    },
    # Webhooks: deliveries whose retry is due (long back-offs are not held in the broker)
    # and endpoints failing for too long.
    "webhooks-deliver-due": {
        "task": "webhooks.deliver_due",
        "schedule": timedelta(seconds=env.int("WEBHOOKS_SWEEP_SECONDS", default=30)),
    },
    # Lead to cash: payment reminders before/after due dates, contract end and renewal
    # reminders, expiry of quotes and contracts (idempotent; fans out to every company).
    "crm-lead-to-cash": {
        "task": "crm.lead_to_cash_sweep",
        "schedule": timedelta(minutes=env.int("CRM_LEAD_TO_CASH_MINUTES", default=60)),
    },
    "tenant-pool-refill": {
        "task": "tenants.pool_refill",
        "schedule": timedelta(seconds=60),
        "tenant_schemas": ["public"],
    },
    "tenant-provision-pending": {
        "task": "tenants.provision_pending",
        "schedule": timedelta(seconds=30),
        "tenant_schemas": ["public"],
    },
    # Billing (public schema): trial e-mails and ends, grace periods, lost set-ups, seat
    # syncs and Stripe events; the daily seat recount; the metrics snapshot.
    "billing-sweep": {
        "task": "billing.sweep",
        "schedule": timedelta(minutes=env.int("BILLING_SWEEP_MINUTES", default=5)),
        "tenant_schemas": ["public"],
    },
    "billing-seat-reconcile": {
        "task": "billing.seat_reconcile",
        "schedule": timedelta(days=1),
        "tenant_schemas": ["public"],
    },
    "billing-snapshot": {
        "task": "billing.snapshot",
        "schedule": timedelta(hours=1),
        "tenant_schemas": ["public"],
    },
}
