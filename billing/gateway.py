"""The one place that talks to Stripe.

Everything returns plain dicts shaped by this module, so the rest of billing never sees
SDK objects or API-version differences. With `STRIPE_LOCALSTRIPE` on, calls are adapted to
localstripe's older API: Plans instead of Prices, no `trialing` status (a subscription in
trial is `incomplete` with a future `trial_end`), no proration options and no Checkout
(the card is attached directly instead of on Stripe's hosted page).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import stripe
from django.conf import settings


class GatewayError(Exception):
    """A Stripe call failed. `unreachable` when Stripe could not be reached at all."""

    def __init__(self, message: str, *, unreachable: bool = False):
        super().__init__(message)
        self.unreachable = unreachable


def enabled() -> bool:
    return bool(settings.STRIPE_API_KEY)


def _compat() -> bool:
    return settings.STRIPE_LOCALSTRIPE


def _client() -> stripe.StripeClient:
    if not enabled():
        raise GatewayError("Stripe is not configured (STRIPE_API_KEY).")
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    # Retries belong to our tasks (with back-off), not to a request inside a lock.
    return stripe.StripeClient(
        settings.STRIPE_API_KEY,
        base_addresses=base,
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=10),
    )


def _call(fn, *args, **kwargs) -> dict:
    try:
        result = fn(*args, **kwargs)
    except stripe.APIConnectionError as exc:
        raise GatewayError(
            f"Stripe unreachable: {exc.user_message or exc}", unreachable=True
        ) from exc
    except stripe.StripeError as exc:
        raise GatewayError(str(exc.user_message or exc)) from exc
    return result.to_dict() if hasattr(result, "to_dict") else result


def _options(idempotency_key: str | None) -> dict:
    return {"idempotency_key": idempotency_key} if idempotency_key else {}


def from_timestamp(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


# --- plans ---------------------------------------------------------------------------


def product_create(*, name: str, code: str) -> str:
    c = _client()
    product = _call(
        c.v1.products.create,
        params={"name": name, "metadata": {"plan": code}},
        options=_options(f"product-{code}"),
    )
    return product["id"]


def price_create(*, product_id: str, code: str, amount: int, currency: str) -> str:
    """A monthly per-seat price (a Plan on localstripe). Prices are immutable: a new
    amount is a new price."""
    c = _client()
    key = f"price-{code}-{amount}-{currency}"
    if _compat():
        plan = _call(
            c.v1.plans.create,
            params={
                "product": product_id,
                "amount": amount,
                "currency": currency,
                "interval": "month",
                "usage_type": "licensed",
                "metadata": {"plan": code},
            },
            options=_options(key),
        )
        return plan["id"]
    price = _call(
        c.v1.prices.create,
        params={
            "product": product_id,
            "unit_amount": amount,
            "currency": currency,
            "recurring": {"interval": "month", "usage_type": "licensed"},
            "metadata": {"plan": code},
        },
        options=_options(key),
    )
    return price["id"]


# --- customers and subscriptions -----------------------------------------------------


def customer_create(*, email: str, name: str, schema_name: str, idempotency_key: str) -> str:
    c = _client()
    customer = _call(
        c.v1.customers.create,
        params={"email": email, "name": name, "metadata": {"schema_name": schema_name}},
        options=_options(idempotency_key),
    )
    return customer["id"]


def _subscription(raw: dict) -> dict:
    """The fields billing uses, the same on Stripe and localstripe."""
    items = (raw.get("items") or {}).get("data") or []
    item = items[0] if items else {}
    price = item.get("price") or item.get("plan") or {}
    status = raw.get("status")
    trial_end = raw.get("trial_end")
    if _compat() and status == "incomplete" and trial_end and trial_end > time.time():
        status = "trialing"  # localstripe has no trialing status
    # Since API 2025-03-31 the period lives on the items.
    period_end = item.get("current_period_end") or raw.get("current_period_end")
    pause = raw.get("pause_collection")
    if pause and status == "active":
        status = "paused"
    return {
        "id": raw["id"],
        "customer": raw.get("customer"),
        "status": status,
        "trial_end": from_timestamp(trial_end),
        "current_period_end": from_timestamp(period_end),
        "cancel_at_period_end": bool(raw.get("cancel_at_period_end")),
        "canceled_at": from_timestamp(raw.get("canceled_at") or raw.get("ended_at")),
        "item_id": item.get("id", ""),
        "price_id": price.get("id", "") if isinstance(price, dict) else price,
        "quantity": item.get("quantity") or raw.get("quantity") or 1,
        "metadata": raw.get("metadata") or {},
    }


def subscription_create(
    *, customer_id: str, price_id: str, quantity: int, trial_end: datetime, idempotency_key: str
) -> dict:
    c = _client()
    params = {
        "customer": customer_id,
        "trial_end": int(trial_end.timestamp()),
        "metadata": {"billing": "crm"},
    }
    if _compat():
        params["items"] = [{"plan": price_id, "quantity": quantity}]
    else:
        params["items"] = [{"price": price_id, "quantity": quantity}]
        # No card at trial end: Stripe pauses the subscription (we make the company read-only).
        params["trial_settings"] = {"end_behavior": {"missing_payment_method": "pause"}}
    raw = _call(c.v1.subscriptions.create, params=params, options=_options(idempotency_key))
    return _subscription(raw)


def subscription_retrieve(subscription_id: str) -> dict:
    return _subscription(_call(_client().v1.subscriptions.retrieve, subscription_id))


def _update(subscription_id: str, params: dict, idempotency_key: str | None = None) -> dict:
    raw = _call(
        _client().v1.subscriptions.update,
        subscription_id,
        params=params,
        options=_options(idempotency_key),
    )
    return _subscription(raw)


def subscription_set_items(
    *, subscription_id: str, item_id: str, quantity: int, price_id: str | None = None
) -> dict:
    """Seats (and optionally the plan): the change shows up on the next invoice."""
    item: dict = {"id": item_id, "quantity": quantity}
    params: dict = {"items": [item]}
    if price_id:
        item["plan" if _compat() else "price"] = price_id
    if not _compat():
        params["proration_behavior"] = "create_prorations"
    return _update(subscription_id, params)


def subscription_set_trial_end(*, subscription_id: str, trial_end: datetime) -> dict:
    params: dict = {"trial_end": int(trial_end.timestamp())}
    if not _compat():
        params["proration_behavior"] = "none"
    return _update(subscription_id, params)


def subscription_cancel_at_period_end(*, subscription_id: str, cancel: bool) -> dict:
    return _update(subscription_id, {"cancel_at_period_end": cancel})


def subscription_cancel_now(*, subscription_id: str) -> dict:
    return _subscription(_call(_client().v1.subscriptions.cancel, subscription_id))


def subscription_start_paying(*, subscription: dict, customer_id: str) -> dict:
    """End the trial now so the card on file is charged (trial -> paid subscription)."""
    if not _compat():
        if subscription["status"] == "paused":  # the trial ended without a card
            raw = _call(
                _client().v1.subscriptions.resume,
                subscription["id"],
                params={"billing_cycle_anchor": "now"},
            )
            return _subscription(raw)
        return _update(subscription["id"], {"trial_end": "now", "proration_behavior": "none"})
    # localstripe neither ends trials nor invoices on `trial_end=now`: invoice and pay
    # the subscription explicitly, which makes it active.
    c = _client()
    _update(subscription["id"], {"trial_end": int(time.time())})
    invoice = _call(
        c.v1.invoices.create, params={"customer": customer_id, "subscription": subscription["id"]}
    )
    _call(c.v1.invoices.pay, invoice["id"])
    return subscription_retrieve(subscription["id"])


def subscription_invoice_now(*, subscription_id: str, customer_id: str) -> dict:
    """Invoice and try to charge the subscription now (operators' retry; localstripe tests
    use it to stand in for a renewal, which it never runs by itself)."""
    c = _client()
    invoice = _call(
        c.v1.invoices.create, params={"customer": customer_id, "subscription": subscription_id}
    )
    try:
        return _invoice(_call(c.v1.invoices.pay, invoice["id"]))
    except GatewayError:
        return invoice_retrieve(invoice["id"])


# --- payment methods -----------------------------------------------------------------


def _card_label(pm: dict) -> str:
    card = pm.get("card") or {}
    if not card:
        return pm.get("type", "")
    return f"{card.get('brand', 'card')} •••• {card.get('last4', '')}"


def payment_method_attach(*, customer_id: str, payment_method_id: str) -> str:
    """Attach a payment method and make it the default for invoices; returns its label."""
    c = _client()
    pm = _call(c.v1.payment_methods.attach, payment_method_id, params={"customer": customer_id})
    _call(
        c.v1.customers.update,
        customer_id,
        params={"invoice_settings": {"default_payment_method": pm["id"]}},
    )
    return _card_label(pm)


def card_setup_session(*, customer_id: str, return_url: str) -> str | None:
    """Where to send the admin to add a card: Stripe's hosted Checkout page (setup mode).

    localstripe has no Checkout: returns None, and the caller attaches the test card
    `STRIPE_TEST_PAYMENT_METHOD` in place of the hosted page.
    """
    if _compat():
        return None
    session = _call(
        _client().v1.checkout.sessions.create,
        params={
            "mode": "setup",
            "customer": customer_id,
            "currency": settings.BILLING_CURRENCY,
            "payment_method_types": ["card"],
            "success_url": return_url + "?card=added",
            "cancel_url": return_url,
        },
    )
    return session["url"]


def checkout_session_payment_method(session_id: str) -> tuple[str, str]:
    """(customer id, payment method id) of a completed setup-mode Checkout session."""
    session = _call(
        _client().v1.checkout.sessions.retrieve, session_id, params={"expand": ["setup_intent"]}
    )
    setup_intent = session.get("setup_intent") or {}
    if isinstance(setup_intent, str):
        setup_intent = _call(_client().v1.setup_intents.retrieve, setup_intent)
    return session.get("customer") or "", setup_intent.get("payment_method") or ""


# --- invoices ------------------------------------------------------------------------


def _invoice(raw: dict) -> dict:
    parent = raw.get("parent") or {}
    subscription = raw.get("subscription") or (
        (parent.get("subscription_details") or {}).get("subscription")
    )
    transitions = raw.get("status_transitions") or {}
    return {
        "id": raw["id"],
        "customer": raw.get("customer"),
        "subscription": subscription,
        "number": raw.get("number") or "",
        "status": raw.get("status") or "",
        "amount_due": raw.get("amount_due") or 0,
        "amount_paid": raw.get("amount_paid") or 0,
        "currency": raw.get("currency") or settings.BILLING_CURRENCY,
        "hosted_url": raw.get("hosted_invoice_url") or "",
        "pdf_url": raw.get("invoice_pdf") or "",
        "period_start": from_timestamp(raw.get("period_start")),
        "period_end": from_timestamp(raw.get("period_end")),
        "created": from_timestamp(raw.get("created") or raw.get("date")),
        "paid_at": from_timestamp(transitions.get("paid_at")),
    }


def invoice_retrieve(invoice_id: str) -> dict:
    return _invoice(_call(_client().v1.invoices.retrieve, invoice_id))


def invoices_list(*, customer_id: str, limit: int = 24) -> list[dict]:
    result = _call(_client().v1.invoices.list, params={"customer": customer_id, "limit": limit})
    return [_invoice(raw) for raw in result.get("data", [])]


def invoice_preview(*, customer_id: str, subscription_id: str) -> dict:
    """The next invoice as it stands now (amount, currency)."""
    raw = _call(
        _client().v1.invoices.create_preview,
        params={"customer": customer_id, "subscription": subscription_id},
    )
    return {
        "amount_due": raw.get("amount_due") or raw.get("total") or 0,
        "currency": raw.get("currency"),
    }
