"""End to end with a real Celery worker: outbox -> fan-out -> signed POST, retried until
the receiver takes it. (Committed data; the worker runs with WEBHOOKS_RETRY_SCALE making
the 27-hour schedule last seconds.)"""

import time

import pytest
from django_tenants.utils import tenant_context
from standardwebhooks import Webhook

from accounts.models import User
from crm_core.models import Customer
from crm_core.services.customers import customer_create
from tests.webhooks.receiver import Receiver, Reply
from webhooks import services
from webhooks.models import Delivery


@pytest.fixture
def company_a(world, committed, celery_worker):
    created = []
    yield world.a, created
    with tenant_context(world.a.tenant):
        for endpoint in created:
            endpoint.delete()
        Customer.objects.filter(name__startswith="Worker ").delete()


def _wait_all_succeeded(endpoint, count: int, timeout: float = 40) -> list[Delivery]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = list(Delivery.objects.filter(endpoint=endpoint))
        if len(rows) == count and all(r.status == Delivery.Status.SUCCEEDED for r in rows):
            return rows
        time.sleep(0.2)
    raise AssertionError([(r.status, r.attempts, r.last_error) for r in rows])


def test_500s_are_retried_by_the_worker_until_delivered(company_a, receiver):
    company, created = company_a
    receiver.script = [Reply(500), Reply(502)]
    with tenant_context(company.tenant):
        owner = User.objects.get(email=company.owner_email)
        endpoint, secret = services.endpoint_create(actor=owner, data={"url": receiver.url})
        created.append(endpoint)
        customer_create(actor=owner, data={"name": "Worker retry"})
        [delivery] = _wait_all_succeeded(endpoint, 1)
        assert delivery.attempts == 3
        codes = list(delivery.attempt_rows.order_by("number").values_list("status_code", flat=True))
        assert codes == [500, 502, 200]
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert Webhook(secret).verify(receiver.received[-1].body, receiver.received[-1].headers)


def test_receiver_down_then_restarted_loses_nothing(company_a):
    company, created = company_a
    receiver = Receiver().start()
    port = receiver.port
    receiver.stop()  # down: connections refused
    try:
        with tenant_context(company.tenant):
            owner = User.objects.get(email=company.owner_email)
            endpoint, secret = services.endpoint_create(actor=owner, data={"url": receiver.url})
            created.append(endpoint)
            for index in range(5):
                customer_create(actor=owner, data={"name": f"Worker down {index}"})
            time.sleep(1.0)
            assert Delivery.objects.filter(endpoint=endpoint, attempts__gte=1).exists()
            receiver = Receiver(port=port).start()  # back up on the same address
            rows = _wait_all_succeeded(endpoint, 5)
            assert any(row.attempts > 1 for row in rows)
        names = {
            Webhook(secret).verify(r.body, r.headers)["data"]["name"] for r in receiver.received
        }
        assert names == {f"Worker down {i}" for i in range(5)}
    finally:
        receiver.stop()


def test_the_sweep_sends_deliveries_whose_wake_up_was_lost(company_a, receiver):
    from django.utils import timezone

    from webhooks.tasks import webhook_deliver_due_task

    company, created = company_a
    with tenant_context(company.tenant):
        owner = User.objects.get(email=company.owner_email)
        endpoint, secret = services.endpoint_create(actor=owner, data={"url": receiver.url})
        created.append(endpoint)
        # As if the broker had been down when these were created: no task was queued.
        Delivery.objects.bulk_create(
            Delivery(
                endpoint=endpoint,
                event_type="customer.updated",
                body={"type": "customer.updated", "data": {"n": n}},
                next_attempt_at=timezone.now(),
            )
            for n in range(3)
        )
        webhook_deliver_due_task.apply_async(
            headers={"_schema_name": company.tenant.schema_name}
        ).get(timeout=30)
        _wait_all_succeeded(endpoint, 3)
    numbers = [Webhook(secret).verify(r.body, r.headers)["data"]["n"] for r in receiver.received]
    assert sorted(numbers) == [0, 1, 2]
