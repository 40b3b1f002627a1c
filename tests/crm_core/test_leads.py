"""Leads: services, visibility, API (lean list, CRUD, conversion), pages."""

import pytest
from django.db import DatabaseError, connection
from django_tenants.utils import tenant_context

from crm_core.models import (
    AssignmentRule,
    Contact,
    Customer,
    Deal,
    FieldChange,
    Lead,
    Pipeline,
    Region,
    Stage,
)
from crm_core.records import name_key, search_text
from crm_platform.outbox.models import OutboxEvent
from tests.conftest import signed_in
from tests.crm_core import test_customers
from tests.crm_core.test_customers import api

pytestmark = pytest.mark.django_db
people = test_customers.people  # the admin/managers/reps fixture


def _create(world, people, who, **data):
    body = {"name": "陈伟", "company_name": "杭州云帆科技有限公司", **data}
    return api(world, people, who).post("/api/v1/leads/", body, content_type="application/json")


def _count(world, model=Lead):
    with tenant_context(world.a.tenant):
        return model.objects.count()


@pytest.fixture
def sales_pipeline(world):
    """A default pipeline of its own (the world's pipelines are not default)."""
    with tenant_context(world.a.tenant):
        Pipeline.objects.update(is_default=False)
        pipeline = Pipeline.objects.create(name="新规销售", is_default=True)
        stages = [
            Stage.objects.create(pipeline=pipeline, name="Won early", position=0, kind="won"),
            Stage.objects.create(pipeline=pipeline, name="初步接触", position=1, probability=10),
            Stage.objects.create(pipeline=pipeline, name="方案报价", position=2, probability=50),
        ]
    return pipeline, stages


def test_rep_creates_a_lead_with_man_and_purchase_window(world, people):
    response = _create(
        world,
        people,
        "east_rep",
        email="chen.wei@yunfan.cn",
        phone="+86 571 8888 1234",
        source="展会",
        has_money=True,
        has_need=True,
        purchase_window="3m",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner_id"] == people["east_rep"].pk and body["status"] == "new"
    assert body["has_money"] and not body["has_authority"] and body["purchase_window"] == "3m"
    with tenant_context(world.a.tenant):
        lead = Lead.objects.get(pk=body["id"])
        assert lead.phone_key.endswith("88881234")
        assert "杭州云帆" in lead.search_text and "chen.wei@yunfan.cn" in lead.search_text
        assert OutboxEvent.objects.filter(
            event_type="lead.created", aggregate_id=str(lead.pk)
        ).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"email": "nope"}, "email"),
        ({"status": "hot"}, "status"),
        ({"status": "converted"}, "status"),
        ({"purchase_window": "someday"}, "purchase_window"),
        ({"has_money": "lots"}, "has_money"),
        ({"converted_at": "2026-01-01T00:00:00Z"}, "converted_at"),
        ({"owner_id": 999999}, "owner_id"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(world, people, data, field):
    before = _count(world)
    response = _create(world, people, "admin", **data)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert _count(world) == before


def test_leaders_creations_follow_lead_assignment_rules(world, people):
    with tenant_context(world.a.tenant):
        AssignmentRule.objects.filter(entity="lead").update(is_active=False)
        region = Region.objects.create(name="浙江")
        AssignmentRule.objects.create(
            name="Zhejiang leads", entity="lead", team_id=people["east_rep"].team_id, region=region
        )
    owners = [
        _create(world, people, "admin", name=f"RR {i}", region_id=region.pk).json()["owner_id"]
        for i in range(3)
    ]
    assert set(owners) == {
        people["east_manager"].pk,
        people["east_rep"].pk,
        people["east_rep2"].pk,
    }
    assert _create(world, people, "admin", name="No rule").json()["owner_id"] == people["admin"].pk
    # A rep's own lead stays theirs, rule or not.
    mine = _create(world, people, "west_rep", region_id=region.pk).json()
    assert mine["owner_id"] == people["west_rep"].pk
    # A leader may put a new lead straight into the public pool.
    pooled = _create(world, people, "east_manager", owner_id=None).json()
    assert pooled["owner_id"] is None and pooled["pool_entered_at"]


def test_status_and_owner_history_and_visibility(world, people):
    lead_id = _create(world, people, "east_rep").json()["id"]
    rep = api(world, people, "east_rep")
    assert (
        rep.patch(
            f"/api/v1/leads/{lead_id}/", {"status": "qualified"}, content_type="application/json"
        ).status_code
        == 200
    )
    assert (
        rep.patch(
            f"/api/v1/leads/{lead_id}/",
            {"owner_id": people["west_rep"].pk},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert (
        api(world, people, "east_manager")
        .patch(
            f"/api/v1/leads/{lead_id}/",
            {"owner_id": people["east_rep2"].pk},
            content_type="application/json",
        )
        .status_code
        == 200
    )
    with tenant_context(world.a.tenant):
        changes = {
            c.field: c for c in FieldChange.objects.filter(record_type="lead", record_id=lead_id)
        }
        assert changes["status"].old_value == "new" and changes["status"].new_value == "qualified"
        assert changes["status"].changed_by_id == people["east_rep"].pk
        assert changes["owner"].changed_by_id == people["east_manager"].pk
        assert OutboxEvent.objects.filter(
            event_type="lead.status_changed", aggregate_id=str(lead_id)
        ).exists()
    # Now east_rep2's: east_rep no longer sees it, west_rep never did, the pool is shared.
    assert rep.get(f"/api/v1/leads/{lead_id}/").status_code == 404
    west = api(world, people, "west_rep")
    assert west.get(f"/api/v1/leads/{lead_id}/").status_code == 404
    pooled = _create(world, people, "admin", name="池中线索", owner_id=None).json()["id"]
    rows = {r["id"] for r in west.get("/api/v1/leads/?page_size=100").json()["results"]}
    assert pooled in rows and lead_id not in rows
    assert west.get("/api/v1/leads/", {"owner": "pool"}).json()["results"]
    # Seeing a pooled lead is not owning it: no edits before a claim.
    assert (
        west.patch(
            f"/api/v1/leads/{pooled}/", {"name": "mine now"}, content_type="application/json"
        ).status_code
        == 403
    )


def test_lean_list_filters_and_delete(world, people):
    client = api(world, people, "admin")
    for index in range(3):
        _create(
            world,
            people,
            "admin",
            name=f"鈴木一郎 {index}",
            company_name="大阪製作所",
            status="qualified" if index else "new",
            has_money=True,
            has_authority=True,
            has_need=bool(index),
        )
    rows = client.get("/api/v1/leads/", {"q": "製作"}).json()["results"]
    assert len(rows) == 3 and {"owner_name", "status", "purchase_window"} <= set(rows[0])
    assert (
        len(client.get("/api/v1/leads/", {"q": "製作", "status": "qualified"}).json()["results"])
        == 2
    )
    assert (
        len(client.get("/api/v1/leads/", {"q": "製作", "qualified": "true"}).json()["results"]) == 2
    )
    bad = client.get("/api/v1/leads/?status=hot&purchase_window=x")
    assert bad.status_code == 400 and {"status", "purchase_window"} <= set(
        bad.json()["error"]["fields"]
    )
    lead_id = rows[0]["id"]
    assert api(world, people, "east_rep").delete(f"/api/v1/leads/{lead_id}/").status_code == 403
    assert client.delete(f"/api/v1/leads/{lead_id}/").status_code == 204


def test_conversion_creates_customer_contact_and_deal_in_one_step(world, people, sales_pipeline):
    pipeline, stages = sales_pipeline
    lead_id = _create(
        world, people, "east_rep", email="chen@yunfan.cn", phone="13900001111", job_title="CTO"
    ).json()["id"]
    client = api(world, people, "east_rep")
    response = client.post(
        f"/api/v1/leads/{lead_id}/convert/",
        {"amount": "120000.50", "currency": "cny", "expected_close_date": "2026-12-31"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "converted" and body["converted_at"]
    with tenant_context(world.a.tenant):
        customer = Customer.objects.get(pk=body["converted_customer_id"])
        contact = Contact.objects.get(pk=body["converted_contact_id"])
        deal = Deal.objects.get(pk=body["converted_deal_id"])
        assert customer.name == "杭州云帆科技有限公司" and customer.kind == "company"
        assert customer.owner_id == people["east_rep"].pk
        assert contact.customer_id == customer.pk and contact.name == "陈伟"
        assert contact.emails == ["chen@yunfan.cn"] and contact.job_title == "CTO"
        assert deal.customer_id == customer.pk and deal.contact_id == contact.pk
        # The default pipeline's first *open* stage (not the won one at position 0).
        assert deal.pipeline_id == pipeline.pk and deal.stage_id == stages[1].pk
        assert str(deal.amount) == "120000.50" and deal.currency == "CNY"
        events = set(
            OutboxEvent.objects.filter(
                aggregate_id__in=[str(lead_id), str(customer.pk), str(contact.pk), str(deal.pk)]
            ).values_list("event_type", flat=True)
        )
        assert {"lead.converted", "customer.created", "contact.created", "deal.created"} <= events
    again = client.post(f"/api/v1/leads/{lead_id}/convert/", {}, content_type="application/json")
    assert again.status_code == 400 and "status" in again.json()["error"]["fields"]
    # A converted lead is read-only and cannot go to the pool.
    assert (
        client.patch(
            f"/api/v1/leads/{lead_id}/", {"name": "x"}, content_type="application/json"
        ).status_code
        == 400
    )
    assert client.post(f"/api/v1/leads/{lead_id}/release/").status_code == 400


def test_conversion_onto_an_existing_customer_without_a_deal(world, people, sales_pipeline):
    with tenant_context(world.a.tenant):
        existing = Customer.objects.create(
            name="既存顧客", name_key=name_key("既存顧客"), owner=people["east_rep"]
        )
        hidden = Customer.objects.create(name="Hidden", name_key="hidden", owner=people["west_rep"])
    lead_id = _create(world, people, "east_rep").json()["id"]
    client = api(world, people, "east_rep")
    before = (_count(world, Customer), _count(world, Deal))
    refused = client.post(
        f"/api/v1/leads/{lead_id}/convert/",
        {"customer": hidden.pk},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "customer" in refused.json()["error"]["fields"]
    wrong_stage = client.post(
        f"/api/v1/leads/{lead_id}/convert/",
        {"pipeline": sales_pipeline[0].pk, "stage": _world_stage(world)},
        content_type="application/json",
    )
    assert wrong_stage.status_code == 400 and "stage" in wrong_stage.json()["error"]["fields"]
    response = client.post(
        f"/api/v1/leads/{lead_id}/convert/",
        {"customer": existing.pk, "create_deal": False},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["converted_customer_id"] == existing.pk and body["converted_deal_id"] is None
    assert (_count(world, Customer), _count(world, Deal)) == before
    with tenant_context(world.a.tenant):
        assert Contact.objects.get(pk=body["converted_contact_id"]).customer_id == existing.pk


def _world_stage(world):
    with tenant_context(world.a.tenant):
        return Stage.objects.exclude(pipeline__is_default=True).values_list("pk", flat=True)[0]


def test_conversion_is_all_or_nothing(world, people, sales_pipeline):
    """A failure while writing the deal (forced by a database trigger) leaves no customer,
    contact, deal, event or change to the lead."""
    from crm_core.services.leads import lead_convert

    lead_id = _create(world, people, "east_rep").json()["id"]
    with tenant_context(world.a.tenant):
        counts = [m.objects.count() for m in (Customer, Contact, Deal, OutboxEvent)]
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE FUNCTION crm_test_refuse_deal() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'forced failure'; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER crm_test_refuse_deal BEFORE INSERT ON crm_core_deal "
                "FOR EACH ROW EXECUTE FUNCTION crm_test_refuse_deal()"
            )
        with pytest.raises(DatabaseError, match="forced failure"):
            lead_convert(lead=Lead.objects.get(pk=lead_id), actor=people["east_rep"])
        assert [m.objects.count() for m in (Customer, Contact, Deal, OutboxEvent)] == counts
        lead = Lead.objects.get(pk=lead_id)
        assert lead.status == "new" and lead.converted_customer_id is None
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER crm_test_refuse_deal ON crm_core_deal")
        # Once the cause is gone the same conversion goes through.
        lead = lead_convert(lead=lead, actor=people["east_rep"])
        assert lead.status == "converted" and lead.converted_deal_id


def test_a_rep_cannot_convert_someone_elses_or_a_pooled_lead(world, people):
    other = _create(world, people, "west_rep").json()["id"]
    pooled = _create(world, people, "admin", owner_id=None).json()["id"]
    rep = api(world, people, "east_rep")
    assert rep.post(f"/api/v1/leads/{other}/convert/").status_code == 404
    assert rep.post(f"/api/v1/leads/{pooled}/convert/").status_code == 403
    assert api(world, people, "viewer").post(f"/api/v1/leads/{other}/convert/").status_code == 403


def test_pages_list_create_detail_edit_convert(world, people, sales_pipeline):
    web = signed_in(world.a, people["east_rep"].email)
    created = web.post(
        "/leads/new/",
        {
            "name": "Emily Carter",
            "company_name": "Carter & Sons Ltd",
            "email": "emily@carter.example.com",
            "status": "new",
            "has_need": "on",
            "purchase_window": "6m",
        },
    )
    assert created.status_code == 302, created.content[:800]
    lead_id = int(created["Location"].rstrip("/").split("/")[-1])
    detail = web.get(created["Location"]).content.decode()
    assert "Emily Carter" in detail and "Carter &amp; Sons Ltd" in detail
    bad = web.post("/leads/new/", {"name": "", "email": "x", "status": "new"})
    assert bad.status_code == 200 and {"name", "email"} <= set(bad.context["form"].errors)
    assert "Emily Carter" in web.get("/leads/", {"q": "carter"}).content.decode()
    partial = web.get("/leads/", {"q": "emily"}, HTTP_HX_REQUEST="true")
    assert "Emily Carter" in partial.content.decode()
    edit = web.post(
        f"/leads/{lead_id}/edit/",
        {"name": "Emily Carter", "company_name": "Carter & Sons Ltd", "status": "qualified"},
    )
    assert edit.status_code == 302
    form = web.get(f"/leads/{lead_id}/convert/")
    assert form.status_code == 200 and "Carter &amp; Sons Ltd" in form.content.decode()
    converted = web.post(
        f"/leads/{lead_id}/convert/",
        {"create_deal": "on", "deal_name": "Carter rollout", "amount": "5000", "currency": "GBP"},
    )
    assert converted.status_code == 302, converted.content[:800]
    page = web.get(f"/leads/{lead_id}/").content.decode()
    assert "Carter rollout" in page
    with tenant_context(world.a.tenant):
        lead = Lead.objects.get(pk=lead_id)
        assert lead.status == "converted" and lead.converted_deal.currency == "GBP"
    # Converting again from the page is refused with a message, not a second set.
    again = web.post(f"/leads/{lead_id}/convert/", {"create_deal": "on"})
    assert again.status_code == 302 and _count(world, Deal) == _count(world, Deal)
    other = signed_in(world.a, people["west_rep"].email)
    assert other.get(f"/leads/{lead_id}/").status_code == 404
    assert other.get(f"/leads/{lead_id}/convert/").status_code == 404


def test_search_text_keeps_company_names():
    assert "云帆" in search_text("陈伟", "杭州云帆科技有限公司")


def test_a_manager_converts_a_reps_lead_and_the_records_stay_the_reps(
    world, people, sales_pipeline
):
    lead_id = _create(world, people, "east_rep", company_name="").json()["id"]
    response = api(world, people, "east_manager").post(
        f"/api/v1/leads/{lead_id}/convert/", {"create_deal": False}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    with tenant_context(world.a.tenant):
        customer = Customer.objects.get(pk=response.json()["converted_customer_id"])
        assert customer.kind == "individual" and customer.name == "陈伟"
        assert customer.owner_id == people["east_rep"].pk
        contact = Contact.objects.get(pk=response.json()["converted_contact_id"])
        assert contact.owner_id == people["east_rep"].pk
        assert FieldChange.objects.filter(
            record_type="lead", record_id=lead_id, field="status", new_value="converted"
        ).exists()


def test_bulk_create_and_update_all_or_nothing(world, people):
    client = api(world, people, "east_rep")
    before = _count(world)
    bad = client.post(
        "/api/v1/leads/bulk/",
        {"items": [{"name": "Bulk A"}, {"name": ""}, {"name": "Bulk C", "email": "x"}]},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"1.name", "2.email"}
    assert _count(world) == before
    good = client.post(
        "/api/v1/leads/bulk/",
        {"items": [{"name": "Bulk A"}, {"name": "Bulk B", "source": "web"}]},
        content_type="application/json",
    )
    assert good.status_code == 200 and len(good.json()) == 2
    first = good.json()[0]["id"]
    hidden = _create(world, people, "west_rep").json()["id"]
    refused = client.post(
        "/api/v1/leads/bulk/",
        {"items": [{"id": first, "status": "contacted"}, {"id": hidden, "name": "x"}]},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "1.id" in refused.json()["error"]["fields"]
    updated = client.post(
        "/api/v1/leads/bulk/",
        {"items": [{"id": first, "status": "contacted"}]},
        content_type="application/json",
    )
    assert updated.status_code == 200 and updated.json()[0]["status"] == "contacted"
    contacts = client.post(
        "/api/v1/contacts/bulk/",
        {"items": [{"name": "一括 一"}, {"name": "一括 二", "emails": ["bad"]}]},
        content_type="application/json",
    )
    assert contacts.status_code == 400 and "1.emails" in contacts.json()["error"]["fields"]
    contacts = client.post(
        "/api/v1/contacts/bulk/",
        {"items": [{"name": "一括 一"}, {"name": "一括 二", "phones": ["03-1234-5678"]}]},
        content_type="application/json",
    )
    assert contacts.status_code == 200 and contacts.json()[1]["phones"] == ["03-1234-5678"]


def test_the_lead_page_shows_its_timeline(world, people):
    from crm_core.models import Activity

    lead_id = _create(world, people, "east_rep", name="タイムライン").json()["id"]
    with tenant_context(world.a.tenant):
        Activity.objects.create(
            kind="call", subject="初回電話", lead_id=lead_id, created_by=people["east_rep"]
        )
    web = signed_in(world.a, people["east_rep"].email)
    assert "初回電話" in web.get(f"/leads/{lead_id}/").content.decode()


def test_creating_a_possible_duplicate_lead_asks_for_confirmation(world, people):
    assert (
        _create(world, people, "east_rep", name="王芳", email="wang.fang@example.cn").status_code
        == 201
    )
    web = signed_in(world.a, people["east_rep"].email)
    form = {"name": "王 芳", "email": "Wang.Fang@example.cn", "status": "new"}
    warned = web.post("/leads/new/", form)
    assert warned.status_code == 200 and "This record may already exist." in warned.content.decode()
    assert web.post("/leads/new/", {**form, "confirm_duplicates": "1"}).status_code == 302


def test_conversion_carries_custom_fields_and_asks_for_required_ones(world, people, sales_pipeline):
    """The lead's custom values go to the new records' fields of the same API name; the
    required ones the lead lacks are asked for (API and page), errors naming the record."""
    from customization.services import definition_create

    with tenant_context(world.a.tenant):
        admin = people["admin"]
        for entity, api_name, required in (
            ("lead", "budget_code", False),
            ("deal", "budget_code", False),
            ("deal", "contract_type", True),
            ("customer", "industry_code", True),
        ):
            definition_create(
                actor=admin,
                entity=entity,
                data={
                    "api_name": api_name,
                    "label": api_name,
                    "field_type": "text",
                    "required": required,
                },
            )
    lead_id = _create(world, people, "east_rep", custom_fields={"budget_code": "BC-7"}).json()["id"]
    client = api(world, people, "east_rep")
    url = f"/api/v1/leads/{lead_id}/convert/"
    customers_before = _count(world, Customer)
    missing = client.post(url, {}, content_type="application/json")
    assert missing.status_code == 400
    assert "customer.custom_fields.industry_code" in missing.json()["error"]["fields"]
    assert _count(world, Customer) == customers_before  # nothing half-written
    with tenant_context(world.a.tenant):
        assert Lead.objects.get(pk=lead_id).status != Lead.Status.CONVERTED
    # The page asks for exactly the required fields the lead does not fill.
    page = signed_in(world.a, "er@a.example.com")
    form = page.get(f"/leads/{lead_id}/convert/").context["form"]
    assert {"customer.custom_fields.industry_code", "deal.custom_fields.contract_type"} <= set(
        form.fields
    )
    assert "deal.custom_fields.budget_code" not in form.fields  # carried from the lead
    response = page.post(
        f"/leads/{lead_id}/convert/",
        {
            "create_deal": "on",
            "customer.custom_fields.industry_code": "C-20",
            "deal.custom_fields.contract_type": "annual",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    with tenant_context(world.a.tenant):
        lead = Lead.objects.get(pk=lead_id)
        assert lead.converted_customer.custom_fields == {"industry_code": "C-20"}
        assert lead.converted_deal.custom_fields == {
            "budget_code": "BC-7",
            "contract_type": "annual",
        }
