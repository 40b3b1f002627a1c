"""Custom field values in the records' search text, so search finds records by them as
by their name, e-mail or phone. Only short, text-like fields, and only those hidden from
no role (otherwise a search would reveal a value the searcher may not see)."""

from __future__ import annotations

from .cache import cached
from .models import FieldAccess, FieldDefinition, FieldSecurity, FieldType
from .values import active_definitions

SEARCHABLE_TYPES = {
    FieldType.TEXT,
    FieldType.EMAIL,
    FieldType.PHONE,
    FieldType.URL,
    FieldType.PICKLIST,
}


def searchable_definitions(entity: str) -> list[FieldDefinition]:
    hidden = cached(
        "hidden_any",
        entity,
        load=lambda: frozenset(
            FieldSecurity.objects.filter(entity=entity, access=FieldAccess.HIDDEN).values_list(
                "field", flat=True
            )
        ),
    )
    return [
        d
        for d in active_definitions(entity)
        if d.field_type in SEARCHABLE_TYPES and d.api_name not in hidden
    ]


def custom_search_words(values: dict | None, definitions: list[FieldDefinition]) -> list[str]:
    """The words a record's custom values add to its search text (picklists by label)."""
    words = []
    for definition in definitions:
        value = (values or {}).get(definition.api_name)
        if value is None:
            continue
        if definition.field_type == FieldType.PICKLIST:
            labels = {c["value"]: c["label"] for c in definition.choices}
            value = labels.get(value, value)
        words.append(str(value))
    return words


def record_search_words(record) -> list[str]:
    entity = type(record)._meta.model_name
    return custom_search_words(record.custom_fields, searchable_definitions(entity))
