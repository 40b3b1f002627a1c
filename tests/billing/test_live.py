"""End to end with other processes: localstripe signs and sends its own webhooks to the
real web server, the Celery worker processes them; the seat sync task coalesces."""

import urllib.parse
import urllib.request

from billing.models import BillingAccount, Invoice, StripeEvent
from billing.services.accounts import account_add_card

from .conftest import add_user, dispatch_outbox, new_company, stripe_client, wait_for


def _register_webhook(billing, live_web):
    request = urllib.request.Request(
        f"{billing.url}/_config/webhooks/crm",
        data=urllib.parse.urlencode(
            {
                "url": live_web.url("localhost", "/billing/stripe/webhook/"),
                "secret": billing.webhook_secret,
            }
        ).encode(),
        headers={"Authorization": "Bearer sk_test_localstripe"},
    )
    urllib.request.urlopen(request, timeout=5).read()


def test_localstripe_webhooks_reach_the_worker_through_the_web_server(billing, live_web):
    _register_webhook(billing, live_web)
    account = new_company("live")
    Invoice.objects.filter(account=account).delete()  # only the webhook may bring it back
    account_add_card(account=account, return_url="http://x/")
    Invoice.objects.filter(account=account).delete()

    def paid_event_processed():
        return StripeEvent.objects.filter(
            type="invoice.payment_succeeded",
            account=account,
            status=StripeEvent.Status.PROCESSED,
        ).exists()

    wait_for(paid_event_processed, timeout=60)
    invoice = Invoice.objects.get(account=account)
    assert invoice.status == "paid" and invoice.amount_paid == account.plan.price_per_user
    created = StripeEvent.objects.get(
        type="customer.subscription.created",
        payload__data__object__customer=account.stripe_customer_id,
    )
    assert created.status == StripeEvent.Status.PROCESSED


def test_seat_changes_reach_stripe_through_the_worker(billing, celery_worker, settings):
    settings.BILLING_SEAT_SYNC_COUNTDOWN = 2
    account = new_company("coal")
    tenant = account.tenant
    add_user(tenant, "one@example.com")
    add_user(tenant, "two@example.com")
    add_user(tenant, "three@example.com")
    dispatch_outbox(tenant)  # three user.joined events; the sync runs in the worker

    def synced():
        account.refresh_from_db()
        return account.seat_sync_state == BillingAccount.SeatSync.OK and account.seats_synced == 4

    wait_for(synced, timeout=60)
    sub = stripe_client().v1.subscriptions.retrieve(account.stripe_subscription_id).to_dict()
    assert sub["items"]["data"][0]["quantity"] == 4
