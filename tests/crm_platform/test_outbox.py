"""The outbox dispatcher's batches: handlers whose effects are all in the transaction go
under one savepoint, and one failing event still leaves only itself pending."""

import pytest
from django.db import transaction
from django_tenants.utils import tenant_context

from crm_platform.outbox import handlers
from crm_platform.outbox.models import OutboxEvent
from crm_platform.outbox.services import outbox_dispatch_pending, outbox_record


def _drain() -> None:
    while outbox_dispatch_pending():
        pass


@pytest.mark.django_db
def test_a_failing_event_in_a_batch_leaves_only_itself_pending(world):
    handled, written = [], []

    def handler(event):
        handled.append(event.payload["n"])
        if event.payload["n"] == 2:
            raise RuntimeError("boom")
        rows = handlers.batch_deferred("test:rows", written.extend)
        if rows is None:
            written.append(event.payload["n"])
        else:
            rows.append(event.payload["n"])

    handlers.register("test.batch", handler, transactional=True)
    try:
        with tenant_context(world.a.tenant):
            _drain()
            for n in range(5):
                outbox_record(
                    event_type="test.batch", aggregate_type="test", aggregate_id=n, payload={"n": n}
                )
            assert outbox_dispatch_pending() == 4
            # Together first, rolled back at the failure (nothing deferred was written),
            # then one by one, each writing its own rows at once.
            assert handled == [0, 1, 2, 0, 1, 2, 3, 4]
            assert written == [0, 1, 3, 4]
            events = {
                e.payload["n"]: e for e in OutboxEvent.objects.filter(event_type="test.batch")
            }
            assert events[2].dispatched_at is None
            assert events[2].attempts == 1 and "boom" in events[2].last_error
            assert all(events[n].dispatched_at and events[n].attempts == 1 for n in (0, 1, 3, 4))
    finally:
        handlers.unregister("test.batch", handler)


@pytest.mark.django_db
def test_batch_memo_loads_once_per_batch(world):
    loads = []

    def handler(event):
        handlers.batch_memo("test:config", lambda: loads.append(1))

    handlers.register("test.memo", handler, transactional=True)
    try:
        with tenant_context(world.a.tenant):
            _drain()
            for n in range(3):
                outbox_record(
                    event_type="test.memo", aggregate_type="test", aggregate_id=n, payload={}
                )
            assert outbox_dispatch_pending() == 3
            assert loads == [1]
            handlers.batch_memo("test:config", lambda: loads.append(1))  # outside a batch
            assert loads == [1, 1]
    finally:
        handlers.unregister("test.memo", handler)


@pytest.mark.django_db
def test_one_dispatcher_wake_up_per_transaction(world, django_capture_on_commit_callbacks):
    with tenant_context(world.a.tenant):
        with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
            for n in range(3):
                outbox_record(
                    event_type="test.wake", aggregate_type="test", aggregate_id=n, payload={}
                )
        assert len(callbacks) == 1
