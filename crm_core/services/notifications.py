"""The notification centre's one writer: idempotent in-app reminders.

Periodic jobs may run more than once (at-least-once delivery, several beats): the
dedupe key makes a second run a no-op. E-mailing a new notification happens after
commit, through the outbox event "notification.created".
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from ..models import Notification
from ..records import record_event


def notify(
    *,
    user,
    kind: str,
    title: str,
    dedupe_key: str,
    body: str = "",
    record_type: str = "",
    record_id: int | None = None,
    due_at: datetime | None = None,
) -> Notification | None:
    """Create the notification unless one with `dedupe_key` exists; returns the new one."""
    if Notification.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user,
                kind=kind,
                title=title[:200],
                body=body,
                record_type=record_type,
                record_id=record_id,
                due_at=due_at,
                dedupe_key=dedupe_key[:200],
            )
            record_event(
                record_type="notification",
                action="created",
                record=notification,
                payload={"user_id": user.pk, "kind": kind, "title": notification.title},
            )
    except IntegrityError:  # a concurrent run created it first
        return None
    return notification
