"""Celery tasks of customization (autodiscovery imports this module)."""

from .workflows.tasks import workflow_process_records_task, workflow_sweep_task  # noqa: F401
