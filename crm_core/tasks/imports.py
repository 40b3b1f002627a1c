"""Celery tasks of the imports area."""

from crm_platform.celery import tenant_task

from ..services.imports import import_run


@tenant_task(name="crm.import_run", time_limit=1800, soft_time_limit=1740, acks_late=True)
def import_run_task(job_id: int) -> dict:
    """Run one import job (queued by import_job_create / import_job_start)."""
    job = import_run(job_id=job_id)
    return {"job_id": job.pk, "status": job.status}
