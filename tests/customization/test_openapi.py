"""Each company's /api/schema/ describes its own custom fields."""

import pytest
import yaml

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def schema(company):
    response = client_for(company).get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_schema_lists_this_companys_custom_fields(world, fields):
    components = schema(world.a)["components"]["schemas"]
    deal_out = components["DealOutput"]["properties"]["custom_fields"]
    assert deal_out["additionalProperties"] is False
    value = deal_out["properties"]["contract_value"]
    assert (
        value["format"] == "decimal" and value["x-minimum"] == "0" and value["x-currency"] == "USD"
    )
    request = components["DealInputRequest"]["properties"]["custom_fields"]
    assert request["required"] == ["contract_value"]
    assert "required" not in components["PatchedDealInputRequest"]["properties"]["custom_fields"]
    segment = components["CustomerOutput"]["properties"]["custom_fields"]["properties"]["segment"]
    assert segment["enum"] == ["smb", "enterprise"]  # the inactive value is not offered
    lead = components["LeadOutput"]["properties"]["custom_fields"]["properties"]["referred_by"]
    assert lead["type"] == "integer"
    employees = components["CustomerOutput"]["properties"]["custom_fields"]["properties"][
        "employees"
    ]
    assert (employees["minimum"], employees["maximum"]) == (1, 1000000)


def test_another_companys_schema_does_not_show_them(world, fields):
    components = schema(world.b)["components"]["schemas"]
    assert components["DealOutput"]["properties"]["custom_fields"]["properties"] == {}
    assert "segment" not in str(components["CustomerOutput"])


def test_list_endpoints_document_custom_filters_and_orderings(world, fields):
    document = schema(world.a)
    parameters = {
        p["name"]: p for p in document["paths"]["/api/v1/customers/"]["get"]["parameters"]
    }
    assert parameters["f.employees.gte"]["schema"] == {"type": "integer"}
    assert parameters["f.segment.empty"]["schema"] == {"type": "boolean"}
    assert {"employees", "-employees"} <= set(parameters["ordering"]["schema"]["enum"])
    assert "f.contract_value.lte" in {
        p["name"] for p in document["paths"]["/api/v1/deals/"]["get"]["parameters"]
    }
    other = schema(world.b)["paths"]["/api/v1/customers/"]["get"]["parameters"]
    assert not any(p["name"].startswith("f.employees") for p in other)
