"""Reads of activities: who sees which, lean lists, my tasks, the calendar, timelines.

An activity is seen by its assignee and its creator, and by whoever sees a record it is
linked to (customer, contact, lead or deal).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Model, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.roles import Perm, Visibility, has_perm, visibility_of
from crm_platform.kernel.lean_rows import values_base

from ..models import Activity, Contact, Customer, Deal, Lead
from ..records import visible

LINKS = {"customer": Customer, "contact": Contact, "lead": Lead, "deal": Deal}
LIST_FIELDS = (
    "id",
    "kind",
    "subject",
    "body",
    "priority",
    "assignee_id",
    "assignee__full_name",
    "created_by_id",
    "due_at",
    "starts_at",
    "ends_at",
    "done_at",
    "check_in_place",
    "customer_id",
    "contact_id",
    "lead_id",
    "deal_id",
    "created_at",
    "updated_at",
    "custom_fields",
)
ORDERINGS = {"-id", "id", "-created_at", "created_at", "-updated_at", "updated_at"}


def activity_visible_q(user) -> Q:
    if visibility_of(user) == Visibility.ALL:
        return Q()
    q = Q(assignee=user) | Q(created_by=user)
    for name, model in LINKS.items():
        ids = visible(model.objects.all(), user, include_pool=True).values("id")
        q |= Q(**{f"{name}_id__in": ids})
    return q


def activity_queryset(
    *,
    user,
    filters: dict | None = None,
    now: datetime | None = None,
    base: QuerySet | None = None,
):
    """Activities `user` may see, narrowed by `filters`: kind, assignee ("me" or an id),
    due_after, due_before, done (true/false), customer, contact, lead, deal."""
    filters = filters or {}
    queryset = Activity.objects.all() if base is None else base
    if not has_perm(user, Perm.VIEW_RECORDS):
        return queryset.none()
    queryset = queryset.filter(activity_visible_q(user))
    if filters.get("kind"):
        queryset = queryset.filter(kind=filters["kind"])
    assignee = filters.get("assignee")
    if assignee == "me":
        queryset = queryset.filter(assignee=user)
    elif assignee:
        queryset = queryset.filter(assignee_id=assignee)
    if filters.get("due_after"):
        queryset = queryset.filter(due_at__gte=filters["due_after"])
    if filters.get("due_before"):
        queryset = queryset.filter(due_at__lte=filters["due_before"])
    if filters.get("done") is not None:
        queryset = queryset.filter(done_at__isnull=not filters["done"])
    for name in LINKS:
        if filters.get(name):
            queryset = queryset.filter(**{f"{name}_id": filters[name]})
    return queryset


def activity_rows(*, user, filters: dict | None = None) -> QuerySet:
    return activity_queryset(user=user, filters=filters, base=values_base(Activity, LIST_FIELDS))


def activity_get(*, user, pk: int) -> Activity:
    queryset = activity_queryset(user=user).select_related(
        "assignee", "created_by", "customer", "contact", "lead", "deal"
    )
    return get_object_or_404(queryset, pk=pk)


def activity_timeline(*, record: Model, limit: int = 50) -> list[Activity]:
    """A record's activities, newest first (the caller has checked the record is seen)."""
    name = type(record).__name__.lower()
    return list(
        Activity.objects.filter(**{name: record})
        .select_related("assignee", "created_by")
        .order_by("-created_at", "-id")[:limit]
    )


@dataclass
class MyTasks:
    overdue: list[Activity] = field(default_factory=list)
    today: list[Activity] = field(default_factory=list)
    upcoming: list[Activity] = field(default_factory=list)
    undated: list[Activity] = field(default_factory=list)

    @property
    def later(self) -> list[Activity]:
        """Upcoming tasks, then those without a due date."""
        return self.upcoming + self.undated


def my_tasks(*, user, now: datetime | None = None, limit: int = 200) -> MyTasks:
    """The user's open tasks: overdue, due today (in the current time zone), later, and
    without a due date."""
    now = now or timezone.now()
    end_of_today = timezone.make_aware(
        datetime.combine(timezone.localdate(now) + timedelta(days=1), time.min)
    )
    tasks = MyTasks()
    for task in (
        Activity.objects.filter(assignee=user, kind=Activity.Kind.TASK, done_at__isnull=True)
        .select_related("customer", "contact", "lead", "deal")
        .order_by("due_at", "id")[:limit]
    ):
        if task.due_at is None:
            tasks.undated.append(task)
        elif task.due_at < now:
            tasks.overdue.append(task)
        elif task.due_at < end_of_today:
            tasks.today.append(task)
        else:
            tasks.upcoming.append(task)
    return tasks


def recent_activities(*, user, limit: int = 20) -> list[Activity]:
    """What the user logged lately (calls, meetings, visits, notes)."""
    return list(
        Activity.objects.filter(created_by=user)
        .exclude(kind=Activity.Kind.TASK)
        .select_related("assignee")
        .order_by("-created_at", "-id")[:limit]
    )


@dataclass
class Day:
    day: date
    in_month: bool
    items: list[Activity] = field(default_factory=list)


def calendar_month(*, user, year: int, month: int) -> list[list[Day]]:
    """Weeks (Monday first) of the month with the user's meetings, visits (by start) and
    tasks (by due date) on each day, in the current time zone."""
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks[0][0], weeks[-1][-1]
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
    days = {d: Day(day=d, in_month=d.month == month) for week in weeks for d in week}
    mine = Q(assignee=user) | Q(assignee__isnull=True, created_by=user)
    scheduled = Q(starts_at__gte=start, starts_at__lt=end) | Q(
        kind=Activity.Kind.TASK, starts_at__isnull=True, due_at__gte=start, due_at__lt=end
    )
    for activity in Activity.objects.filter(mine, scheduled).order_by("starts_at", "due_at", "id")[
        :1000
    ]:
        when = activity.starts_at or activity.due_at
        day = days.get(timezone.localdate(when))
        if day is not None:
            day.items.append(activity)
    return [[days[d] for d in week] for week in weeks]
