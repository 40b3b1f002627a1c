"""A unique custom field holds under concurrent saves: two transactions saving the same
value at once, the second waits for the first and is refused (real PostgreSQL, two
connections; committed data, cleaned up)."""

import threading
import time
import uuid

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from accounts.models import User
from crm_core.models import Customer
from crm_core.services.customers import customer_create
from customization import services
from customization.models import FieldDefinition


def test_two_saves_of_one_unique_value_at_once_keep_it_unique(world, committed):
    api_name = f"tax_{uuid.uuid4().hex[:6]}"
    value = f"CN-{uuid.uuid4().hex[:8]}"
    with tenant_context(world.b.tenant):
        owner = User.objects.get(email=world.b.owner_email)
        services.definition_create(
            actor=owner,
            entity="customer",
            data={"api_name": api_name, "label": "Tax id", "field_type": "text", "unique": True},
        )
    connection.set_schema_to_public()
    outcome: dict[str, object] = {}
    first_saved = threading.Event()

    def save(name: str, hold: float) -> None:
        try:
            with tenant_context(world.b.tenant), transaction.atomic():
                customer_create(
                    actor=User.objects.get(email=world.b.owner_email),
                    data={"name": name, "custom_fields": {api_name: value}},
                )
                if hold:
                    first_saved.set()
                    time.sleep(hold)  # still uncommitted while the other one checks
            outcome[name] = "saved"
        except ValidationError as exc:
            outcome[name] = exc.message_dict
        finally:
            connection.close()

    first = threading.Thread(target=save, args=("Race A", 1.0))
    first.start()
    assert first_saved.wait(10)
    second = threading.Thread(target=save, args=("Race B", 0))
    second.start()
    first.join(20)
    second.join(20)
    try:
        assert outcome["Race A"] == "saved"
        assert outcome["Race B"] == {
            f"custom_fields.{api_name}": ["Another record already has this value."]
        }
        with tenant_context(world.b.tenant):
            assert Customer.objects.filter(custom_fields__contains={api_name: value}).count() == 1
    finally:
        with tenant_context(world.b.tenant):
            Customer.objects.filter(custom_fields__has_key=api_name).delete()
            FieldDefinition.objects.filter(api_name=api_name).delete()
            from customization.cache import invalidate

            invalidate()
        connection.set_schema_to_public()
