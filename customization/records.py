"""How a customizable record takes custom field input: the hook crm_core's record
services call (through `record_apply`), so API, pages, bulk and workflows share it."""

from __future__ import annotations

from .registry import entity_of
from .security import check_writable
from .values import custom_values_clean


def record_custom_apply(record, data: dict, *, actor=None, definitions=None) -> dict:
    """Validate `data["custom_fields"]` (merged into the record's current values) and the
    actor's field security, set `record.custom_fields`; returns `data` without it."""
    entity = entity_of(type(record))
    if actor is not None:
        check_writable(entity, record, data, actor)
    record.custom_fields = custom_values_clean(
        model=type(record),
        entity=entity,
        values=data.get("custom_fields") or {},
        current=record.custom_fields,
        record_pk=record.pk,
        definitions=definitions,
    )
    return {key: value for key, value in data.items() if key != "custom_fields"}
