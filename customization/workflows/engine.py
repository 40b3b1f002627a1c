"""Running rules: evaluate the conditions, then the actions in order, logging each step.

One record's runs are processed in the order their events happened (a per-record
advisory lock; runs are taken by id). Each action commits on its own with its step row,
so a crash repeats nothing that already happened, and a failing action never touches
the change that triggered it, which committed long before.
"""

from __future__ import annotations

import logging
import time
import zlib
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from crm_platform.outbox.actor import acting_as

from .actions import ActionFailed, Context, action_run, wait_until
from .conditions import conditions_evaluate
from .entities import ENTITIES
from .models import WorkflowRule, WorkflowRun, WorkflowStep

logger = logging.getLogger(__name__)

# Governor limits.
MAX_CHAIN_DEPTH = 16  # rule -> change -> rule ... stops here and the rule is flagged
MAX_RUNS_PER_PASS = 200  # one task's share of a record's backlog; the rest is re-queued


def _record_lock_key(record_type: str, record_id: int) -> int:
    return zlib.crc32(f"workflow:{record_type}:{record_id}".encode()) - 2**31


def runs_process_record(*, record_type: str, record_id: int, now: datetime | None = None) -> int:
    """Process the record's due runs in order; returns how many were processed."""
    key = _record_lock_key(record_type, record_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])  # waits for another worker
    try:
        done = 0
        while done < MAX_RUNS_PER_PASS:
            now_ = now or timezone.now()
            run = (
                WorkflowRun.objects.select_related("version__author", "rule")
                .filter(record_type=record_type, record_id=record_id)
                .filter(
                    Q(status=WorkflowRun.Status.PENDING)
                    | Q(status=WorkflowRun.Status.WAITING, resume_at__lte=now_)
                )
                .order_by("id")
                .first()
            )
            if run is None:
                break
            run_execute(run=run, now=now_)
            done += 1
        return done
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def run_execute(*, run: WorkflowRun, now: datetime) -> WorkflowRun:
    """Evaluate (once) and act from the run's next action on; stops at a wait."""
    started = time.perf_counter()
    entity = ENTITIES[run.record_type]
    record = entity.model._default_manager.filter(pk=run.record_id).first()
    if record is None:
        return _finish(run, WorkflowRun.Status.STOPPED, started, error="the record was deleted")
    if run.chain_depth >= MAX_CHAIN_DEPTH:
        _flag_loop(run.rule)
        return _finish(
            run,
            WorkflowRun.Status.STOPPED,
            started,
            error=f"stopped: {MAX_CHAIN_DEPTH} automated changes in a row (a loop?)",
        )
    version = run.version
    if run.matched is None:
        actor = User.objects.filter(pk=run.actor_id).first() if run.actor_id else None
        run.matched, run.values_seen = conditions_evaluate(
            entity, version.conditions, record, actor=actor
        )
        run.save(update_fields=["matched", "values_seen"])
        if not run.matched:
            return _finish(run, WorkflowRun.Status.NOT_MATCHED, started)
    author = version.author
    if author is None or not author.is_active:
        return _finish(
            run,
            WorkflowRun.Status.FAILED,
            started,
            error="the rule's author is no longer active: save the rule again to run it",
        )
    actions = version.actions
    while run.next_action < len(actions):
        index, action = run.next_action, actions[run.next_action]
        if action["type"] == "wait":
            if run.status != WorkflowRun.Status.WAITING or run.resume_at is None:
                run.status, run.resume_at = WorkflowRun.Status.WAITING, wait_until(action, now)
                run.save(update_fields=["status", "resume_at"])
                WorkflowStep.objects.update_or_create(
                    run=run,
                    index=index,
                    defaults={
                        "action_type": "wait",
                        "status": WorkflowStep.Status.WAITING,
                        "detail": {"until": run.resume_at.isoformat()},
                    },
                )
                return run
            run.status, run.resume_at = WorkflowRun.Status.PENDING, None  # the wait is over
            run.next_action = index + 1
            run.save(update_fields=["status", "resume_at", "next_action"])
            WorkflowStep.objects.filter(run=run, index=index).update(
                status=WorkflowStep.Status.SUCCEEDED
            )
            continue
        if WorkflowStep.objects.filter(run=run, index=index).exists():
            run.next_action = index + 1  # done before a crash: never twice
            continue
        ctx = Context(entity, record, author, run.pk, index, now)
        step_started = time.perf_counter()
        try:
            with transaction.atomic(), acting_as(author.pk, chain_depth=run.chain_depth + 1):
                detail = action_run(action, ctx)
                WorkflowStep.objects.create(
                    run=run,
                    index=index,
                    action_type=action["type"],
                    status=WorkflowStep.Status.SUCCEEDED,
                    detail=detail,
                    duration_ms=_ms(step_started),
                )
                run.next_action = index + 1
                run.save(update_fields=["next_action"])
        except ActionFailed as exc:
            WorkflowStep.objects.create(
                run=run,
                index=index,
                action_type=action["type"],
                status=WorkflowStep.Status.FAILED,
                error=str(exc)[:2000],
                duration_ms=_ms(step_started),
            )
            return _finish(run, WorkflowRun.Status.FAILED, started, error=str(exc)[:2000])
        record.refresh_from_db()  # the next action sees this one's change
    return _finish(run, WorkflowRun.Status.SUCCEEDED, started)


def _finish(run, status, started, *, error="") -> WorkflowRun:
    run.status, run.error = status, error
    run.finished_at = timezone.now()
    run.duration_ms = (run.duration_ms or 0) + _ms(started)
    run.save(update_fields=["status", "error", "finished_at", "duration_ms", "next_action"])
    return run


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _flag_loop(rule: WorkflowRule) -> None:
    WorkflowRule.objects.filter(pk=rule.pk).update(
        is_enabled=False,
        disabled_reason=f"Stopped after {MAX_CHAIN_DEPTH} automated changes in a row: "
        "the rule seems to trigger itself. Check its conditions, then enable it again.",
    )
    logger.warning("workflow rule %s stopped: chain depth limit", rule.pk)
