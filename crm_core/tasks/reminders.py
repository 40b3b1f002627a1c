"""Celery tasks of the reminders area."""

from dataclasses import asdict

from crm_platform.celery import tenant_task

from ..services.reminders import reminders_compute


@tenant_task(name="crm.reminders_compute", time_limit=300)
def reminders_compute_task() -> dict:
    """Beat (every company): tasks due, follow-ups due and birthdays into the notification
    centre. Idempotent, so an overlapping or repeated run is harmless."""
    return asdict(reminders_compute())
