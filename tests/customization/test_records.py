"""Custom fields on records: the same validator behind the API, the pages and CSV
import; lookups within the company; record pages, events."""

import csv
import io

import pytest
from django_tenants.utils import tenant_context

from accounts.models import User
from crm_core.models import Activity, Contact, Customer, Deal, Lead
from crm_core.services.imports import import_job_create, import_run
from crm_platform.outbox.models import OutboxEvent
from customization import services
from tests.conftest import client_for, signed_in

pytestmark = pytest.mark.django_db


def admin_api(world):
    return client_for(world.a, world.a.owner_token)


def post(client, path, body):
    return client.post(path, body, content_type="application/json")


def a_id(world, model):
    with tenant_context(world.a.tenant):
        return model.objects.order_by("id").values_list("id", flat=True).first()


def test_a_deal_needs_its_contract_value_and_stores_it_normalised(world, fields):
    client = admin_api(world)
    customer = a_id(world, Customer)
    response = post(client, "/api/v1/deals/", {"name": "Big deal", "customer_id": customer})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "custom_fields.contract_value": ["This field is required."]
    }
    body = {"name": "Big deal", "customer_id": customer, "custom_fields": {"contract_value": -1}}
    response = post(client, "/api/v1/deals/", body)
    assert response.json()["error"]["fields"] == {"custom_fields.contract_value": ["At least 0."]}
    body["custom_fields"] = {"contract_value": "1500.5"}
    response = post(client, "/api/v1/deals/", body)
    assert response.status_code == 201, response.content
    assert response.json()["custom_fields"] == {"contract_value": "1500.50"}
    deal_id = response.json()["id"]
    # A partial update keeps the other values; emptying a required field is refused.
    response = client.patch(
        f"/api/v1/deals/{deal_id}/",
        {"custom_fields": {"contract_value": ""}},
        content_type="application/json",
    )
    assert response.status_code == 400
    response = client.patch(
        f"/api/v1/deals/{deal_id}/", {"name": "Bigger"}, content_type="application/json"
    )
    assert (
        response.status_code == 200
        and response.json()["custom_fields"]["contract_value"] == "1500.50"
    )


def test_unknown_keys_and_non_objects_are_refused(world, fields):
    client = admin_api(world)
    response = post(client, "/api/v1/customers/", {"name": "X", "custom_fields": {"hacked": 1}})
    assert response.json()["error"]["fields"] == {"custom_fields.hacked": ["Unknown field."]}
    response = post(client, "/api/v1/customers/", {"name": "X", "custom_fields": [1]})
    assert "custom_fields" in response.json()["error"]["fields"]


def test_picklists_take_active_values_only(world, fields):
    client = admin_api(world)
    response = post(
        client, "/api/v1/customers/", {"name": "P", "custom_fields": {"segment": "legacy"}}
    )
    assert response.status_code == 400
    response = post(
        client, "/api/v1/customers/", {"name": "P", "custom_fields": {"segment": "smb"}}
    )
    assert response.status_code == 201 and response.json()["custom_fields"] == {"segment": "smb"}


def test_lookups_must_exist_in_this_company_and_be_of_the_right_type(world, fields):
    client = admin_api(world)
    with tenant_context(world.b.tenant):
        b_contact = Contact.objects.order_by("id").first().pk
    with tenant_context(world.a.tenant):
        a_contact_ids = set(Contact.objects.values_list("id", flat=True))
        a_contact = min(a_contact_ids)
        not_a_contact = max(Customer.objects.values_list("id", flat=True)) + 1000
    missing = [i for i in (b_contact, not_a_contact) if i not in a_contact_ids]
    for bad in missing:
        response = post(
            client, "/api/v1/leads/", {"name": "L", "custom_fields": {"referred_by": bad}}
        )
        assert response.json()["error"]["fields"] == {
            "custom_fields.referred_by": ["No such record."]
        }, bad
    response = post(
        client, "/api/v1/leads/", {"name": "L", "custom_fields": {"referred_by": a_contact}}
    )
    assert (
        response.status_code == 201 and response.json()["custom_fields"]["referred_by"] == a_contact
    )


def test_unique_values_per_entity(world, fields):
    client = admin_api(world)
    body = {"name": "U1", "custom_fields": {"vat_id": "DE123456"}}
    assert post(client, "/api/v1/customers/", body).status_code == 201
    response = post(client, "/api/v1/customers/", {**body, "name": "U2"})
    assert response.json()["error"]["fields"] == {
        "custom_fields.vat_id": ["Another record already has this value."]
    }
    response = post(
        client, "/api/v1/customers/", {"name": "U3", "custom_fields": {"vat_id": "nope"}}
    )
    assert "custom_fields.vat_id" in response.json()["error"]["fields"]


def test_the_same_bad_value_is_refused_alike_by_api_form_and_import(world, fields):
    """employees = 0 (minimum 1): one message, named alike, in all three paths."""
    expected = "At least 1."
    response = post(
        admin_api(world),
        "/api/v1/customers/",
        {"name": "Same", "custom_fields": {"employees": "0"}},
    )
    assert response.json()["error"]["fields"] == {"custom_fields.employees": [expected]}

    page = signed_in(world.a, world.a.owner_email)
    form = page.get("/customers/new/").content.decode()
    assert 'name="custom_fields.employees"' in form and "Industry segment" in form
    response = page.post(
        "/customers/new/",
        {
            "name": "Same",
            "kind": "company",
            "relationship_stage": "potential",
            "custom_fields.employees": "0",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and expected in html, response.context["form"].errors

    buffer = io.StringIO()
    csv.writer(buffer).writerows([["Name", "Employees"], ["Same", "0"], ["Fine", "12"]])
    with tenant_context(world.a.tenant):
        admin = User.objects.get(email=world.a.owner_email)
        job = import_job_create(
            actor=admin, entity="customer", file_name="c.csv", data=buffer.getvalue().encode()
        )
        assert job.mapping.get("Employees") == "custom_fields.employees"  # mapped by label
        import_run(job_id=job.pk)
        job.refresh_from_db()
        row_errors = [e for e in job.errors if e["row"]]
        assert row_errors == [{"row": 2, "field": "custom_fields.employees", "message": expected}]


def test_import_writes_custom_fields_and_checks_lookups(world, fields):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(
        [
            ["Name", "Industry segment", "VAT id"],
            ["Imp CF 1", "smb", "FR000001"],
            ["Imp CF 2", "gold", ""],
        ]
    )
    with tenant_context(world.a.tenant):
        admin = User.objects.get(email=world.a.owner_email)
        job = import_job_create(
            actor=admin,
            entity="customer",
            file_name="c.csv",
            data=buffer.getvalue().encode(),
            mode="skip_bad_rows",
        )
        import_run(job_id=job.pk)
        job.refresh_from_db()
        assert job.created_rows == 1 and job.error_rows == 1
        assert Customer.objects.get(name="Imp CF 1").custom_fields == {
            "segment": "smb",
            "vat_id": "FR000001",
        }


def test_form_saves_and_detail_page_shows_custom_fields(world, fields):
    page = signed_in(world.a, world.a.owner_email)
    customer = a_id(world, Customer)
    response = page.get(f"/customers/{customer}/edit/")
    assert response.status_code == 200
    form = response.context["form"]
    data = {
        name: (form.initial.get(name, field.initial) or "")
        for name, field in form.fields.items()
        if not field.disabled
    }
    data = {k: getattr(v, "pk", v) for k, v in data.items() if v is not None}
    data.update(
        {"name": "Edited", "custom_fields.segment": "enterprise", "custom_fields.employees": "250"}
    )
    response = page.post(f"/customers/{customer}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(world.a.tenant):
        assert Customer.objects.get(pk=customer).custom_fields == {
            "segment": "enterprise",
            "employees": 250,
        }
    html = page.get(f"/customers/{customer}/").content.decode()
    assert "Industry segment" in html and "Enterprise" in html and "#aa2222" in html


def test_labels_are_translated(world, fields):
    page = signed_in(world.a, world.a.owner_email)
    page.cookies["crm_language"] = "ja"
    html = page.get("/customers/new/").content.decode()
    assert "業種セグメント" in html


def test_activities_are_customizable_and_events_carry_custom_fields(world, fields):
    with tenant_context(world.a.tenant):
        admin = User.objects.get(email=world.a.owner_email)
        services.definition_create(
            actor=admin,
            entity="activity",
            data={
                "api_name": "outcome",
                "label": "Outcome",
                "field_type": "text",
                "required": True,
            },
        )
        customer = Customer.objects.order_by("id").first().pk
    client = admin_api(world)
    body = {"kind": "call", "subject": "Call", "customer_id": customer}
    response = post(client, "/api/v1/activities/", body)
    assert response.json()["error"]["fields"] == {
        "custom_fields.outcome": ["This field is required."]
    }
    response = post(client, "/api/v1/activities/", {**body, "custom_fields": {"outcome": "Won"}})
    assert response.status_code == 201 and response.json()["custom_fields"] == {"outcome": "Won"}
    with tenant_context(world.a.tenant):
        event = OutboxEvent.objects.filter(event_type="activity.created").latest("id")
        assert event.payload["custom_fields"] == {"outcome": "Won"}
        assert Activity.objects.get(pk=response.json()["id"]).custom_fields == {"outcome": "Won"}


def test_bulk_saves_validate_custom_fields_per_item(world, fields):
    response = post(
        admin_api(world),
        "/api/v1/deals/bulk/",
        {
            "items": [
                {
                    "name": "B1",
                    "customer_id": a_id(world, Customer),
                    "custom_fields": {"contract_value": "x"},
                }
            ]
        },
    )
    assert response.status_code == 400
    assert any("contract_value" in key for key in response.json()["error"]["fields"])
    with tenant_context(world.a.tenant):
        assert not Deal.objects.filter(name="B1").exists()
        assert Lead.objects.exists()


def test_search_finds_records_by_custom_text_values_not_hidden_ones(world, fields):
    client = admin_api(world)
    body = {
        "name": "Searchable Co",
        "custom_fields": {"vat_id": "JP424242", "segment": "enterprise"},
    }
    assert post(client, "/api/v1/customers/", body).status_code == 201
    hits = client.get("/api/v1/search/?q=jp4242").json()["customer"]
    assert [h["name"] for h in hits] == ["Searchable Co"]
    assert (
        client.get("/api/v1/search/?q=enterprise").json()["customer"][0]["name"] == "Searchable Co"
    )
    with tenant_context(world.a.tenant):
        admin = User.objects.get(email=world.a.owner_email)
        services.field_security_set(
            actor=admin, entity="customer", field="vat_id", role="sales_rep", access="hidden"
        )
    # Saved again: a value hidden from some role is no longer searchable by anyone.
    customer_id = hits[0]["id"]
    client.patch(
        f"/api/v1/customers/{customer_id}/", {"notes": "x"}, content_type="application/json"
    )
    assert client.get("/api/v1/search/?q=jp4242").json()["customer"] == []


def test_imported_custom_values_are_searchable(world, fields):
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["Name", "VAT id"], ["Imported searchable", "CN777777"]])
    with tenant_context(world.a.tenant):
        admin = User.objects.get(email=world.a.owner_email)
        job = import_job_create(
            actor=admin, entity="customer", file_name="c.csv", data=buffer.getvalue().encode()
        )
        import_run(job_id=job.pk)
        assert "cn777777" in Customer.objects.get(name="Imported searchable").search_text


def test_quick_activity_form_takes_activity_custom_fields(world, fields):
    with tenant_context(world.a.tenant):
        admin = User.objects.get(email=world.a.owner_email)
        services.definition_create(
            actor=admin,
            entity="activity",
            data={
                "api_name": "outcome",
                "label": "Outcome",
                "field_type": "text",
                "required": True,
            },
        )
        customer = Customer.objects.order_by("id").first().pk
    page = signed_in(world.a, world.a.owner_email)
    html = page.get(f"/customers/{customer}/").content.decode()
    assert 'name="custom_fields.outcome"' in html
    body = {"kind": "call", "subject": "Quick call", "customer": customer, "priority": "normal"}
    response = page.post("/activities/new/", body)
    assert "This field is required." in response.content.decode()
    response = page.post("/activities/new/", {**body, "custom_fields.outcome": "Agreed"})
    assert response.status_code == 302
    with tenant_context(world.a.tenant):
        assert Activity.objects.get(subject="Quick call").custom_fields == {"outcome": "Agreed"}


def test_defaults_lengths_multi_selects_and_users(world):
    with tenant_context(world.a.tenant):
        admin = User.objects.get(email=world.a.owner_email)
        rep = User.objects.get(email=world.a.rep_email)
        for data in (
            {
                "api_name": "tier",
                "label": "Tier",
                "field_type": "text",
                "default": " bronze ",
                "max_length": 10,
            },
            {
                "api_name": "channels",
                "label": "Channels",
                "field_type": "multi_select",
                "choices": [{"value": "web"}, {"value": "phone"}, {"value": "shop"}],
            },
            {"api_name": "account_manager", "label": "Account manager", "field_type": "user"},
            {"api_name": "renewal", "label": "Renewal", "field_type": "datetime"},
        ):
            services.definition_create(actor=admin, entity="contact", data=data)
        customer = Customer.objects.order_by("id").first().pk
    client = admin_api(world)
    body = {
        "name": "Multi",
        "customer_id": customer,
        "custom_fields": {
            "channels": ["shop", "web", "shop"],
            "account_manager": rep.pk,
            "renewal": "2026-03-01T09:30:00+08:00",
        },
    }
    response = post(client, "/api/v1/contacts/", body)
    assert response.status_code == 201, response.content
    assert response.json()["custom_fields"] == {
        "tier": "bronze",  # the default, cleaned like any value
        "channels": ["web", "shop"],  # picklist order, no repeats
        "account_manager": rep.pk,
        "renewal": "2026-03-01T01:30:00.000000Z",
    }
    too_long = {**body, "custom_fields": {"tier": "x" * 11}}
    assert post(client, "/api/v1/contacts/", too_long).json()["error"]["fields"] == {
        "custom_fields.tier": ["At most 10 characters."]
    }
    inactive_user = {**body, "custom_fields": {"account_manager": 10**6}}
    assert (
        "custom_fields.account_manager"
        in post(client, "/api/v1/contacts/", inactive_user).json()["error"]["fields"]
    )
