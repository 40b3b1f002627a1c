"""Outbound endpoints, their signing secrets, deliveries and attempts; inbound idempotency."""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role

USER = settings.AUTH_USER_MODEL


class Endpoint(models.Model):
    """A URL of another system that receives this company's events."""

    class DisabledReason(models.TextChoices):
        NONE = "", _("enabled")
        MANUAL = "manual", _("disabled by a user")
        GONE = "gone", _("the receiver answered 410 Gone")
        FAILING = "failing", _("failing for too long")

    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # Subscribed event types (webhooks/event_types.py); empty means every event.
    event_types = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    enabled = models.BooleanField(default=True)
    # Field-level security: bodies carry the fields this role may see (custom included).
    reader_role = models.CharField(
        _("sends what this role may see"),
        max_length=20,
        choices=Role.choices,
        default=Role.ADMIN,
    )
    disabled_reason = models.CharField(
        max_length=20, choices=DisabledReason.choices, blank=True, default=""
    )
    # Set by the first failed delivery after a success; cleared by the next success.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.url

    def subscribes_to(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class EndpointSecret(models.Model):
    """A `whsec_` signing secret, encrypted at rest (webhooks/secrets.py).

    Rotation adds a new secret and gives the old one an `expires_at`: until then both sign
    every message (Standard Webhooks allows several signatures), so receivers can switch
    without losing a delivery.
    """

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="secrets")
    encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"secret {self.pk} of endpoint {self.endpoint_id}"


class Delivery(models.Model):
    """One event for one endpoint; its attempts are `Attempt` rows."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    endpoint = models.ForeignKey(
        Endpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,  # delivery_endpoint_idx starts with it
    )
    # The outbox event id, sent as `webhook-id`: the receiver's idempotency key.
    event_id = models.UUIDField(default=uuid.uuid4)
    event_type = models.CharField(max_length=100)
    body = models.JSONField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="delivery_once")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due_idx",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["endpoint", "-id"], name="delivery_endpoint_idx"),
        ]

    def __str__(self):
        return f"{self.event_type} -> {self.endpoint_id}"


class Attempt(models.Model):
    """One HTTP request of a delivery: what came back and how long it took."""

    class Trigger(models.TextChoices):
        AUTOMATIC = "automatic", _("automatic")
        REPLAY = "replay", _("manual replay")
        TEST = "test", _("test event")

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField()
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.AUTOMATIC)
    started_at = models.DateTimeField()
    latency_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True)
    response_body = models.TextField(blank=True)  # the first bytes only

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"attempt {self.number} of delivery {self.delivery_id}"


class IdempotencyKey(models.Model):
    """The first successful response of an inbound request, per user and key."""

    user = models.ForeignKey(
        USER,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # idempotency_key_once starts with it
    )
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once")]

    def __str__(self):
        return self.key
