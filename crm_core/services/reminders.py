"""Reminders into the notification centre, computed per company by the beat task
`crm.reminders_compute`; marking notifications read; e-mailing new ones.

Every reminder goes through notifications.notify() with a stable dedupe key, so running
the computation again (another beat, a retry, two workers) creates nothing twice:
- task_due: an open task due within the next day (key per task and due time), and once
  more when it is overdue; to the assignee.
- follow_up_due: an open deal whose expected close is within 7 days and that had no
  activity in the last 7 days; to the owner, at most once a day per deal.
- birthday: a customer's or contact's birthday today; to the owner, once a year
  (29 February birthdays are remembered on 28 February in other years).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from ..models import Activity, Contact, Customer, Deal, Notification, Stage
from .notifications import notify

TASK_SOON = timedelta(days=1)
FOLLOW_UP_WINDOW_DAYS = 7
FOLLOW_UP_QUIET = timedelta(days=7)

# Record types a notification may point to -> the page showing it.
RECORD_PAGES = {
    "deal": "crm:deal",
    "customer": "crm:customer",
    "contact": "crm:contact",
    "lead": "crm:lead",
    "activity": "crm:activities",
    "invoice": "crm:invoice",
    "contract": "crm:contract",
    "quote": "crm:quote",
}


@dataclass
class ReminderCounts:
    task_due: int = 0
    follow_up_due: int = 0
    birthday: int = 0


def reminders_compute(*, now: datetime | None = None) -> ReminderCounts:
    """Create today's reminders (idempotent); returns how many were new."""
    now = now or timezone.now()
    counts = ReminderCounts()
    counts.task_due = _task_reminders(now)
    counts.follow_up_due = _follow_up_reminders(now)
    counts.birthday = _birthday_reminders(now)
    return counts


TITLES = {
    "task_soon": gettext_lazy("Task due: %(subject)s"),
    "task_overdue": gettext_lazy("Overdue task: %(subject)s"),
    "follow_up": gettext_lazy("Follow up: %(deal)s closes on %(date)s"),
    "birthday": gettext_lazy("Birthday today: %(name)s"),
}


def _title(user, key: str, **params) -> str:
    """A reminder's title in the language of the user it is for."""
    with translation.override(user.language or settings.LANGUAGE_CODE):
        return str(TITLES[key]) % params


def _task_reminders(now: datetime) -> int:
    created = 0
    tasks = Activity.objects.filter(
        kind=Activity.Kind.TASK,
        done_at__isnull=True,
        due_at__isnull=False,
        due_at__lte=now + TASK_SOON,
        assignee__is_active=True,
    ).select_related("assignee")
    for task in tasks:
        overdue = task.due_at <= now
        stamp = task.due_at.strftime("%Y%m%d%H%M")
        title = _title(
            task.assignee, "task_overdue" if overdue else "task_soon", subject=task.subject
        )
        if notify(
            user=task.assignee,
            kind=Notification.Kind.TASK_DUE,
            title=title,
            body=task.body[:1000],
            record_type="activity",
            record_id=task.pk,
            due_at=task.due_at,
            dedupe_key=f"task_due:{task.pk}:{stamp}:{'overdue' if overdue else 'soon'}",
        ):
            created += 1
    return created


def _follow_up_reminders(now: datetime) -> int:
    today = timezone.localdate(now)
    recent = Activity.objects.filter(deal=OuterRef("pk"), created_at__gte=now - FOLLOW_UP_QUIET)
    deals = (
        Deal.objects.filter(
            stage__kind=Stage.Kind.OPEN,
            expected_close_date__gte=today,
            expected_close_date__lte=today + timedelta(days=FOLLOW_UP_WINDOW_DAYS),
            owner__is_active=True,
        )
        .filter(~Exists(recent))
        .select_related("owner")
    )
    created = 0
    for deal in deals:
        title = _title(
            deal.owner, "follow_up", deal=deal.name, date=deal.expected_close_date.isoformat()
        )
        if notify(
            user=deal.owner,
            kind=Notification.Kind.FOLLOW_UP_DUE,
            title=title,
            record_type="deal",
            record_id=deal.pk,
            dedupe_key=f"follow_up_due:{deal.pk}:{deal.owner_id}:{today.isoformat()}",
        ):
            created += 1
    return created


def _birthday_q(today: date) -> Q:
    q = Q(birthday__month=today.month, birthday__day=today.day)
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        q |= Q(birthday__month=2, birthday__day=29)
    return q


def _birthday_reminders(now: datetime) -> int:
    today = timezone.localdate(now)
    created = 0
    for model, record_type in ((Customer, "customer"), (Contact, "contact")):
        records = model.objects.filter(_birthday_q(today), owner__is_active=True).select_related(
            "owner"
        )
        for record in records:
            title = _title(record.owner, "birthday", name=record.name)
            if notify(
                user=record.owner,
                kind=Notification.Kind.BIRTHDAY,
                title=title,
                record_type=record_type,
                record_id=record.pk,
                dedupe_key=f"birthday:{record_type}:{record.pk}:{record.owner_id}:{today.year}",
            ):
                created += 1
    return created


# --- the notification centre -----------------------------------------------------------


def notification_mark_read(*, notification: Notification, user, now: datetime | None = None):
    """Mark one of the user's notifications read (reading twice changes nothing)."""
    if notification.user_id != user.pk:
        raise Notification.DoesNotExist
    if notification.read_at is None:
        notification.read_at = now or timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user, now: datetime | None = None) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )


def notification_link(notification: Notification) -> str:
    """The path of the page showing the notification's record ("" if none)."""
    name = RECORD_PAGES.get(notification.record_type)
    if not name:
        return ""
    if notification.record_type == "activity":
        return reverse(name)
    return reverse(name, args=[notification.record_id])


def notification_email_send(*, notification_id: int) -> bool:
    """E-mail a notification to its user in their language, once (outbox handler)."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("user")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if notification is None:
            return False
        user = notification.user
        if not (user.is_active and user.email):
            return False
        link = notification_link(notification)
        tenant = getattr(connection, "tenant", None)
        base = tenant.url if tenant is not None and hasattr(tenant, "url") else ""
        context = {
            "notification": notification,
            "user": user,
            "company": getattr(tenant, "name", ""),
            "link": base + link if link else "",
            "centre": base + reverse("crm:notifications"),
        }
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject = render_to_string(
                "crm_core/reminders/email/notification_subject.txt", context
            ).strip()
            body = render_to_string("crm_core/reminders/email/notification.txt", context)
        send_mail(" ".join(subject.split()), body, settings.DEFAULT_FROM_EMAIL, [user.email])
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True
