"""Customers: services, visibility by role, API (lean list, CRUD, bulk, timeline), pages."""

from urllib.parse import urlsplit

import pytest
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from accounts.roles import Role
from crm_core.models import AssignmentRule, Customer, FieldChange, Region
from crm_core.records import name_key, phone_key, search_text
from crm_platform.outbox.models import OutboxEvent
from tests.conftest import PASSWORD, client_for, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(world):
    """In company A: two teams with a manager and reps each, an admin, a read-only user."""
    with tenant_context(world.a.tenant):
        east = Team.objects.create(name="East")
        west = Team.objects.create(name="West")
        make = User.objects.create_user
        people = {
            "admin": make("admin-c@a.example.com", PASSWORD, role=Role.ADMIN),
            "east_manager": make("em@a.example.com", PASSWORD, role=Role.MANAGER, team=east),
            "east_rep": make("er@a.example.com", PASSWORD, role=Role.SALES_REP, team=east),
            "east_rep2": make("er2@a.example.com", PASSWORD, role=Role.SALES_REP, team=east),
            "west_rep": make("wr@a.example.com", PASSWORD, role=Role.SALES_REP, team=west),
            "viewer": make("ro@a.example.com", PASSWORD, role=Role.READ_ONLY),
        }
        east.manager = people["east_manager"]
        east.save()
    people["tokens"] = {}
    from accounts.services import api_token_create

    with tenant_context(world.a.tenant):
        for key, user in list(people.items()):
            if isinstance(user, User):
                people["tokens"][key] = api_token_create(user=user, name="t")[1]
    return people


def api(world, people, who):
    return client_for(world.a, people["tokens"][who])


def _create(world, people, who, **data):
    body = {"name": "深圳华强电子有限公司", **data}
    return api(world, people, who).post("/api/v1/customers/", body, content_type="application/json")


def test_keys_normalise_names_phones_and_search_text():
    assert name_key("株式会社 テスト") == name_key("テスト") == "テスト"
    assert name_key("ACME Inc.") == name_key("acme") == "acme"
    assert name_key("北京示例科技有限公司") == "北京示例科技"
    assert name_key("ＡＢＣ") == "abc"  # full-width folds
    assert phone_key("+86 138-0013-8000") == phone_key("13800138000")
    assert phone_key("+81 3 5555 0101") == phone_key("03-5555-0101")
    assert phone_key("+1 (415) 555-0100") == phone_key("415 555 0100")
    assert "13800138000" in search_text("Li", "+86 138 0013 8000")


def test_rep_creates_a_customer_they_own_with_history_and_event(world, people):
    response = _create(
        world,
        people,
        "east_rep",
        email="Sales@HuaQiang.cn",
        phone="+86 755 8888 0000",
        tags=["电子", " vip ", "电子"],
        addresses=[{"kind": "office", "city": "深圳", "country": "CN"}],
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner_id"] == people["east_rep"].pk
    assert body["team_id"] == people["east_rep"].team_id
    assert body["tags"] == ["vip", "电子"]
    with tenant_context(world.a.tenant):
        customer = Customer.objects.get(pk=body["id"])
        assert customer.name_key == "深圳华强电子" and customer.phone_key.endswith("88880000")
        event = OutboxEvent.objects.filter(event_type="customer.created").latest("id")
        assert event.payload["id"] == customer.pk and event.payload["name"] == customer.name


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"email": "not-mail"}, "email"),
        ({"relationship_stage": "friend"}, "relationship_stage"),
        ({"value_tier": "Z"}, "value_tier"),
        ({"website": "not a url"}, "website"),
        ({"birthday": "2024-13-40"}, "birthday"),
        ({"addresses": [{"planet": "Mars"}]}, "addresses"),
        ({"id": 5, "search_text": "x"}, "search_text"),
        ({"owner_id": 999999}, "owner_id"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(world, people, data, field):
    before = _count(world)
    response = _create(world, people, "admin", **data)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert _count(world) == before


def _count(world):
    with tenant_context(world.a.tenant):
        return Customer.objects.count()


def test_visibility_own_team_all(world, people):
    ids = {}
    for who in ("east_rep", "east_rep2", "west_rep"):
        ids[who] = _create(world, people, who, name=f"Owned by {who}").json()["id"]

    def seen(who):
        rows = api(world, people, who).get("/api/v1/customers/?page_size=100").json()["results"]
        return {row["id"] for row in rows}

    assert ids["east_rep"] in seen("east_rep") and ids["east_rep2"] not in seen("east_rep")
    assert {ids["east_rep"], ids["east_rep2"]} <= seen("east_manager")
    assert ids["west_rep"] not in seen("east_manager")
    assert set(ids.values()) <= seen("admin") and set(ids.values()) <= seen("viewer")
    # A rep can neither read nor change another rep's customer.
    other = api(world, people, "east_rep")
    assert other.get(f"/api/v1/customers/{ids['west_rep']}/").status_code == 404
    assert (
        other.patch(
            f"/api/v1/customers/{ids['west_rep']}/", {"name": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
    # Read-only users see but cannot change.
    viewer = api(world, people, "viewer")
    assert viewer.get(f"/api/v1/customers/{ids['west_rep']}/").status_code == 200
    assert (
        viewer.patch(
            f"/api/v1/customers/{ids['west_rep']}/", {"name": "x"}, content_type="application/json"
        ).status_code
        == 403
    )


def test_reassignment_needs_the_right_and_is_recorded(world, people):
    customer_id = _create(world, people, "east_rep").json()["id"]
    rep = api(world, people, "east_rep")
    refused = rep.patch(
        f"/api/v1/customers/{customer_id}/",
        {"owner_id": people["east_rep2"].pk},
        content_type="application/json",
    )
    assert refused.status_code == 403
    manager = api(world, people, "east_manager")
    moved = manager.patch(
        f"/api/v1/customers/{customer_id}/",
        {"owner_id": people["east_rep2"].pk, "relationship_stage": "target"},
        content_type="application/json",
    )
    assert moved.status_code == 200 and moved.json()["owner_id"] == people["east_rep2"].pk
    with tenant_context(world.a.tenant):
        changes = {
            c.field: c
            for c in FieldChange.objects.filter(record_type="customer", record_id=customer_id)
        }
        assert changes["owner"].old_value == str(people["east_rep"].pk)
        assert changes["owner"].changed_by_id == people["east_manager"].pk
        assert changes["relationship_stage"].new_value == "target"
        assert OutboxEvent.objects.filter(
            event_type="customer.owner_changed", aggregate_id=str(customer_id)
        ).exists()


def test_admin_creations_follow_round_robin_assignment_with_capacity(world, people):
    with tenant_context(world.a.tenant):
        region = Region.objects.create(name="华东")
        AssignmentRule.objects.create(
            name="East round-robin",
            entity="customer",
            team_id=people["east_rep"].team_id,
            region=region,
            capacity=2,
        )
    owners = [
        _create(world, people, "admin", name=f"RR {i}", region_id=region.pk).json()["owner_id"]
        for i in range(5)
    ]
    east = {people["east_manager"].pk, people["east_rep"].pk, people["east_rep2"].pk}
    assert set(owners[:3]) == east  # each member once before anyone twice
    assert owners[3] in east and owners[3] != owners[2]
    # Another region: the rule does not apply, the creator owns it.
    other = _create(world, people, "admin", name="No rule").json()
    assert other["owner_id"] == people["admin"].pk


def test_lean_list_filters_search_and_cursor_pages(world, people):
    client = api(world, people, "admin")
    for index in range(7):
        _create(
            world,
            people,
            "admin",
            name=f"東京商事 {index}",
            value_tier="A" if index % 2 else "B",
            email=f"buyer{index}@tokyo-shoji.jp",
            phone=f"+81 3 1234 56{index:02d}",
        )
    page = client.get("/api/v1/customers/", {"q": "東京", "page_size": 3}).json()
    assert len(page["results"]) == 3 and page["next"]
    next_url = urlsplit(page["next"])
    rest = client.get(f"{next_url.path}?{next_url.query}").json()
    names = {r["name"] for r in page["results"] + rest["results"]}
    assert len(names) == 6
    assert client.get("/api/v1/customers/", {"q": "京商"}).json()[
        "results"
    ]  # a 2-character fragment
    assert (
        client.get("/api/v1/customers/?q=BUYER3@").json()["results"][0]["email"]
        == "buyer3@tokyo-shoji.jp"
    )
    assert client.get("/api/v1/customers/?q=12345603").json()["results"]  # phone digits
    tier_a = client.get("/api/v1/customers/", {"q": "東京", "value_tier": "A"}).json()["results"]
    assert tier_a and all(r["value_tier"] == "A" for r in tier_a)
    assert client.get("/api/v1/customers/?page_size=1000").status_code == 200
    assert len(client.get("/api/v1/customers/?page_size=1000").json()["results"]) <= 100
    bad = client.get("/api/v1/customers/?value_tier=Z&ordering=evil")
    assert bad.status_code == 400 and {"value_tier", "ordering"} <= set(
        bad.json()["error"]["fields"]
    )


def test_bulk_is_all_or_nothing_with_errors_by_position(world, people):
    client = api(world, people, "admin")
    before = _count(world)
    bad = client.post(
        "/api/v1/customers/bulk/",
        {"items": [{"name": "Bulk one"}, {"name": ""}, {"name": "Bulk three", "email": "x"}]},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"1.name", "2.email"}
    assert _count(world) == before
    good = client.post(
        "/api/v1/customers/bulk/",
        {"items": [{"name": "Bulk one"}, {"name": "Bulk two"}]},
        content_type="application/json",
    )
    assert good.status_code == 200 and len(good.json()) == 2
    first = good.json()[0]["id"]
    update = client.post(
        "/api/v1/customers/bulk/",
        {"items": [{"id": first, "value_tier": "A"}]},
        content_type="application/json",
    )
    assert update.status_code == 200 and update.json()[0]["value_tier"] == "A"


def test_delete_needs_the_right(world, people):
    customer_id = _create(world, people, "east_rep").json()["id"]
    assert (
        api(world, people, "east_rep").delete(f"/api/v1/customers/{customer_id}/").status_code
        == 403
    )
    assert (
        api(world, people, "east_manager").delete(f"/api/v1/customers/{customer_id}/").status_code
        == 204
    )


def test_pages_list_create_edit_and_360(world, people):
    web = signed_in(world.a, people["east_rep"].email)
    created = web.post(
        "/customers/new/",
        {
            "kind": "company",
            "name": "大阪物産株式会社",
            "relationship_stage": "potential",
            "email": "info@osaka.example.jp",
        },
    )
    assert created.status_code == 302, created.content[:500]
    detail = web.get(created["Location"])
    assert detail.status_code == 200 and "大阪物産株式会社" in detail.content.decode()
    bad = web.post(
        "/customers/new/",
        {"kind": "company", "name": "", "email": "nope", "relationship_stage": "potential"},
    )
    assert bad.status_code == 200 and {"name", "email"} <= set(bad.context["form"].errors)
    listing = web.get("/customers/", {"q": "大阪"})
    assert "大阪物産株式会社" in listing.content.decode()
    partial = web.get("/customers/", {"q": "物産"}, HTTP_HX_REQUEST="true")
    assert "大阪物産株式会社" in partial.content.decode()
    customer_id = int(created["Location"].rstrip("/").split("/")[-1])
    edit = web.post(
        f"/customers/{customer_id}/edit/",
        {
            "kind": "company",
            "name": "大阪物産",
            "relationship_stage": "current",
            "tags": "重要, 関西",
        },
    )
    assert edit.status_code == 302
    with tenant_context(world.a.tenant):
        customer = Customer.objects.get(pk=customer_id)
        assert (
            customer.relationship_stage == "current"
            and customer.tags == ["关西", "重要"]
            or customer.tags == sorted(["重要", "関西"])
        )
        assert customer.owner_id == people["east_rep"].pk  # a rep cannot reassign on the page


def test_a_leader_can_create_a_customer_straight_into_the_public_pool(world, people):
    response = _create(world, people, "east_manager", name="Pool Co", owner_id=None)
    assert response.status_code == 201 and response.json()["owner_id"] is None
    assert response.json()["pool_entered_at"]
    pool = api(world, people, "west_rep").get("/api/v1/customers/", {"owner": "pool"}).json()
    assert response.json()["id"] in {row["id"] for row in pool["results"]}
    refused = _create(world, people, "east_rep", name="Not mine to pool", owner_id=None)
    assert refused.status_code == 403


def test_a_call_logged_on_the_360_page_is_a_follow_up(world, people):
    customer_id = _create(world, people, "east_rep", name="Follow-up Co").json()["id"]
    web = signed_in(world.a, people["east_rep"].email)
    page = web.get(f"/customers/{customer_id}/")
    assert 'id="quick-activity"' in page.content.decode()
    logged = web.post(
        "/activities/new/",
        {
            "kind": "call",
            "subject": "Called about the renewal",
            "priority": "normal",
            "customer": customer_id,
            "next": f"/customers/{customer_id}/",
        },
    )
    assert logged.status_code == 302 and logged["Location"] == f"/customers/{customer_id}/"
    with tenant_context(world.a.tenant):
        customer = Customer.objects.get(pk=customer_id)
        assert customer.last_activity_at is not None
    assert "Called about the renewal" in web.get(f"/customers/{customer_id}/").content.decode()


def test_list_pages_offer_export_with_the_current_filters_to_those_allowed(world, people):
    manager = signed_in(world.a, people["east_manager"].email)
    page = manager.get("/customers/", {"value_tier": "A"}).content.decode()
    assert "/api/v1/exports/customers.csv?value_tier=A" in page
    assert "/api/v1/exports/customers.xlsx?value_tier=A" in page
    export = manager.get("/api/v1/exports/customers.csv", {"value_tier": "A"})
    assert export.status_code == 200
    rep = signed_in(world.a, people["east_rep"].email)
    assert "/api/v1/exports/" not in rep.get("/customers/").content.decode()
    assert rep.get("/api/v1/exports/customers.csv").status_code == 403


def test_creating_a_possible_duplicate_asks_for_confirmation(world, people):
    _create(world, people, "west_rep", name="株式会社ミドリ商会", email="info@midori.example.jp")
    _create(world, people, "east_rep", name="Green Trading", phone="+81 3 5555 0101")
    web = signed_in(world.a, people["east_rep"].email)
    form = {
        "kind": "company",
        "name": "ミドリ商会",
        "relationship_stage": "potential",
        "phone": "03-5555-0101",
    }
    warned = web.post("/customers/new/", form)
    assert warned.status_code == 200
    html = warned.content.decode()
    assert "Green Trading" in html  # mine: shown with a link
    assert "株式会社ミドリ商会" not in html  # a colleague's: counted, not shown
    assert "1 similar record belongs to a colleague." in html
    created = web.post("/customers/new/", {**form, "confirm_duplicates": "1"})
    assert created.status_code == 302


def test_leaders_delete_from_the_page_unless_the_service_refuses(world, people):
    keep_id = _create(world, people, "east_rep", name="Has deals").json()["id"]
    gone_id = _create(world, people, "east_rep", name="Short-lived").json()["id"]
    rep = signed_in(world.a, people["east_rep"].email)
    assert f"/customers/{gone_id}/delete/" not in rep.get(f"/customers/{gone_id}/").content.decode()
    assert rep.post(f"/customers/{gone_id}/delete/").status_code == 403
    manager = signed_in(world.a, people["east_manager"].email)
    assert f"/customers/{gone_id}/delete/" in manager.get(f"/customers/{gone_id}/").content.decode()
    assert manager.get(f"/customers/{gone_id}/delete/").status_code == 405
    deleted = manager.post(f"/customers/{gone_id}/delete/")
    assert deleted.status_code == 302 and deleted["Location"] == "/customers/"
    with tenant_context(world.a.tenant):
        assert not Customer.objects.filter(pk=gone_id).exists()
        from crm_core.models import Deal, Pipeline, Stage

        pipeline = Pipeline.objects.create(name="Delete test")
        stage = Stage.objects.create(pipeline=pipeline, name="Open")
        Deal.objects.create(
            name="Blocking deal",
            customer_id=keep_id,
            pipeline=pipeline,
            stage=stage,
            owner=people["east_rep"],
        )
    refused = manager.post(f"/customers/{keep_id}/delete/", follow=True)
    assert "has deals" in refused.content.decode()
    with tenant_context(world.a.tenant):
        assert Customer.objects.filter(pk=keep_id).exists()


def test_records_of_someone_who_left_stay_editable_until_reassigned(world, people):
    """A deactivated owner stays on their customers until a leader reassigns them: the
    record can still be edited, on the API and on its page (which shows that owner), but
    nothing can newly be given to someone who left."""
    from crm_core.services.customers import customer_create

    with tenant_context(world.a.tenant):
        leaver = User.objects.create_user(
            "leaver-c@a.example.com", PASSWORD, role=Role.SALES_REP, team=people["east_rep"].team
        )
        kept = customer_create(actor=people["admin"], data={"name": "離職者商事", "owner": leaver})
        other = customer_create(actor=people["admin"], data={"name": "Someone Else Ltd"})
        User.objects.filter(pk=leaver.pk).update(is_active=False)
    admin = api(world, people, "admin")
    edited = admin.patch(
        f"/api/v1/customers/{kept.pk}/", {"phone": "+86 21 5555 0101"}, "application/json"
    )
    assert edited.status_code == 200, edited.content
    assert edited.json()["owner_id"] == leaver.pk
    refused = admin.patch(
        f"/api/v1/customers/{other.pk}/", {"owner_id": leaver.pk}, "application/json"
    )
    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["owner"]

    web = signed_in(world.a, people["admin"].email)
    page = web.get(f"/customers/{kept.pk}/edit/")
    assert f'<option value="{leaver.pk}" selected>' in page.content.decode()
    saved = web.post(
        f"/customers/{kept.pk}/edit/",
        {
            "kind": "company",
            "name": "離職者商事",
            "relationship_stage": "current",
            "phone": "+86 21 5555 0101",
            "owner": leaver.pk,
        },
    )
    assert saved.status_code == 302, saved.context["form"].errors
    with tenant_context(world.a.tenant):
        kept.refresh_from_db()
        other.refresh_from_db()
        assert (kept.relationship_stage, kept.owner_id) == ("current", leaver.pk)
        assert kept.phone == "+86 21 5555 0101"
        assert other.owner_id != leaver.pk
