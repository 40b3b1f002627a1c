"""Provisioning paths that need committed data: the signup race, the empty-pool
fallback, and a deploy's new migrations reaching the template snapshot."""

import threading
import time

from django.db import connection, connections, transaction
from django_tenants.utils import tenant_context

from accounts.models import User
from tenants import provisioning
from tenants.models import TEMPLATE_SCHEMA_NAME, TemplateSnapshot, Tenant
from tenants.provisioning import pool_refill
from tenants.services import tenant_signup
from tests.conftest import PASSWORD, client_for


def test_empty_pool_falls_back_to_background_provisioning(world, committed, celery_worker):
    # Hold every pooled schema in another transaction so the signup finds none free.
    holder = connections.create_connection("default")
    holder.set_schema_to_public()
    with holder.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SELECT id FROM tenants_tenant WHERE status = 'pooled' FOR UPDATE")
    # The background build is fast enough to finish before the pages below are asked for.
    # Between the signup's commit and its queued task (on_commit callbacks run in order),
    # another transaction takes a SHARE lock on the company table: the worker can build
    # the schema but not mark the company ready until the checks below are done.
    blocker = connections.create_connection("default")
    blocker.set_schema_to_public()

    def hold_provisioning_open():
        with blocker.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("LOCK TABLE tenants_tenant IN SHARE MODE")

    try:
        with transaction.atomic():
            transaction.on_commit(hold_provisioning_open)
            result = tenant_signup(
                company_name="Slow Start",
                subdomain="slow-start",
                email="owner@slow.example.com",
                password=PASSWORD,
            )
    finally:
        with holder.cursor() as cursor:
            cursor.execute("ROLLBACK")
        holder.close()
    try:
        tenant = result.tenant
        assert tenant.status == "provisioning"
        page = client_for(tenant.host).get("/accounts/login/")
        assert page.status_code == 503 and b"refresh" in page.content
        api = client_for(tenant.host, result.api_token).get("/api/v1/me/")
        assert api.status_code == 503 and api.json()["error"]["code"] == "provisioning"
    finally:
        with blocker.cursor() as cursor:
            cursor.execute("ROLLBACK")
        blocker.close()

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        tenant.refresh_from_db()
        if tenant.status == "trial":
            break
        time.sleep(0.2)
    assert tenant.status == "trial"
    assert tenant.pending_owner is None
    # Other processes learn of the change within TENANT_CACHE_CHECK_SECONDS, like the
    # setting-up page that refreshes itself every second.
    deadline = time.monotonic() + 5
    while (me := client_for(tenant.host, result.api_token).get("/api/v1/me/")).status_code == 503:
        assert time.monotonic() < deadline, "tenant host cache never saw the new state"
        time.sleep(0.2)
    assert me.status_code == 200, me.content
    assert me.json()["user"]["email"] == "owner@slow.example.com"


def test_concurrent_signups_for_one_subdomain_exactly_one_wins(world, committed):
    pool_refill(target=4)
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt(index):
        try:
            barrier.wait()
            tenant_signup(
                company_name=f"Racer {index}",
                subdomain="race-winner",
                email=f"owner{index}@race.example.com",
                password=PASSWORD,
            )
            outcomes.append("won")
        except Exception as exc:  # noqa: BLE001
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("won") == 1, outcomes
    loser = next(o for o in outcomes if o != "won")
    assert "subdomain" in loser.message_dict
    winner = Tenant.objects.get(subdomain="race-winner")
    with tenant_context(winner):
        assert User.objects.count() == 1
    # No orphan: the loser's claimed schema went back to the pool, no schema was added.
    assert _orphan_schemas() == set()


def _orphan_schemas() -> set[str]:
    """Tenant schemas without a Tenant row, and Tenant rows without a schema."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'")
        schemas = {row[0] for row in cursor.fetchall()}
    rows = set(
        Tenant.objects.exclude(schema_name="public")
        .exclude(status="provisioning")
        .values_list("schema_name", flat=True)
    ) - {"tenant_template"}
    return schemas ^ rows


def test_new_migrations_produce_a_new_snapshot(world, committed):
    """A deploy adds migrations: migrate_schemas applies them to the template, and the
    next schema built replays the new state rather than a stale snapshot."""
    before = TemplateSnapshot.objects.get().fingerprint
    fake = ("crm_core", "9999_pretend_deploy")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TEMPLATE_SCHEMA_NAME}.django_migrations (app, name, applied) "
            "VALUES (%s, %s, now())",
            fake,
        )
    try:
        sql = provisioning.template_sql()
        snapshot = TemplateSnapshot.objects.get()
        assert snapshot.fingerprint != before
        assert "9999_pretend_deploy" in sql
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {TEMPLATE_SCHEMA_NAME}.django_migrations WHERE name = %s", [fake[1]]
            )
        provisioning.template_sql()
    assert TemplateSnapshot.objects.get().fingerprint == before


def _synchronous_commit_settings(during) -> list[str]:
    """synchronous_commit as seen by each statement `during()` runs on the connection."""
    seen = []

    def spy(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith('INSERT INTO "tenants_tenant"'):
            with context["connection"].cursor() as cursor:
                cursor.execute("SHOW synchronous_commit")
                seen.append(cursor.fetchone()[0])
        return result

    with connection.execute_wrapper(spy):
        during()
    return seen


def test_a_pool_refill_commits_without_waiting_for_disk_and_only_itself(world, committed):
    pooled = Tenant.objects.filter(status="pooled").count()
    assert _synchronous_commit_settings(lambda: pool_refill(target=pooled + 1)) == ["off"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"  # the next transaction (a signup) waits again

    def refill_in_a_callers_transaction():
        with transaction.atomic():
            pool_refill(target=pooled + 2)
            transaction.set_rollback(True)

    # There the commit is the caller's, and the caller's durability is not ours to lower.
    assert _synchronous_commit_settings(refill_in_a_callers_transaction) == ["on"]
