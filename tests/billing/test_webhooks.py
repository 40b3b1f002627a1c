"""Inbound Stripe webhooks: signatures, storing once, re-fetching, dunning, convergence."""

import json
import random
import time
from datetime import timedelta

from django.utils import timezone

from billing import gateway
from billing.models import BillingAccount, Invoice, StripeEvent
from billing.services.accounts import account_add_card, billing_sweep
from tenants.models import Tenant

from .conftest import (
    deliver,
    new_company,
    outbox_types,
    post_event,
    sign,
    stripe_client,
    synthetic_event,
)


def test_signature_is_checked_on_the_raw_body(billing):
    from tests.conftest import public_client

    event = synthetic_event("customer.subscription.updated", {"id": "sub_x", "customer": "cus_x"})
    body = json.dumps(event).encode()
    client = public_client()

    def post(header, payload=body):
        return client.post(
            "/billing/stripe/webhook/",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )

    assert post(sign(body, "whsec_wrong")).status_code == 400
    assert post("").status_code == 400
    assert post(sign(body, billing.webhook_secret), payload=body + b" ").status_code == 400
    stale = sign(body, billing.webhook_secret, int(time.time()) - 3600)
    assert post(stale).json()["error"]["code"] == "bad_signature"
    future = sign(body, billing.webhook_secret, int(time.time()) + 3600)
    assert post(future).status_code == 400
    assert not StripeEvent.objects.filter(stripe_id=event["id"]).exists()
    assert post(sign(body, billing.webhook_secret)).status_code == 200
    assert post(sign(body, billing.webhook_secret)).content == b"duplicate"
    assert StripeEvent.objects.filter(stripe_id=event["id"]).count() == 1


def test_webhook_needs_a_post_on_the_public_host(billing, world):
    from tests.conftest import client_for

    assert client_for(world.a).post("/billing/stripe/webhook/").status_code == 404


def test_trial_will_end_emails_once_and_duplicates_are_stored_once(billing):
    account = new_company()
    sub = {"id": account.stripe_subscription_id, "customer": account.stripe_customer_id}
    event = synthetic_event("customer.subscription.trial_will_end", sub)
    first = deliver(event)
    assert first.status == StripeEvent.Status.PROCESSED and first.account_id == account.pk
    assert post_event(event).status_code == 200  # Stripe retries the same event
    deliver(synthetic_event("customer.subscription.trial_will_end", sub))  # and a second one
    assert StripeEvent.objects.filter(stripe_id=event["id"]).count() == 1
    assert outbox_types(account.tenant) == ["billing.trial_ending"]


def test_events_for_unknown_customers_are_ignored(billing):
    stored = deliver(
        synthetic_event("customer.subscription.updated", {"id": "sub_nope", "customer": "cus_no"})
    )
    assert stored.status == StripeEvent.Status.IGNORED


def _paying_company():
    account = new_company()
    account_add_card(account=account, return_url="http://x/")
    account.refresh_from_db()
    assert account.status == BillingAccount.Status.ACTIVE
    return account


def test_failed_payment_through_3ds_goes_past_due_then_read_only_after_grace(billing):
    import urllib.parse
    import urllib.request

    account = _paying_company()
    client = stripe_client()
    # The customer switches to a card that needs 3-D Secure, then fails the challenge.
    card = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4000002760003184", "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }
    )
    gateway.payment_method_attach(customer_id=account.stripe_customer_id, payment_method_id=card.id)
    renewal = gateway.subscription_invoice_now(
        subscription_id=account.stripe_subscription_id, customer_id=account.stripe_customer_id
    )
    assert renewal["status"] == "open"
    action = deliver(synthetic_event("invoice.payment_action_required", {"id": renewal["id"]}))
    assert action.status == StripeEvent.Status.PROCESSED
    assert Invoice.objects.get(stripe_id=renewal["id"]).status == "open"

    raw = client.v1.invoices.retrieve(renewal["id"]).to_dict()
    intent = client.v1.payment_intents.retrieve(raw["payment_intent"]).to_dict()
    assert intent["status"] == "requires_action"
    request = urllib.request.Request(
        f"{billing.url}/v1/payment_intents/{intent['id']}/_authenticate",
        data=urllib.parse.urlencode(
            {"client_secret": intent["client_secret"], "success": "false"}
        ).encode(),
        headers={"Authorization": "Bearer sk_test_localstripe"},
    )
    urllib.request.urlopen(request, timeout=5).read()

    deliver(synthetic_event("invoice.payment_failed", {"id": renewal["id"]}))
    account.refresh_from_db()
    assert account.status == BillingAccount.Status.PAST_DUE
    assert account.grace_ends_at > timezone.now() + timedelta(days=6)
    account.tenant.refresh_from_db()
    assert account.tenant.status == Tenant.Status.PAST_DUE  # full access, with a banner
    from tests.conftest import signed_in

    owner = signed_in(account.tenant, f"owner@{account.tenant.subdomain}.example.com")
    assert "The last payment failed." in owner.get("/").content.decode()
    # One e-mail although both payment_action_required and payment_failed came in (the
    # first invoice's receipt is there too when localstripe's own webhooks are registered).
    assert outbox_types(account.tenant, "billing.payment_failed") == ["billing.payment_failed"]
    assert Invoice.objects.get(stripe_id=renewal["id"]).payment_failed_at is not None

    BillingAccount.objects.filter(pk=account.pk).update(
        grace_ends_at=timezone.now() - timedelta(seconds=1)
    )
    billing_sweep()
    account.tenant.refresh_from_db()
    assert account.tenant.status == Tenant.Status.READ_ONLY


def test_shuffled_and_duplicate_events_converge_to_stripes_state(billing):
    account = new_company()
    sub = {"id": account.stripe_subscription_id, "customer": account.stripe_customer_id}
    # The real sequence: created (trialing), card added -> paid, updated.
    account_add_card(account=account, return_url="http://x/")
    invoice_id = (
        stripe_client().v1.invoices.list(params={"customer": account.stripe_customer_id}).data[0].id
    )
    events = [
        synthetic_event("customer.subscription.created", sub),
        synthetic_event("customer.subscription.updated", sub),
        synthetic_event("invoice.paid", {"id": invoice_id}),
        synthetic_event("invoice.payment_succeeded", {"id": invoice_id}),
    ]
    events += events[:2]  # duplicates
    # Reset what we know locally, then replay in a random order.
    BillingAccount.objects.filter(pk=account.pk).update(status="trialing", seats_synced=None)
    random.Random(7).shuffle(events)
    for event in events:
        if StripeEvent.objects.filter(stripe_id=event["id"]).exists():
            assert post_event(event).content == b"duplicate"
        else:
            deliver(event)
    account.refresh_from_db()
    assert account.status == BillingAccount.Status.ACTIVE
    assert account.seats_synced == 1
    assert account.tenant.status == Tenant.Status.ACTIVE
    invoice = Invoice.objects.get(stripe_id=invoice_id)
    assert invoice.status == "paid" and invoice.amount_paid == account.plan.price_per_user
    assert outbox_types(account.tenant) == ["billing.payment_receipt"]


def test_subscription_deleted_cancels_the_company(billing):
    account = _paying_company()
    stripe_client().v1.subscriptions.cancel(account.stripe_subscription_id)
    deliver(
        synthetic_event(
            "customer.subscription.deleted",
            {"id": account.stripe_subscription_id, "customer": account.stripe_customer_id},
        )
    )
    account.refresh_from_db()
    assert account.status == BillingAccount.Status.CANCELED and account.canceled_at
    assert account.mrr_cents == 0
    account.tenant.refresh_from_db()
    assert account.tenant.status == Tenant.Status.CANCELLED


def test_a_stripe_outage_leaves_the_event_pending_for_the_sweep(billing, settings):
    account = new_company()
    event = synthetic_event(
        "customer.subscription.updated",
        {"id": account.stripe_subscription_id, "customer": account.stripe_customer_id},
    )
    real = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    assert post_event(event).status_code == 200  # stored even though Stripe is down
    stored = StripeEvent.objects.get(stripe_id=event["id"])
    from billing.services.events import event_process, events_process_pending

    try:
        event_process(event_pk=stored.pk)
    except gateway.GatewayError:
        pass
    stored.refresh_from_db()
    assert stored.status == StripeEvent.Status.PENDING and stored.attempts == 1
    settings.STRIPE_API_BASE = real
    events_process_pending()
    stored.refresh_from_db()
    assert stored.status == StripeEvent.Status.PROCESSED


def test_a_malformed_event_is_marked_failed_not_retried(billing):
    stored = deliver(synthetic_event("invoice.paid", {"no_id": True}))
    assert stored.status == StripeEvent.Status.FAILED and "KeyError" in stored.error
