"""Celery entry points of the webhooks app (thin: ids in, services do the work)."""

from django.utils import timezone

from crm_platform.celery import tenant_task

from . import services
from .models import Attempt, Delivery

# Retries due within this many seconds wait in the broker (countdown); later ones are
# left to the `webhooks.deliver_due` sweep, because a Redis broker redelivers tasks held
# longer than its visibility timeout (one hour).
COUNTDOWN_MAX_SECONDS = 600


@tenant_task(name="webhooks.deliver", time_limit=60, soft_time_limit=45)
def webhook_deliver_task(delivery_id: int, trigger: str = Attempt.Trigger.AUTOMATIC) -> str:
    delivery = services.delivery_attempt(delivery_id=delivery_id, trigger=trigger)
    if delivery is None:
        return "skipped"
    if delivery.status == Delivery.Status.PENDING:
        wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
        if wait <= COUNTDOWN_MAX_SECONDS:
            webhook_deliver_task.apply_async((delivery_id,), countdown=max(0.0, wait))
    return delivery.status


@tenant_task(name="webhooks.deliver_due", time_limit=120)
def webhook_deliver_due_task() -> int:
    """Beat, every WEBHOOKS_SWEEP_SECONDS in each company: queue due retries (and any
    delivery whose wake-up was lost), and switch off endpoints failing for too long."""
    ids = services.deliveries_due()
    for delivery_id in ids:
        webhook_deliver_task.delay(delivery_id)
    services.endpoints_disable_failing()
    return len(ids)
