"""Writes of the webhooks app: endpoints and secrets, fan-out of outbox events into
deliveries, one delivery attempt with its retry policy, replay and test events."""

from __future__ import annotations

import random
import threading
import time
import uuid
from datetime import timedelta

import orjson
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg import sql

from accounts.models import User
from accounts.roles import Perm, Role, has_perm
from crm_platform.outbox.handlers import batch_memo

from . import event_types
from .guard import BlockedDestination, url_check
from .models import Attempt, Delivery, Endpoint, EndpointSecret
from .payloads import payload_capped, webhook_data, webhook_payload
from .secrets import secret_decrypt, secret_encrypt, secret_generate
from .signing import signed_headers
from .transport import PostResult, webhook_post

# Retries: attempt n+1 waits BASE * FACTOR**(n-1) (30 s, 90 s, 4.5 min ... 18.2 h) plus up
# to 25 % jitter, so 9 attempts span at least 27.3 hours. Retry-After may ask for longer.
MAX_ATTEMPTS = 9
RETRY_BASE_SECONDS = 30
RETRY_FACTOR = 3
RETRY_JITTER = 0.25
RETRY_AFTER_MAX_SECONDS = 24 * 3600
ROTATION_OVERLAP = timedelta(hours=24)
DELIVERY_BATCH = 20  # deliveries of one endpoint attempted in one transaction


def retry_delay(*, attempts: int, retry_after: float | None = None, scale: float = 1.0) -> float:
    """Seconds before the next attempt after `attempts` failed ones."""
    delay = RETRY_BASE_SECONDS * RETRY_FACTOR ** (attempts - 1)
    delay *= 1 + random.random() * RETRY_JITTER  # noqa: S311 - jitter, not a secret
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_MAX_SECONDS))
    return delay * scale


# --- endpoints ---------------------------------------------------------------------------


def _ensure_admin(actor: User) -> None:
    if not has_perm(actor, Perm.MANAGE_WEBHOOKS):
        raise PermissionDenied


def _clean(endpoint: Endpoint) -> None:
    errors = {}
    try:
        url_check(endpoint.url)
    except BlockedDestination as exc:
        errors["url"] = [str(exc)]
    unknown = sorted(set(endpoint.event_types) - set(event_types.SUBSCRIBABLE))
    if unknown:
        errors["event_types"] = [_("Unknown event types: %(t)s") % {"t": ", ".join(unknown)}]
    endpoint.event_types = sorted(set(endpoint.event_types))
    try:
        endpoint.full_clean(exclude=["created_by", "event_types"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


EDITABLE = ("url", "description", "event_types", "enabled", "reader_role")


def _apply(endpoint: Endpoint, data: dict) -> None:
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise ValidationError({field: [_("Unknown field.")] for field in sorted(unknown)})
    for field, value in data.items():
        setattr(endpoint, field, value)
    if "enabled" in data:
        endpoint.disabled_reason = "" if endpoint.enabled else Endpoint.DisabledReason.MANUAL
        if endpoint.enabled:
            endpoint.failing_since = None  # a fresh start after someone fixed the receiver


@transaction.atomic
def endpoint_create(*, actor: User, data: dict) -> tuple[Endpoint, str]:
    """A new endpoint and its first secret; the secret is returned to be shown once."""
    _ensure_admin(actor)
    endpoint = Endpoint(created_by=actor)
    _apply(endpoint, data)
    _clean(endpoint)
    endpoint.save()
    secret = secret_generate()
    EndpointSecret.objects.create(endpoint=endpoint, encrypted=secret_encrypt(secret))
    return endpoint, secret


@transaction.atomic
def endpoint_update(*, endpoint: Endpoint, actor: User, data: dict) -> Endpoint:
    _ensure_admin(actor)
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    _apply(endpoint, data)
    _clean(endpoint)
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint, actor: User) -> None:
    _ensure_admin(actor)
    endpoint.delete()


@transaction.atomic
def endpoint_secret_rotate(
    *, endpoint: Endpoint, actor: User, overlap: timedelta = ROTATION_OVERLAP
) -> str:
    """A new secret; the live ones keep signing for `overlap`, then stop."""
    _ensure_admin(actor)
    now = timezone.now()
    EndpointSecret.objects.filter(endpoint=endpoint).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now + overlap)
    ).update(expires_at=now + overlap)
    secret = secret_generate()
    EndpointSecret.objects.create(endpoint=endpoint, encrypted=secret_encrypt(secret))
    Endpoint.objects.filter(pk=endpoint.pk).update(updated_at=now)  # drops cached secrets
    return secret


def endpoint_secret_reveal(*, endpoint: Endpoint, actor: User) -> str:
    """The current secret, for an admin who asks explicitly (never shown otherwise)."""
    _ensure_admin(actor)
    return secret_decrypt(endpoint.secrets.filter(expires_at__isnull=True).latest("id").encrypted)


# Decrypted secrets per (schema, endpoint, endpoint.updated_at): every change to an
# endpoint or its secrets moves updated_at, so a stale entry is never looked up again.
_secrets_cache: dict[tuple, list[tuple[str, object]]] = {}
_SECRETS_CACHE_SIZE = 2000


def _live_secrets(endpoint: Endpoint) -> list[str]:
    key = (connection.schema_name, endpoint.pk, endpoint.updated_at)
    secrets = _secrets_cache.get(key)
    now = timezone.now()
    if secrets is None:
        rows = EndpointSecret.objects.filter(endpoint=endpoint).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )
        secrets = [(secret_decrypt(row.encrypted), row.expires_at) for row in rows]
        if len(_secrets_cache) >= _SECRETS_CACHE_SIZE:
            _secrets_cache.clear()
        _secrets_cache[key] = secrets
    return [secret for secret, expires_at in secrets if expires_at is None or expires_at > now]


def _endpoint_disable(*, endpoint: Endpoint, reason: str) -> None:
    from crm_core.models import Notification
    from crm_core.services.notifications import notify

    Endpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False, disabled_reason=reason, updated_at=timezone.now()
    )
    recipients = [endpoint.created_by] if endpoint.created_by_id else []
    if not recipients or not recipients[0].is_active:
        recipients = list(User.objects.filter(role=Role.ADMIN, is_active=True))
    why = Endpoint.DisabledReason(reason).label
    for user in recipients:
        notify(
            user=user,
            kind=Notification.Kind.WEBHOOK_DISABLED,
            title=_("Webhook endpoint disabled: %(url)s") % {"url": endpoint.url[:150]},
            body=str(why),
            dedupe_key=f"webhook-disabled:{endpoint.pk}:{timezone.now():%Y%m%d%H%M%S}:{user.pk}",
        )


def endpoints_disable_failing() -> int:
    """Disable endpoints failing for WEBHOOKS_FAILING_DISABLE_DAYS, notifying owners."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOKS_FAILING_DISABLE_DAYS)
    disabled = 0
    for endpoint in Endpoint.objects.filter(enabled=True, failing_since__lte=cutoff):
        with transaction.atomic():
            _endpoint_disable(endpoint=endpoint, reason=Endpoint.DisabledReason.FAILING)
        disabled += 1
    return disabled


# --- fan-out -----------------------------------------------------------------------------


def deliveries_fan_out(event) -> list[int]:
    """Outbox handler ("*"): one Delivery per enabled endpoint subscribed to the event,
    queued after commit. Idempotent (one delivery per endpoint and event id)."""
    if event.event_type in event_types.INTERNAL:
        return []
    enabled = batch_memo(
        "webhooks:enabled_endpoints", lambda: list(Endpoint.objects.filter(enabled=True))
    )
    endpoints = [e for e in enabled if e.subscribes_to(event.event_type)]
    if not endpoints:
        return []
    bodies: dict[str, dict] = {}  # one body per reading role

    def body_for(endpoint) -> dict:
        role = endpoint.reader_role
        if role not in bodies:
            data = webhook_data(entity=event.aggregate_type, data=event.payload, role=role)
            bodies[role] = payload_capped(
                webhook_payload(
                    event_type=event.event_type, occurred_at=event.created_at, data=data
                )
            )
        return bodies[role]

    now = timezone.now()
    Delivery.objects.bulk_create(
        [
            Delivery(
                endpoint=endpoint,
                event_id=event.event_id,
                event_type=event.event_type,
                body=body_for(endpoint),
                next_attempt_at=now,
            )
            for endpoint in endpoints
        ],
        ignore_conflicts=True,
    )
    rows = list(
        Delivery.objects.filter(event_id=event.event_id, attempts=0).values_list(
            "endpoint_id", "id"
        )
    )
    _queue_after_commit(rows)
    return [pk for _endpoint_id, pk in rows]


# Deliveries created in this thread's transaction, sent as tasks when it commits: the
# outbox dispatches up to 100 events in one transaction, and one endpoint's deliveries
# then travel together (one task, one transaction per DELIVERY_BATCH). Entries left by
# a rolled-back transaction are sent with the next commit and skipped by the task (no
# such pending delivery).
_pending = threading.local()


def _queue_after_commit(
    rows: list[tuple[int, int]], trigger: str = Attempt.Trigger.AUTOMATIC
) -> None:
    """Queue `webhooks.deliver` for (endpoint id, delivery id) rows after commit."""
    if not hasattr(_pending, "rows"):
        _pending.rows = []
    schema_name = connection.schema_name
    _pending.rows.extend((schema_name, trigger, endpoint_id, pk) for endpoint_id, pk in rows)
    transaction.on_commit(_send_pending)


def _send_pending() -> None:
    from .tasks import webhook_deliver_task

    rows, _pending.rows = getattr(_pending, "rows", []), []
    groups: dict[tuple[str, str, int], list[int]] = {}
    for schema_name, trigger, endpoint_id, pk in rows:
        groups.setdefault((schema_name, trigger, endpoint_id), []).append(pk)
    for (schema_name, trigger, _endpoint_id), ids in groups.items():
        for start in range(0, len(ids), DELIVERY_BATCH):
            try:
                webhook_deliver_task.apply_async(
                    (ids[start : start + DELIVERY_BATCH], trigger),
                    retry=False,
                    headers={"_schema_name": schema_name},
                )
            except Exception:  # noqa: BLE001 - the broker is down: the sweep sends them
                return


@transaction.atomic
def delivery_for_action(
    *, endpoint_id: int, event_id: uuid.UUID, entity: str, data: dict
) -> Delivery:
    """Send a record to one endpoint because a workflow rule says so (not a
    subscription). Shaped for the endpoint's reader role; once per `event_id`."""
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None or not endpoint.enabled:
        raise ValidationError({"endpoint": [_("This webhook endpoint is missing or disabled.")]})
    now = timezone.now()
    body = payload_capped(
        webhook_payload(
            event_type=event_types.WORKFLOW_ACTION,
            occurred_at=now,
            data=webhook_data(entity=entity, data=data, role=endpoint.reader_role),
        )
    )
    delivery, created = Delivery.objects.get_or_create(
        endpoint=endpoint,
        event_id=event_id,
        defaults={
            "event_type": event_types.WORKFLOW_ACTION,
            "body": body,
            "next_attempt_at": now,
        },
    )
    if created:
        _queue_after_commit([(endpoint.pk, delivery.pk)])
    return delivery


@transaction.atomic
def delivery_replay(*, delivery: Delivery, actor: User) -> Delivery:
    """Send a delivery again now (same webhook-id, so the receiver can deduplicate)."""
    _ensure_admin(actor)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.PENDING, next_attempt_at=timezone.now()
    )
    _queue_after_commit([(delivery.endpoint_id, delivery.pk)], Attempt.Trigger.REPLAY)
    delivery.refresh_from_db()
    return delivery


@transaction.atomic
def endpoint_send_test(*, endpoint: Endpoint, actor: User) -> Delivery:
    """A `webhook.test` delivery to this endpoint, sent by a worker at once."""
    _ensure_admin(actor)
    now = timezone.now()
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        event_id=uuid.uuid4(),
        event_type=event_types.WEBHOOK_TEST,
        body=webhook_payload(
            event_type=event_types.WEBHOOK_TEST,
            occurred_at=now,
            data={"endpoint_id": endpoint.pk, "sent_by": actor.email},
        ),
        next_attempt_at=now,
    )
    _queue_after_commit([(endpoint.pk, delivery.pk)], Attempt.Trigger.TEST)
    return delivery


# --- one attempt -------------------------------------------------------------------------


# Evaluated with the locking SELECT (one round trip less than a separate SET LOCAL): this
# transaction commits without waiting for the WAL flush. A crash may then forget the
# last fraction of a second of attempts; the cost is a delivery sent once more, which
# receivers deduplicate by webhook-id. Waiting for the flush costs milliseconds each.
_ASYNCHRONOUS_COMMIT = RawSQL("set_config('synchronous_commit', 'off', true)", ())
_OUTCOME_FIELDS = [
    "attempts",
    "last_status_code",
    "last_error",
    "status",
    "completed_at",
    "next_attempt_at",
]


def delivery_attempt(
    *, delivery_id: int, trigger: str = Attempt.Trigger.AUTOMATIC
) -> Delivery | None:
    """POST one delivery once and record the attempt; None if it was not ours to send."""
    sent = deliveries_attempt(delivery_ids=[delivery_id], trigger=trigger)
    return sent[0] if sent else None


def deliveries_attempt(
    *, delivery_ids: list[int], trigger: str = Attempt.Trigger.AUTOMATIC
) -> list[Delivery]:
    """POST each due, pending delivery among `delivery_ids` once; record the attempts.

    The rows stay locked (FOR UPDATE SKIP LOCKED) during the requests (15 s at most each):
    another worker skips them, and a worker that dies mid-request releases them with its
    connection, so they are sent again later (at least once, never lost). The outcomes
    are written together: one INSERT of attempts, one UPDATE of deliveries.
    """
    with transaction.atomic():
        deliveries = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .annotate(_async=_ASYNCHRONOUS_COMMIT)
            .filter(
                pk__in=delivery_ids,
                status=Delivery.Status.PENDING,
                next_attempt_at__lte=timezone.now(),
            )
            .order_by("id")
        )
        disabled: set[int] = set()  # endpoints switched off by an earlier delivery here
        attempts = []
        for delivery in deliveries:
            endpoint = delivery.endpoint
            started_at = timezone.now()
            if not endpoint.enabled or endpoint.pk in disabled:
                endpoint.enabled = False
                result = PostResult(None, 0, error="endpoint disabled")
            else:
                body = orjson.dumps(delivery.body)
                headers = signed_headers(
                    secrets=_live_secrets(endpoint),
                    msg_id=str(delivery.event_id),
                    timestamp=int(time.time()),
                    body=body,
                )
                result = webhook_post(url=endpoint.url, body=body, headers=headers)
            attempts.append(_apply_outcome(delivery, result, trigger, started_at))
            if not endpoint.enabled:
                disabled.add(endpoint.pk)
        if len(deliveries) == 1:
            _save_outcome(deliveries[0], attempts[0])
        elif deliveries:
            Attempt.objects.bulk_create(attempts)
            Delivery.objects.bulk_update(deliveries, _OUTCOME_FIELDS)
    return deliveries


_ATTEMPT_FIELDS = [
    "delivery_id",
    "number",
    "trigger",
    "started_at",
    "latency_ms",
    "status_code",
    "succeeded",
    "error",
    "response_body",
]
# One round trip for the common case of a single delivery: the attempt row and the
# delivery's new state in one statement (identifiers from the models, values as params).
_OUTCOME_SQL = sql.SQL(
    "WITH attempt AS (INSERT INTO {attempt} ({attempt_columns}) VALUES ({attempt_values})) "
    "UPDATE {delivery} SET {assignments} WHERE id = %s"
).format(
    attempt=sql.Identifier(Attempt._meta.db_table),
    attempt_columns=sql.SQL(", ").join(map(sql.Identifier, _ATTEMPT_FIELDS)),
    attempt_values=sql.SQL(", ").join(sql.Placeholder() * len(_ATTEMPT_FIELDS)),
    delivery=sql.Identifier(Delivery._meta.db_table),
    assignments=sql.SQL(", ").join(
        sql.SQL("{} = %s").format(sql.Identifier(field)) for field in _OUTCOME_FIELDS
    ),
)


def _save_outcome(delivery: Delivery, attempt: Attempt) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            _OUTCOME_SQL.as_string(cursor.connection),
            [getattr(attempt, field) for field in _ATTEMPT_FIELDS]
            + [getattr(delivery, field) for field in _OUTCOME_FIELDS]
            + [delivery.pk],
        )


def _apply_outcome(delivery: Delivery, result: PostResult, trigger: str, started_at) -> Attempt:
    """Set the delivery's new state (saved by the caller), apply the endpoint's rules
    (410 disables, failing too long disables) and return the unsaved attempt row."""
    endpoint = delivery.endpoint
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error[:500]
    if result.succeeded:
        delivery.status = Delivery.Status.SUCCEEDED
        delivery.completed_at = now
        if endpoint.failing_since:
            Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
            endpoint.failing_since = None
    else:
        gone = result.status_code == 410
        final = (
            gone
            or not endpoint.enabled
            or trigger != Attempt.Trigger.AUTOMATIC  # a person watches replays and tests
            or delivery.attempts >= MAX_ATTEMPTS
        )
        if final:
            delivery.status = Delivery.Status.FAILED
            delivery.completed_at = now
        else:
            delivery.next_attempt_at = now + timedelta(
                seconds=retry_delay(
                    attempts=delivery.attempts,
                    retry_after=result.retry_after,
                    scale=settings.WEBHOOKS_RETRY_SCALE,
                )
            )
        if endpoint.enabled:
            if gone:
                _endpoint_disable(endpoint=endpoint, reason=Endpoint.DisabledReason.GONE)
                endpoint.enabled = False
            else:
                _note_failure(endpoint=endpoint, now=now)
    return Attempt(
        delivery=delivery,
        number=delivery.attempts,
        trigger=trigger,
        started_at=started_at,
        latency_ms=result.latency_ms,
        status_code=result.status_code,
        succeeded=result.succeeded,
        error=result.error[:500],
        response_body=result.response_body,
    )


def _note_failure(*, endpoint: Endpoint, now) -> None:
    """Start the failing clock; past WEBHOOKS_FAILING_DISABLE_DAYS the endpoint is off."""
    if endpoint.failing_since is None:
        Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
            failing_since=now
        )
        endpoint.failing_since = now
    if now - endpoint.failing_since >= timedelta(days=settings.WEBHOOKS_FAILING_DISABLE_DAYS):
        _endpoint_disable(endpoint=endpoint, reason=Endpoint.DisabledReason.FAILING)
        endpoint.enabled = False


def deliveries_due(*, limit: int = 500) -> list[int]:
    """Pending deliveries whose time has come (a worker holding one skips it)."""
    return [pk for _endpoint_id, pk in _due_rows(limit)]


def deliveries_due_batches(*, limit: int = 500) -> list[list[int]]:
    """Due deliveries grouped by endpoint, in batches of DELIVERY_BATCH: a slow receiver
    delays only its own batch."""
    by_endpoint: dict[int, list[int]] = {}
    for endpoint_id, pk in _due_rows(limit):
        by_endpoint.setdefault(endpoint_id, []).append(pk)
    return [
        ids[i : i + DELIVERY_BATCH]
        for ids in by_endpoint.values()
        for i in range(0, len(ids), DELIVERY_BATCH)
    ]


def _due_rows(limit: int) -> list[tuple[int, int]]:
    return list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("endpoint_id", "id")[:limit]
    )
