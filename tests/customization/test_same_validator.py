"""One validator: the same bad value gets the same message under the same name from the
API, the record form and CSV import, for several field types; and one company's fields
mean nothing to another."""

import csv
import io

import pytest
from django_tenants.utils import tenant_context

from accounts.models import User
from crm_core.services.imports import import_job_create, import_run
from customization import services
from tests.conftest import client_for, signed_in

pytestmark = pytest.mark.django_db

CASES = [
    ({"field_type": "integer", "min_value": 1}, "0", "At least 1."),
    ({"field_type": "decimal", "decimal_places": 1}, "1.25", "At most 1 decimal places."),
    ({"field_type": "date"}, "2026-02-30", "Enter a date (YYYY-MM-DD)."),
    ({"field_type": "email"}, "not-an-address", "Enter a valid e-mail address."),
    ({"field_type": "url"}, "javascript:alert(1)", "Enter a valid URL."),
    (
        {"field_type": "picklist", "choices": [{"value": "a"}, {"value": "b"}]},
        "c",
        "Choose one of: a, b.",
    ),
    (
        {"field_type": "text", "pattern": "[0-9]{4}"},
        "12a4",
        "This value does not have the expected format.",
    ),
    ({"field_type": "lookup", "lookup_entity": "contact"}, "999999", "No such record."),
]


@pytest.mark.parametrize(("options", "bad", "message"), CASES)
def test_api_form_and_import_refuse_alike(world, options, bad, message):
    with tenant_context(world.a.tenant):
        admin = User.objects.get(email=world.a.owner_email)
        services.definition_create(
            actor=admin, entity="lead", data={"api_name": "probe", "label": "Probe", **options}
        )
    key = "custom_fields.probe"
    api = client_for(world.a, world.a.owner_token).post(
        "/api/v1/leads/",
        {"name": "L", "custom_fields": {"probe": bad}},
        content_type="application/json",
    )
    assert api.json()["error"]["fields"] == {key: [message]}

    page = signed_in(world.a, world.a.owner_email)
    response = page.post("/leads/new/", {"name": "L", "status": "new", key: bad})
    assert response.context["form"].errors.get(key) == [message]

    buffer = io.StringIO()
    csv.writer(buffer).writerows([["Name", "Probe"], ["L", bad]])
    with tenant_context(world.a.tenant):
        job = import_job_create(
            actor=admin, entity="lead", file_name="l.csv", data=buffer.getvalue().encode()
        )
        import_run(job_id=job.pk)
        job.refresh_from_db()
        assert [e for e in job.errors if e["row"]] == [{"row": 2, "field": key, "message": message}]


def test_one_companys_fields_are_unknown_to_another(world, fields):
    b = client_for(world.b, world.b.owner_token)
    response = b.post(
        "/api/v1/customers/",
        {"name": "B", "custom_fields": {"segment": "smb"}},
        content_type="application/json",
    )
    assert response.json()["error"]["fields"] == {"custom_fields.segment": ["Unknown field."]}
    assert "segment" not in [d["api_name"] for d in b.get("/api/v1/custom-fields/").json()]
