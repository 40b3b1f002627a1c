import logging

import redis
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from crm_platform.kernel.redis_client import redis_client
from crm_platform.kernel.transactions import atomic_without_waiting_for_disk

from .actor import current_actor
from .handlers import all_transactional, deferred_writes, dispatch_batch, handlers_for
from .models import OutboxEvent

logger = logging.getLogger(__name__)

DISPATCH_BATCH = 100
MAX_ATTEMPTS = 10


def outbox_record(
    *,
    event_type: str,
    aggregate_type: str,
    aggregate_id,
    payload: dict,
    actor_id: int | None = None,
) -> OutboxEvent:
    """Record an event inside the caller's transaction and wake the dispatcher after commit.

    If the broker is down the wake-up is lost, not the event: the periodic sweep and the
    next successful wake-up dispatch it.
    """
    current_id, chain_depth = current_actor()
    actor_id = actor_id if actor_id is not None else current_id
    event = OutboxEvent.objects.create(
        event_type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        payload=payload,
        actor_id=actor_id,
        chain_depth=chain_depth,
    )
    _wake_after_commit(connection.schema_name)
    return event


def _wake_after_commit(schema_name: str) -> None:
    """One wake-up per transaction and schema, however many events it records (a
    workflow pass records one per action): each costs a Redis round trip. The callbacks
    of a rolled-back savepoint leave Django's list, so a later event registers anew."""
    for _savepoints, callback, *_robust in connection.run_on_commit:
        if getattr(callback, "outbox_wakes", None) == schema_name:
            return

    def wake() -> None:  # schema named now: on_commit may run after a schema_context exits
        _wake_dispatcher(schema_name)

    wake.outbox_wakes = schema_name
    transaction.on_commit(wake)


WAKE_FLAG_SECONDS = 30  # a lost wake-up's flag expires; the sweep covers the gap


def wake_flag(schema_name: str) -> str:
    return f"crm:outbox:wake:{schema_name}"


def _wake_dispatcher(schema_name: str) -> None:
    """Queue a dispatcher unless one is already queued and not yet started: it will read
    this commit's events, because a dispatcher clears the flag before it reads. A burst of
    commits so costs one task, not one each."""
    from .tasks import outbox_dispatch_task

    try:
        if not redis_client().set(wake_flag(schema_name), 1, nx=True, ex=WAKE_FLAG_SECONDS):
            return
    except redis.RedisError:
        pass  # no flag store: wake anyway
    try:
        outbox_dispatch_task.apply_async(retry=False, headers={"_schema_name": schema_name})
    except Exception:  # noqa: BLE001 - the broker being down must not fail the write
        logger.warning("outbox: broker unavailable, event left for the sweep", exc_info=True)
        wake_flag_clear(schema_name)


def wake_flag_clear(schema_name: str) -> None:
    try:
        redis_client().delete(wake_flag(schema_name))
    except redis.RedisError:
        pass


# Fixed text: compiling it from a queryset cost more than running it, on every batch.
_PENDING_SQL = """
SELECT * FROM outbox_outboxevent
WHERE dispatched_at IS NULL AND attempts < %s
ORDER BY id LIMIT %s
FOR UPDATE SKIP LOCKED
"""


def outbox_dispatch_pending(*, limit: int = DISPATCH_BATCH) -> int:
    """Hand pending events to their handlers; returns how many were dispatched.

    Rows are locked with SKIP LOCKED so concurrent dispatchers share the work without
    handing one event out twice at the same time. A failing handler leaves the event
    pending for a later sweep (up to MAX_ATTEMPTS), without blocking the others.
    """
    # Safe to lose: a lost batch leaves its events pending, dispatched again (at least
    # once) by the next wake-up or sweep.
    with atomic_without_waiting_for_disk(), dispatch_batch():
        events = list(OutboxEvent.objects.raw(_PENDING_SQL, [MAX_ATTEMPTS, limit]))
        if not events:
            return 0
        dispatched = None
        if all(all_transactional(event.event_type) for event in events):
            dispatched = _dispatch_together(events)
        if dispatched is None:
            dispatched = [event for event in events if _dispatch_one(event)]
        OutboxEvent.objects.filter(pk__in=[event.pk for event in dispatched]).update(
            dispatched_at=timezone.now(), attempts=F("attempts") + 1
        )
    return len(dispatched)


def _dispatch_together(events: list[OutboxEvent]) -> list[OutboxEvent] | None:
    """The batch under one savepoint (two round trips, not two per event); None after a
    handler failed, with all of it rolled back, so each event is then tried on its own
    and only the failing one stays pending."""
    try:
        with transaction.atomic(), deferred_writes():
            for event in events:
                for handler in handlers_for(event.event_type):
                    handler(event)
    except Exception:  # noqa: BLE001 - retried event by event, which records the error
        return None
    return events


def _dispatch_one(event: OutboxEvent) -> bool:
    try:
        with transaction.atomic():
            for handler in handlers_for(event.event_type):
                handler(event)
    except Exception as exc:  # noqa: BLE001 - recorded, retried by the sweep
        logger.exception("outbox: handler failed for event %s", event.event_id)
        event.attempts += 1
        event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        event.save(update_fields=["attempts", "last_error"])
        return False
    return True
