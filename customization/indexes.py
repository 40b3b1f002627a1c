"""Per-company expression indexes for filterable custom fields, built and dropped with
CONCURRENTLY (writes are not blocked while a large table is indexed), their state kept
on the definition for the admin's page."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.utils import timezone

from .cache import invalidate
from .expressions import index_create_sql, index_drop_sql, index_name
from .models import FieldDefinition, IndexState
from .registry import model_for

logger = logging.getLogger(__name__)


def _run(statement) -> None:
    """DDL outside any transaction (CONCURRENTLY refuses to run inside one)."""
    connection.ensure_connection()
    if not connection.get_autocommit():
        raise RuntimeError("index DDL must run in autocommit mode")
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(connection.connection))


def _mark(definition: FieldDefinition, state: str, error: str = "") -> None:
    FieldDefinition.objects.filter(pk=definition.pk).update(
        index_state=state, index_error=error[:1000], updated_at=timezone.now()
    )
    invalidate()


def field_index_build(*, definition_id: int) -> str:
    """Build the field's `((expr), id)` index; returns the resulting state."""
    definition = FieldDefinition.objects.filter(pk=definition_id, filterable=True).first()
    if definition is None:
        return IndexState.NONE
    model = model_for(definition.entity)
    _mark(definition, IndexState.BUILDING)
    try:
        _run(
            index_create_sql(definition, schema=connection.schema_name, table=model._meta.db_table)
        )
    except DatabaseError as exc:
        logger.warning("custom field index %s failed", index_name(definition), exc_info=True)
        # A failed concurrent build leaves an invalid index behind: drop it.
        _run(index_drop_sql(definition, schema=connection.schema_name))
        _mark(definition, IndexState.FAILED, str(exc))
        return IndexState.FAILED
    if not index_is_valid(definition):
        _run(index_drop_sql(definition, schema=connection.schema_name))
        _mark(definition, IndexState.FAILED, "The index was left invalid; it was dropped.")
        return IndexState.FAILED
    # Turned off while building: drop again.
    if not FieldDefinition.objects.filter(pk=definition.pk, filterable=True).exists():
        _run(index_drop_sql(definition, schema=connection.schema_name))
        return IndexState.NONE
    _mark(definition, IndexState.READY)
    return IndexState.READY


def field_index_drop(*, definition_id: int) -> None:
    definition = FieldDefinition(pk=definition_id)
    _run(index_drop_sql(definition, schema=connection.schema_name))


def index_is_valid(definition: FieldDefinition) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = %s AND n.nspname = %s",
            [index_name(definition), connection.schema_name],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def index_progress(definition: FieldDefinition) -> dict | None:
    """While an index is being built: its phase and blocks done/total (PostgreSQL's
    pg_stat_progress_create_index), for the admin's page."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.phase, p.blocks_done, p.blocks_total, p.tuples_done, p.tuples_total "
            "FROM pg_stat_progress_create_index p JOIN pg_class c ON c.oid = p.index_relid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = %s AND n.nspname = %s",
            [index_name(definition), connection.schema_name],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    phase, blocks_done, blocks_total, tuples_done, tuples_total = row
    done, total = (tuples_done, tuples_total) if tuples_total else (blocks_done, blocks_total)
    return {"phase": phase, "percent": round(100 * done / total) if total else 0}


def pending_index_ids() -> list[int]:
    return list(
        FieldDefinition.objects.filter(
            filterable=True, index_state=IndexState.PENDING, archived_at__isnull=True
        ).values_list("pk", flat=True)
    )
