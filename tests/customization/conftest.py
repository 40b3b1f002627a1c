import pytest
from django_tenants.utils import tenant_context

from accounts.models import User
from customization import services

CHOICES = [
    {"value": "smb", "label": "SMB", "color": "#22aa22"},
    {"value": "enterprise", "label": "Enterprise", "color": "#aa2222"},
    {"value": "legacy", "label": "Legacy", "color": "#999999", "active": False},
]


@pytest.fixture
def fields(world):
    """Company A's fields of the issue's story: contract value (deals), industry segment
    (customers), referred by (leads), plus a few more types on customers."""
    with tenant_context(world.a.tenant):
        admin = User.objects.get(email=world.a.owner_email)
        create = services.definition_create
        made = {
            "contract_value": create(
                actor=admin,
                entity="deal",
                data={
                    "api_name": "contract_value",
                    "label": "Contract value",
                    "field_type": "currency",
                    "required": True,
                    "min_value": 0,
                    "currency": "USD",
                },
            ),
            "segment": create(
                actor=admin,
                entity="customer",
                data={
                    "api_name": "segment",
                    "label": "Industry segment",
                    "label_translations": {"zh-hans": "行业细分", "ja": "業種セグメント"},
                    "field_type": "picklist",
                    "choices": CHOICES,
                },
            ),
            "referred_by": create(
                actor=admin,
                entity="lead",
                data={
                    "api_name": "referred_by",
                    "label": "Referred by",
                    "field_type": "lookup",
                    "lookup_entity": "contact",
                },
            ),
            "employees": create(
                actor=admin,
                entity="customer",
                data={
                    "api_name": "employees",
                    "label": "Employees",
                    "field_type": "integer",
                    "min_value": 1,
                    "max_value": 1000000,
                },
            ),
            "vat_id": create(
                actor=admin,
                entity="customer",
                data={
                    "api_name": "vat_id",
                    "label": "VAT id",
                    "field_type": "text",
                    "unique": True,
                    "pattern": r"[A-Z]{2}[0-9]{6}",
                },
            ),
        }
    return made
