"""Filters (equals, in, range, contains, is empty) and sorting on standard and custom
fields, in the list APIs (cursor pages) and on the list pages."""

from urllib.parse import urlencode

import pytest
from django_tenants.utils import tenant_context

from accounts.models import User
from crm_core.models import Customer
from customization import services
from tests.conftest import client_for, signed_in

pytestmark = pytest.mark.django_db

ROWS = [
    ("Flt A", {"employees": 5, "segment": "smb"}, "a@flt.example"),
    ("Flt B", {"employees": 50, "segment": "enterprise", "vat_id": "DE000001"}, ""),
    ("Flt C", {"employees": 500, "segment": "smb"}, "c@flt.example"),
    ("Flt D", {}, "d@flt.example"),
]


@pytest.fixture
def rows(world, fields):
    with tenant_context(world.a.tenant):
        owner = User.objects.get(email=world.a.owner_email)
        ids = {}
        for name, custom, email in ROWS:
            ids[name] = Customer.objects.create(
                name=name, owner=owner, email=email, custom_fields=custom, search_text=name.lower()
            ).pk
    return ids


def names(world, query: dict, token=None) -> list[str]:
    client = client_for(world.a, token or world.a.owner_token)
    response = client.get("/api/v1/customers/?" + urlencode({"q": "flt", **query}))
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def error_fields(world, query: dict) -> dict:
    response = client_for(world.a, world.a.owner_token).get(
        "/api/v1/customers/?" + urlencode(query)
    )
    assert response.status_code == 400
    return response.json()["error"]["fields"]


def test_custom_field_operators(world, rows):
    assert names(world, {"f.employees": "50"}) == ["Flt B"]
    assert sorted(names(world, {"f.employees.gte": "10", "f.employees.lte": "500"})) == [
        "Flt B",
        "Flt C",
    ]
    assert sorted(names(world, {"f.segment.in": "enterprise,smb"})) == ["Flt A", "Flt B", "Flt C"]
    assert names(world, {"f.vat_id.contains": "de0"}) == ["Flt B"]
    assert sorted(names(world, {"f.vat_id.empty": "true"})) == ["Flt A", "Flt C", "Flt D"]
    assert names(world, {"f.employees.empty": "true"}) == ["Flt D"]


def test_standard_field_operators(world, rows):
    assert sorted(names(world, {"f.email.empty": "true"})) == ["Flt B"]
    assert names(world, {"f.email.contains": "C@FLT"}) == ["Flt C"]
    assert sorted(names(world, {"f.name.in": "Flt A,Flt D"})) == ["Flt A", "Flt D"]


def test_sorting_on_custom_and_standard_fields_pages_with_cursors(world, rows):
    # Records without a value are left out of a field ordering (cursors need a value).
    assert names(world, {"ordering": "employees"}) == ["Flt A", "Flt B", "Flt C"]
    assert names(world, {"ordering": "-employees", "f.employees.empty": "false"}) == [
        "Flt C",
        "Flt B",
        "Flt A",
    ]
    assert names(world, {"ordering": "-email", "f.email.empty": "false"}) == [
        "Flt D",
        "Flt C",
        "Flt A",
    ]
    client = client_for(world.a, world.a.owner_token)
    url = "/api/v1/customers/?" + urlencode({"q": "flt", "ordering": "-employees", "page_size": 1})
    seen = []
    while url:
        body = client.get(url).json()
        assert all("sort_key" not in row for row in body["results"])
        seen += [row["name"] for row in body["results"]]
        url = body["next"]
    assert seen == ["Flt C", "Flt B", "Flt A"]


def test_bad_filters_are_named(world, rows):
    assert "f.nope" in error_fields(world, {"f.nope": "1"})
    assert "f.employees.gte" in error_fields(world, {"f.employees.gte": "many"})
    assert "f.employees.like" in error_fields(world, {"f.employees.like": "1"})
    assert "ordering" in error_fields(world, {"ordering": "-nope"})
    both = error_fields(world, {"value_tier": "Z", "f.nope": "1"})
    assert {"value_tier", "f.nope"} <= set(both)  # every bad parameter at once


def test_hidden_fields_cannot_be_filtered_or_sorted(world, rows):
    with tenant_context(world.a.tenant):
        admin = User.objects.get(email=world.a.owner_email)
        services.field_security_set(
            actor=admin, entity="customer", field="employees", role="sales_rep", access="hidden"
        )
    rep = client_for(world.a, world.a.rep_token)
    response = rep.get("/api/v1/customers/?" + urlencode({"f.employees.gte": "1"}))
    assert response.status_code == 400
    response = rep.get("/api/v1/customers/?ordering=employees")
    assert response.status_code == 400


def test_list_page_filters_sorts_and_shows_custom_columns(world, rows):
    with tenant_context(world.a.tenant):
        admin = User.objects.get(email=world.a.owner_email)
        services.layout_save(
            actor=admin, entity="customer", sections=[], list_columns=["segment", "employees"]
        )
    page = signed_in(world.a, world.a.owner_email)
    html = page.get(
        "/customers/?"
        + urlencode({"q": "flt", "ff": "employees", "fo": "gte", "fv": "10", "sort": "-employees"})
    ).content.decode()
    assert html.index("Flt C") < html.index("Flt B")
    assert "Flt A" not in html and "Flt D" not in html
    assert "<th>Industry segment</th>" in html and "Enterprise" in html
    html = page.get("/customers/?" + urlencode({"q": "flt", "sort": "employees"})).content.decode()
    assert html.index("Flt A") < html.index("Flt C") < html.index("Flt D")  # empty last
    html = page.get(
        "/customers/?" + urlencode({"ff": "employees", "fo": "gte", "fv": "lots"})
    ).content.decode()
    assert 'role="alert"' in html
