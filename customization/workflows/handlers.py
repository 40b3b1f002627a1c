"""The outbox side: every record event becomes pending runs of the rules it fires.

This is all that happens while the outbox dispatches (cheap: one query per event);
evaluating and acting happen in `workflows.process_record` tasks after commit.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from crm_platform.outbox import handlers as outbox_handlers

from .entities import ENTITIES
from .models import WorkflowRule, WorkflowRun
from .triggers import EVENT_TRIGGERS, event_matches

logger = logging.getLogger(__name__)


def workflow_event_received(event) -> None:
    entity = ENTITIES.get(event.aggregate_type)
    if entity is None or event.event_type.endswith(".deleted"):
        return
    rules = WorkflowRule.objects.filter(
        entity=entity.key, is_enabled=True, current_version__isnull=False
    ).select_related("current_version")
    record_id = int(event.aggregate_id)
    created = False
    for rule in rules:
        version = rule.current_version
        if version.trigger["type"] not in EVENT_TRIGGERS:
            continue
        if not event_matches(version.trigger, entity, event):
            continue
        _run, new = WorkflowRun.objects.get_or_create(
            version=version,
            record_type=entity.key,
            record_id=record_id,
            firing_key=str(event.event_id),
            defaults={
                "rule": rule,
                "event_type": event.event_type,
                "actor_id": event.actor_id,
                "chain_depth": event.chain_depth,
            },
        )
        created = created or new
    if created:
        runs_enqueue(record_type=entity.key, record_id=record_id)


def runs_enqueue(*, record_type: str, record_id: int) -> None:
    """Queue processing after commit; if the broker is down the sweep picks it up."""
    from .tasks import workflow_process_record_task

    def send():
        try:
            workflow_process_record_task.delay(record_type, record_id)
        except Exception:  # noqa: BLE001 - the sweep re-queues pending runs
            logger.warning("workflows: broker unavailable, runs left for the sweep")

    transaction.on_commit(send)


def workflow_email_send(event) -> None:
    """`workflow.email`: the send_email action's message, sent after its step committed."""
    payload = event.payload
    send_mail(payload["subject"], payload["body"], settings.DEFAULT_FROM_EMAIL, [payload["to"]])


def register() -> None:
    outbox_handlers.register("*", workflow_event_received)
    outbox_handlers.register("workflow.email", workflow_email_send)
