"""The benchmark's own database: `crm_bench`, dropped and recreated at every run.

Runs before Django is configured (the URL must be rewritten before settings are read),
so only `bootstrap()` imports anything from the project.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

BENCH_DATABASE = "crm_bench"
MAINTENANCE_DATABASE = "postgres"


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name`; host (a percent-encoded socket dir), user and
    query string are kept as they are."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def recreate(database_url: str) -> str:
    """Drop and create `crm_bench` next to the database in `database_url`; returns its URL."""
    current = urlsplit(database_url).path.lstrip("/")
    if current == BENCH_DATABASE:
        raise SystemExit("DATABASE_URL already points at crm_bench: give the developer's URL")
    # libpq understands the same URL, percent-encoded socket directory included.
    with psycopg.connect(
        with_database(database_url, MAINTENANCE_DATABASE), autocommit=True
    ) as conn:
        name = sql.Identifier(BENCH_DATABASE)
        # FORCE: a previous run killed mid-way may still hold connections.
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    return with_database(database_url, BENCH_DATABASE)


def bootstrap() -> None:
    """Migrate and create the public tenant and its Domain, as `manage.py bootstrap` does."""
    from django.core.management import call_command
    from django.db import connection

    from tenants.services import public_site_ensure

    if connection.settings_dict["NAME"] != BENCH_DATABASE:
        raise RuntimeError(f"refusing to set up {connection.settings_dict['NAME']!r}")
    call_command("migrate_schemas", interactive=False, verbosity=0)
    connection.set_schema_to_public()
    public_site_ensure()


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]
