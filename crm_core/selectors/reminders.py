"""Reads of the notification centre: a user's own notifications, unread first."""

from __future__ import annotations

from django.db.models import BigIntegerField, Case, F, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from ..models import Notification

# Unread notifications sort above read ones: their sort key is the id plus this offset
# (one integer key keeps cursor pagination stable).
UNREAD_OFFSET = 10**15
LIST_FIELDS = (
    "id",
    "kind",
    "title",
    "body",
    "record_type",
    "record_id",
    "due_at",
    "created_at",
    "read_at",
    "sort_key",
)


def notification_queryset(*, user, unread: bool | None = None) -> QuerySet[Notification]:
    """The user's notifications with `sort_key` (unread first, then newest first when
    ordered by -sort_key); `unread` narrows to unread (True) or read (False) ones."""
    queryset = Notification.objects.filter(user=user).annotate(
        sort_key=Case(
            When(read_at__isnull=True, then=F("id") + Value(UNREAD_OFFSET)),
            default=F("id"),
            output_field=BigIntegerField(),
        )
    )
    if unread is not None:
        queryset = queryset.filter(read_at__isnull=unread)
    return queryset


def notification_rows(*, user, unread: bool | None = None) -> QuerySet:
    return notification_queryset(user=user, unread=unread).values(*LIST_FIELDS)


def notification_get(*, user, pk: int) -> Notification:
    """One of the user's own notifications, or 404 (nobody reads another's)."""
    return get_object_or_404(Notification.objects.filter(user=user), pk=pk)


def unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
