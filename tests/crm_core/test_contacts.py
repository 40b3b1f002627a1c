"""Contacts: services, visibility, API (lean list, CRUD, validation), pages."""

import pytest
from django_tenants.utils import tenant_context

from crm_core.models import Contact, Customer, FieldChange
from crm_core.records import name_key, search_text
from crm_platform.outbox.models import OutboxEvent
from tests.conftest import signed_in
from tests.crm_core import test_customers
from tests.crm_core.test_customers import api

pytestmark = pytest.mark.django_db
people = test_customers.people  # the admin/managers/reps fixture


def _customer(world, owner, name="上海明珠贸易有限公司"):
    with tenant_context(world.a.tenant):
        return Customer.objects.create(
            name=name,
            name_key=name_key(name),
            search_text=search_text(name),
            owner=owner,
            team_id=owner.team_id,
        )


def _create(world, people, who, **data):
    body = {"name": "王小明", **data}
    return api(world, people, who).post("/api/v1/contacts/", body, content_type="application/json")


def _count(world):
    with tenant_context(world.a.tenant):
        return Contact.objects.count()


def test_rep_creates_a_contact_of_their_customer_with_several_emails_and_phones(world, people):
    customer = _customer(world, people["east_rep"])
    response = _create(
        world,
        people,
        "east_rep",
        customer_id=customer.pk,
        job_title="采购经理",
        decision_role="decision_maker",
        emails=["Wang@MingZhu.cn", " wang.xm@example.com ", "wang@mingzhu.cn", ""],
        phones=["+86 21 5555 0101", "138-0013-8000"],
        birthday="1985-04-12",
        preferred_channel="wechat",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner_id"] == people["east_rep"].pk
    assert body["customer_name"] == customer.name
    assert body["emails"] == ["Wang@MingZhu.cn", "wang.xm@example.com"]  # case-insensitive dedupe
    assert body["phones"] == ["+86 21 5555 0101", "138-0013-8000"]
    with tenant_context(world.a.tenant):
        contact = Contact.objects.get(pk=body["id"])
        assert contact.name_key == "王小明"
        assert "13800138000" in contact.search_text and "wang.xm@example.com" in contact.search_text
        event = OutboxEvent.objects.filter(event_type="contact.created").latest("id")
        assert event.payload["id"] == contact.pk and event.payload["customer_id"] == customer.pk


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"emails": ["ok@example.com", "not-mail"]}, "emails"),
        ({"phones": ["call me maybe"]}, "phones"),
        ({"phones": ["12"]}, "phones"),
        ({"decision_role": "boss"}, "decision_role"),
        ({"preferred_channel": "pigeon"}, "preferred_channel"),
        ({"birthday": "1990-02-30"}, "birthday"),
        ({"search_text": "x"}, "search_text"),
        ({"customer_id": 999999}, "customer_id"),
        ({"emails": [f"e{i}@example.com" for i in range(11)]}, "emails"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(world, people, data, field):
    before = _count(world)
    response = _create(world, people, "east_rep", **data)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert _count(world) == before


def test_a_contact_of_a_customer_the_user_cannot_see_is_refused(world, people):
    hidden = _customer(world, people["west_rep"], name="West only")
    before = _count(world)
    response = _create(world, people, "east_rep", customer_id=hidden.pk)
    assert response.status_code == 400
    assert "customer_id" in response.json()["error"]["fields"]
    # Moving an existing contact there is refused too.
    own = _create(world, people, "east_rep").json()["id"]
    moved = api(world, people, "east_rep").patch(
        f"/api/v1/contacts/{own}/", {"customer_id": hidden.pk}, content_type="application/json"
    )
    assert moved.status_code == 400
    assert _count(world) == before + 1
    # The service refuses it as well (the page and import paths go through it).
    from django.core.exceptions import ValidationError

    from crm_core.services.contacts import contact_create

    with tenant_context(world.a.tenant), pytest.raises(ValidationError) as exc:
        contact_create(actor=people["east_rep"], data={"name": "x", "customer": hidden})
    assert "customer" in exc.value.message_dict


def test_visibility_history_and_delete(world, people):
    ids = {
        who: _create(world, people, who, name=f"Contact of {who}").json()["id"]
        for who in (
            "east_rep",
            "east_rep2",
            "west_rep",
        )
    }

    def seen(who):
        rows = api(world, people, who).get("/api/v1/contacts/?page_size=100").json()["results"]
        return {row["id"] for row in rows}

    assert ids["east_rep"] in seen("east_rep") and ids["east_rep2"] not in seen("east_rep")
    assert {ids["east_rep"], ids["east_rep2"]} <= seen("east_manager")
    assert ids["west_rep"] not in seen("east_manager")
    assert set(ids.values()) <= seen("admin")
    rep = api(world, people, "east_rep")
    assert rep.get(f"/api/v1/contacts/{ids['west_rep']}/").status_code == 404
    assert rep.delete(f"/api/v1/contacts/{ids['east_rep']}/").status_code == 403
    refused = rep.patch(
        f"/api/v1/contacts/{ids['east_rep']}/",
        {"owner_id": people["east_rep2"].pk},
        content_type="application/json",
    )
    assert refused.status_code == 403
    manager = api(world, people, "east_manager")
    moved = manager.patch(
        f"/api/v1/contacts/{ids['east_rep']}/",
        {"owner_id": people["east_rep2"].pk},
        content_type="application/json",
    )
    assert moved.status_code == 200 and moved.json()["owner_id"] == people["east_rep2"].pk
    with tenant_context(world.a.tenant):
        change = FieldChange.objects.get(
            record_type="contact", record_id=ids["east_rep"], field="owner"
        )
        assert change.changed_by_id == people["east_manager"].pk
        assert change.new_value == str(people["east_rep2"].pk)
    assert manager.delete(f"/api/v1/contacts/{ids['east_rep']}/").status_code == 204
    with tenant_context(world.a.tenant):
        assert not Contact.objects.filter(pk=ids["east_rep"]).exists()
        assert OutboxEvent.objects.filter(
            event_type="contact.deleted", aggregate_id=str(ids["east_rep"])
        ).exists()


def test_lean_list_search_filters_and_pages(world, people):
    customer = _customer(world, people["admin"], name="東京商事")
    for index in range(4):
        _create(
            world,
            people,
            "admin",
            name=f"山田太郎 {index}",
            customer_id=customer.pk if index % 2 else None,
            emails=[f"yamada{index}@tokyo.example.jp"],
            phones=[f"+81 3 9876 54{index:02d}"],
        )
    client = api(world, people, "admin")
    assert len(client.get("/api/v1/contacts/", {"q": "田太"}).json()["results"]) == 4
    assert client.get("/api/v1/contacts/", {"q": "987654"}).json()["results"]
    by_customer = client.get("/api/v1/contacts/", {"customer": customer.pk}).json()["results"]
    assert len(by_customer) == 2 and all(r["customer_name"] == "東京商事" for r in by_customer)
    page = client.get("/api/v1/contacts/", {"q": "yamada", "page_size": 3}).json()
    assert len(page["results"]) == 3 and page["next"]
    bad = client.get("/api/v1/contacts/?decision_role=boss&ordering=evil")
    assert bad.status_code == 400
    assert {"decision_role", "ordering"} <= set(bad.json()["error"]["fields"])


def test_pages_list_create_edit_detail(world, people):
    customer = _customer(world, people["east_rep"], name="名古屋精機")
    web = signed_in(world.a, people["east_rep"].email)
    form = web.get(f"/contacts/new/?customer={customer.pk}")
    assert form.status_code == 200
    created = web.post(
        "/contacts/new/",
        {
            "name": "佐藤 花子",
            "customer": customer.pk,
            "emails": "hanako@nagoya.example.jp\nsato@nagoya.example.jp",
            "phones": "052-123-4567",
            "decision_role": "influencer",
        },
    )
    assert created.status_code == 302, created.content[:800]
    detail = web.get(created["Location"])
    page = detail.content.decode()
    assert "佐藤 花子" in page and "sato@nagoya.example.jp" in page and "名古屋精機" in page
    bad = web.post("/contacts/new/", {"name": "", "emails": "nope", "phones": "x"})
    assert bad.status_code == 200
    assert {"name", "emails", "phones"} <= set(bad.context["form"].errors)
    assert "佐藤 花子" in web.get("/contacts/", {"q": "花子"}).content.decode()
    partial = web.get("/contacts/", {"q": "佐藤"}, HTTP_HX_REQUEST="true")
    assert "佐藤 花子" in partial.content.decode()
    contact_id = int(created["Location"].rstrip("/").split("/")[-1])
    edit = web.post(
        f"/contacts/{contact_id}/edit/",
        {
            "name": "佐藤 花子",
            "customer": customer.pk,
            "job_title": "部長",
            "emails": "",
            "phones": "",
        },
    )
    assert edit.status_code == 302
    with tenant_context(world.a.tenant):
        contact = Contact.objects.get(pk=contact_id)
        assert contact.job_title == "部長" and contact.emails == []
        assert contact.owner_id == people["east_rep"].pk
    # Another rep can neither open nor edit it.
    other = signed_in(world.a, people["west_rep"].email)
    assert other.get(f"/contacts/{contact_id}/").status_code == 404
    assert other.get(f"/contacts/{contact_id}/edit/").status_code == 404


def test_creating_a_possible_duplicate_contact_asks_for_confirmation(world, people):
    web = signed_in(world.a, people["east_rep"].email)
    form = {
        "name": "高橋 健太",
        "emails": "kenta@takahashi.example.jp",
        "phones": "",
        "decision_role": "user",
    }
    assert web.post("/contacts/new/", form).status_code == 302
    again = {**form, "name": "高橋健太", "emails": "other@example.jp", "phones": ""}
    warned = web.post("/contacts/new/", again)
    assert warned.status_code == 200 and "This record may already exist." in warned.content.decode()
    assert web.post("/contacts/new/", {**again, "confirm_duplicates": "1"}).status_code == 302
