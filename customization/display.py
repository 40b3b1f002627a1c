"""Custom field values as people read them (record pages, list pages, exports)."""

from __future__ import annotations

from django.utils import formats
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from .layouts import layout_for, ordered_sections
from .models import FieldDefinition, FieldType
from .registry import lookup_model
from .security import hidden_fields
from .values import active_definitions


def display_value(definition: FieldDefinition, value) -> tuple[str, str]:
    """(text, colour) of a stored value; colour only for picklist values."""
    if value is None:
        return "", ""
    kind = definition.field_type
    if kind == FieldType.PICKLIST:
        choice = next((c for c in definition.choices if c["value"] == value), None)
        return (choice["label"], choice.get("color", "")) if choice else (value, "")
    if kind == FieldType.MULTI_SELECT:
        labels = {c["value"]: c["label"] for c in definition.choices}
        return ", ".join(labels.get(v, v) for v in value), ""
    if kind == FieldType.BOOLEAN:
        return (_("Yes") if value else _("No")), ""
    if kind == FieldType.CURRENCY:
        return f"{value} {definition.currency}".strip(), ""
    if kind == FieldType.PERCENT:
        return f"{value} %", ""
    if kind == FieldType.DATE:
        return formats.date_format(parse_date(value), "SHORT_DATE_FORMAT"), ""
    if kind == FieldType.DATETIME:
        return formats.date_format(parse_datetime(value), "SHORT_DATETIME_FORMAT"), ""
    if kind in (FieldType.LOOKUP, FieldType.USER):
        target = "user" if kind == FieldType.USER else definition.lookup_entity
        record = lookup_model(target).objects.filter(pk=value).first()
        return (str(record) if record else f"#{value}"), ""
    return str(value), ""


def visible_definitions(entity: str, user) -> list[FieldDefinition]:
    hidden = hidden_fields(entity, user)
    return [d for d in active_definitions(entity) if d.api_name not in hidden]


def record_sections(record, user) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The record's custom fields for its page, in the layout's sections."""
    entity = type(record)._meta.model_name
    definitions = {d.api_name: d for d in visible_definitions(entity, user)}
    if not definitions:
        return []
    values = record.custom_fields or {}
    sections = []
    for title, names in ordered_sections(entity, list(definitions)):
        facts = [
            (definitions[n].display_label, *display_value(definitions[n], values.get(n)))
            for n in names
        ]
        sections.append((title, facts))
    return sections


def list_columns(entity: str, user) -> list[FieldDefinition]:
    """Custom fields shown as list columns (the layout's list columns)."""
    definitions = {d.api_name: d for d in visible_definitions(entity, user)}
    return [definitions[n] for n in layout_for(entity).list_columns if n in definitions]


def list_cells(record, columns: list[FieldDefinition]) -> list[tuple[str, str]]:
    values = record.custom_fields or {}
    return [display_value(d, values.get(d.api_name)) for d in columns]


def displayed_record(record, user):
    """A copy of `record` for a page, its hidden standard values emptied (not saved),
    related records (owner, team, region...) included. The copy has its own relation
    cache (Model.__getstate__), so the original keeps its values."""
    import copy

    from django.contrib.postgres.fields import ArrayField
    from django.db import models

    hidden = hidden_fields(type(record)._meta.model_name, user)
    if not hidden:
        return record
    shown = copy.copy(record)
    for field in type(record)._meta.concrete_fields:
        if field.name not in hidden:
            continue
        if field.is_relation:
            setattr(shown, field.attname, None)  # also drops the copy's cached object
            continue
        if isinstance(field, ArrayField | models.JSONField):
            empty = [] if isinstance(field, ArrayField) else None
        elif isinstance(field, models.CharField | models.TextField):
            empty = ""
        else:
            empty = None
        setattr(shown, field.attname, empty)
    return shown
