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
from django.utils import timezone

from accounts.models import User
from crm_platform.kernel.transactions import atomic_without_waiting_for_disk
from crm_platform.outbox.actor import acting_as

from .actions import ActionFailed, Context, action_run, wait_until
from .conditions import condition_fields, conditions_evaluate
from .entities import ENTITIES
from .models import WorkflowRule, WorkflowRuleVersion, WorkflowRun, WorkflowStep

logger = logging.getLogger(__name__)

# Governor limits.
MAX_CHAIN_DEPTH = 16  # rule -> change -> rule ... stops here and the rule is flagged
MAX_RUNS_PER_RECORD = 100  # one pass's share of a record's backlog; the sweep re-queues


def _record_lock_key(record_type: str, record_id: int) -> int:
    return zlib.crc32(f"workflow:{record_type}:{record_id}".encode()) - 2**31


def runs_process_record(*, record_type: str, record_id: int, now: datetime | None = None) -> int:
    """Process the record's due runs, in order; returns how many were processed."""
    return runs_process_records(records=[(record_type, record_id)], now=now)


def runs_process_records(*, records: list, now: datetime | None = None) -> int:
    """Process the due runs of each (record type, record id), in order; returns how many
    were processed.

    The records go together in one transaction: their locks, their runs and the records
    themselves are each taken with one query, and the run log is written with one insert
    and one update, where one record at a time cost a dozen round trips per run. If that
    fails other than transiently, each record is tried on its own, so one record's
    failure does not hold back the others; the first failure is raised after them.
    """
    now = now or timezone.now()
    records = list(
        dict.fromkeys((record_type, int(record_id)) for record_type, record_id in records)
    )
    try:
        return _process(records, now)
    except _TRANSIENT:
        raise
    except Exception:
        if len(records) == 1:
            raise
        logger.exception("workflows: processing %s records together failed", len(records))
    processed, failure = 0, None
    for record in records:
        try:
            processed += _process([record], now)
        except _TRANSIENT:
            raise
        except Exception as exc:  # noqa: BLE001 - raised once the others are done
            failure = failure or exc
    if failure is not None:
        raise failure
    return processed


# Errors that roll the whole pass back for the task to retry; anything else is permanent.
_TRANSIENT = (OperationalError, InterfaceError, SoftTimeLimitExceeded)


def _process(records: list[tuple[str, int]], now: datetime) -> int:
    # Safe to lose: the pass's actions, their events and its run log go together, so a
    # lost pass leaves its runs pending for the sweep to run again (at least once).
    with atomic_without_waiting_for_disk():
        with connection.cursor() as cursor:  # waits for another worker on these records
            # One lock per record, taken in key order so two passes never deadlock.
            cursor.execute(
                "SELECT count(pg_advisory_xact_lock(key)) FROM unnest(%s::bigint[]) AS key",
                [sorted({_record_lock_key(*record) for record in records})],
            )
        runs = _due_runs(records, now)
        if not runs:
            return 0
        loaded = _records_load(runs)
        log = _Log()
        deadline = time.monotonic() + PASS_SECONDS
        for index, run in enumerate(runs):
            if index and time.monotonic() > deadline:
                _continue_later(runs[index:])
                runs = runs[:index]
                break
            run_execute(
                run=run, record=loaded.get((run.record_type, run.record_id)), now=now, log=log
            )
        log.write()
        return len(runs)


# A pass of many records commits what it did after this long and queues the rest, so a
# big backlog is never lost to the task's time limit (soft 100 s) and done again.
PASS_SECONDS = 20


def _continue_later(runs: list[WorkflowRun]) -> None:
    from .tasks import workflow_process_records_task

    records = list(dict.fromkeys((run.record_type, run.record_id) for run in runs))
    # Robust: with the broker down the pass still counts; the sweep re-queues the rest.
    transaction.on_commit(lambda: workflow_process_records_task.delay(records), robust=True)


# The due runs of some records, oldest first and at most MAX_RUNS_PER_RECORD each, with
# their (immutable) versions and the versions' authors. Fixed text (the author's columns
# come from the model): Django compiled the same statement from querysets in ~4 ms a
# pass, ten times the query's own time, and the authors took a round trip of their own.
_AUTHOR_FIELDS = User._meta.concrete_fields
_AUTHOR_ATTNAMES = [field.attname for field in _AUTHOR_FIELDS]
_quote = connection.ops.quote_name
_DUE_RUNS_SQL = """
SELECT due.*, version.number AS version_number, version.trigger AS version_trigger,
       version.conditions AS version_conditions, version.actions AS version_actions,
       {author_columns}
FROM (
    SELECT run.*, row_number() OVER (
        PARTITION BY run.record_type, run.record_id ORDER BY run.id
    ) AS place
    FROM customization_workflowrun run
    JOIN unnest(%s::varchar[], %s::bigint[]) AS record(record_type, record_id)
      ON run.record_type = record.record_type AND run.record_id = record.record_id
    WHERE run.status = 'pending' OR (run.status = 'waiting' AND run.resume_at <= %s)
) due
JOIN customization_workflowruleversion version ON version.id = due.version_id
LEFT JOIN accounts_user author ON author.id = version.author_id
WHERE due.place <= %s
ORDER BY due.id
""".format(  # noqa: S608 - column names from the model, values as parameters
    author_columns=", ".join(
        f"author.{_quote(field.column)} AS {_quote('author_' + field.column)}"
        for field in _AUTHOR_FIELDS
    )
)


def _due_runs(records: list[tuple[str, int]], now: datetime) -> list[WorkflowRun]:
    """The records' due runs in id order (the order their events happened), at most
    MAX_RUNS_PER_RECORD of each, each with its version and the version's author."""
    runs = list(
        WorkflowRun.objects.raw(
            _DUE_RUNS_SQL,
            [
                [record_type for record_type, _id in records],
                [record_id for _type, record_id in records],
                now,
                MAX_RUNS_PER_RECORD,
            ],
        )
    )
    json_field = WorkflowRuleVersion._meta.get_field("trigger")
    for run in runs:
        run.version = WorkflowRuleVersion(
            id=run.version_id,
            rule_id=run.rule_id,
            number=run.version_number,
            author=_author(run),
            **{
                name: json_field.from_db_value(getattr(run, f"version_{name}"), None, connection)
                for name in ("trigger", "conditions", "actions")
            },
        )
    return runs


def _author(run: WorkflowRun) -> User | None:
    """The version's author from the run's author_* columns (None once deleted)."""
    if run.author_id is None:
        return None
    values = []
    for field in _AUTHOR_FIELDS:
        value = getattr(run, f"author_{field.column}")
        for convert in field.get_db_converters(connection):
            value = convert(value, None, connection)
        values.append(value)
    return User.from_db(connection.alias, _AUTHOR_ATTNAMES, values)


def _records_load(runs: list[WorkflowRun]) -> dict[tuple[str, int], object]:
    """{(record type, id): record} for the runs, one query per kind of record."""
    ids_by_type: dict[str, set[int]] = {}
    for run in runs:
        ids_by_type.setdefault(run.record_type, set()).add(run.record_id)
    loaded = {}
    for record_type, ids in ids_by_type.items():
        model = ENTITIES[record_type].model
        rows = model._default_manager.filter(pk__in=ids)
        if hasattr(model, "owner"):
            rows = rows.select_related("owner")  # actions address the owner often
        loaded.update(((record_type, row.pk), row) for row in rows)
    return loaded


class _Log:
    """The pass's run log, written when the pass ends: one insert for the steps and one
    update for the runs, in the pass's transaction, so it commits with what they did."""

    RUN_FIELDS = (
        "status",
        "matched",
        "values_seen",
        "next_action",
        "resume_at",
        "error",
        "finished_at",
        "duration_ms",
    )

    def __init__(self):
        self.steps: list[WorkflowStep] = []
        self.runs: list[WorkflowRun] = []

    def write(self) -> None:
        WorkflowStep.objects.bulk_create(self.steps)
        if not self.runs:
            return
        # One UPDATE ... FROM unnest(arrays): Django's bulk_update builds a CASE per field
        # and run in Python, which cost more than the runs' own work (profiled).
        quote = connection.ops.quote_name
        fields = [WorkflowRun._meta.pk] + [WorkflowRun._meta.get_field(f) for f in self.RUN_FIELDS]
        table, pk = quote(WorkflowRun._meta.db_table), quote(fields[0].column)
        columns = [quote(field.column) for field in fields]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET "  # noqa: S608 - names from the model, values as parameters
                + ", ".join(f"{column} = new.{column}" for column in columns[1:])
                + " FROM unnest("
                + ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
                + f") AS new({', '.join(columns)}) WHERE {table}.{pk} = new.{pk}",
                [
                    [
                        field.get_db_prep_save(getattr(run, field.attname), connection)
                        for run in self.runs
                    ]
                    for field in fields
                ],
            )


def run_execute(*, run: WorkflowRun, record, now: datetime, log: _Log) -> WorkflowRun:
    """Evaluate (once) and act from the run's next action on; stops at a wait. What it
    did goes to `log`, written when the pass ends."""
    started = time.perf_counter()
    if record is None:
        return _finish(
            run, log, WorkflowRun.Status.STOPPED, started, error="the record was deleted"
        )
    if run.chain_depth >= MAX_CHAIN_DEPTH:
        _flag_loop(run.rule_id)
        return _finish(
            run,
            log,
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
            return _finish(run, log, WorkflowRun.Status.NOT_MATCHED, started)
    author = version.author
    if author is None or not author.is_active:
        return _finish(
            run,
            log,
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
                log.steps.extend(steps)
                return _save(run, log, started)
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
            log.steps.extend(steps)
            return _finish(run, log, WorkflowRun.Status.FAILED, started, error=message[:2000])
        steps.append(
            _step(run, index, action, WorkflowStep.Status.SUCCEEDED, detail, "", step_started)
        )
        run.next_action = index + 1
    log.steps.extend(steps)
    return _finish(run, log, WorkflowRun.Status.SUCCEEDED, started)


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


def _finish(run, log, status, started, *, error="") -> WorkflowRun:
    run.status, run.error, run.finished_at = status, error, timezone.now()
    return _save(run, log, started)


def _save(run, log, started) -> WorkflowRun:
    run.duration_ms = round((run.duration_ms or 0) + _ms(started), 3)
    log.runs.append(run)
    return run


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _flag_loop(rule_id: int) -> None:
    WorkflowRule.objects.filter(pk=rule_id).update(
        is_enabled=False,
        updated_at=timezone.now(),  # moves the event rules' stamp (handlers)
        disabled_reason=f"Stopped after {MAX_CHAIN_DEPTH} automated changes in a row: "
        "the rule seems to trigger itself. Check its conditions, then enable it again.",
    )
    logger.warning("workflow rule %s stopped: chain depth limit", rule_id)
