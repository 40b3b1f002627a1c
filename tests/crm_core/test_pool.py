"""The public pool: claim and release rules with a controllable clock, automatic return
with its warning, the concurrent-claim race, settings, assignment rules, regions, pages."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.roles import Role
from crm_core.models import (
    AssignmentRule,
    Customer,
    FieldChange,
    Lead,
    Notification,
    PoolMove,
    PoolSettings,
    Region,
)
from crm_core.records import name_key, search_text
from crm_core.services import pool as pool_services
from crm_platform.outbox.models import OutboxEvent
from tests.conftest import PASSWORD, signed_in
from tests.crm_core import test_customers
from tests.crm_core.test_customers import api

db = pytest.mark.django_db
people = test_customers.people  # the admin/managers/reps fixture
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _lead(owner=None, name="李娜", **extra):
    return Lead.objects.create(
        name=name,
        name_key=name_key(name),
        search_text=search_text(name),
        owner=owner,
        team_id=owner.team_id if owner else None,
        **extra,
    )


def _customer(owner=None, name="广州白云物流", **extra):
    return Customer.objects.create(
        name=name,
        name_key=name_key(name),
        search_text=search_text(name),
        owner=owner,
        team_id=owner.team_id if owner else None,
        **extra,
    )


def _settings(**values):
    settings = pool_services.pool_settings_get()
    for field, value in values.items():
        setattr(settings, field, value)
    settings.save()
    return settings


@db
def test_claim_takes_a_pooled_record_and_records_the_move(world, people):
    rep = people["east_rep"]
    with tenant_context(world.a.tenant):
        lead = _lead(pool_entered_at=NOON - timedelta(days=3))
        claimed = pool_services.pool_claim(record=lead, actor=rep, now=NOON)
        assert claimed.owner_id == rep.pk and claimed.team_id == rep.team_id
        assert claimed.last_activity_at == NOON and claimed.pool_entered_at is None
        move = PoolMove.objects.get(record_type="lead", record_id=lead.pk)
        assert (move.action, move.to_user_id, move.actor_id, move.at) == (
            "claim",
            rep.pk,
            rep.pk,
            NOON,
        )
        assert FieldChange.objects.get(
            record_type="lead", record_id=lead.pk, field="owner"
        ).new_value == str(rep.pk)
        assert OutboxEvent.objects.filter(
            event_type="lead.claimed", aggregate_id=str(lead.pk)
        ).exists()
        with pytest.raises(ValidationError, match="already claimed"):
            pool_services.pool_claim(record=lead, actor=people["east_rep2"], now=NOON)
        with pytest.raises(PermissionDenied):
            pool_services.pool_claim(record=_lead(), actor=people["viewer"], now=NOON)


@db
def test_daily_claim_limit_counts_todays_claims_only(world, people):
    rep = people["east_rep"]
    with tenant_context(world.a.tenant):
        _settings(daily_claim_limit=2)
        leads = [_lead(name=f"Pool {i}") for i in range(4)]
        pool_services.pool_claim(record=leads[0], actor=rep, now=NOON)
        pool_services.pool_claim(record=_customer(), actor=rep, now=NOON)  # customers count too
        with pytest.raises(ValidationError, match="limit of 2"):
            pool_services.pool_claim(record=leads[1], actor=rep, now=NOON + timedelta(hours=3))
        assert Lead.objects.get(pk=leads[1].pk).owner_id is None
        # Another rep has their own allowance; the next day the count starts again.
        pool_services.pool_claim(record=leads[1], actor=people["east_rep2"], now=NOON)
        pool_services.pool_claim(record=leads[2], actor=rep, now=NOON + timedelta(days=1))


@db
def test_maximum_held_counts_open_records_of_the_kind(world, people):
    rep = people["west_rep"]
    with tenant_context(world.a.tenant):
        _settings(max_held=2)
        _lead(owner=rep, name="held 1")
        _lead(owner=rep, name="held 2")
        _lead(owner=rep, name="done", status=Lead.Status.CONVERTED)  # not held any more
        with pytest.raises(ValidationError, match="maximum of 2"):
            pool_services.pool_claim(record=_lead(name="one too many"), actor=rep, now=NOON)
        # Customers are a separate allowance.
        pool_services.pool_claim(record=_customer(), actor=rep, now=NOON)


@db
def test_release_blocks_the_previous_owner_from_reclaiming(world, people):
    rep, other = people["east_rep"], people["east_rep2"]
    with tenant_context(world.a.tenant):
        _settings(reclaim_block_days=7)
        customer = _customer(owner=rep)
        released = pool_services.pool_release(
            record=customer, actor=rep, reason="预算冻结", now=NOON
        )
        assert released.owner_id is None and released.previous_owner_id == rep.pk
        assert released.pool_entered_at == NOON
        assert released.reclaim_blocked_until == NOON + timedelta(days=7)
        move = PoolMove.objects.get(record_type="customer", record_id=customer.pk)
        assert (move.action, move.from_user_id, move.reason) == ("release", rep.pk, "预算冻结")
        assert OutboxEvent.objects.filter(
            event_type="customer.released", aggregate_id=str(customer.pk)
        ).exists()
        with pytest.raises(ValidationError, match="already in the public pool"):
            pool_services.pool_release(record=customer, actor=rep, now=NOON)
        with pytest.raises(ValidationError, match="claim it again"):
            pool_services.pool_claim(record=customer, actor=rep, now=NOON + timedelta(days=6))
        # After the block the previous owner may take it back; others any time.
        assert (
            pool_services.pool_claim(
                record=customer, actor=rep, now=NOON + timedelta(days=7, minutes=1)
            ).owner_id
            == rep.pk
        )
        pool_services.pool_release(record=customer, actor=rep, now=NOON + timedelta(days=8))
        assert (
            pool_services.pool_claim(
                record=customer, actor=other, now=NOON + timedelta(days=8)
            ).owner_id
            == other.pk
        )
        # A rep cannot release someone else's record.
        with pytest.raises(PermissionDenied):
            pool_services.pool_release(record=customer, actor=people["west_rep"], now=NOON)


@db
def test_release_with_assign_hands_on_by_the_regions_rule(world, people):
    rep, manager = people["east_rep"], people["east_manager"]
    with tenant_context(world.a.tenant):
        AssignmentRule.objects.update(is_active=False)  # the world's rules match any region
        region = Region.objects.create(name="华南")
        west_team = people["west_rep"].team_id
        AssignmentRule.objects.create(name="South", entity="lead", team_id=west_team, region=region)
        lead = _lead(owner=rep, region=region)
        with pytest.raises(PermissionDenied):
            pool_services.pool_release(record=lead, actor=rep, assign=True, now=NOON)
        result = pool_services.pool_release(record=lead, actor=manager, assign=True, now=NOON)
        assert result.owner_id == people["west_rep"].pk and result.team_id == west_team
        actions = list(
            PoolMove.objects.filter(record_type="lead", record_id=lead.pk)
            .order_by("id")
            .values_list("action", flat=True)
        )
        assert actions == ["release", "assign"]
        assert Notification.objects.filter(
            user=people["west_rep"], kind="assigned", record_id=lead.pk
        ).exists()
        # No rule for the region: it stays in the pool.
        unruled = _lead(owner=rep, name="no region")
        assert (
            pool_services.pool_release(
                record=unruled, actor=manager, assign=True, now=NOON
            ).owner_id
            is None
        )


@db
def test_sweep_warns_then_returns_and_is_idempotent(world, people):
    rep = people["east_rep"]
    with tenant_context(world.a.tenant):
        _settings(return_after_days=30, warn_days_before=3, reclaim_block_days=5)
        now = timezone.now() + timedelta(hours=1)  # the world's records stay fresh
        stale = _lead(owner=rep, name="stale", last_activity_at=now - timedelta(days=31))
        soon = _customer(owner=rep, name="soon", last_activity_at=now - timedelta(days=28))
        fresh = _lead(owner=rep, name="fresh", last_activity_at=now - timedelta(days=10))
        never = _lead(owner=rep, name="never followed up")
        Lead.objects.filter(pk=never.pk).update(created_at=now - timedelta(days=40))
        converted = _lead(
            owner=rep,
            name="converted",
            status=Lead.Status.CONVERTED,
            last_activity_at=now - timedelta(days=90),
        )

        assert pool_services.pool_sweep(now=now) == {"returned": 2, "warned": 1}
        stale.refresh_from_db()
        assert stale.owner_id is None and stale.previous_owner_id == rep.pk
        assert stale.reclaim_blocked_until == now + timedelta(days=5)
        move = PoolMove.objects.get(record_type="lead", record_id=stale.pk)
        assert move.action == "auto_return" and move.actor_id is None
        assert OutboxEvent.objects.filter(
            event_type="lead.returned_to_pool", aggregate_id=str(stale.pk)
        ).exists()
        assert Lead.objects.get(pk=never.pk).owner_id is None
        warning = Notification.objects.get(kind="pool_return_warning", record_id=soon.pk)
        assert warning.user_id == rep.pk and warning.record_type == "customer"
        assert warning.due_at == soon.last_activity_at + timedelta(days=30)
        soon.refresh_from_db()
        assert soon.owner_id == rep.pk and soon.pool_warned_at == now
        assert Lead.objects.get(pk=fresh.pk).owner_id == rep.pk
        assert Lead.objects.get(pk=converted.pk).owner_id == rep.pk

        # Running again (a second beat, a retry) changes nothing.
        assert pool_services.pool_sweep(now=now) == {"returned": 0, "warned": 0}
        assert (
            Notification.objects.filter(kind="pool_return_warning", record_id=soon.pk).count() == 1
        )
        # A follow-up after the warning restarts the clock; nearing the end warns again.
        Customer.objects.filter(pk=soon.pk).update(last_activity_at=now + timedelta(minutes=5))
        later = now + timedelta(days=28)
        assert pool_services.pool_sweep(now=later)["warned"] >= 1
        assert (
            Notification.objects.filter(kind="pool_return_warning", record_id=soon.pk).count() == 2
        )
        # Switched off: nothing happens.
        _settings(auto_return_enabled=False)
        assert pool_services.pool_sweep(now=later + timedelta(days=60)) == {
            "returned": 0,
            "warned": 0,
        }
        assert Customer.objects.get(pk=soon.pk).owner_id == rep.pk


@db
def test_a_record_waiting_for_approval_stays_put(world, people):
    """The approval lock covers the pool: no claim, no release, no automatic return
    while a request is pending; after the decision the sweep returns it."""
    from crm_core.services.approvals import approval_request

    rep = people["east_rep"]
    with tenant_context(world.a.tenant):
        _settings(return_after_days=30, warn_days_before=3)
        now = timezone.now() + timedelta(hours=1)
        held = _lead(owner=rep, name="held", last_activity_at=now - timedelta(days=31))
        pooled = _customer(owner=None, name="pooled while pending")
        requests = [
            approval_request(record_type=record_type, record_id=pk, rule="test", requested_by=rep)
            for record_type, pk in (("lead", held.pk), ("customer", pooled.pk))
        ]
        with pytest.raises(ValidationError) as refused:
            pool_services.pool_release(record=held, actor=rep, now=now)
        assert "status" in refused.value.message_dict
        with pytest.raises(ValidationError):
            pool_services.pool_claim(record=pooled, actor=rep, now=now)
        assert pool_services.pool_sweep(now=now)["returned"] == 0
        assert Lead.objects.get(pk=held.pk).owner_id == rep.pk
        assert Customer.objects.get(pk=pooled.pk).owner_id is None

        for request in requests:
            request.status = "approved"
            request.save(update_fields=["status"])
        assert pool_services.pool_sweep(now=now)["returned"] == 1
        assert Lead.objects.get(pk=held.pk).owner_id is None
        pool_services.pool_claim(record=pooled, actor=rep, now=now)
        assert Customer.objects.get(pk=pooled.pk).owner_id == rep.pk


@db
def test_the_beat_task_runs_the_sweep_in_the_company(world):
    from crm_core.tasks.pool import pool_sweep_task

    with tenant_context(world.a.tenant):
        result = pool_sweep_task.apply().get()
    assert set(result) == {"returned", "warned"}


def test_concurrent_claims_of_one_record_exactly_one_wins(world, committed):
    with tenant_context(world.a.tenant):
        racers = [
            User.objects.create_user(
                f"racer{i}@a.example.com", PASSWORD, role=Role.SALES_REP, full_name=f"Racer {i}"
            )
            for i in range(4)
        ]
        lead = _lead(name="争抢线索")
    barrier = threading.Barrier(len(racers))
    outcomes = []

    def attempt(user):
        try:
            with tenant_context(world.a.tenant):
                barrier.wait()
                pool_services.pool_claim(record=Lead.objects.get(pk=lead.pk), actor=user)
            outcomes.append("won")
        except ValidationError as exc:
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(user,)) for user in racers]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes.count("won") == 1, outcomes
        with tenant_context(world.a.tenant):
            winner = Lead.objects.get(pk=lead.pk).owner_id
            assert winner in {u.pk for u in racers}
            assert PoolMove.objects.filter(record_type="lead", record_id=lead.pk).count() == 1
    finally:
        with tenant_context(world.a.tenant):
            PoolMove.objects.filter(record_type="lead", record_id=lead.pk).delete()
            FieldChange.objects.filter(record_type="lead", record_id=lead.pk).delete()
            OutboxEvent.objects.filter(aggregate_type="lead", aggregate_id=str(lead.pk)).delete()
            Lead.objects.filter(pk=lead.pk).delete()
            User.objects.filter(pk__in=[u.pk for u in racers]).delete()


# --- API -----------------------------------------------------------------------------------


@db
def test_pool_api_lists_claims_and_releases(world, people):
    with tenant_context(world.a.tenant):
        pooled_lead = _lead(name="公海线索 甲")
        pooled_customer = _customer(name="公海客户 乙")
        held = _lead(owner=people["west_rep"], name="西区线索")
    rep = api(world, people, "east_rep")
    leads = rep.get("/api/v1/pool/leads/", {"q": "公海"}).json()["results"]
    assert [row["id"] for row in leads] == [pooled_lead.pk]
    assert {"region_name", "pool_entered_at", "company_name"} <= set(leads[0])
    customers = rep.get("/api/v1/pool/customers/", {"q": "公海"}).json()["results"]
    assert [row["id"] for row in customers] == [pooled_customer.pk]
    assert held.pk not in {
        r["id"] for r in rep.get("/api/v1/pool/leads/?page_size=100").json()["results"]
    }

    claimed = rep.post(f"/api/v1/leads/{pooled_lead.pk}/claim/")
    assert claimed.status_code == 200 and claimed.json()["owner_id"] == people["east_rep"].pk
    taken = api(world, people, "east_rep2").post(f"/api/v1/leads/{pooled_lead.pk}/claim/")
    assert taken.status_code == 404  # no longer in the pool, and not theirs to see
    again = rep.post(f"/api/v1/leads/{pooled_lead.pk}/claim/")
    assert again.status_code == 400 and "claimed" in again.json()["error"]["message"]
    assert rep.post(f"/api/v1/leads/{held.pk}/claim/").status_code == 404
    assert (
        api(world, people, "viewer")
        .post(f"/api/v1/customers/{pooled_customer.pk}/claim/")
        .status_code
        == 403
    )
    assert rep.post(f"/api/v1/customers/{pooled_customer.pk}/claim/").status_code == 200

    bad = rep.post(
        f"/api/v1/customers/{pooled_customer.pk}/release/",
        {"reason": "x", "owner": 1},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "owner" in bad.json()["error"]["fields"]
    refused = rep.post(
        f"/api/v1/customers/{pooled_customer.pk}/release/",
        {"assign": True},
        content_type="application/json",
    )
    assert refused.status_code == 403
    released = rep.post(
        f"/api/v1/customers/{pooled_customer.pk}/release/",
        {"reason": "不再跟进"},
        content_type="application/json",
    )
    assert released.status_code == 200 and released.json()["owner_id"] is None
    blocked = rep.post(f"/api/v1/customers/{pooled_customer.pk}/claim/")
    assert blocked.status_code == 400 and "again" in blocked.json()["error"]["message"]


@db
def test_pool_settings_api_needs_the_right_and_validates(world, people):
    rep, manager = api(world, people, "east_rep"), api(world, people, "east_manager")
    assert rep.get("/api/v1/pool/settings/").status_code == 403
    current = manager.get("/api/v1/pool/settings/")
    assert current.status_code == 200 and current.json()["return_after_days"] >= 1
    bad = manager.put(
        "/api/v1/pool/settings/",
        {"return_after_days": 0, "daily_claim_limit": -1, "colour": "red"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "colour" in bad.json()["error"]["fields"]
    bad = manager.put(
        "/api/v1/pool/settings/",
        {"return_after_days": 0, "daily_claim_limit": -1},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert {"return_after_days", "daily_claim_limit"} <= set(bad.json()["error"]["fields"])
    bad = manager.put(
        "/api/v1/pool/settings/",
        {"return_after_days": 5, "warn_days_before": 5},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "warn_days_before" in bad.json()["error"]["fields"]
    good = manager.put(
        "/api/v1/pool/settings/",
        {"return_after_days": 14, "warn_days_before": 2, "daily_claim_limit": 5},
        content_type="application/json",
    )
    assert good.status_code == 200 and good.json()["return_after_days"] == 14
    with tenant_context(world.a.tenant):
        assert PoolSettings.objects.count() == 1
        assert PoolSettings.objects.get().daily_claim_limit == 5
        assert OutboxEvent.objects.filter(event_type="pool_settings.updated").exists()


@db
def test_assignment_rules_and_regions_api(world, people):
    admin, rep = api(world, people, "admin"), api(world, people, "east_rep")
    region = admin.post("/api/v1/regions/", {"name": " 関東 "}, content_type="application/json")
    assert region.status_code == 201 and region.json()["name"] == "関東"
    region_id = region.json()["id"]
    dup = admin.post("/api/v1/regions/", {"name": "関東"}, content_type="application/json")
    assert dup.status_code == 400 and "name" in dup.json()["error"]["fields"]
    assert (
        rep.post("/api/v1/regions/", {"name": "x"}, content_type="application/json").status_code
        == 403
    )
    assert any(r["id"] == region_id for r in rep.get("/api/v1/regions/").json())

    body = {
        "name": "関東 round-robin",
        "entity": "customer",
        "team_id": people["east_rep"].team_id,
        "region_id": region_id,
        "capacity": 50,
    }
    assert (
        rep.post("/api/v1/assignment-rules/", body, content_type="application/json").status_code
        == 403
    )
    bad = admin.post(
        "/api/v1/assignment-rules/",
        {**body, "entity": "deal", "capacity": 0, "name": ""},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert {"entity", "capacity"} <= set(bad.json()["error"]["fields"])
    missing_name = admin.post(
        "/api/v1/assignment-rules/", {**body, "name": ""}, content_type="application/json"
    )
    assert missing_name.status_code == 400 and "name" in missing_name.json()["error"]["fields"]
    created = admin.post("/api/v1/assignment-rules/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    patched = admin.patch(
        f"/api/v1/assignment-rules/{rule_id}/",
        {"is_active": False},
        content_type="application/json",
    )
    assert patched.status_code == 200 and patched.json()["is_active"] is False
    assert admin.get(f"/api/v1/assignment-rules/{rule_id}/").json()["capacity"] == 50
    # A region in use by a rule cannot be deleted (the rule would silently go with it).
    in_use = admin.delete(f"/api/v1/regions/{region_id}/")
    assert in_use.status_code == 400 and "region" in in_use.json()["error"]["fields"]
    assert admin.delete(f"/api/v1/assignment-rules/{rule_id}/").status_code == 204
    renamed = admin.patch(
        f"/api/v1/regions/{region_id}/", {"name": "関東甲信越"}, content_type="application/json"
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "関東甲信越"
    assert admin.delete(f"/api/v1/regions/{region_id}/").status_code == 204
    with tenant_context(world.a.tenant):
        kinds = set(
            OutboxEvent.objects.filter(
                event_type__in=[
                    "assignment_rule.created",
                    "assignment_rule.deleted",
                    "region.created",
                    "region.deleted",
                ]
            ).values_list("event_type", flat=True)
        )
        assert len(kinds) == 4


# --- pages ---------------------------------------------------------------------------------


@db
def test_pool_page_claims_with_htmx_and_releases(world, people):
    with tenant_context(world.a.tenant):
        lead = _lead(name="ページ線索")
        customer = _customer(name="ページ顧客")
    web = signed_in(world.a, people["east_rep"].email)
    page = web.get("/pool/")
    assert page.status_code == 200 and "ページ線索" in page.content.decode()
    assert "ページ顧客" in web.get("/pool/", {"tab": "customers"}).content.decode()
    assert (
        "ページ顧客"
        in web.get(
            "/pool/", {"tab": "customers", "q": "顧客"}, HTTP_HX_REQUEST="true"
        ).content.decode()
    )
    assert web.get(f"/pool/leads/{lead.pk}/claim/").status_code == 405
    claimed = web.post(f"/pool/leads/{lead.pk}/claim/", HTTP_HX_REQUEST="true")
    assert claimed.status_code == 200 and "ページ線索" in claimed.content.decode()
    assert 'role="status"' in claimed.content.decode()
    second = signed_in(world.a, people["east_rep2"].email)
    too_late = second.post(f"/pool/customers/{customer.pk}/claim/")
    assert too_late.status_code == 302  # claimed: on to the customer's page
    lost = web.post(f"/pool/customers/{customer.pk}/claim/", HTTP_HX_REQUEST="true")
    assert lost.status_code == 200 and 'role="alert"' in lost.content.decode()
    assert "ページ顧客" not in lost.content.decode()  # nothing of the other rep's record
    assert web.post(f"/pool/customers/{customer.pk}/claim/").status_code == 404
    with tenant_context(world.a.tenant):
        assert Lead.objects.get(pk=lead.pk).owner_id == people["east_rep"].pk
    detail = web.get(f"/leads/{lead.pk}/").content.decode()
    assert f"/pool/leads/{lead.pk}/release/" in detail
    released = web.post(f"/pool/leads/{lead.pk}/release/", {"reason": "no budget"})
    assert released.status_code == 302
    with tenant_context(world.a.tenant):
        assert Lead.objects.get(pk=lead.pk).owner_id is None


@db
def test_pool_settings_page_rules_and_regions(world, people):
    rep = signed_in(world.a, people["east_rep"].email)
    assert rep.get("/pool/settings/").status_code == 403
    web = signed_in(world.a, people["east_manager"].email)
    page = web.get("/pool/settings/")
    assert page.status_code == 200
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data.update(return_after_days=20, warn_days_before=25)
    data = {k: v for k, v in data.items() if v is not False}
    bad = web.post("/pool/settings/", data)
    assert bad.status_code == 200 and "warn_days_before" in bad.context["form"].errors
    data.update(warn_days_before=4)
    assert web.post("/pool/settings/", data).status_code == 302
    with tenant_context(world.a.tenant):
        assert PoolSettings.objects.get().return_after_days == 20
    assert web.post("/pool/regions/new/", {"region-name": "東北"}).status_code == 302
    with tenant_context(world.a.tenant):
        region = Region.objects.get(name="東北")
    rule = web.post(
        "/pool/assignment-rules/new/",
        {
            "name": "東北 leads",
            "entity": "lead",
            "team": people["east_rep"].team_id,
            "region": region.pk,
            "position": 0,
            "is_active": "on",
        },
    )
    assert rule.status_code == 302, rule.content[:500]
    with tenant_context(world.a.tenant):
        rule_id = AssignmentRule.objects.get(name="東北 leads").pk
    assert "東北 leads" in web.get("/pool/settings/").content.decode()
    assert web.get(f"/pool/assignment-rules/{rule_id}/").status_code == 200
    bad_rule = web.post("/pool/assignment-rules/new/", {"name": "", "entity": "lead"})
    assert bad_rule.status_code == 200 and {"name", "team"} <= set(bad_rule.context["form"].errors)
    web.post(f"/pool/regions/{region.pk}/delete/")
    with tenant_context(world.a.tenant):
        assert Region.objects.filter(pk=region.pk).exists()  # a rule uses it
    assert web.post(f"/pool/assignment-rules/{rule_id}/delete/").status_code == 302
    web.post(f"/pool/regions/{region.pk}/delete/")
    with tenant_context(world.a.tenant):
        assert not Region.objects.filter(pk=region.pk).exists()


@pytest.mark.django_db
def test_regions_are_renamed_on_the_settings_page(world, people):
    with tenant_context(world.a.tenant):
        region = Region.objects.create(name="华北")
        Region.objects.create(name="华南")
    web = signed_in(world.a, people["east_manager"].email)
    assert web.post(f"/pool/regions/{region.pk}/rename/", {"name": "华北大区"}).status_code == 302
    refused = web.post(f"/pool/regions/{region.pk}/rename/", {"name": "华南"}, follow=True)
    assert refused.status_code == 200
    with tenant_context(world.a.tenant):
        assert Region.objects.get(pk=region.pk).name == "华北大区"
    rep = signed_in(world.a, people["east_rep"].email)
    assert rep.post(f"/pool/regions/{region.pk}/rename/", {"name": "x"}).status_code == 403
