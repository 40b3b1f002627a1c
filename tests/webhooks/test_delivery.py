"""Fan-out and delivery in-process (no broker: the test transaction never commits):
signatures checked with the standardwebhooks library, retries, 410, timeouts, caps."""

from datetime import timedelta

import orjson
import pytest
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context
from standardwebhooks import Webhook

from accounts.models import User
from crm_core.models import Notification
from crm_core.services.customers import customer_create
from crm_platform.outbox.models import OutboxEvent
from crm_platform.outbox.services import outbox_dispatch_pending
from tests.webhooks.receiver import Reply
from webhooks import services
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db


def _owner(company):
    return User.objects.get(email=company.owner_email)


def _endpoint(company, url, **data):
    endpoint, secret = services.endpoint_create(actor=_owner(company), data={"url": url, **data})
    return endpoint, secret


def _event_and_deliveries(company, name="Acme"):
    customer_create(actor=_owner(company), data={"name": name})
    outbox_dispatch_pending()
    events = OutboxEvent.objects.filter(payload__name=name).values("event_id")
    return list(Delivery.objects.filter(event_id__in=events))


def test_an_event_is_delivered_signed(world, receiver):
    with tenant_context(world.a.tenant):
        endpoint, secret = _endpoint(world.a, receiver.url, event_types=["customer.created"])
        [delivery] = _event_and_deliveries(world.a)
        services.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.SUCCEEDED
        assert delivery.attempt_rows.get().status_code == 200
    [request] = receiver.received
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload["type"] == "customer.created"
    assert payload["data"]["name"] == "Acme"
    assert request.headers["webhook-id"] == str(delivery.event_id)


def test_unsubscribed_events_and_internal_events_are_not_fanned_out(world, receiver):
    with tenant_context(world.a.tenant):
        _endpoint(world.a, receiver.url, event_types=["deal.stage_changed"])
        assert _event_and_deliveries(world.a) == []
        everything, _secret = _endpoint(world.a, receiver.url + "?all")
        deliveries = _event_and_deliveries(world.a, name="Beta")
        assert [d.endpoint_id for d in deliveries] == [everything.pk]
        assert not Delivery.objects.filter(event_type="notification.created").exists()


def test_fan_out_is_idempotent(world, receiver):
    with tenant_context(world.a.tenant):
        _endpoint(world.a, receiver.url)
        customer_create(actor=_owner(world.a), data={"name": "Twice"})
        event = OutboxEvent.objects.get(event_type="customer.created", payload__name="Twice")
        services.deliveries_fan_out(event)
        services.deliveries_fan_out(event)  # at-least-once outbox: a second run adds nothing
        assert Delivery.objects.filter(event_id=event.event_id).count() == 1


def test_rotation_signs_with_both_secrets(world, receiver):
    with tenant_context(world.a.tenant):
        endpoint, old = _endpoint(world.a, receiver.url)
        new = services.endpoint_secret_rotate(endpoint=endpoint, actor=_owner(world.a))
        assert services.endpoint_secret_reveal(endpoint=endpoint, actor=_owner(world.a)) == new
        [delivery] = _event_and_deliveries(world.a)
        services.delivery_attempt(delivery_id=delivery.pk)
    [request] = receiver.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):  # a receiver holding either one accepts the message
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "customer.created"


def test_expired_secret_stops_signing(world, receiver):
    with tenant_context(world.a.tenant):
        endpoint, old = _endpoint(world.a, receiver.url)
        new = services.endpoint_secret_rotate(
            endpoint=endpoint, actor=_owner(world.a), overlap=timedelta(0)
        )
        [delivery] = _event_and_deliveries(world.a)
        services.delivery_attempt(delivery_id=delivery.pk)
    [request] = receiver.received
    Webhook(new).verify(request.body, request.headers)
    with pytest.raises(Exception, match="(?i)signature"):
        Webhook(old).verify(request.body, request.headers)


def test_500_is_retried_later_with_backoff(world, receiver):
    receiver.script = [Reply(500, body=b"boom")]
    with tenant_context(world.a.tenant):
        _endpoint(world.a, receiver.url)
        [delivery] = _event_and_deliveries(world.a)
        before = timezone.now()
        services.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.PENDING
        assert delivery.attempts == 1 and delivery.last_status_code == 500
        assert delivery.next_attempt_at > before
        assert delivery.endpoint.__class__.objects.get(pk=delivery.endpoint_id).failing_since
        # Not due yet: a second worker does nothing.
        Delivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() + timedelta(hours=1)
        )
        assert services.delivery_attempt(delivery_id=delivery.pk) is None
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        services.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.SUCCEEDED and delivery.attempts == 2
        assert Endpoint.objects.get(pk=delivery.endpoint_id).failing_since is None
        assert [a.status_code for a in delivery.attempt_rows.order_by("number")] == [500, 200]
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]


def test_timeouts_are_retried(world, receiver):
    receiver.script = [Reply(200, delay=1.5)]
    with tenant_context(world.a.tenant), override_settings(WEBHOOKS_TOTAL_TIMEOUT=0.5):
        _endpoint(world.a, receiver.url)
        [delivery] = _event_and_deliveries(world.a)
        services.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.PENDING
        assert delivery.last_error.startswith("timeout")
        attempt = delivery.attempt_rows.get()
        assert attempt.status_code is None and attempt.latency_ms < 1400


def test_retry_schedule_spans_at_least_27_hours():
    assert services.MAX_ATTEMPTS >= 8
    for _ in range(50):  # jitter only adds
        delays = [services.retry_delay(attempts=n) for n in range(1, services.MAX_ATTEMPTS)]
        assert sum(delays) >= 27 * 3600
        assert delays == sorted(delays)  # exponential
    assert services.retry_delay(attempts=1, retry_after=7200) >= 7200


def test_retry_after_is_honoured(world, receiver):
    receiver.script = [Reply(503, headers={"Retry-After": "3600"})]
    with tenant_context(world.a.tenant), override_settings(WEBHOOKS_RETRY_SCALE=1.0):
        _endpoint(world.a, receiver.url)
        [delivery] = _event_and_deliveries(world.a)
        services.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.next_attempt_at - timezone.now() > timedelta(minutes=59)


def test_410_disables_the_endpoint_and_tells_its_owner(world, receiver):
    receiver.script = [Reply(410)]
    with tenant_context(world.a.tenant):
        endpoint, _secret = _endpoint(world.a, receiver.url)
        [delivery] = _event_and_deliveries(world.a)
        services.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        endpoint.refresh_from_db()
        assert delivery.status == Delivery.Status.FAILED
        assert not endpoint.enabled and endpoint.disabled_reason == "gone"
        assert Notification.objects.filter(user=_owner(world.a), kind="webhook_disabled").exists()
        assert _event_and_deliveries(world.a, name="After") == []  # no new deliveries


def test_failing_for_five_days_disables(world, receiver):
    receiver.default = Reply(500)
    with tenant_context(world.a.tenant):
        endpoint, _secret = _endpoint(world.a, receiver.url)
        Endpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=timezone.now() - timedelta(days=5, minutes=1)
        )
        [delivery] = _event_and_deliveries(world.a)
        services.delivery_attempt(delivery_id=delivery.pk)
        endpoint.refresh_from_db()
        assert not endpoint.enabled and endpoint.disabled_reason == "failing"
        assert Notification.objects.filter(kind="webhook_disabled").count() == 1


def test_the_sweep_disables_endpoints_failing_too_long(world):
    with tenant_context(world.a.tenant):
        endpoint, _secret = _endpoint(world.a, "https://example.com/hook")
        Endpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=timezone.now() - timedelta(days=6)
        )
        assert services.endpoints_disable_failing() == 1
        endpoint.refresh_from_db()
        assert not endpoint.enabled


def test_redirects_are_not_followed(world, receiver):
    receiver.script = [Reply(302, headers={"Location": receiver.url + "?elsewhere"})]
    with tenant_context(world.a.tenant):
        _endpoint(world.a, receiver.url)
        [delivery] = _event_and_deliveries(world.a)
        services.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.PENDING
        assert delivery.last_error == "redirect not followed"
    assert len(receiver.received) == 1


def test_response_read_and_payload_are_capped(world, receiver):
    receiver.script = [Reply(200, body=b"x" * 500_000)]
    with (
        tenant_context(world.a.tenant),
        override_settings(WEBHOOKS_MAX_PAYLOAD_BYTES=200, WEBHOOKS_MAX_RESPONSE_BYTES=1000),
    ):
        _endpoint(world.a, receiver.url)
        [delivery] = _event_and_deliveries(world.a, name="N" * 190)
        assert delivery.body["truncated"] is True and set(delivery.body["data"]) == {"id"}
        services.delivery_attempt(delivery_id=delivery.pk)
        attempt = delivery.attempt_rows.get()
        assert attempt.succeeded and len(attempt.response_body) <= 1000
    assert len(receiver.received[0].body) <= 200


def test_a_company_endpoints_receive_only_its_events(world, receiver):
    with tenant_context(world.b.tenant):
        b_endpoint, _ = _endpoint(world.b, receiver.url + "?b")
    with tenant_context(world.a.tenant):
        _endpoint(world.a, receiver.url + "?a")
        [delivery] = _event_and_deliveries(world.a, name="Only A")
        services.delivery_attempt(delivery_id=delivery.pk)
    with tenant_context(world.b.tenant):
        assert not Delivery.objects.filter(endpoint=b_endpoint).exists()
        assert services.delivery_attempt(delivery_id=delivery.pk) is None
    assert [r.path for r in receiver.received] == ["/hook?a"]
    assert orjson.loads(receiver.received[0].body)["data"]["name"] == "Only A"


def test_secrets_are_encrypted_at_rest(world, receiver):
    with tenant_context(world.a.tenant):
        endpoint, secret = _endpoint(world.a, receiver.url)
        stored = endpoint.secrets.get().encrypted
        assert secret.startswith("whsec_") and secret not in stored
        assert secret.removeprefix("whsec_") not in stored


def test_payloads_carry_custom_fields_shaped_for_the_endpoints_reader_role(world, receiver):
    """Custom fields travel in the body; fields hidden from the role the endpoint reads as
    and archived custom fields do not."""
    from customization.services import definition_archive, definition_create, field_security_set

    with tenant_context(world.a.tenant):
        owner = _owner(world.a)
        manager = User.objects.create_user(
            "hook-manager@alpha.example.com", "x-Password-2026", role="admin"
        )
        for api_name in ("tier_note", "old_code"):
            definition_create(
                actor=owner,
                entity="customer",
                data={"api_name": api_name, "label": api_name, "field_type": "text"},
            )
        field_security_set(
            actor=owner, entity="customer", field="phone", role="sales_rep", access="hidden"
        )
        endpoint, _secret = _endpoint(
            world.a, receiver.url, event_types=["customer.created"], reader_role="sales_rep"
        )
        full, _secret = _endpoint(world.a, receiver.url + "?full", event_types=["customer.created"])
        customer_create(
            actor=manager,
            data={
                "name": "Shaped",
                "phone": "+86 21 5555 0000",
                "custom_fields": {"tier_note": "gold", "old_code": "X1"},
            },
        )
        definition_archive(actor=owner, definition=_definition("old_code"))
        outbox_dispatch_pending()
        delivery = Delivery.objects.get(endpoint=endpoint, body__data__name="Shaped")
        data = delivery.body["data"]
        assert data["custom_fields"] == {"tier_note": "gold"}
        assert "phone" not in data
        as_admin = Delivery.objects.get(endpoint=full, body__data__name="Shaped").body["data"]
        assert as_admin["phone"] == "+86 21 5555 0000"
        assert as_admin["custom_fields"] == {"tier_note": "gold"}  # archived: gone for all
        as_admin = Delivery.objects.get(endpoint=full, body__data__name="Shaped").body["data"]
        assert as_admin["phone"] == "+86 21 5555 0000"
        assert as_admin["custom_fields"] == {"tier_note": "gold"}  # archived: gone for all


def _definition(api_name):
    from customization.models import FieldDefinition

    return FieldDefinition.objects.get(entity="customer", api_name=api_name)
