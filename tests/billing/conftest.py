"""Billing test helpers: fresh companies on localstripe, signed webhook events."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time

import pytest
import stripe
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from tests.conftest import PASSWORD, public_client

_counter = itertools.count()


@pytest.fixture
def billing(stripe_server, committed):
    """Stripe on (localstripe), committed writes; yields the server."""
    return stripe_server


def new_company(prefix: str = "bill"):
    """Sign a company up and run what the background would: provisioning, the outbox
    (which opens the billing account) and the Stripe set-up. Returns the account."""
    from billing.services.accounts import account_open, account_setup_stripe
    from tenants.provisioning import pool_refill
    from tenants.services import tenant_provision, tenant_signup

    subdomain = f"{prefix}{next(_counter)}{secrets.token_hex(3)}"
    pool_refill(target=1)
    result = tenant_signup(
        company_name=f"Company {subdomain}",
        subdomain=subdomain,
        email=f"owner@{subdomain}.example.com",
        password=PASSWORD,
    )
    tenant = result.tenant
    if tenant.status == "provisioning":
        tenant = tenant_provision(tenant_id=tenant.pk)
    dispatch_outbox(tenant)
    # A worker may have taken the outbox event first and still be committing: opening the
    # account again is idempotent and waits for it.
    account = account_open(tenant=tenant)
    if settings.STRIPE_API_KEY:
        account_setup_stripe(account_id=account.pk)
    account.refresh_from_db()
    account.api_token = result.api_token
    pool_refill(target=2)  # what the session's `world` fixture expects to find
    return account


def dispatch_outbox(tenant) -> None:
    from crm_platform.outbox.services import outbox_dispatch_pending

    with tenant_context(tenant):
        outbox_dispatch_pending()
    connection.set_schema_to_public()


def outbox_types(tenant, prefix: str = "billing.") -> list[str]:
    from crm_platform.outbox.models import OutboxEvent

    with tenant_context(tenant):
        types = list(
            OutboxEvent.objects.filter(event_type__startswith=prefix)
            .order_by("id")
            .values_list("event_type", flat=True)
        )
    connection.set_schema_to_public()
    return types


def add_user(tenant, email: str):
    """A colleague through the real path: invitation, acceptance."""
    from accounts.models import User
    from accounts.services import invitation_accept, invitation_create

    with tenant_context(tenant):
        owner = User.objects.get(is_owner=True)
        invitation = invitation_create(email=email, role="sales_rep", team=None, invited_by=owner)
        user = invitation_accept(invitation=invitation, full_name="Colleague", password=PASSWORD)
    connection.set_schema_to_public()
    return user


def stripe_client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_API_KEY, base_addresses={"api": settings.STRIPE_API_BASE}
    )


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={signature}"


def synthetic_event(event_type: str, obj: dict, *, event_id: str | None = None) -> dict:
    """An event of the shape Stripe sends (for types localstripe never sends)."""
    return {
        "id": event_id or f"evt_test_{secrets.token_hex(8)}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
    }


def post_event(event: dict, *, secret: str | None = None, timestamp: int | None = None):
    body = json.dumps(event).encode()
    header = sign(body, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp)
    return public_client().post(
        "/billing/stripe/webhook/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )


def deliver(event: dict):
    """Post a signed event and process it here (the task does the same in a worker)."""
    from billing.models import StripeEvent
    from billing.services.events import event_process

    response = post_event(event)
    assert response.status_code == 200, response.content
    stored = StripeEvent.objects.get(stripe_id=event["id"])
    event_process(event_pk=stored.pk)
    stored.refresh_from_db()
    return stored


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")
