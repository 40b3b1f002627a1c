"""Layouts: sections and field order of forms and record pages, list columns."""

import pytest
from django_tenants.utils import tenant_context

from crm_core.models import Customer
from tests.conftest import client_for, signed_in

pytestmark = pytest.mark.django_db

LAYOUT = {
    "sections": [
        {"title": "Segmentation", "fields": ["segment", "employees", "industry"]},
        {"title": "Basics", "fields": ["name", "kind"]},
    ],
    "list_columns": ["segment"],
}


def test_layout_api_orders_the_form_and_the_record_page(world, fields):
    admin = client_for(world.a, world.a.owner_token)
    response = admin.put("/api/v1/layouts/customer/", LAYOUT, content_type="application/json")
    assert response.status_code == 200, response.content
    assert admin.get("/api/v1/layouts/customer/").json()["sections"][0]["title"] == "Segmentation"
    page = signed_in(world.a, world.a.owner_email)
    form = page.get("/customers/new/").context["form"]
    names = list(form.fields)
    assert names[:5] == [
        "custom_fields.segment",
        "custom_fields.employees",
        "industry",
        "name",
        "kind",
    ]
    html = page.get("/customers/new/").content.decode()
    assert html.index("Segmentation") < html.index("Basics")
    with tenant_context(world.a.tenant):
        customer = Customer.objects.order_by("id").first()
        customer.custom_fields = {"segment": "smb"}
        customer.save()
    html = page.get(f"/customers/{customer.pk}/").content.decode()
    assert "Segmentation" in html and "SMB" in html


def test_bad_layouts_are_refused_and_reps_cannot_save(world, fields):
    admin = client_for(world.a, world.a.owner_token)
    bad = {"sections": [{"title": "X", "fields": ["nope", "name"]}]}
    response = admin.put("/api/v1/layouts/customer/", bad, content_type="application/json")
    assert response.status_code == 400 and "sections" in response.json()["error"]["fields"]
    twice = {"sections": [{"title": "X", "fields": ["name", "name"]}]}
    assert (
        admin.put("/api/v1/layouts/customer/", twice, content_type="application/json").status_code
        == 400
    )
    assert admin.get("/api/v1/layouts/pipeline/").status_code == 404
    rep = client_for(world.a, world.a.rep_token)
    assert (
        rep.put("/api/v1/layouts/customer/", LAYOUT, content_type="application/json").status_code
        == 403
    )


def test_layout_page(world, fields):
    page = signed_in(world.a, world.a.owner_email)
    response = page.post(
        "/settings/fields/layout/?entity=customer",
        {
            "entity": "customer",
            "sections": "## Money\nemployees\nname\n## Other\nsegment",
            "list_columns": "segment, employees",
        },
    )
    assert response.status_code == 302
    html = page.get("/settings/fields/layout/?entity=customer").content.decode()
    assert "## Money\nemployees\nname" in html and "segment, employees" in html
    response = page.post(
        "/settings/fields/layout/?entity=customer",
        {"entity": "customer", "sections": "## X\nnope", "list_columns": ""},
        follow=True,
    )
    assert "Unknown fields: nope" in response.content.decode()
