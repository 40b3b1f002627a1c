"""Celery entry points of the workflow engine (thin: ids in, a service call)."""

from datetime import datetime

from django.db import InterfaceError, OperationalError

from crm_core.services.approvals import approvals_remind
from crm_platform.celery import tenant_task

from .engine import runs_process_records
from .services import workflows_sweep


@tenant_task(
    name="workflows.process_records",
    time_limit=120,
    soft_time_limit=100,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=8,
)
def workflow_process_records_task(records: list) -> int:
    """[(record_type, record_id), ...]: each record's due runs, in order."""
    return runs_process_records(records=records)


@tenant_task(name="workflows.sweep", time_limit=600)
def workflow_sweep_task(now: str | None = None) -> dict:
    """Beat (every company): time-based rules, then reminders to approvers who have kept
    a request waiting. `now` (ISO 8601) lets tests drive the clock."""
    moment = datetime.fromisoformat(now) if now else None
    return {**workflows_sweep(now=moment), "approval_reminders": approvals_remind(now=moment)}
