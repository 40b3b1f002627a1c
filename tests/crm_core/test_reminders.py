"""Reminders (tasks due, follow-ups due, birthdays) with a controllable clock, the
notification centre (API and page), and the e-mail sent through the outbox."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from crm_core.models import Activity, Contact, Customer, Deal, Notification
from crm_core.services.deals import deal_create
from crm_core.services.notifications import notify
from crm_core.services.reminders import notification_email_send, reminders_compute
from crm_platform.outbox.services import outbox_dispatch_pending
from tests.conftest import signed_in
from tests.crm_core.test_deals import _post, api, make_crew

# Not module-wide: the worker test commits its data (the worker is another process).
in_transaction = pytest.mark.django_db

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def crew(world):
    return make_crew(world)


def _new_for(user, kind: str, now) -> int:
    """Run the computation at `now`; how many reminders of `kind` `user` got from it
    (other tests' committed rows in the company may get theirs too)."""
    before = _mine(user, kind).count()
    reminders_compute(now=now)
    return _mine(user, kind).count() - before


def _mine(user, kind=None):
    notifications = Notification.objects.filter(user=user)
    return notifications.filter(kind=kind) if kind else notifications


@in_transaction
def test_task_reminders_soon_then_overdue_each_once(world, crew):
    with tenant_context(world.a.tenant):
        rep = crew["east_rep"]
        task = Activity.objects.create(
            kind="task", subject="发报价单", assignee=rep, due_at=NOW + timedelta(hours=5)
        )
        Activity.objects.create(
            kind="task", subject="later", assignee=rep, due_at=NOW + timedelta(days=3)
        )
        Activity.objects.create(kind="task", subject="done", assignee=rep, due_at=NOW, done_at=NOW)
        assert _new_for(rep, "task_due", NOW) == 1
        assert _new_for(rep, "task_due", NOW + timedelta(hours=1)) == 0  # idempotent
        soon = _mine(rep, "task_due").get()
        assert soon.title == "Task due: 发报价单" and soon.record_id == task.pk
        assert soon.record_type == "activity" and soon.due_at == task.due_at
        # Once overdue: one more reminder, then nothing.
        assert _new_for(rep, "task_due", NOW + timedelta(hours=6)) == 1
        assert _new_for(rep, "task_due", NOW + timedelta(hours=30)) == 0
        titles = set(_mine(rep, "task_due").values_list("title", flat=True))
        assert titles == {"Task due: 发报价单", "Overdue task: 发报价单"}


@in_transaction
def test_follow_up_due_for_quiet_deals_closing_within_a_week(world, crew):
    with tenant_context(world.a.tenant):
        rep, stages = crew["east_rep"], crew["stages"]
        closing = NOW.date() + timedelta(days=5)

        def deal(name, **extra):
            return deal_create(
                actor=rep,
                data={
                    "name": name,
                    "pipeline": crew["pipeline"],
                    "expected_close_date": closing,
                    **extra,
                },
                now=NOW - timedelta(days=20),
            )

        quiet = deal("安静的商机")
        busy = deal("Busy deal")
        deal("Far away", expected_close_date=NOW.date() + timedelta(days=30))
        deal("Already won", stage=stages["Won"])
        call = Activity.objects.create(kind="call", subject="checked in", deal=busy, created_by=rep)
        Activity.objects.filter(pk=call.pk).update(created_at=NOW - timedelta(days=2))
        assert _new_for(rep, "follow_up_due", NOW) == 1
        assert _new_for(rep, "follow_up_due", NOW + timedelta(hours=2)) == 0
        reminder = _mine(rep, "follow_up_due").get()
        assert reminder.record_type == "deal" and reminder.record_id == quiet.pk
        assert quiet.name in reminder.title and closing.isoformat() in reminder.title
        # Still quiet the next day: reminded again (once a day); a follow-up stops it.
        assert _new_for(rep, "follow_up_due", NOW + timedelta(days=1)) == 1
        Activity.objects.create(kind="note", subject="n", deal=quiet, created_by=rep)
        Activity.objects.filter(deal=quiet).update(created_at=NOW + timedelta(days=1, hours=1))
        assert _new_for(rep, "follow_up_due", NOW + timedelta(days=2)) == 0


@in_transaction
def test_birthdays_of_customers_and_contacts_today_once_a_year(world, crew):
    with tenant_context(world.a.tenant):
        rep = crew["east_rep"]
        customer = crew["customers"]["east_rep"]
        Customer.objects.filter(pk=customer.pk).update(birthday=date(1980, 3, 10))
        contact = Contact.objects.create(
            name="山田 花子", owner=rep, customer=customer, birthday=date(1990, 3, 10)
        )
        Contact.objects.create(name="Not today", owner=rep, birthday=date(1990, 3, 11))
        assert _new_for(rep, "birthday", NOW) == 2
        assert _new_for(rep, "birthday", NOW + timedelta(hours=3)) == 0
        records = set(_mine(rep, "birthday").values_list("record_type", "record_id"))
        assert records == {("customer", customer.pk), ("contact", contact.pk)}
        assert _new_for(rep, "birthday", NOW.replace(year=2028)) == 2  # next year


@in_transaction
def test_a_29_february_birthday_is_remembered_on_28_february(world, crew):
    with tenant_context(world.a.tenant):
        rep = crew["west_rep"]
        Contact.objects.create(name="Leap", owner=rep, birthday=date(2000, 2, 29))
        feb_28 = datetime(2027, 2, 28, 8, tzinfo=UTC)
        assert _new_for(rep, "birthday", feb_28) == 1
        assert _new_for(rep, "birthday", datetime(2028, 2, 28, 8, tzinfo=UTC)) == 0
        assert _new_for(rep, "birthday", datetime(2028, 2, 29, 8, tzinfo=UTC)) == 1


@in_transaction
def test_reminder_titles_are_in_the_users_language(world, crew):
    with tenant_context(world.a.tenant):
        rep = crew["west_rep"]
        rep.language = "ja"
        rep.save(update_fields=["language"])
        Activity.objects.create(
            kind="task", subject="見積", assignee=rep, due_at=NOW + timedelta(hours=1)
        )
        reminders_compute(now=NOW)
        # The title is rendered under the user's language (English until translated).
        assert "見積" in _mine(rep, "task_due").get().title


# --- the notification centre ------------------------------------------------------------


def _notify(user, key, title="Reminder", **extra):
    return notify(user=user, kind="task_due", title=title, dedupe_key=key, **extra)


@in_transaction
def test_api_lists_mine_unread_first_and_marks_read(world, crew):
    with tenant_context(world.a.tenant):
        rep = crew["east_rep"]
        old_unread = _notify(rep, "t-1", "old unread")
        read = _notify(rep, "t-2", "read one")
        read.read_at = timezone.now()
        read.save()
        new_unread = _notify(rep, "t-3", "new unread")
        theirs = _notify(crew["west_rep"], "t-4", "not mine")
    client = api(world, crew, "east_rep")
    body = client.get("/api/v1/notifications/").json()
    assert [n["id"] for n in body["results"]] == [new_unread.pk, old_unread.pk, read.pk]
    assert body["unread_count"] == 2 and "sort_key" not in body["results"][0]
    unread = client.get("/api/v1/notifications/?unread=true").json()["results"]
    assert [n["id"] for n in unread] == [new_unread.pk, old_unread.pk]
    response = _post(client, f"/api/v1/notifications/{old_unread.pk}/read/", {})
    assert response.status_code == 200 and response.json()["read_at"] is not None
    assert _post(client, f"/api/v1/notifications/{theirs.pk}/read/", {}).status_code == 404
    response = _post(client, "/api/v1/notifications/read-all/", {})
    assert response.json() == {"marked": 1}
    assert client.get("/api/v1/notifications/").json()["unread_count"] == 0
    with tenant_context(world.a.tenant):
        assert Notification.objects.get(pk=theirs.pk).read_at is None


@in_transaction
def test_api_pages_with_a_cursor(world, crew):
    with tenant_context(world.a.tenant):
        rep = crew["east_rep"]
        made = [_notify(rep, f"p-{i}", f"n{i}") for i in range(5)]
        for notification in made[:2]:
            notification.read_at = timezone.now()
            notification.save()
    client = api(world, crew, "east_rep")
    seen, url = [], "/api/v1/notifications/?page_size=2"
    while url:
        body = client.get(url).json()
        seen += [n["id"] for n in body["results"]]
        url = body["next"]
    expected = [n.pk for n in reversed(made[2:])] + [n.pk for n in reversed(made[:2])]
    assert seen == expected


@in_transaction
def test_notification_page_marks_read_and_opens_the_record(world, crew):
    with tenant_context(world.a.tenant):
        rep = crew["east_rep"]
        deal = deal_create(actor=rep, data={"name": "提醒商机", "pipeline": crew["pipeline"]})
        notification = notify(
            user=rep,
            kind="follow_up_due",
            title="Follow up: 提醒商机",
            dedupe_key="page-1",
            record_type="deal",
            record_id=deal.pk,
        )
        other = _notify(rep, "page-2", "Second")
    page = signed_in(world.a, "d-er@a.example.com")
    html = page.get("/notifications/").content.decode()
    assert "Follow up: 提醒商机" in html and "Second" in html and "Mark read" in html
    response = page.post(f"/notifications/{notification.pk}/read/", {"open": "1"})
    assert response.status_code == 302 and response["Location"] == f"/deals/{deal.pk}/"
    response = page.post(f"/notifications/{other.pk}/read/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Mark read" not in response.content.decode()
    with tenant_context(world.a.tenant):
        assert not Notification.objects.filter(user=rep, read_at__isnull=True).exists()
    # Someone else's notification is not found.
    assert (
        signed_in(world.a, "d-wr@a.example.com")
        .post(f"/notifications/{notification.pk}/read/")
        .status_code
        == 404
    )
    assert page.post("/notifications/read-all/").status_code == 302


@in_transaction
def test_a_new_notification_is_emailed_once_through_the_outbox(world, crew):
    with tenant_context(world.a.tenant):
        rep = crew["east_rep"]
        deal = Deal.objects.create(
            name="邮件商机",
            pipeline=crew["pipeline"],
            stage=crew["stages"]["Proposal"],
            owner=rep,
        )
        notification = notify(
            user=rep,
            kind="follow_up_due",
            title="Follow up: 邮件商机",
            dedupe_key="mail-1",
            record_type="deal",
            record_id=deal.pk,
        )
        mail.outbox.clear()
        outbox_dispatch_pending()  # what the worker runs after commit
        sent = [m for m in mail.outbox if m.to == [rep.email]]
        assert len(sent) == 1
        assert "Follow up: 邮件商机" in sent[0].subject
        assert f"/deals/{deal.pk}/" in sent[0].body and "/notifications/" in sent[0].body
        notification.refresh_from_db()
        assert notification.emailed_at is not None
        # Delivery is at least once: a second delivery sends nothing.
        assert notification_email_send(notification_id=notification.pk) is False
        assert len([m for m in mail.outbox if m.to == [rep.email]]) == 1


def test_the_beat_task_runs_in_the_worker_and_the_reminder_is_emailed(
    world, committed, celery_worker, mail_dir
):
    """End to end: crm.reminders_compute in a real worker, then the outbox e-mail."""
    import time
    import uuid

    from django.db import connection

    from accounts.models import User
    from accounts.roles import Role
    from crm_core.tasks.reminders import reminders_compute_task

    email = f"reminded-{uuid.uuid4().hex[:8]}@bravo.example.com"
    subject = f"Beat task {uuid.uuid4().hex[:6]}"
    with tenant_context(world.b.tenant):
        rep = User.objects.create_user(email, "x-Password-2026", role=Role.SALES_REP)
        Activity.objects.create(
            kind="task",
            subject=subject,
            assignee=rep,
            due_at=timezone.now() + timedelta(hours=2),
        )
        result = reminders_compute_task.delay()
    connection.set_schema_to_public()
    assert result.get(timeout=30)["task_due"] >= 1
    deadline = time.monotonic() + 30
    while not [p for p in mail_dir.glob("*.log") if subject in p.read_text()]:
        assert time.monotonic() < deadline, "the reminder e-mail was not sent"
        time.sleep(0.2)
    with tenant_context(world.b.tenant):
        notification = Notification.objects.get(user__email=email)
        assert notification.title == f"Task due: {subject}"
        assert Notification.objects.filter(user__email=email).count() == 1
