"""Writes on activities: tasks, calls, meetings, visits and notes; completing a task;
checking in at a visit. Logging a follow-up (anything but a task) stamps the linked
customer's / lead's last_activity_at, which restarts their public-pool clock."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Perm, has_perm
from customization.records import record_custom_apply

from ..models import Activity, Customer, Lead
from ..records import can_see, record_event
from ..selectors.activities import LINKS, activity_queryset

EDITABLE_FIELDS = (
    "kind",
    "subject",
    "body",
    "assignee",
    "priority",
    "due_at",
    "starts_at",
    "ends_at",
    "check_in_place",
    "customer",
    "contact",
    "lead",
    "deal",
)
FOLLOW_UP_KINDS = (
    Activity.Kind.CALL,
    Activity.Kind.MEETING,
    Activity.Kind.VISIT,
    Activity.Kind.NOTE,
)


def _clean(activity: Activity, actor: User) -> None:
    errors: dict[str, list[str]] = {}
    activity.subject = (activity.subject or "").strip()
    activity.check_in_place = (activity.check_in_place or "").strip()
    if activity.kind not in Activity.Kind.values:
        errors["kind"] = [_("Choose task, call, meeting, visit or note.")]
    if not activity.subject:
        errors["subject"] = [_("Enter a subject.")]
    elif len(activity.subject) > 200:
        errors["subject"] = [_("At most 200 characters.")]
    if activity.priority not in Activity.Priority.values:
        errors["priority"] = [_("Choose low, normal or high.")]
    if len(activity.check_in_place) > 200:
        errors["check_in_place"] = [_("At most 200 characters.")]
    linked = [name for name in LINKS if getattr(activity, f"{name}_id")]
    if not linked and activity.kind != Activity.Kind.TASK:
        errors["customer"] = [_("Link the activity to a customer, contact, lead or deal.")]
    for name in linked:
        if not can_see(actor, getattr(activity, name)):
            errors[name] = [_("Choose a record you can see.")]
    if activity.assignee_id and not _assignee_active(activity):
        errors["assignee"] = [_("Choose an active user.")]
    if activity.starts_at and activity.ends_at and activity.ends_at < activity.starts_at:
        errors["ends_at"] = [_("The end is before the start.")]
    if activity.ends_at and not activity.starts_at:
        errors["starts_at"] = [_("Give the start too.")]
    if (
        activity.kind in (Activity.Kind.MEETING, Activity.Kind.VISIT)
        and not activity.starts_at
        and not activity.pk
    ):
        activity.starts_at = timezone.now()  # a meeting logged without a time: now
    if errors:
        raise ValidationError(errors)


def _assignee_active(activity: Activity) -> bool:
    if Activity.assignee.is_cached(activity):  # the user the caller just loaded
        return activity.assignee.is_active
    return User.objects.filter(pk=activity.assignee_id, is_active=True).exists()


def _fill_links(activity: Activity) -> None:
    """A deal's or contact's customer is linked too, so the customer's timeline and pool
    clock see the activity."""
    if activity.customer_id is None:
        if activity.deal_id and activity.deal.customer_id:
            activity.customer_id = activity.deal.customer_id
        elif activity.contact_id and activity.contact.customer_id:
            activity.customer_id = activity.contact.customer_id


def _touch_follow_up(activity: Activity, at: datetime) -> None:
    """A follow-up restarts the public-pool clock of the linked customer and lead."""
    if activity.kind not in FOLLOW_UP_KINDS:
        return
    later = Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=at)
    if activity.customer_id:
        Customer.objects.filter(later, pk=activity.customer_id).update(last_activity_at=at)
    if activity.lead_id:
        Lead.objects.filter(later, pk=activity.lead_id).update(last_activity_at=at)


def _apply(activity: Activity, data: dict, actor: User | None = None) -> None:
    data = record_custom_apply(activity, data, actor=actor)
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({field: [_("Unknown field.")] for field in sorted(unknown)})
    for name, value in data.items():
        setattr(activity, name, value)


def activity_payload(activity: Activity) -> dict:
    return {
        "kind": activity.kind,
        "subject": activity.subject,
        "assignee_id": activity.assignee_id,
        "priority": activity.priority,
        "due_at": activity.due_at.isoformat() if activity.due_at else None,
        "starts_at": activity.starts_at.isoformat() if activity.starts_at else None,
        "done_at": activity.done_at.isoformat() if activity.done_at else None,
        "customer_id": activity.customer_id,
        "contact_id": activity.contact_id,
        "lead_id": activity.lead_id,
        "deal_id": activity.deal_id,
    }


@transaction.atomic
def activity_create(*, actor: User, data: dict, now: datetime | None = None) -> Activity:
    """A new activity; a task is assigned to its creator unless another assignee is given.
    Calls, meetings, visits and notes count as follow-ups of the linked records."""
    if not has_perm(actor, Perm.CHANGE_RECORDS):
        raise PermissionDenied
    now = now or timezone.now()
    activity = Activity(created_by=actor, kind=Activity.Kind.CALL)
    _apply(activity, data, actor)
    if "assignee" not in data:
        activity.assignee = actor
    _clean(activity, actor)
    _fill_links(activity)
    activity.save()
    _touch_follow_up(activity, now)
    record_event(
        record_type="activity",
        action="created",
        record=activity,
        payload=activity_payload(activity),
    )
    return activity


def _ensure_can_change(actor: User, activity: Activity) -> None:
    if not has_perm(actor, Perm.CHANGE_RECORDS):
        raise PermissionDenied
    if not activity_queryset(user=actor).filter(pk=activity.pk).exists():
        raise PermissionDenied


@transaction.atomic
def activity_update(*, activity: Activity, actor: User, data: dict) -> Activity:
    _ensure_can_change(actor, activity)
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    _apply(activity, data, actor)
    _clean(activity, actor)
    _fill_links(activity)
    activity.save()
    record_event(
        record_type="activity",
        action="updated",
        record=activity,
        payload={**activity_payload(activity), "changed": sorted(data)},
    )
    return activity


@transaction.atomic
def activity_complete(*, activity: Activity, actor: User, now: datetime | None = None) -> Activity:
    """Mark a task (or any activity) done; completing twice changes nothing."""
    _ensure_can_change(actor, activity)
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.done_at is not None:
        return activity
    activity.done_at = now or timezone.now()
    activity.save(update_fields=["done_at", "updated_at"])
    record_event(
        record_type="activity",
        action="completed",
        record=activity,
        payload=activity_payload(activity),
    )
    return activity


@transaction.atomic
def activity_check_in(
    *, activity: Activity, actor: User, place: str, now: datetime | None = None
) -> Activity:
    """Record where a meeting or visit takes place; the check-in time becomes its start
    (an end already passed is cleared). Counts as a follow-up."""
    _ensure_can_change(actor, activity)
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    place = (place or "").strip()
    if activity.kind not in (Activity.Kind.MEETING, Activity.Kind.VISIT):
        raise ValidationError({"kind": [_("Only meetings and visits have a check-in.")]})
    if not place:
        raise ValidationError({"place": [_("Enter the place.")]})
    if len(place) > 200:
        raise ValidationError({"place": [_("At most 200 characters.")]})
    now = now or timezone.now()
    activity.check_in_place = place
    activity.starts_at = now
    if activity.ends_at and activity.ends_at < now:
        activity.ends_at = None
    activity.save(update_fields=["check_in_place", "starts_at", "ends_at", "updated_at"])
    _touch_follow_up(activity, now)
    record_event(
        record_type="activity",
        action="updated",
        record=activity,
        payload={**activity_payload(activity), "changed": ["check_in_place"]},
    )
    return activity


@transaction.atomic
def activity_delete(*, activity: Activity, actor: User) -> None:
    _ensure_can_change(actor, activity)
    if activity.created_by_id != actor.pk and not has_perm(actor, Perm.DELETE_RECORDS):
        raise PermissionDenied
    record_event(
        record_type="activity",
        action="deleted",
        record=activity,
        payload={"subject": activity.subject},
    )
    activity.delete()
