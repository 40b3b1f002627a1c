"""Celery entry points of the webhooks app (thin: ids in, services do the work)."""

from django.utils import timezone

from crm_platform.celery import tenant_task

from . import services
from .models import Attempt, Delivery

# Retries due within this many seconds wait in the broker (countdown); later ones are
# left to the `webhooks.deliver_due` sweep, because a Redis broker redelivers tasks held
# longer than its visibility timeout (one hour).
COUNTDOWN_MAX_SECONDS = 600


BATCH = services.DELIVERY_BATCH


@tenant_task(name="webhooks.deliver", time_limit=BATCH * 16 + 30)
def webhook_deliver_task(
    delivery_ids: list[int] | int, trigger: str = Attempt.Trigger.AUTOMATIC
) -> int:
    """Attempt the deliveries (one endpoint's, or a single one); queue their next retry."""
    ids = [delivery_ids] if isinstance(delivery_ids, int) else delivery_ids
    sent = services.deliveries_attempt(delivery_ids=ids, trigger=trigger)
    now = timezone.now()
    for delivery in sent:
        if delivery.status == Delivery.Status.PENDING:
            wait = (delivery.next_attempt_at - now).total_seconds()
            if wait <= COUNTDOWN_MAX_SECONDS:
                webhook_deliver_task.apply_async(([delivery.pk],), countdown=max(0.0, wait))
    return len(sent)


@tenant_task(name="webhooks.deliver_due", time_limit=120)
def webhook_deliver_due_task() -> int:
    """Beat, every WEBHOOKS_SWEEP_SECONDS in each company: queue due retries (and any
    delivery whose wake-up was lost) in batches per endpoint, and switch off endpoints
    failing for too long."""
    batches = services.deliveries_due_batches()
    for ids in batches:
        webhook_deliver_task.delay(ids)
    services.endpoints_disable_failing()
    return sum(len(ids) for ids in batches)
