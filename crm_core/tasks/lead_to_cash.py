"""Celery tasks of lead to cash."""

from dataclasses import asdict

from crm_platform.celery import tenant_task

from ..services.collections import lead_to_cash_sweep


@tenant_task(name="crm.lead_to_cash_sweep", time_limit=300)
def lead_to_cash_sweep_task() -> dict:
    """Beat (every company): payment reminders before and after due dates, contract end
    and renewal reminders, expiry of quotes and contracts. Idempotent."""
    return asdict(lead_to_cash_sweep())
