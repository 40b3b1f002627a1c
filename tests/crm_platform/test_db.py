"""The compiled timestamptz loader gives the same aware datetimes as Django's."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from crm_platform.outbox.models import OutboxEvent

pytestmark = pytest.mark.django_db


def test_timestamps_load_aware_in_utc_through_the_compiled_loader(world):
    connection.ensure_connection()
    with connection.cursor() as cursor:
        loader = cursor.connection.adapters.get_loader(
            cursor.connection.adapters.types["timestamptz"].oid, 0
        )
        assert loader.__name__ == "CompiledTzLoader"
        assert loader.timezone == connection.timezone  # Django keeps it, no per-cursor copy
        cursor.execute("SELECT TIMESTAMPTZ '2026-03-01 08:30:15.123456+09:00'")
        value = cursor.fetchone()[0]
    assert timezone.is_aware(value)
    assert value.utcoffset() == dt.timedelta(0)
    assert value == dt.datetime(2026, 2, 28, 23, 30, 15, 123456, tzinfo=dt.UTC)


def test_model_datetimes_round_trip(world):
    with tenant_context(world.a.tenant):
        event = OutboxEvent.objects.create(
            event_type="probe", aggregate_type="probe", aggregate_id="1", payload={}
        )
        loaded = OutboxEvent.objects.get(pk=event.pk)
    assert loaded.created_at == event.created_at and timezone.is_aware(loaded.created_at)
