"""Billing e-mails go through the company's outbox (sent after commit, retried)."""

from django.db import connection
from django_tenants.utils import tenant_context

from crm_platform.outbox.services import outbox_record

KINDS = ("trial_ending", "trial_ended", "payment_failed", "payment_receipt")


def billing_notify(*, tenant, kind: str, payload: dict) -> None:
    """Record `billing.<kind>` in the company's outbox; its handler e-mails the owner."""
    assert kind in KINDS, kind
    if connection.schema_name == tenant.schema_name:
        _record(tenant, kind, payload)
        return
    with tenant_context(tenant):
        _record(tenant, kind, payload)


def _record(tenant, kind, payload):
    outbox_record(
        event_type=f"billing.{kind}",
        aggregate_type="tenant",
        aggregate_id=tenant.schema_name,
        payload=payload,
    )
