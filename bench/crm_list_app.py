"""The reference of benchmark 3: GET /api/v1/customers/ as raw SQL + orjson, no framework.

A WSGI app run by its own gunicorn (same workers and threads as the product's), so the
product's list is compared with the least work that serves the same page: find the
company's schema by host (cached per process, as the product's host cache does), set the
search_path, SELECT the same columns of the same 51 rows (a cursor page of 50 plus one
to know whether there is a next page), and write the same JSON shape with orjson.
No authentication, no middleware, no permission checks: that difference is what the
benchmark measures.
"""

from __future__ import annotations

import base64
import os
import threading
from urllib.parse import parse_qs, quote

import orjson
import psycopg
from psycopg import sql

COLUMNS = (
    ("id", "c.id"),
    ("name", "c.name"),
    ("kind", "c.kind"),
    ("industry", "c.industry"),
    ("source", "c.source"),
    ("relationship_stage", "c.relationship_stage"),
    ("lifecycle_stage", "c.lifecycle_stage"),
    ("value_tier", "c.value_tier"),
    ("is_key_account", "c.is_key_account"),
    ("email", "c.email"),
    ("phone", "c.phone"),
    ("owner_id", "c.owner_id"),
    ("team_id", "c.team_id"),
    ("region_id", "c.region_id"),
    ("tags", "c.tags"),
    ("last_activity_at", "c.last_activity_at"),
    ("created_at", "c.created_at"),
    ("updated_at", "c.updated_at"),
    ("custom_fields", "c.custom_fields"),
    ("owner_name", "u.full_name"),
)
KEYS = tuple(key for key, _column in COLUMNS)
LIST_SQL = (
    "SELECT "
    + ", ".join(column for _key, column in COLUMNS)
    + " FROM crm_core_customer c LEFT OUTER JOIN accounts_user u ON u.id = c.owner_id"
    " ORDER BY c.id DESC LIMIT %s"
)
SCHEMA_SQL = (
    "SELECT t.schema_name FROM public.tenants_domain d"
    " JOIN public.tenants_tenant t ON t.id = d.tenant_id WHERE d.domain = %s"
)
_local = threading.local()
_schemas: dict[str, str | None] = {}


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        conn.execute("SET TIME ZONE 'UTC'")
        _local.conn = conn
    return conn


def _json(start_response, status: str, payload) -> list[bytes]:
    body = orjson.dumps(payload, option=orjson.OPT_UTC_Z)
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/healthz":
        return _json(start_response, "200 OK", {"status": "ok"})
    host = environ.get("HTTP_HOST", "").partition(":")[0]
    conn = _connection()
    if host not in _schemas:
        row = conn.execute(SCHEMA_SQL, [host]).fetchone()
        _schemas[host] = row[0] if row else None
    schema = _schemas[host]
    if schema is None:
        return _json(start_response, "404 Not Found", {"error": {"code": "not_found"}})
    page_size = page_size_of(parse_qs(environ.get("QUERY_STRING", "")).get("page_size", ["50"])[0])
    conn.execute(sql.SQL("SET search_path = {}, public").format(sql.Identifier(schema)))
    rows = [dict(zip(KEYS, row, strict=True)) for row in conn.execute(LIST_SQL, [page_size + 1])]
    body = page(rows, host, environ.get("PATH_INFO", ""), page_size)
    return _json(start_response, "200 OK", body)


def page_size_of(text: str) -> int:
    return max(1, min(int(text), 100))


def page(rows: list[dict], host: str, path: str, page_size: int) -> dict:
    """The product's cursor page of `rows` (page_size + 1 fetched)."""
    next_url = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        cursor = base64.b64encode(f"p={rows[-1]['id']}".encode()).decode()
        next_url = f"http://{host}{path}?cursor={quote(cursor)}&page_size={page_size}"
    return {"next": next_url, "previous": None, "results": rows}
