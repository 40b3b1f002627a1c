"""Background work against a real Celery worker and Redis: tenant routing and the outbox.

These tests commit their data (the worker is another process), so they use `committed`
rather than a rolled-back transaction, and unique e-mails per test.
"""

import time
import uuid

import pytest
from celery.exceptions import TimeoutError as CeleryTimeout
from django.db import connection, transaction
from django_tenants.utils import schema_context, tenant_context

from accounts.models import Invitation
from accounts.roles import Role
from accounts.services import invitation_create
from crm_platform.celery import MissingTenantError
from crm_platform.kernel.tasks import database_ping_task, tenant_ping_task
from crm_platform.outbox.models import OutboxEvent
from crm_platform.outbox.tasks import outbox_dispatch_task
from tests.conftest import broker_unreachable


def _wait_for(predicate, timeout=20.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def test_task_runs_in_the_schema_of_its_sender(world, committed, celery_worker):
    for company in (world.a, world.b):
        with tenant_context(company.tenant):
            result = tenant_ping_task.delay()
        assert result.get(timeout=20) == company.tenant.schema_name


def test_worker_keeps_its_database_connections_between_tasks(world, committed, celery_worker):
    # Celery's Django fixup would connect anew for every task (~10 ms each); the test
    # worker's 4 threads keep one connection each.
    with tenant_context(world.a.tenant):
        backends = [database_ping_task.delay().get(timeout=20) for _ in range(12)]
    assert len(set(backends)) <= 4, backends


def test_tenant_task_sent_without_tenant_fails_loudly(world, committed, celery_worker):
    with schema_context("public"):
        result = tenant_ping_task.delay()
    with pytest.raises(MissingTenantError):
        result.get(timeout=20)


def _mails_to(mail_dir, address: str) -> list[str]:
    return [p.read_text() for p in mail_dir.glob("*.log") if address in p.read_text()]


def test_outbox_event_is_written_with_the_change_and_rolled_back_with_it(world, committed):
    email = f"rollback-{uuid.uuid4().hex[:8]}@example.com"
    with tenant_context(world.a.tenant):
        events_before = OutboxEvent.objects.count()
        with pytest.raises(RuntimeError), transaction.atomic():
            invitation_create(email=email, role=Role.SALES_REP, team=None, invited_by=None)
            raise RuntimeError("the use case fails after the write")
        assert not Invitation.objects.filter(email=email).exists()
        assert OutboxEvent.objects.count() == events_before


def test_invitation_event_is_delivered_by_the_worker(world, committed, celery_worker, mail_dir):
    email = f"invitee-{uuid.uuid4().hex[:8]}@example.com"
    with tenant_context(world.a.tenant):
        invitation = invitation_create(email=email, role=Role.MANAGER, team=None, invited_by=None)
        event = OutboxEvent.objects.get(
            aggregate_type="invitation", aggregate_id=str(invitation.pk)
        )
        assert event.event_type == "user.invited" and event.payload["email"] == email
    connection.set_schema_to_public()
    mail = _wait_for(lambda: _mails_to(mail_dir, email))[0]
    assert f"{world.a.tenant.host}" in mail and "/accounts/invitation/" in mail
    with tenant_context(world.a.tenant):
        _wait_for(lambda: OutboxEvent.objects.get(pk=event.pk).dispatched_at)


def test_writes_succeed_with_the_broker_down_and_events_go_out_later(
    world, committed, celery_worker, mail_dir
):
    email = f"brokerdown-{uuid.uuid4().hex[:8]}@example.com"
    with broker_unreachable():
        with tenant_context(world.b.tenant):
            started = time.monotonic()
            invitation = invitation_create(
                email=email, role=Role.SALES_REP, team=None, invited_by=None
            )
            assert time.monotonic() - started < 5, "a write must not hang on the broker"
            event = OutboxEvent.objects.get(
                aggregate_type="invitation", aggregate_id=str(invitation.pk)
            )
        connection.set_schema_to_public()
        time.sleep(0.5)
        assert not _mails_to(mail_dir, email)
        with tenant_context(world.b.tenant):
            assert OutboxEvent.objects.get(pk=event.pk).dispatched_at is None
    # The broker is back: beat's periodic sweep (sent per tenant) delivers the event.
    with tenant_context(world.b.tenant):
        outbox_dispatch_task.delay()
    connection.set_schema_to_public()
    assert _wait_for(lambda: _mails_to(mail_dir, email))
    with tenant_context(world.b.tenant):  # the mail goes out before the dispatcher commits
        assert _wait_for(lambda: OutboxEvent.objects.get(pk=event.pk).dispatched_at)


def test_beat_fans_periodic_jobs_out_to_live_companies_only(world, committed):
    from tenants.tasks import LiveTenantScheduler

    schemas = set(LiveTenantScheduler.get_queryset().values_list("schema_name", flat=True))
    assert {world.a.tenant.schema_name, world.b.tenant.schema_name, "public"} <= schemas
    assert "tenant_template" not in schemas
    from tenants.models import Tenant

    pooled = set(Tenant.objects.filter(status="pooled").values_list("schema_name", flat=True))
    assert pooled and not pooled & schemas


def test_ping_result_is_not_confused_between_concurrent_tenants(world, committed, celery_worker):
    sent = []
    for _ in range(5):
        for company in (world.a, world.b):
            with tenant_context(company.tenant):
                sent.append((company.tenant.schema_name, tenant_ping_task.delay()))
    connection.set_schema_to_public()
    try:
        assert all(result.get(timeout=20) == schema for schema, result in sent)
    except CeleryTimeout:
        pytest.fail("worker did not answer")


def test_a_burst_of_commits_queues_one_dispatcher_and_none_is_lost(
    world, committed, celery_worker, mail_dir, caplog
):
    """The wake-up flag: while a dispatcher is queued, commits do not queue another; a
    wake-up the broker refused leaves no flag behind; the dispatcher clears the flag
    before it reads, so events committed meanwhile are still delivered."""
    from crm_platform.kernel.redis_client import redis_client
    from crm_platform.outbox.services import _wake_dispatcher, wake_flag

    schema = world.b.tenant.schema_name
    flag = wake_flag(schema)
    redis_client().set(flag, 1, ex=30)  # a dispatcher is queued (not started yet)
    with broker_unreachable():
        _wake_dispatcher(schema)  # coalesced: does not even try the broker
        assert "broker unavailable" not in caplog.text
        redis_client().delete(flag)
        _wake_dispatcher(schema)  # tries, fails, and clears its flag for the next commit
        assert "broker unavailable" in caplog.text
        assert not redis_client().exists(flag)
    # Events committed while a wake-up is pending all go out with the one dispatcher.
    emails = [f"burst-{uuid.uuid4().hex[:8]}@example.com" for _ in range(5)]
    with tenant_context(world.b.tenant):
        for email in emails:
            invitation_create(email=email, role=Role.SALES_REP, team=None, invited_by=None)
    connection.set_schema_to_public()
    assert _wait_for(lambda: all(_mails_to(mail_dir, email) for email in emails))
    assert _wait_for(lambda: not redis_client().exists(flag))
