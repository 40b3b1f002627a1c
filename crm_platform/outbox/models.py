import uuid

from django.db import models


class OutboxEvent(models.Model):
    """An event written in the same transaction as the change that caused it.

    Lives in each tenant schema. The dispatcher hands undispatched events to the
    registered handlers (workflows, webhooks, e-mail) in id order.
    """

    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(max_length=100)
    aggregate_type = models.CharField(max_length=50)
    aggregate_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    # Who caused the change (a user id of this schema; null for system jobs) and, for
    # changes made by automation, how many automated steps led to it (loop guard).
    actor_id = models.BigIntegerField(null=True, blank=True)
    chain_depth = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["id"],
                name="outbox_pending_idx",
                condition=models.Q(dispatched_at__isnull=True),
            ),
            models.Index(fields=["aggregate_type", "aggregate_id"], name="outbox_aggregate_idx"),
        ]

    def __str__(self):
        return f"{self.event_type} {self.aggregate_type}:{self.aggregate_id}"
