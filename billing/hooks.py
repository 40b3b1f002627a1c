"""Outbox handlers (run in the company's schema, after the change committed)."""

from django.db import connection

from tenants.models import Tenant

from .services.accounts import account_open
from .services.seats import seat_sync_request


def on_tenant_created(event) -> None:
    account_open(tenant=Tenant.objects.get(schema_name=connection.schema_name))


def on_users_changed(event) -> None:
    changed = set((event.payload or {}).get("changed") or [])
    if event.event_type == "user.joined" or "is_active" in changed:
        tenant_id = Tenant.objects.filter(schema_name=connection.schema_name).values_list(
            "pk", flat=True
        )[0]
        seat_sync_request(tenant_id=tenant_id)
