"""Background work of customization: building and dropping custom field indexes."""

from crm_platform.celery import tenant_task

from . import indexes

# An index build on a large table takes minutes; it blocks no writes meanwhile.
INDEX_TIME_LIMIT = 3600


@tenant_task(name="customization.index_build", time_limit=INDEX_TIME_LIMIT)
def field_index_build_task(definition_id: int) -> str:
    return indexes.field_index_build(definition_id=definition_id)


@tenant_task(name="customization.index_drop", time_limit=INDEX_TIME_LIMIT)
def field_index_drop_task(definition_id: int, entity: str) -> None:
    indexes.field_index_drop(definition_id=definition_id)


@tenant_task(name="customization.index_sweep", time_limit=INDEX_TIME_LIMIT)
def field_index_sweep_task() -> None:
    """Builds whose queued task was lost (broker down when the field was saved)."""
    for definition_id in indexes.pending_index_ids():
        indexes.field_index_build(definition_id=definition_id)


# Workflow rules' tasks live with the engine; importing them here registers them.
from .workflows.tasks import workflow_process_records_task, workflow_sweep_task  # noqa: E402, F401
