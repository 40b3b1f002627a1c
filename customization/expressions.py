"""SQL for custom field values: the expression queries filter and sort on, and the
per-company expression index `((expr), id)` that serves them. Both come from here so the
planner sees the same expression in the query and in the index."""

from __future__ import annotations

import re

from django.db import models
from django.db.models import Func
from django.db.models.fields.json import KeyTextTransform
from psycopg import sql

from .models import API_NAME_PATTERN, FieldDefinition, FieldType

# Casts are immutable (numeric_in, int8in, boolin), so they may appear in an index.
# Dates and datetimes stay text: their stored forms sort as text in time order (and a
# text -> date cast depends on DateStyle, so it is not immutable).
CASTS: dict[str, tuple[str, models.Field]] = {
    FieldType.INTEGER: ("numeric", models.DecimalField()),
    FieldType.DECIMAL: ("numeric", models.DecimalField()),
    FieldType.CURRENCY: ("numeric", models.DecimalField()),
    FieldType.PERCENT: ("numeric", models.DecimalField()),
    FieldType.LOOKUP: ("bigint", models.BigIntegerField()),
    FieldType.USER: ("bigint", models.BigIntegerField()),
    FieldType.BOOLEAN: ("boolean", models.BooleanField()),
}
# Types whose values can be indexed and sorted (a multi-select is a list).
SORTABLE = set(FieldType) - {FieldType.MULTI_SELECT, FieldType.LONG_TEXT}
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def checked_identifier(name: str) -> str:
    if not IDENTIFIER.match(name or ""):
        raise ValueError(f"unsafe SQL identifier: {name!r}")
    return name


def checked_api_name(name: str) -> str:
    if not re.match(API_NAME_PATTERN, name or ""):
        raise ValueError(f"unsafe API name: {name!r}")
    return name


def value_expression(definition: FieldDefinition):
    """`(custom_fields ->> 'name')`, cast for numbers, ids and booleans."""
    text = KeyTextTransform(checked_api_name(definition.api_name), "custom_fields")
    cast = CASTS.get(definition.field_type)
    if cast is None:
        return text
    return Func(text, template=f"(%(expressions)s)::{cast[0]}", output_field=cast[1])


def index_name(definition: FieldDefinition) -> str:
    return checked_identifier(f"cf_idx_{definition.pk}")


def index_create_sql(definition: FieldDefinition, *, schema: str, table: str) -> sql.Composed:
    text = sql.SQL("(custom_fields ->> {})").format(
        sql.Literal(checked_api_name(definition.api_name))
    )
    cast = CASTS.get(definition.field_type)
    expression = sql.SQL("({}::{})").format(text, sql.SQL(cast[0])) if cast else text
    return sql.SQL("CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {}.{} ({}, id)").format(
        sql.Identifier(index_name(definition)),
        sql.Identifier(checked_identifier(schema)),
        sql.Identifier(checked_identifier(table)),
        expression,
    )


def index_drop_sql(definition: FieldDefinition, *, schema: str) -> sql.Composed:
    return sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}.{}").format(
        sql.Identifier(checked_identifier(schema)), sql.Identifier(index_name(definition))
    )
