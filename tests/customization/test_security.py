"""Field-level security per role: hidden and read-only fields, standard and custom, in
the API (detail, lists), pages, exports, search results and event payloads."""

import pytest
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from crm_core.models import Contact, Customer
from crm_core.records import search_text
from crm_platform.outbox.models import OutboxEvent
from customization import services
from customization.models import FieldDefinition
from customization.security import shape_payload
from tests.conftest import client_for, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def secured(world, fields):
    """For sales reps: segment and phone hidden, employees read-only. The rep's customer
    has values in all three."""
    with tenant_context(world.a.tenant):
        admin = User.objects.get(email=world.a.owner_email)
        rep = User.objects.get(email=world.a.rep_email)
        for field, access in (
            ("segment", "hidden"),
            ("phone", "hidden"),
            ("employees", "read_only"),
        ):
            services.field_security_set(
                actor=admin, entity="customer", field=field, role="sales_rep", access=access
            )
        customer = Customer.objects.create(
            name="Secret Co",
            owner=rep,
            phone="+86 138 0000 9999",
            email="secret@co.example",
            custom_fields={"segment": "smb", "employees": 7},
            search_text="secret co secret@co.example +86 138 0000 9999",
        )
    return customer


def test_api_detail_and_list_leave_hidden_fields_out(world, secured):
    rep = client_for(world.a, world.a.rep_token)
    detail = rep.get(f"/api/v1/customers/{secured.pk}/").json()
    assert "phone" not in detail and detail["custom_fields"] == {"employees": 7}
    rows = rep.get("/api/v1/customers/?q=secret").json()["results"]
    assert rows and "phone" not in rows[0] and rows[0]["custom_fields"] == {"employees": 7}
    admin = client_for(world.a, world.a.owner_token)
    detail = admin.get(f"/api/v1/customers/{secured.pk}/").json()
    assert detail["phone"] and detail["custom_fields"] == {"segment": "smb", "employees": 7}


def test_lean_list_custom_fields_match_the_detail_without_hidden_or_archived(world, secured):
    """The lean list parses custom_fields itself (orjson): the same values as the detail
    API, and neither hidden nor archived fields ever appear."""
    admin = client_for(world.a, world.a.owner_token)
    with tenant_context(world.a.tenant):
        Customer.objects.filter(pk=secured.pk).update(
            custom_fields={"segment": "smb", "employees": 7, "gone": {"nested": [1, 2.5, None]}}
        )
    detail = admin.get(f"/api/v1/customers/{secured.pk}/").json()["custom_fields"]
    assert detail == {"segment": "smb", "employees": 7}  # "gone": no such field
    rows = admin.get("/api/v1/customers/?q=secret").json()["results"]
    assert [row["custom_fields"] for row in rows] == [detail]
    rep_rows = client_for(world.a, world.a.rep_token).get("/api/v1/customers/?page_size=100")
    assert all("segment" not in row["custom_fields"] for row in rep_rows.json()["results"])
    with tenant_context(world.a.tenant):
        services.definition_archive(
            actor=User.objects.get(email=world.a.owner_email),
            definition=FieldDefinition.objects.get(entity="customer", api_name="employees"),
        )
    rows = admin.get("/api/v1/customers/?q=secret").json()["results"]
    assert [row["custom_fields"] for row in rows] == [{"segment": "smb"}]


def test_read_only_and_hidden_fields_cannot_be_written(world, secured):
    rep = client_for(world.a, world.a.rep_token)
    path = f"/api/v1/customers/{secured.pk}/"
    response = rep.patch(path, {"custom_fields": {"employees": 8}}, content_type="application/json")
    assert response.json()["error"]["fields"] == {
        "custom_fields.employees": ["This field is read-only for your role."]
    }
    response = rep.patch(path, {"phone": "123456"}, content_type="application/json")
    assert response.json()["error"]["fields"] == {
        "phone": ["This field is read-only for your role."]
    }
    response = rep.patch(
        path,
        {"custom_fields": {"employees": 7}, "email": "new@co.example"},
        content_type="application/json",
    )
    assert response.status_code == 200  # unchanged values pass
    with tenant_context(world.a.tenant):
        secured.refresh_from_db()
        assert secured.custom_fields == {"segment": "smb", "employees": 7}


def test_pages_hide_and_lock_fields(world, secured):
    page = signed_in(world.a, world.a.rep_email)
    form = page.get(f"/customers/{secured.pk}/edit/").context["form"]
    assert "phone" not in form.fields and "custom_fields.segment" not in form.fields
    assert form.fields["custom_fields.employees"].disabled
    html = page.get(f"/customers/{secured.pk}/").content.decode()
    assert "Industry segment" not in html and "Employees" in html
    assert "138 0000 9999" not in html and "secret@co.example" in html
    # A hidden relation: the team's name is not shown either; the record itself is intact.
    with tenant_context(world.a.tenant):
        admin = User.objects.get(email=world.a.owner_email)
        team = Team.objects.create(name="Hidden team 秘密")
        Customer.objects.filter(pk=secured.pk).update(team=team)
    assert "Hidden team 秘密" in page.get(f"/customers/{secured.pk}/").content.decode()
    with tenant_context(world.a.tenant):
        services.field_security_set(
            actor=admin, entity="customer", field="team", role="sales_rep", access="hidden"
        )
    assert "Hidden team 秘密" not in page.get(f"/customers/{secured.pk}/").content.decode()
    with tenant_context(world.a.tenant):
        assert Customer.objects.get(pk=secured.pk).team_id == team.pk


def test_exports_leave_hidden_fields_out(world, secured):
    with tenant_context(world.a.tenant):
        rep = User.objects.get(email=world.a.rep_email)
        rep.role = "manager"  # managers export; the rules below are for managers
        rep.save()
        admin = User.objects.get(email=world.a.owner_email)
        services.field_security_set(
            actor=admin, entity="customer", field="phone", role="manager", access="hidden"
        )
        services.field_security_set(
            actor=admin, entity="customer", field="segment", role="manager", access="hidden"
        )
    content = b"".join(
        client_for(world.a, world.a.rep_token)
        .get("/api/v1/exports/customers.csv")
        .streaming_content
    ).decode()
    header = content.splitlines()[0]
    assert (
        "Employees" in header and "Industry segment" not in header and "phone" not in header.lower()
    )
    assert "138 0000 9999" not in content
    admin_csv = b"".join(
        client_for(world.a, world.a.owner_token)
        .get("/api/v1/exports/customers.csv")
        .streaming_content
    ).decode()
    assert "Industry segment" in admin_csv.splitlines()[0] and "138 0000 9999" in admin_csv


def test_search_results_leave_hidden_fields_out(world, secured):
    rep = client_for(world.a, world.a.rep_token)
    hits = rep.get("/api/v1/search/?q=secret").json()["customer"]
    assert hits and "138" not in hits[0]["subtitle"] and "secret@co.example" in hits[0]["subtitle"]


def test_search_never_matches_on_a_hidden_field_alone(world, secured):
    """The rep's role hides phones: the customer is found by its name or e-mail, never
    by its phone number alone (the match would tell the hidden value); the admin finds
    it by phone. Search, type-ahead and the list's q filter alike."""
    rep = client_for(world.a, world.a.rep_token)
    admin = client_for(world.a, world.a.owner_token)

    def found(client, q) -> tuple[bool, bool, bool]:
        hits = client.get("/api/v1/search/", {"q": q}).json()["customer"]
        ahead = client.get("/api/v1/search/typeahead/", {"q": q}).json()
        rows = client.get("/api/v1/customers/", {"q": q}).json()["results"]
        return (
            secured.pk in [hit["id"] for hit in hits],
            secured.pk in [hit["id"] for hit in ahead if hit["type"] == "customer"],
            secured.pk in [row["id"] for row in rows],
        )

    def named(name):
        with tenant_context(world.a.tenant):  # search text as the services compute it
            Customer.objects.filter(pk=secured.pk).update(
                name=name,
                custom_fields={**secured.custom_fields, "vat_id": "CN123456"},
                search_text=search_text(name, secured.email, secured.phone, ["CN123456"]),
            )

    named("Secret Co")
    nowhere, everywhere = (False, False, False), (True, True, True)
    for phone_fragment in ("9999", "138 0000"):  # the second matched by its digits
        assert found(rep, phone_fragment) == nowhere
        assert found(admin, phone_fragment) == everywhere
    assert found(rep, "secret@co") == everywhere and found(rep, "secret co") == everywhere
    assert found(rep, "cn1234") == everywhere  # a searchable custom field, hidden from none
    named("Secret 9999 Co")  # the same digits in the name: found by the name
    assert found(rep, "9999") == everywhere


def test_event_payloads_are_shaped_per_role(world, secured):
    with tenant_context(world.a.tenant):
        admin = User.objects.get(email=world.a.owner_email)
    response = client_for(world.a, world.a.owner_token).patch(
        f"/api/v1/customers/{secured.pk}/", {"name": "Secret Co 2"}, content_type="application/json"
    )
    assert response.status_code == 200
    with tenant_context(world.a.tenant):
        payload = OutboxEvent.objects.filter(event_type="customer.updated").latest("id").payload
        assert payload["phone"] and payload["custom_fields"]["segment"] == "smb"
        for_rep = shape_payload("customer", payload, role="sales_rep")
        assert "phone" not in for_rep and for_rep["custom_fields"] == {"employees": 7}
        assert shape_payload("customer", payload, role=admin.role) == payload


def test_field_security_api(world, fields):
    admin = client_for(world.a, world.a.owner_token)
    body = {"entity": "customer", "field": "industry", "role": "read_only", "access": "hidden"}
    response = admin.put("/api/v1/field-security/", body, content_type="application/json")
    assert response.status_code == 200
    assert {
        "entity": "customer",
        "field": "industry",
        "role": "read_only",
        "access": "hidden",
    } in response.json()
    bad = admin.put(
        "/api/v1/field-security/", {**body, "field": "nope"}, content_type="application/json"
    )
    assert "field" in bad.json()["error"]["fields"]
    bad = admin.put(
        "/api/v1/field-security/", {**body, "role": "admin"}, content_type="application/json"
    )
    assert "role" in bad.json()["error"]["fields"]
    response = admin.put(
        "/api/v1/field-security/", {**body, "access": "full"}, content_type="application/json"
    )
    assert response.json() == []
    rep = client_for(world.a, world.a.rep_token)
    assert (
        rep.put("/api/v1/field-security/", body, content_type="application/json").status_code == 403
    )


def test_security_page_saves_a_matrix(world, fields):
    page = signed_in(world.a, world.a.owner_email)
    html = page.get("/settings/fields/security/?entity=customer").content.decode()
    assert 'name="segment:sales_rep"' in html
    response = page.post(
        "/settings/fields/security/?entity=customer",
        {"entity": "customer", "segment:sales_rep": "hidden"},
    )
    assert response.status_code == 302
    html = page.get("/settings/fields/security/?entity=customer").content.decode()
    assert '<option value="hidden" selected>' in html


def test_contact_search_leaves_out_hidden_phones(world, secured):
    with tenant_context(world.a.tenant):
        admin = User.objects.get(email=world.a.owner_email)
        rep = User.objects.get(email=world.a.rep_email)
        services.field_security_set(
            actor=admin, entity="contact", field="phones", role="sales_rep", access="hidden"
        )
        contact = Contact.objects.create(
            name="Hidden Phone 联系人",
            owner=rep,
            customer=secured,
            emails=["hp@co.example"],
            phones=["+81 90-1234-5678"],
            search_text=search_text("Hidden Phone 联系人", ["hp@co.example"], ["+81 90-1234-5678"]),
        )

    def found(token, q):
        client = client_for(world.a, token)
        hits = client.get("/api/v1/search/", {"q": q}).json()["contact"]
        rows = client.get("/api/v1/contacts/", {"q": q}).json()["results"]
        return contact.pk in [hit["id"] for hit in hits], contact.pk in [r["id"] for r in rows]

    assert found(world.a.rep_token, "1234-5678") == (False, False)
    assert found(world.a.owner_token, "1234-5678") == (True, True)
    assert found(world.a.rep_token, "hp@co") == (True, True)
    assert found(world.a.rep_token, "联系人") == (True, True)
