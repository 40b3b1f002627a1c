"""Layouts: an entity's sections and field order (forms and record pages) and its list
columns. Without a saved layout: the form's own order, custom fields last."""

from __future__ import annotations

from .api_support import INTERNAL_FIELDS
from .models import FieldDefinition, Layout
from .registry import model_for

BOOKKEEPING = {"id", "created_at", "updated_at", "created_by", "pool_entered_at"}


def layout_field_names(entity: str) -> list[str]:
    """Names a layout may use: the entity's standard fields and its custom fields."""
    model = model_for(entity)
    standard = [
        f.name
        for f in model._meta.concrete_fields
        if f.name not in INTERNAL_FIELDS | BOOKKEEPING and not f.name.endswith("_key")
    ]
    custom = list(FieldDefinition.objects.filter(entity=entity).values_list("api_name", flat=True))
    return standard + custom


def layout_for(entity: str) -> Layout:
    return Layout.objects.filter(entity=entity).first() or Layout(entity=entity)


def ordered_sections(entity: str, names: list[str], *, layout: Layout | None = None):
    """[(title, [name, ...])]: `names` grouped and ordered by the layout's sections, the
    ones it does not place in a last untitled section."""
    layout = layout or layout_for(entity)
    present = set(names)
    placed: set[str] = set()
    sections = []
    for section in layout.sections:
        fields = [f for f in section["fields"] if f in present and f not in placed]
        placed.update(fields)
        if fields:
            sections.append((section.get("title") or "", fields))
    rest = [n for n in names if n not in placed]
    if rest:
        sections.append(("", rest))
    return sections
