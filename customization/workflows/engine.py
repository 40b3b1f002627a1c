"""Running rules: evaluate the conditions, then the actions in order, logging each step.

A record's due runs are processed in one transaction under a per-record advisory lock,
in the order their events happened. The run's log (steps, status, next action) commits
with the actions' effects, so a retry after a crash or a transient database error
repeats nothing and loses nothing. A failing action is rolled back to its savepoint,
recorded, and stops its run; it never touches the change that triggered the rule,
which committed long before.
"""

from __future__ import annotations

import logging
import time
import zlib
from datetime import datetime

from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from crm_platform.outbox.actor import acting_as

from .actions import ActionFailed, Context, action_run, wait_until
from .conditions import condition_fields, conditions_evaluate
from .entities import ENTITIES
from .models import WorkflowRule, WorkflowRun, WorkflowStep

logger = logging.getLogger(__name__)

# Governor limits.
MAX_CHAIN_DEPTH = 16  # rule -> change -> rule ... stops here and the rule is flagged
MAX_RUNS_PER_RECORD = 100  # one pass's share of a record's backlog; the sweep re-queues


def _record_lock_key(record_type: str, record_id: int) -> int:
    return zlib.crc32(f"workflow:{record_type}:{record_id}".encode()) - 2**31


def runs_process_record(*, record_type: str, record_id: int, now: datetime | None = None) -> int:
    """Process the record's due runs, in order; returns how many were processed."""
    now = now or timezone.now()
    entity = ENTITIES[record_type]
    with transaction.atomic():
        with connection.cursor() as cursor:  # waits for another worker on this record
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)", [_record_lock_key(record_type, record_id)]
            )
        runs = list(
            WorkflowRun.objects.select_related("version__author", "rule")
            .filter(record_type=record_type, record_id=record_id)
            .filter(
                Q(status=WorkflowRun.Status.PENDING)
                | Q(status=WorkflowRun.Status.WAITING, resume_at__lte=now)
            )
            .order_by("id")[:MAX_RUNS_PER_RECORD]
        )
        if not runs:
            return 0
        records = entity.model._default_manager.filter(pk=record_id)
        if hasattr(entity.model, "owner"):
            records = records.select_related("owner")  # actions address the owner often
        record = records.first()
        for run in runs:
            run_execute(run=run, record=record, now=now)
        return len(runs)


def run_execute(*, run: WorkflowRun, record, now: datetime) -> WorkflowRun:
    """Evaluate (once) and act from the run's next action on; stops at a wait."""
    started = time.perf_counter()
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
    entity, version = ENTITIES[run.record_type], run.version
    if run.matched is None:
        actor = None
        if run.actor_id and "actor.role" in condition_fields(version.conditions):
            actor = User.objects.filter(pk=run.actor_id).first()
        run.matched, run.values_seen = conditions_evaluate(
            entity, version.conditions, record, actor=actor
        )
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
    actions, steps = version.actions, []
    while run.next_action < len(actions):
        index, action = run.next_action, actions[run.next_action]
        if action["type"] == "wait":
            if run.status != WorkflowRun.Status.WAITING:
                run.status, run.resume_at = WorkflowRun.Status.WAITING, wait_until(action, now)
                steps.append(
                    _step(
                        run,
                        index,
                        action,
                        WorkflowStep.Status.WAITING,
                        {"until": run.resume_at.isoformat()},
                        "",
                        time.perf_counter(),
                    )
                )
                WorkflowStep.objects.bulk_create(steps)
                return _save(run, started)
            WorkflowStep.objects.filter(run=run, index=index).update(
                status=WorkflowStep.Status.SUCCEEDED
            )
            run.status, run.resume_at, run.next_action = WorkflowRun.Status.PENDING, None, index + 1
            continue
        if steps:
            record.refresh_from_db()  # this action sees the previous one's change
        ctx = Context(entity, record, author, run.pk, index, now)
        step_started = time.perf_counter()
        try:
            with acting_as(author.pk, chain_depth=run.chain_depth + 1):
                detail = action_run(action, ctx)
        except (OperationalError, InterfaceError, SoftTimeLimitExceeded):
            raise  # transient: the whole pass rolls back and the task retries
        except Exception as exc:  # noqa: BLE001 - a permanent failure, recorded
            message = str(exc) if isinstance(exc, ActionFailed) else f"{type(exc).__name__}: {exc}"
            steps.append(
                _step(run, index, action, WorkflowStep.Status.FAILED, {}, message, step_started)
            )
            WorkflowStep.objects.bulk_create(steps)
            return _finish(run, WorkflowRun.Status.FAILED, started, error=message[:2000])
        steps.append(
            _step(run, index, action, WorkflowStep.Status.SUCCEEDED, detail, "", step_started)
        )
        run.next_action = index + 1
    WorkflowStep.objects.bulk_create(steps)
    return _finish(run, WorkflowRun.Status.SUCCEEDED, started)


def _step(run, index, action, status, detail, error, started) -> WorkflowStep:
    return WorkflowStep(
        run=run,
        index=index,
        action_type=action["type"],
        status=status,
        detail=detail,
        error=error[:2000],
        duration_ms=_ms(started),
    )


def _finish(run, status, started, *, error="") -> WorkflowRun:
    run.status, run.error, run.finished_at = status, error, timezone.now()
    return _save(run, started)


def _save(run, started) -> WorkflowRun:
    run.duration_ms = round((run.duration_ms or 0) + _ms(started), 3)
    run.save(
        update_fields=[
            "status",
            "matched",
            "values_seen",
            "next_action",
            "resume_at",
            "error",
            "finished_at",
            "duration_ms",
        ]
    )
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
