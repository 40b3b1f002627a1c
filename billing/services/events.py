"""Inbound Stripe webhooks: verify, store once, process in the background.

Processing never trusts the event's copy of the object or the order events arrive in:
it re-fetches the subscription or invoice from Stripe and applies its current state, so
duplicates and shuffled events converge to the same account.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import gateway
from billing.models import BillingAccount, Invoice, StripeEvent

from .accounts import account_apply_subscription, account_card_added, account_notify_trial_ending
from .invoices import invoice_mirror
from .notify import billing_notify

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10


class SignatureError(Exception):
    pass


def webhook_verify(*, payload: bytes, header: str, secret: str, tolerance: int) -> dict:
    """Check Stripe's `t=...,v1=...` signature over `<t>.<raw body>`; refuse timestamps
    further than `tolerance` seconds in the past or the future (replays, clock games)."""
    if not secret:
        raise SignatureError("no webhook secret configured")
    parts: dict[str, list[str]] = {}
    for item in (header or "").split(","):
        key, _sep, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise SignatureError("no timestamp") from None
    if abs(time.time() - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance")
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    if not any(hmac.compare_digest(expected, sig) for sig in parts.get("v1", [])):
        raise SignatureError("signature mismatch")
    try:
        event = json.loads(payload)
    except ValueError:
        raise SignatureError("body is not JSON") from None
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise SignatureError("not an event")
    return event


def event_store(*, event: dict) -> tuple[StripeEvent, bool]:
    """Store the event once; a duplicate delivery returns the stored row."""
    try:
        with transaction.atomic():
            stored = StripeEvent.objects.create(
                stripe_id=event["id"],
                type=event["type"],
                payload=event,
                created=gateway.from_timestamp(event.get("created")) or timezone.now(),
            )
    except IntegrityError:
        return StripeEvent.objects.get(stripe_id=event["id"]), False
    pk = stored.pk
    transaction.on_commit(lambda: _queue(pk))
    return stored, True


def _queue(event_pk: int) -> None:
    from billing.tasks import event_process_task

    try:
        event_process_task.apply_async(args=[event_pk], retry=False)
    except Exception:  # noqa: BLE001 - the sweep processes it later
        logger.warning("billing: broker unavailable, Stripe event %s left to the sweep", event_pk)


def _object(event: StripeEvent) -> dict:
    return ((event.payload or {}).get("data") or {}).get("object") or {}


def _account_for(*, customer_id: str = "", subscription_id: str = "") -> BillingAccount | None:
    qs = BillingAccount.objects.select_related("tenant", "plan")
    if subscription_id:
        account = qs.filter(stripe_subscription_id=subscription_id).first()
        if account:
            return account
    if customer_id:
        return qs.filter(stripe_customer_id=customer_id).first()
    return None


def event_process(*, event_pk: int) -> str | None:
    """Process one stored event; returns its final status. Raises GatewayError when
    Stripe could not be asked (the event stays pending for a retry)."""
    event = StripeEvent.objects.filter(pk=event_pk).first()
    if event is None or event.status in (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED):
        return event.status if event else None
    try:
        account = _handle(event)
    except gateway.GatewayError as exc:
        StripeEvent.objects.filter(pk=event.pk).update(
            attempts=event.attempts + 1,
            error=str(exc)[:2000],
            status=StripeEvent.Status.FAILED
            if event.attempts + 1 >= MAX_ATTEMPTS
            else StripeEvent.Status.PENDING,
        )
        raise
    except (KeyError, TypeError, ValueError) as exc:  # a malformed event: never retried
        logger.exception("billing: Stripe event %s could not be processed", event.stripe_id)
        StripeEvent.objects.filter(pk=event.pk).update(
            attempts=event.attempts + 1,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            status=StripeEvent.Status.FAILED,
        )
        return StripeEvent.Status.FAILED
    status = StripeEvent.Status.PROCESSED if account else StripeEvent.Status.IGNORED
    StripeEvent.objects.filter(pk=event.pk).update(
        status=status,
        account=account,
        attempts=event.attempts + 1,
        error="",
        processed_at=timezone.now(),
    )
    return status


def _handle(event: StripeEvent) -> BillingAccount | None:
    obj = _object(event)
    kind = event.type
    if kind.startswith("customer.subscription."):
        account = _account_for(
            customer_id=obj.get("customer", ""), subscription_id=obj.get("id", "")
        )
        if account is None:
            return None
        _refresh_subscription(account, obj.get("id") or account.stripe_subscription_id)
        if kind == "customer.subscription.trial_will_end":
            account.refresh_from_db()
            account_notify_trial_ending(account=account)
        return account
    if kind.startswith("invoice."):
        invoice = gateway.invoice_retrieve(obj["id"])
        account = _account_for(
            customer_id=invoice["customer"] or "", subscription_id=invoice["subscription"] or ""
        )
        if account is None:
            return None
        mirrored = invoice_mirror(account=account, invoice=invoice)
        if kind in ("invoice.payment_failed", "invoice.payment_action_required"):
            _payment_failed(account, mirrored)
        elif kind in ("invoice.paid", "invoice.payment_succeeded"):
            _payment_receipt(account, mirrored)
        if invoice["subscription"] and account.stripe_subscription_id:
            _refresh_subscription(account, account.stripe_subscription_id)
        return account
    if kind == "checkout.session.completed" and obj.get("mode") == "setup":
        customer_id, payment_method_id = gateway.checkout_session_payment_method(obj["id"])
        account = _account_for(customer_id=customer_id)
        if account is None or not payment_method_id:
            return None
        label = gateway.payment_method_attach(
            customer_id=customer_id, payment_method_id=payment_method_id
        )
        account_card_added(account=account, payment_method_label=label)
        return account
    return None


def _refresh_subscription(account: BillingAccount, subscription_id: str) -> None:
    if subscription_id != account.stripe_subscription_id:
        return  # an old subscription of this customer: not the one we bill
    subscription = gateway.subscription_retrieve(subscription_id)
    with transaction.atomic():
        locked = BillingAccount.objects.select_for_update().get(pk=account.pk)
        account_apply_subscription(account=locked, subscription=subscription)


def _payment_failed(account: BillingAccount, invoice: Invoice) -> None:
    # Once per invoice, whether payment_failed or payment_action_required came first.
    if Invoice.objects.filter(pk=invoice.pk, payment_failed_at__isnull=True).update(
        payment_failed_at=timezone.now()
    ):
        billing_notify(
            tenant=account.tenant,
            kind="payment_failed",
            payload={"invoice": invoice.stripe_id, "url": invoice.hosted_url},
        )


def _payment_receipt(account: BillingAccount, invoice: Invoice) -> None:
    if invoice.amount_paid <= 0:
        return
    if Invoice.objects.filter(pk=invoice.pk, receipt_sent_at__isnull=True).update(
        receipt_sent_at=timezone.now()
    ):
        billing_notify(
            tenant=account.tenant,
            kind="payment_receipt",
            payload={
                "invoice": invoice.stripe_id,
                "amount": invoice.amount_paid,
                "currency": invoice.currency,
                "url": invoice.hosted_url or invoice.pdf_url,
            },
        )


def events_process_pending() -> int:
    """Beat: events whose task was lost or that failed for a Stripe outage."""
    pks = list(
        StripeEvent.objects.filter(status=StripeEvent.Status.PENDING).values_list("pk", flat=True)[
            :200
        ]
    )
    done = 0
    for pk in pks:
        try:
            event_process(event_pk=pk)
            done += 1
        except gateway.GatewayError:
            logger.warning("billing: Stripe event %s still failing", pk)
    return done
