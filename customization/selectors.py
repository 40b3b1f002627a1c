"""Reads of custom field definitions, field security, layouts and the audit log."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from .models import DefinitionChange, FieldDefinition, FieldSecurity


def definition_list(*, entity: str | None = None, archived: bool | None = None) -> QuerySet:
    queryset = FieldDefinition.objects.all()
    if entity:
        queryset = queryset.filter(entity=entity)
    if archived is not None:
        queryset = queryset.filter(archived_at__isnull=not archived)
    return queryset


def definition_get(*, pk: int) -> FieldDefinition:
    return get_object_or_404(FieldDefinition, pk=pk)


def field_security_list(*, entity: str | None = None) -> QuerySet:
    queryset = FieldSecurity.objects.order_by("entity", "field", "role")
    return queryset.filter(entity=entity) if entity else queryset


def definition_changes(*, entity: str | None = None, limit: int = 200) -> QuerySet:
    queryset = DefinitionChange.objects.select_related("actor")
    if entity:
        queryset = queryset.filter(entity=entity)
    return queryset[:limit]
