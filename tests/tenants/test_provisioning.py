"""Template snapshot, replay, the pool as real tenants, and the operators' admin."""

import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from tenants import provisioning
from tenants.models import TEMPLATE_SCHEMA_NAME, Tenant, new_schema_name
from tenants.replay_sql import split_statements
from tests.conftest import PASSWORD, ROOT, client_for, public_client
from tests.tenants.catalog import schema_catalog

pytestmark = pytest.mark.django_db


def _tables(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def _migrations(schema: str) -> set[tuple[str, str]]:
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        return set(cursor.fetchall())


def test_a_pooled_schema_is_the_template_replayed(world):
    pooled = Tenant.objects.filter(status="pooled").first()
    assert pooled is not None and schema_exists(pooled.schema_name)
    assert _tables(pooled.schema_name) == _tables(TEMPLATE_SCHEMA_NAME)
    assert _migrations(pooled.schema_name) == _migrations(TEMPLATE_SCHEMA_NAME)
    assert {"accounts_user", "outbox_outboxevent", "django_migrations"} <= _tables(
        pooled.schema_name
    )


def test_a_replayed_schema_is_the_migrated_template_object_for_object(world):
    schema_name = new_schema_name()
    provisioning.schema_create_from_template(schema_name)
    template = schema_catalog(TEMPLATE_SCHEMA_NAME)
    replayed = schema_catalog(schema_name)
    for kind in template:
        assert replayed[kind] == template[kind], kind
    owned = [row for row in template["sequences"] if row[-1] == "i"]  # identity sequences
    assert len(owned) == len(template["sequences"]) > 50
    assert sum(row[1] for row in template["rows"]) > 100  # content types, permissions...


def test_the_snapshot_is_the_rewritten_script(world):
    """Guards the fast form: a migration adding a statement replay_sql does not know
    (a trigger, a view) makes it fall back to pg_dump's slower order, and this fails."""
    statements = split_statements(provisioning.template_sql())
    tables = [s for s in statements if s.startswith("CREATE TABLE")]
    alters = [s for s in statements if s.startswith("ALTER")]
    assert len(tables) > 50 and all("PRIMARY KEY" in s for s in tables)
    assert not [s for s in alters if "IDENTITY" in s or "PRIMARY KEY" in s or "UNIQUE" in s]
    inserts = [s.split()[2] for s in statements if s.startswith("INSERT")]
    assert inserts and len(inserts) == len(set(inserts))  # one INSERT per table with rows


def test_pooled_and_template_schemas_are_migrated_like_every_tenant(world):
    migrated = []
    original = connection.set_schema

    def record(schema_name, *args, **kwargs):
        migrated.append(schema_name)
        return original(schema_name, *args, **kwargs)

    connection.set_schema = record
    try:
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
    finally:
        connection.set_schema = original
        connection.set_schema_to_public()
    pooled = set(Tenant.objects.filter(status="pooled").values_list("schema_name", flat=True))
    assert TEMPLATE_SCHEMA_NAME in migrated
    assert pooled <= set(migrated)


@pytest.mark.parametrize(
    "name",
    [
        "public",
        "t_1",
        "T_0123456789abcdef",
        "t_0123456789abcdeg",
        "x; DROP SCHEMA public",
        "tenant_template2",
    ],
)
def test_only_opaque_schema_names_reach_ddl(name):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        provisioning.schema_create_from_template(name, sql="SELECT 1")


def test_operators_see_companies_in_the_admin_of_the_public_host(world):
    from accounts.models import User

    User.objects.create_superuser("ops@example.com", PASSWORD)
    client = public_client()
    login = client.post(
        "/admin/login/?next=/admin/", {"username": "ops@example.com", "password": PASSWORD}
    )
    assert login.status_code == 302
    page = client.get("/admin/tenants/tenant/")
    assert page.status_code == 200
    content = page.content.decode()
    assert world.a.tenant.name in content and world.b.tenant.name in content
    pooled = Tenant.objects.filter(status="pooled").values_list("schema_name", flat=True)
    assert not [schema for schema in pooled if schema in content]
    assert TEMPLATE_SCHEMA_NAME not in content and "?status__exact=pooled" not in content
    assert "Trial" in content or "free trial" in content
    # Company hosts have no Django admin, and company users are not operators.
    assert client_for(world.a).get("/admin/").status_code == 404


def test_sentry_starts_with_its_integrations_when_a_dsn_is_set():
    env = dict(os.environ, SENTRY_DSN="http://public@127.0.0.1:9/1")
    code = (
        "import django; django.setup(); import sentry_sdk; c = sentry_sdk.get_client(); "
        "print(c.is_active(), sorted(c.integrations))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "DJANGO_SETTINGS_MODULE": "crm_platform.settings"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("True")
    for integration in ("django", "celery", "redis"):
        assert integration in result.stdout
