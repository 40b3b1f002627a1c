"""Filterable fields get a per-company `((expr), id)` index, built with CREATE INDEX
CONCURRENTLY by a real Celery worker; its state is shown to the admin; the query plan
uses it; another company is never touched."""

import time

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import User
from crm_core.models import Customer
from customization import services
from customization.api_support import ListQuery
from customization.expressions import checked_identifier, index_create_sql
from customization.indexes import field_index_drop
from customization.models import DefinitionChange, FieldDefinition
from tests.conftest import client_for, signed_in


def _indexes(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def _wait_for_state(client, pk, states, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/v1/custom-fields/{pk}/").json()
        if body["index_state"] in states or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def test_filterable_field_gets_its_index_in_the_background(world, committed, celery_worker):
    client = client_for(world.a, world.a.owner_token)
    body = {
        "entity": "customer",
        "api_name": "idx_score",
        "label": "Score",
        "field_type": "decimal",
        "filterable": True,
    }
    response = client.post("/api/v1/custom-fields/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["index_state"] == "pending"
    try:
        assert _wait_for_state(client, pk, {"ready", "failed"})["index_state"] == "ready"
        name = f"cf_idx_{pk}"
        assert name in _indexes(world.a.tenant.schema_name)
        assert name not in _indexes(world.b.tenant.schema_name)
        html = signed_in(world.a, world.a.owner_email).get("/settings/fields/?entity=customer")
        assert "Ready" in html.content.decode()
        with tenant_context(world.a.tenant):
            assert FieldDefinition.objects.get(pk=pk).index_error == ""
            admin = User.objects.get(email=world.a.owner_email)
            query = ListQuery(
                user=admin, filters=[("idx_score", "gte", "10")], order_by="idx_score"
            )
            queryset = query.apply(Customer.objects.values("id")).order_by(*query.ordering)[:50]
            with connection.cursor() as cursor:
                cursor.execute("SET enable_seqscan = off")
                sql, params = queryset.query.sql_with_params()
                cursor.execute("EXPLAIN " + sql, params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                cursor.execute("SET enable_seqscan = on")
            assert name in plan, plan
            assert "Sort" not in plan.split(name)[0], plan  # the index gives the order
        # Turning filtering off drops the index (also in the background).
        response = client.patch(
            f"/api/v1/custom-fields/{pk}/", {"filterable": False}, content_type="application/json"
        )
        assert response.json()["index_state"] == "none"
        deadline = time.monotonic() + 30
        while name in _indexes(world.a.tenant.schema_name) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert name not in _indexes(world.a.tenant.schema_name)
    finally:
        with tenant_context(world.a.tenant):
            field_index_drop(definition_id=pk)
            FieldDefinition.objects.filter(pk=pk).delete()
            DefinitionChange.objects.filter(api_name="idx_score").delete()


@pytest.mark.django_db
def test_ddl_identifiers_are_checked_and_quoted(world):
    definition = FieldDefinition(pk=7, entity="customer", api_name="score", field_type="integer")
    with tenant_context(world.a.tenant):
        text = index_create_sql(definition, schema="t_abc", table="crm_core_customer").as_string(
            connection.connection
        )
    assert text == (
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "cf_idx_7" ON "t_abc"."crm_core_customer" '
        "(((custom_fields ->> 'score')::numeric), id)"
    )
    for bad in ('x"; DROP TABLE y; --', "Upper", "", "a" * 64):
        with pytest.raises(ValueError):
            checked_identifier(bad)
    definition.api_name = "bad'name"
    with pytest.raises(ValueError):
        index_create_sql(definition, schema="t_abc", table="crm_core_customer")


@pytest.mark.django_db
def test_index_build_refuses_to_run_in_a_transaction(world, fields):
    from customization.indexes import field_index_build

    with tenant_context(world.a.tenant):
        admin = User.objects.get(email=world.a.owner_email)
        definition = services.definition_update(
            actor=admin, definition=fields["employees"], data={"filterable": True}
        )
        assert definition.index_state == "pending"
        with pytest.raises(RuntimeError):
            field_index_build(definition_id=definition.pk)
