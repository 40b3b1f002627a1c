"""Duplicates: detection by e-mail, phone and normalised name; merge re-points everything."""

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from crm_core.models import (
    Activity,
    Contact,
    Customer,
    Deal,
    FieldChange,
    Lead,
    Notification,
    Pipeline,
    PoolMove,
    Stage,
)
from crm_core.records import phone_key
from crm_core.selectors.duplicates import MODELS, duplicate_q, existing_keys
from crm_platform.outbox.models import OutboxEvent
from tests.conftest import client_for, signed_in
from tests.crm_core.test_search import (  # noqa: F401 (people_fixture: the "people" fixture)
    make_contact,
    make_customer,
    make_lead,
    people_fixture,
)

pytestmark = pytest.mark.django_db


def api(world, people, who):
    return client_for(world.a, people["tokens"][who])


def _merge(world, people, who, **body):
    return api(world, people, who).post(
        "/api/v1/duplicates/merge/", body, content_type="application/json"
    )


def test_detection_by_email_phone_and_name(world, people):
    with tenant_context(world.a.tenant):
        rep = people["east_rep"]
        by_email = make_customer(rep, "Other name", "Buyer@Acme.example")
        by_phone = make_customer(rep, "Someone else", phone="+81 3-1234-5678")
        by_name = make_customer(rep, "株式会社テスト")
        hidden = make_customer(people["west_rep"], "テスト", "buyer@acme.example")
    response = api(world, people, "east_rep").get(
        "/api/v1/duplicates/",
        {
            "type": "customer",
            "name": "テスト",
            "email": "buyer@acme.example",
            "phone": "+81 (3) 1234-5678",
        },
    )
    assert response.status_code == 200, response.content
    found = {row["id"]: row["reasons"] for row in response.json()}
    assert found == {by_email.pk: ["email"], by_phone.pk: ["phone"], by_name.pk: ["name"]}
    assert hidden.pk not in found
    admin = api(world, people, "admin").get(
        "/api/v1/duplicates/", {"type": "customer", "name": "テスト"}
    )
    assert hidden.pk in {row["id"] for row in admin.json()}
    bad = api(world, people, "east_rep").get("/api/v1/duplicates/", {"type": "deal"})
    assert bad.status_code == 400 and "type" in bad.json()["error"]["fields"]


def test_contact_and_lead_detection(world, people):
    with tenant_context(world.a.tenant):
        rep = people["east_rep"]
        contact = make_contact(rep, "李明", ["li.ming@example.cn"], ["+86 139 0000 1111"])
        lead = make_lead(rep, "王芳", "wang@example.cn", "13900002222")
    client = api(world, people, "east_rep")
    rows = client.get("/api/v1/duplicates/", {"type": "contact", "email": "LI.MING@example.cn"})
    assert [row["id"] for row in rows.json()] == [contact.pk]
    rows = client.get("/api/v1/duplicates/", {"type": "contact", "phone": "139-0000-1111"})
    assert [row["id"] for row in rows.json()] == [contact.pk]
    rows = client.get("/api/v1/duplicates/", {"type": "lead", "phone": "+86 139 0000 2222"})
    assert [(row["id"], row["reasons"]) for row in rows.json()] == [(lead.pk, ["phone"])]


@pytest.mark.parametrize("entity", ["customer", "contact", "lead"])
def test_every_duplicate_condition_has_an_index(world, entity):
    """The check on every create ORs name key, e-mail (case-insensitive) and phone key:
    one condition no index serves turns it into a scan of the whole table (2.5 s at
    200k customers). With sequential and plain index scans priced out, each condition
    must be a bitmap index scan, not a filter."""
    q = duplicate_q(
        entity, name="Acme 株式会社", email="Buyer@Acme.example", phone="+81 3-1234-5678"
    )
    with tenant_context(world.a.tenant), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = MODELS[entity].objects.filter(q).values("id").query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert plan.count("Bitmap Index Scan") == 3, plan
    assert "Filter:" not in plan, plan


def test_import_lookup_matches_emails_in_any_case(world, people):
    with tenant_context(world.a.tenant):
        customer = make_customer(people["east_rep"], "Case test", "Mixed.Case@Acme.example")
        found = existing_keys(
            "customer", names=set(), emails={"mixed.case@acme.example"}, phones=set()
        )
    assert [row["id"] for row in found] == [customer.pk]
    assert found[0]["email_set"] == {"mixed.case@acme.example"}


@pytest.fixture
def customer_pair(world, people):
    """Two customers of the east rep, the second with every kind of relation."""
    with tenant_context(world.a.tenant):
        rep = people["east_rep"]
        keep = make_customer(rep, "华强电子", "keep@huaqiang.cn", tags=["vip"], industry="")
        merge = make_customer(
            rep,
            "华强电子有限公司",
            "merge@huaqiang.cn",
            "+86 755 1234 5678",
            tags=["电子", "vip"],
            industry="electronics",
        )
        pipeline = Pipeline.objects.create(name="Dup pipeline")
        stage = Stage.objects.create(pipeline=pipeline, name="New", probability=10)
        contact = make_contact(rep, "张伟", customer=merge)
        deal = Deal.objects.create(
            name="Deal of merged", customer=merge, pipeline=pipeline, stage=stage, owner=rep
        )
        activity = Activity.objects.create(kind="call", subject="Call", customer=merge)
        lead = make_lead(rep, "converted")
        lead.converted_customer = merge
        lead.save()
        change = FieldChange.objects.create(
            record_type="customer", record_id=merge.pk, field="owner", changed_at=timezone.now()
        )
        move = PoolMove.objects.create(
            record_type="customer", record_id=merge.pk, action="claim", at=timezone.now()
        )
        note = Notification.objects.create(
            user=rep,
            kind="follow_up_due",
            title="follow up",
            record_type="customer",
            record_id=merge.pk,
            dedupe_key=f"dup-{merge.pk}",
        )
    return {
        "keep": keep,
        "merge": merge,
        "contact": contact,
        "deal": deal,
        "activity": activity,
        "lead": lead,
        "change": change,
        "move": move,
        "note": note,
    }


def test_merge_repoints_every_relation_and_chooses_fields(world, people, customer_pair):
    keep, merge = customer_pair["keep"], customer_pair["merge"]
    response = _merge(
        world,
        people,
        "east_manager",
        type="customer",
        keep=keep.pk,
        merge=merge.pk,
        fields={"email": "merge"},
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"type": "customer", "id": keep.pk}
    with tenant_context(world.a.tenant):
        assert not Customer.objects.filter(pk=merge.pk).exists()
        kept = Customer.objects.get(pk=keep.pk)
        assert kept.name == "华强电子"  # not chosen: the kept record's value
        assert kept.email == "merge@huaqiang.cn"  # chosen
        assert kept.industry == "electronics"  # empty on the kept record: filled
        assert (
            kept.phone_key == phone_key("75512345678") and "merge@huaqiang.cn" in kept.search_text
        )
        assert kept.tags == ["vip", "电子"]
        assert Contact.objects.get(pk=customer_pair["contact"].pk).customer_id == keep.pk
        assert Deal.objects.get(pk=customer_pair["deal"].pk).customer_id == keep.pk
        assert Activity.objects.get(pk=customer_pair["activity"].pk).customer_id == keep.pk
        assert Lead.objects.get(pk=customer_pair["lead"].pk).converted_customer_id == keep.pk
        assert FieldChange.objects.get(pk=customer_pair["change"].pk).record_id == keep.pk
        assert PoolMove.objects.get(pk=customer_pair["move"].pk).record_id == keep.pk
        assert Notification.objects.get(pk=customer_pair["note"].pk).record_id == keep.pk
        event = OutboxEvent.objects.filter(event_type="customer.merged").latest("id")
        assert event.payload["id"] == keep.pk and event.payload["merged_id"] == merge.pk
        assert event.payload["moved"]["deals"] == 1


def test_merge_of_contacts_and_leads(world, people):
    with tenant_context(world.a.tenant):
        rep = people["east_rep"]
        keep = make_contact(rep, "李明", ["a@example.cn"], ["111"])
        merge = make_contact(rep, "李明", ["b@example.cn", "a@example.cn"], ["222"])
        pipeline = Pipeline.objects.create(name="Contact dup pipeline")
        stage = Stage.objects.create(pipeline=pipeline, name="New")
        deal = Deal.objects.create(
            name="D", contact=merge, pipeline=pipeline, stage=stage, owner=rep
        )
        activity = Activity.objects.create(kind="note", subject="N", contact=merge)
        lead = make_lead(rep, "x")
        lead.converted_contact = merge
        lead.save()
        lead_keep, lead_merge = make_lead(rep, "山田"), make_lead(rep, "山田", "y@example.jp")
        lead_activity = Activity.objects.create(kind="call", subject="C", lead=lead_merge)
    response = _merge(world, people, "admin", type="contact", keep=keep.pk, merge=merge.pk)
    assert response.status_code == 200, response.content
    response = _merge(world, people, "admin", type="lead", keep=lead_keep.pk, merge=lead_merge.pk)
    assert response.status_code == 200, response.content
    with tenant_context(world.a.tenant):
        kept = Contact.objects.get(pk=keep.pk)
        assert kept.emails == ["a@example.cn", "b@example.cn"] and kept.phones == ["111", "222"]
        assert Deal.objects.get(pk=deal.pk).contact_id == keep.pk
        assert Activity.objects.get(pk=activity.pk).contact_id == keep.pk
        assert Lead.objects.get(pk=lead.pk).converted_contact_id == keep.pk
        assert not Contact.objects.filter(pk=merge.pk).exists()
        assert Activity.objects.get(pk=lead_activity.pk).lead_id == lead_keep.pk
        assert Lead.objects.get(pk=lead_keep.pk).email == "y@example.jp"
        assert not Lead.objects.filter(pk=lead_merge.pk).exists()


def test_merge_permissions_and_bad_input(world, people, customer_pair):
    keep, merge = customer_pair["keep"].pk, customer_pair["merge"].pk
    # Reps may not merge; a manager of another team cannot see the records.
    assert (
        _merge(world, people, "east_rep", type="customer", keep=keep, merge=merge).status_code
        == 403
    )
    with tenant_context(world.a.tenant):
        other = make_customer(people["west_rep"], "华强电子")
    response = _merge(world, people, "east_manager", type="customer", keep=keep, merge=other.pk)
    assert response.status_code == 404
    for body, field in [
        ({"type": "customer", "keep": keep, "merge": keep}, "merge"),
        (
            {"type": "customer", "keep": keep, "merge": merge, "fields": {"search_text": "merge"}},
            "fields.search_text",
        ),
        (
            {"type": "customer", "keep": keep, "merge": merge, "fields": {"email": "both"}},
            "fields.email",
        ),
        ({"type": "customer", "keep": keep, "merge": merge, "extra": 1}, "extra"),
    ]:
        response = _merge(world, people, "admin", **body)
        assert response.status_code == 400, (body, response.content)
        assert field in response.json()["error"]["fields"], response.json()
    with tenant_context(world.a.tenant):
        assert Customer.objects.filter(pk__in=[keep, merge]).count() == 2


def test_merge_page_side_by_side(world, people, customer_pair):
    keep, merge = customer_pair["keep"], customer_pair["merge"]
    web = signed_in(world.a, people["east_manager"].email)
    listing = web.get("/duplicates/")
    assert listing.status_code == 200
    page = web.get("/duplicates/", {"type": "customer", "keep": keep.pk, "merge": merge.pk})
    text = page.content.decode()
    assert page.status_code == 200
    assert 'name="field_email"' in text and "merge@huaqiang.cn" in text
    response = web.post(
        f"/duplicates/?type=customer&keep={keep.pk}&merge={merge.pk}", {"field_name": "merge"}
    )
    assert response.status_code == 302
    with tenant_context(world.a.tenant):
        kept = Customer.objects.get(pk=keep.pk)
        assert kept.name == "华强电子有限公司" and kept.email == "keep@huaqiang.cn"
        assert not Customer.objects.filter(pk=merge.pk).exists()
    rep = signed_in(world.a, people["east_rep"].email)
    assert rep.get("/duplicates/").status_code == 403
