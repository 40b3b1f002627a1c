"""Activities: quick call log, tasks, completing, check-in, the follow-up (pool) clock,
visibility, the my-tasks page, the calendar and the deal page's timeline."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from crm_core.models import Activity, Customer, Lead
from crm_core.selectors.activities import calendar_month, my_tasks
from crm_platform.outbox.models import OutboxEvent
from tests.conftest import signed_in
from tests.crm_core.test_deals import _new_deal, _post, api, make_crew

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(world):
    return make_crew(world)


def _log(world, crew, who="east_rep", **data):
    return _post(api(world, crew, who), "/api/v1/activities/", data)


def test_quick_call_log_is_a_follow_up_of_the_customer(world, crew):
    customer = crew["customers"]["east_rep"]
    response = _log(world, crew, kind="call", subject="确认需求", customer_id=customer.pk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["assignee_id"] == crew["east_rep"].pk and body["kind"] == "call"
    with tenant_context(world.a.tenant):
        touched = Customer.objects.get(pk=customer.pk).last_activity_at
        assert touched is not None and timezone.now() - touched < timedelta(minutes=1)
        event = OutboxEvent.objects.filter(event_type="activity.created").latest("id")
        assert event.payload["id"] == body["id"] and event.payload["customer_id"] == customer.pk


def test_a_deal_activity_links_the_customer_and_a_lead_activity_touches_the_lead(world, crew):
    customer = crew["customers"]["east_rep"]
    deal_id = _new_deal(world, crew, customer_id=customer.pk).json()["id"]
    response = _log(world, crew, kind="meeting", subject="Kick-off", deal_id=deal_id)
    assert response.status_code == 201, response.content
    assert response.json()["customer_id"] == customer.pk
    assert response.json()["starts_at"] is not None
    with tenant_context(world.a.tenant):
        lead = Lead.objects.create(name="見込み 太郎", owner=crew["east_rep"])
    response = _log(world, crew, kind="note", subject="メモ", lead_id=lead.pk)
    assert response.status_code == 201, response.content
    with tenant_context(world.a.tenant):
        assert Lead.objects.get(pk=lead.pk).last_activity_at is not None


def test_a_task_needs_no_link_and_is_not_a_follow_up(world, crew):
    customer = crew["customers"]["east_rep"]
    due = (timezone.now() + timedelta(days=2)).isoformat()
    response = _log(world, crew, kind="task", subject="准备报价", due_at=due, priority="high")
    assert response.status_code == 201, response.content
    response = _log(world, crew, kind="task", subject="Call back", customer_id=customer.pk)
    assert response.status_code == 201
    with tenant_context(world.a.tenant):
        assert Customer.objects.get(pk=customer.pk).last_activity_at is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "call", "subject": "no link"}, "customer_id"),
        ({"kind": "email", "subject": "x", "customer_id": "mine"}, "kind"),
        ({"kind": "call", "subject": "", "customer_id": "mine"}, "subject"),
        ({"kind": "call", "subject": "x", "customer_id": "theirs"}, "customer_id"),
        ({"kind": "task", "subject": "x", "assignee_id": "gone"}, "assignee_id"),
        ({"kind": "task", "subject": "x", "priority": "urgent"}, "priority"),
        ({"kind": "task", "subject": "x", "due_at": "tomorrow"}, "due_at"),
        (
            {
                "kind": "meeting",
                "subject": "x",
                "customer_id": "mine",
                "starts_at": "2026-11-23T10:00:00Z",
                "ends_at": "2026-11-23T09:00:00Z",
            },
            "ends_at",
        ),
        ({"kind": "task", "subject": "x", "done_at": "2026-11-23T10:00:00Z"}, "done_at"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(world, crew, data, field):
    symbols = {
        "mine": crew["customers"]["east_rep"].pk,
        "theirs": crew["customers"]["west_rep"].pk,
        "gone": crew["gone"].pk,
    }
    data = {key: symbols.get(value, value) for key, value in data.items()}
    with tenant_context(world.a.tenant):
        before = Activity.objects.count()
    response = _log(world, crew, **data)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    with tenant_context(world.a.tenant):
        assert Activity.objects.count() == before


def test_complete_is_idempotent_and_writes_one_event(world, crew):
    task_id = _log(world, crew, kind="task", subject="Send contract").json()["id"]
    client = api(world, crew, "east_rep")
    first = _post(client, f"/api/v1/activities/{task_id}/complete/", {})
    assert first.status_code == 200 and first.json()["done_at"] is not None
    second = _post(client, f"/api/v1/activities/{task_id}/complete/", {})
    assert second.json()["done_at"] == first.json()["done_at"]
    with tenant_context(world.a.tenant):
        events = OutboxEvent.objects.filter(
            event_type="activity.completed", aggregate_id=str(task_id)
        )
        assert events.count() == 1


def test_check_in_sets_place_and_time(world, crew):
    customer = crew["customers"]["east_rep"]
    visit_id = _log(
        world,
        crew,
        kind="visit",
        subject="拜访客户",
        customer_id=customer.pk,
        starts_at="2030-01-01T09:00:00Z",
    ).json()["id"]
    client = api(world, crew, "east_rep")
    response = _post(client, f"/api/v1/activities/{visit_id}/check-in/", {"place": "深圳南山区"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["check_in_place"] == "深圳南山区"
    checked_in = datetime.fromisoformat(body["starts_at"].replace("Z", "+00:00"))
    assert abs((timezone.now() - checked_in).total_seconds()) < 60
    response = _post(client, f"/api/v1/activities/{visit_id}/check-in/", {"place": " "})
    assert response.status_code == 400 and "place" in response.json()["error"]["fields"]
    call_id = _log(world, crew, kind="call", subject="x", customer_id=customer.pk).json()["id"]
    response = _post(client, f"/api/v1/activities/{call_id}/check-in/", {"place": "Tokyo"})
    assert response.status_code == 400 and "kind" in response.json()["error"]["fields"]


def test_visibility_follows_the_linked_records(world, crew):
    customer = crew["customers"]["east_rep2"]
    activity_id = _log(
        world, crew, who="east_rep2", kind="call", subject="私密", customer_id=customer.pk
    ).json()["id"]
    west = api(world, crew, "west_rep")
    assert west.get(f"/api/v1/activities/{activity_id}/").status_code == 404
    assert _post(west, f"/api/v1/activities/{activity_id}/complete/", {}).status_code == 404
    response = west.patch(
        f"/api/v1/activities/{activity_id}/", {"subject": "x"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert activity_id not in {r["id"] for r in west.get("/api/v1/activities/").json()["results"]}
    manager = api(world, crew, "east_manager")
    assert manager.get(f"/api/v1/activities/{activity_id}/").status_code == 200
    viewer = api(world, crew, "viewer")
    assert viewer.get(f"/api/v1/activities/{activity_id}/").status_code == 200
    assert _post(viewer, f"/api/v1/activities/{activity_id}/complete/", {}).status_code == 403
    # A task assigned to someone is theirs to see, whatever it is linked to.
    task_id = _log(
        world,
        crew,
        who="east_rep2",
        kind="task",
        subject="帮忙",
        assignee_id=crew["west_rep"].pk,
        customer_id=customer.pk,
    ).json()["id"]
    assert west.get(f"/api/v1/activities/{task_id}/").status_code == 200


def test_list_filters(world, crew):
    customer = crew["customers"]["east_rep"]
    now = timezone.now()
    soon = _log(
        world, crew, kind="task", subject="soon", due_at=(now + timedelta(hours=2)).isoformat()
    ).json()["id"]
    later = _log(
        world, crew, kind="task", subject="later", due_at=(now + timedelta(days=9)).isoformat()
    ).json()["id"]
    call = _log(world, crew, kind="call", subject="c", customer_id=customer.pk).json()["id"]
    _post(api(world, crew, "east_rep"), f"/api/v1/activities/{later}/complete/", {})
    client = api(world, crew, "east_rep")

    def ids(query):
        response = client.get(f"/api/v1/activities/?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("kind=call") == {call}
    assert {soon, later} <= ids("kind=task&assignee=me")
    assert soon in ids("done=false") and later not in ids("done=false")
    assert later in ids("done=true")
    before = (now + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert soon in ids(f"due_before={before}") and later not in ids(f"due_before={before}")
    assert ids(f"customer={customer.pk}") == {call}
    response = client.get("/api/v1/activities/?kind=email")
    assert response.status_code == 400 and "kind" in response.json()["error"]["fields"]


def test_my_tasks_buckets_and_the_calendar(world, crew):
    now = timezone.now()
    with tenant_context(world.a.tenant):
        rep = crew["east_rep"]
        make = Activity.objects.create
        overdue = make(kind="task", subject="逾期", assignee=rep, due_at=now - timedelta(hours=3))
        upcoming = make(kind="task", subject="以后", assignee=rep, due_at=now + timedelta(days=3))
        make(kind="task", subject="done", assignee=rep, due_at=now, done_at=now)
        meeting = make(
            kind="meeting",
            subject="Quarterly review",
            assignee=rep,
            starts_at=datetime(2027, 2, 10, 9, tzinfo=UTC),
            customer=crew["customers"]["east_rep"],
        )
        tasks = my_tasks(user=rep, now=now)
        assert overdue in tasks.overdue and upcoming in tasks.upcoming
        assert all(t.done_at is None for t in tasks.overdue + tasks.today + tasks.upcoming)
        weeks = calendar_month(user=rep, year=2027, month=2)
        items = [item for week in weeks for day in week for item in day.items]
        assert items == [meeting]
        day = next(d for week in weeks for d in week if d.items)
        assert day.day.isoformat() == "2027-02-10" and all(len(w) == 7 for w in weeks)
    page = signed_in(world.a, "d-er@a.example.com")
    html = page.get("/activities/").content.decode()
    assert "逾期" in html and "以后" in html and "Overdue" in html
    html = page.get("/calendar/?month=2027-02").content.decode()
    assert "Quarterly review" in html and "?month=2027-03" in html and "?month=2027-01" in html
    assert page.get("/calendar/?month=garbage").status_code == 200


def test_quick_add_and_complete_pages(world, crew):
    page = signed_in(world.a, "d-er@a.example.com")
    response = page.post(
        "/activities/new/",
        {"kind": "task", "subject": "页面任务", "priority": "normal"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "页面任务" in response.content.decode()
    # Errors come back in place, next to the field.
    response = page.post(
        "/activities/new/",
        {"kind": "call", "subject": "", "priority": "normal"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    with tenant_context(world.a.tenant):
        task = Activity.objects.get(subject="页面任务")
        assert task.assignee == crew["east_rep"] and task.created_by == crew["east_rep"]
    response = page.post(f"/activities/{task.pk}/complete/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Done." in response.content.decode()
    with tenant_context(world.a.tenant):
        assert Activity.objects.get(pk=task.pk).done_at is not None
    # Another rep's activity is not found.
    other = signed_in(world.a, "d-wr@a.example.com")
    assert other.post(f"/activities/{task.pk}/complete/").status_code == 404


def test_deal_page_logs_an_activity_and_shows_the_timeline(world, crew):
    deal_id = _new_deal(world, crew).json()["id"]
    page = signed_in(world.a, "d-er@a.example.com")
    response = page.post(
        "/activities/new/",
        {
            "kind": "call",
            "subject": "电话跟进",
            "priority": "normal",
            "deal": deal_id,
            "next": f"/deals/{deal_id}/",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/deals/{deal_id}/"
    html = page.get(f"/deals/{deal_id}/").content.decode()
    assert "电话跟进" in html
