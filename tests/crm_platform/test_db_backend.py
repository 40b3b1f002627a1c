"""The database backend (crm_platform.kernel.postgresql): no SET search_path when the
connection already has the tenant's path, no health check right after a good request,
and both still where the server may have lost them."""

import time

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections
from django.test import override_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def side():
    """A second connection of the same backend, in autocommit, outside the test's
    transaction; each "request" is bracketed as Django's request signals do."""
    conn = connections.create_connection(DEFAULT_DB_ALIAS)
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with conn.execute_wrapper(record):
        yield conn, statements
    conn.close()


def _request(conn, tenant) -> str:
    """What a tenant request does to the connection; returns current_schema()."""
    conn.close_if_unusable_or_obsolete()  # request_started
    conn.set_schema_to_public()  # the tenant middleware, then the host's tenant
    conn.set_tenant(tenant)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT current_schema()")
            return cursor.fetchone()[0]
    finally:
        conn.close_if_unusable_or_obsolete()  # request_finished


def _sets(statements) -> int:
    return sum(1 for sql in statements if sql.startswith("SET search_path"))


def test_search_path_is_set_once_per_schema_switch(world, side):
    conn, statements = side
    a, b = world.a.tenant, world.b.tenant
    assert [_request(conn, a) for _ in range(3)] == [a.schema_name] * 3
    assert _sets(statements) == 1
    assert _request(conn, b) == b.schema_name
    assert _request(conn, a) == a.schema_name
    assert _sets(statements) == 3


def test_search_path_is_set_again_after_a_rollback(world, side):
    conn, statements = side
    a, b = world.a.tenant, world.b.tenant
    assert _request(conn, a) == a.schema_name
    conn.set_autocommit(False)
    conn.set_tenant(b)
    with conn.cursor() as cursor:  # B's path set inside the transaction...
        cursor.execute("SELECT current_schema()")
        assert cursor.fetchone()[0] == b.schema_name
    conn.set_tenant(a)
    conn.rollback()  # ...and gone with it: the server is back on A's path
    conn.set_autocommit(True)
    assert _request(conn, b) == b.schema_name
    assert _sets(statements) == 3


def _pid(conn) -> int:
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _kill(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.3)  # the backend exits asynchronously


def test_a_connection_idle_for_long_is_health_checked(world, side):
    conn, _statements = side
    a = world.a.tenant
    with override_settings(DATABASE_HEALTH_CHECK_IDLE_SECONDS=0.1):
        pid = _pid(conn)
        assert _request(conn, a) == a.schema_name
        _kill(pid)
        # Idle longer than the setting: SELECT 1 finds it dead, a new one serves.
        assert _request(conn, a) == a.schema_name


def test_a_connection_used_just_now_is_trusted_and_dropped_if_broken(world, side):
    conn, _statements = side
    a = world.a.tenant
    with override_settings(DATABASE_HEALTH_CHECK_IDLE_SECONDS=60):
        pid = _pid(conn)
        assert _request(conn, a) == a.schema_name
        _kill(pid)
        # Trusted without SELECT 1: the request fails, and the broken connection is
        # closed as it ends, so the next request connects again.
        with pytest.raises(OperationalError):
            _request(conn, a)
        assert conn.connection is None
        assert _request(conn, a) == a.schema_name
