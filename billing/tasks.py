"""Billing tasks: thin entry points. They run in the public schema (billing's tables
live there) and take ids; Stripe failures are retried with exponential back-off."""

from celery import shared_task

from . import gateway
from .services.accounts import account_setup_stripe, billing_sweep
from .services.events import event_process, events_process_pending
from .services.metrics import snapshot_take
from .services.seats import seat_sync_reconcile_all, seat_sync_run

_RETRY = {
    "autoretry_for": (gateway.GatewayError,),
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": 10,
}


@shared_task(name="billing.account_setup", time_limit=120, **_RETRY)
def account_setup_task(account_id: int) -> bool:
    return account_setup_stripe(account_id=account_id) is not None


@shared_task(name="billing.seat_sync", time_limit=120, **_RETRY)
def seat_sync_task(tenant_id: int) -> int | None:
    account = seat_sync_run(tenant_id=tenant_id)
    return account.seats_synced if account else None


@shared_task(name="billing.event_process", time_limit=120, **_RETRY)
def event_process_task(event_pk: int) -> str | None:
    return event_process(event_pk=event_pk)


@shared_task(name="billing.sweep", time_limit=300)
def billing_sweep_task() -> dict:
    counts = billing_sweep()
    counts["events"] = events_process_pending()
    return counts


@shared_task(name="billing.seat_reconcile", time_limit=600)
def seat_reconcile_task() -> int:
    return seat_sync_reconcile_all()


@shared_task(name="billing.snapshot", time_limit=300)
def snapshot_task() -> str:
    return str(snapshot_take().day)
