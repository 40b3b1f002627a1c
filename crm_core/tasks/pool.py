"""Celery tasks of the pool area."""

from crm_platform.celery import tenant_task

from ..services.pool import pool_sweep


@tenant_task(name="crm.pool_sweep", time_limit=900, soft_time_limit=840)
def pool_sweep_task() -> dict[str, int]:
    """Beat, per company: automatic returns to the public pool and their warnings.

    Safe to run twice or concurrently (per-record transactions, skip-locked rows,
    deduplicated notifications), so it needs no retry policy: the next beat catches up.
    """
    return pool_sweep()
