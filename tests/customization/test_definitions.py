"""Field definitions: API and settings page, rules, immutable API name, audit log,
lifecycle (archive, restore, purge, type change), per-plan cap."""

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context

from accounts.models import User
from crm_core.models import Customer
from customization import services
from customization.models import DefinitionChange, FieldDefinition
from tests.conftest import client_for, signed_in

pytestmark = pytest.mark.django_db


def admin_api(world):
    return client_for(world.a, world.a.owner_token)


def post(client, path, body):
    return client.post(path, body, content_type="application/json")


def test_admin_creates_a_picklist_with_ordered_coloured_values(world):
    response = post(
        admin_api(world),
        "/api/v1/custom-fields/",
        {
            "entity": "customer",
            "api_name": "segment",
            "label": "Industry segment",
            "label_translations": {"ja": "業種セグメント"},
            "field_type": "picklist",
            "choices": [
                {"value": "b", "label": "B", "color": "#00ff00"},
                {"value": "a", "label": "A", "color": "#ff0000", "active": False},
            ],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [c["value"] for c in body["choices"]] == ["b", "a"]
    assert body["choices"][1] == {"value": "a", "label": "A", "color": "#ff0000", "active": False}
    listed = admin_api(world).get("/api/v1/custom-fields/?entity=customer").json()
    assert "segment" in [d["api_name"] for d in listed]
    with tenant_context(world.a.tenant):
        change = DefinitionChange.objects.get(api_name="segment")
        assert change.action == "created" and change.actor.email == world.a.owner_email


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"api_name": "Bad Name"}, "api_name"),
        ({"api_name": "name"}, "api_name"),  # a standard field of customers
        ({"api_name": "probe_0"}, "api_name"),  # taken
        ({"field_type": "picklist"}, "choices"),
        ({"field_type": "lookup", "lookup_entity": ""}, "lookup_entity"),
        ({"pattern": "(unclosed"}, "pattern"),
        ({"min_value": 5, "max_value": 1, "field_type": "integer"}, "max_value"),
        (
            {"field_type": "multi_select", "filterable": True, "choices": [{"value": "x"}]},
            "filterable",
        ),
        ({"field_type": "integer", "default": "many"}, "default"),
        ({"entity": "pipeline"}, "entity"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_definitions_name_the_option(world, body, field):
    data = {"entity": "customer", "api_name": "ok_name", "label": "OK", "field_type": "text"}
    response = post(admin_api(world), "/api/v1/custom-fields/", {**data, **body})
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


def test_api_name_and_type_are_immutable_but_options_change(world, fields):
    client = admin_api(world)
    pk = fields["segment"].pk
    response = client.patch(
        f"/api/v1/custom-fields/{pk}/", {"api_name": "other"}, content_type="application/json"
    )
    assert response.status_code == 400 and "api_name" in response.json()["error"]["fields"]
    response = client.patch(
        f"/api/v1/custom-fields/{pk}/", {"field_type": "text"}, content_type="application/json"
    )
    assert response.status_code == 400 and "field_type" in response.json()["error"]["fields"]
    response = client.patch(
        f"/api/v1/custom-fields/{pk}/",
        {"label": "Segment", "required": True},
        content_type="application/json",
    )
    assert response.status_code == 200
    with tenant_context(world.a.tenant):
        change = DefinitionChange.objects.filter(api_name="segment", action="updated").get()
        assert change.changes["label"] == ["Industry segment", "Segment"]
        assert change.changes["required"] == [False, True]


def test_reps_read_definitions_but_cannot_change_them(world, fields):
    rep = client_for(world.a, world.a.rep_token)
    assert rep.get("/api/v1/custom-fields/").status_code == 200
    body = {"entity": "customer", "api_name": "x", "label": "X", "field_type": "text"}
    assert post(rep, "/api/v1/custom-fields/", body).status_code == 403
    assert (
        post(rep, f"/api/v1/custom-fields/{fields['segment'].pk}/archive/", {}).status_code == 403
    )


@override_settings(CUSTOM_FIELDS_PER_ENTITY=3)
def test_plan_caps_fields_per_entity(world):
    client = admin_api(world)
    made = []
    for index in range(3):
        body = {"entity": "lead", "api_name": f"f{index}", "label": "F", "field_type": "text"}
        made.append(post(client, "/api/v1/custom-fields/", body).status_code)
    assert made == [201, 201, 201]
    body = {"entity": "lead", "api_name": "f9", "label": "F", "field_type": "text"}
    response = post(client, "/api/v1/custom-fields/", body)
    assert response.status_code == 400
    assert "3 custom fields" in response.json()["error"]["fields"]["entity"][0]


def test_the_companys_plan_sets_the_cap(world):
    from billing.models import BillingAccount, Plan

    plan = Plan.objects.create(code="small", name="Small", price_per_user=900, max_custom_fields=1)
    BillingAccount.objects.update_or_create(tenant=world.a.tenant, defaults={"plan": plan})
    client = admin_api(world)
    body = {"entity": "contact", "api_name": "only_one", "label": "F", "field_type": "text"}
    assert post(client, "/api/v1/custom-fields/", body).status_code == 201
    response = post(client, "/api/v1/custom-fields/", {**body, "api_name": "two"})
    assert response.status_code == 400
    assert "allows 1 custom field per" in response.json()["error"]["fields"]["entity"][0]


def test_archive_keeps_data_restore_brings_it_back_purge_needs_confirmation(world, fields):
    client = admin_api(world)
    pk = fields["employees"].pk
    with tenant_context(world.a.tenant):
        customer = Customer.objects.order_by("id").first()
        customer.custom_fields = {"employees": 40}
        customer.save()
    assert post(client, f"/api/v1/custom-fields/{pk}/archive/", {}).status_code == 200
    detail = client.get(f"/api/v1/customers/{customer.pk}/").json()
    assert "employees" not in detail["custom_fields"]  # archived: hidden everywhere
    with tenant_context(world.a.tenant):
        customer.refresh_from_db()
        assert customer.custom_fields == {"employees": 40}  # ... but kept
    # Archived: writes refused like an unknown key; the stored value is kept.
    response = client.patch(
        f"/api/v1/customers/{customer.pk}/",
        {"custom_fields": {"employees": 41}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "custom_fields.employees" in response.json()["error"]["fields"]
    assert post(client, f"/api/v1/custom-fields/{pk}/restore/", {}).status_code == 200
    response = client.patch(
        f"/api/v1/customers/{customer.pk}/",
        {"custom_fields": {"employees": 41}},
        content_type="application/json",
    )
    assert response.json()["custom_fields"]["employees"] == 41
    # Purge: only archived, only with the API name typed.
    assert client.delete(f"/api/v1/custom-fields/{pk}/?confirm=employees").status_code == 400
    post(client, f"/api/v1/custom-fields/{pk}/archive/", {})
    assert client.delete(f"/api/v1/custom-fields/{pk}/?confirm=nope").status_code == 400
    response = client.delete(f"/api/v1/custom-fields/{pk}/?confirm=employees")
    assert response.status_code == 200 and response.json() == {"records": 1}
    with tenant_context(world.a.tenant):
        customer.refresh_from_db()
        assert "employees" not in customer.custom_fields
        assert not FieldDefinition.objects.filter(pk=pk).exists()
        actions = list(
            DefinitionChange.objects.filter(api_name="employees")
            .order_by("id")
            .values_list("action", flat=True)
        )
    assert actions == ["created", "archived", "restored", "archived", "purged"]


def test_type_change_reports_failures_and_changes_nothing_until_all_pass(world):
    with tenant_context(world.a.tenant):
        admin = User.objects.get(email=world.a.owner_email)
        definition = services.definition_create(
            actor=admin,
            entity="customer",
            data={"api_name": "size", "label": "Size", "field_type": "text"},
        )
        first, second = Customer.objects.order_by("id")[:2]
        Customer.objects.filter(pk=first.pk).update(custom_fields={"size": "12"})
        Customer.objects.filter(pk=second.pk).update(custom_fields={"size": "twelve"})
    client = admin_api(world)
    path = f"/api/v1/custom-fields/{definition.pk}/change-type/"
    response = post(client, path, {"field_type": "integer"})
    assert response.status_code == 409
    report = response.json()
    assert report["failed"] == 1 and report["failures"][0]["id"] == second.pk
    with tenant_context(world.a.tenant):
        assert Customer.objects.get(pk=first.pk).custom_fields == {"size": "12"}  # untouched
        assert FieldDefinition.objects.get(pk=definition.pk).field_type == "text"
        Customer.objects.filter(pk=second.pk).update(custom_fields={"size": "13"})
    response = post(client, path, {"field_type": "integer"})
    assert response.status_code == 200 and response.json()["changed"] == 2
    with tenant_context(world.a.tenant):
        assert Customer.objects.get(pk=first.pk).custom_fields == {"size": 12}
        assert FieldDefinition.objects.get(pk=definition.pk).field_type == "integer"
        assert DefinitionChange.objects.filter(api_name="size", action="type_changed").exists()


def test_settings_page_creates_a_field_and_shows_it(world):
    client = signed_in(world.a, world.a.owner_email)
    page = client.get("/settings/fields/?entity=deal")
    assert page.status_code == 200
    response = client.post(
        "/settings/fields/?entity=deal",
        {
            "entity": "deal",
            "api_name": "contract_value",
            "label": "Contract value",
            "field_type": "currency",
            "required": "on",
            "min_value": "0",
            "decimal_places": "2",
            "currency": "USD",
            "choices": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get("/settings/fields/?entity=deal").content.decode()
    assert "contract_value" in page and "Contract value" in page
    bad = client.post(
        "/settings/fields/?entity=deal",
        {
            "entity": "deal",
            "api_name": "Contract Value",
            "label": "x",
            "field_type": "text",
            "decimal_places": "2",
        },
    )
    assert bad.status_code == 200 and "Lowercase letters" in bad.content.decode()


def test_settings_pages_are_for_admins(world):
    rep = signed_in(world.a, world.a.rep_email)
    for path in ("/settings/fields/", "/settings/fields/security/", "/settings/fields/layout/"):
        assert rep.get(path).status_code == 403


def test_field_page_edits_archives_changes_type_and_purges(world, fields):
    pk = fields["vat_id"].pk
    with tenant_context(world.a.tenant):
        customer = Customer.objects.order_by("id").first()
        Customer.objects.filter(pk=customer.pk).update(custom_fields={"vat_id": "AB123456"})
    page = signed_in(world.a, world.a.owner_email)
    path = f"/settings/fields/{pk}/"
    html = page.get(path).content.decode()
    assert "vat_id" in html and "VAT id" in html
    form = {
        "action": "save",
        "label": "VAT number",
        "label_ja": "付加価値税番号",
        "decimal_places": "2",
        "pattern": "[A-Z]{2}[0-9]{6}",
        "unique": "on",
        "choices": "",
    }
    assert page.post(path, form).status_code == 302
    with tenant_context(world.a.tenant):
        definition = FieldDefinition.objects.get(pk=pk)
        assert definition.label == "VAT number"
        assert definition.label_translations == {"ja": "付加価値税番号"}
    # Integer: "AB123456" does not convert; the page lists it and nothing changes.
    response = page.post(path, {"action": "change_type", "field_type": "integer"})
    html = response.content.decode()
    assert response.status_code == 200 and "AB123456" in html and "nothing was changed" in html
    assert page.post(path, {"action": "archive"}, follow=True).status_code == 200
    response = page.post(path, {"action": "purge", "confirm": "wrong"}, follow=True)
    assert "Type the field" in response.content.decode()
    response = page.post(path, {"action": "purge", "confirm": "vat_id"})
    assert response.status_code == 302
    with tenant_context(world.a.tenant):
        assert not FieldDefinition.objects.filter(pk=pk).exists()
        customer.refresh_from_db()
        assert customer.custom_fields == {}
    assert "vat_id" in page.get("/settings/fields/changes/").content.decode()
