"""Workflow rules: validation, event and time triggers, actions, waits, the loop guard,
failures that never touch the user's change, the run log, dry run, the builder page,
and a real Celery worker end to end."""

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_tenants.utils import tenant_context

from accounts.models import User
from crm_core.models import Activity, Contact, Deal, Lead, Notification
from crm_core.services.deals import deal_create, deal_move_stage, deal_update
from crm_core.services.leads import lead_create, lead_update
from crm_platform.outbox.services import outbox_dispatch_pending
from customization.workflows.engine import (
    MAX_CHAIN_DEPTH,
    _flag_loop,
    runs_process_record,
    runs_process_records,
)
from customization.workflows.models import WorkflowRule, WorkflowRun, WorkflowStep
from customization.workflows.services import (
    rule_create,
    rule_delete,
    rule_dry_run,
    rule_update,
    rules_disable_for_field,
    workflows_sweep,
)
from tests.conftest import client_for, signed_in
from tests.crm_core.test_deals import make_crew

in_transaction = pytest.mark.django_db

NOW = datetime(2027, 5, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def crew(world):
    with translation.override("en"):  # stage names are stored in the active language
        return make_crew(world)


def _drain(now=None) -> None:
    """What the outbox dispatcher and the Celery tasks do, in this process: until quiet."""
    for _ in range(100):
        outbox_dispatch_pending()
        pending = set(
            WorkflowRun.objects.filter(status=WorkflowRun.Status.PENDING).values_list(
                "record_type", "record_id"
            )
        )
        if not pending:
            return
        for record_type, record_id in sorted(pending):
            runs_process_record(record_type=record_type, record_id=record_id, now=now)
    raise AssertionError("workflow runs did not settle")


def _big_deal_rule(crew, **overrides):
    data = {
        "entity": "deal",
        "name": "Review big deals in Negotiation",
        "trigger": {"type": "stage_entered", "stage": crew["stages"]["Negotiation"].pk},
        "conditions": {"all": [{"field": "amount", "op": "gt", "value": "500000"}]},
        "actions": [
            {
                "type": "create_task",
                "subject": {"en": "Review {name}", "zh-hans": "审核 {name}"},
                "assignee": "owner_manager",
                "due_in_days": 2,
                "priority": "high",
            }
        ],
        **overrides,
    }
    return rule_create(actor=crew["admin"], data=data)


def _deal(crew, name, amount, owner="east_rep"):
    return deal_create(
        actor=crew[owner],
        data={"name": name, "pipeline": crew["pipeline"], "amount": Decimal(amount)},
    )


@in_transaction
def test_big_deal_entering_negotiation_gives_the_manager_a_review_task(world, crew):
    with tenant_context(world.a.tenant):
        rule = _big_deal_rule(crew)
        big, small = _deal(crew, "大单 A", "600000"), _deal(crew, "Small B", "9000")
        for deal in (big, small):
            deal_move_stage(deal=deal, stage=crew["stages"]["Negotiation"], actor=crew["east_rep"])
        _drain()
        task = Activity.objects.get(deal=big, kind="task")
        assert task.assignee == crew["east_manager"] and task.priority == "high"
        assert task.subject == "审核 大单 A" or task.subject == "Review 大单 A"
        assert not Activity.objects.filter(deal=small, kind="task").exists()
        hit = WorkflowRun.objects.get(rule=rule, record_id=big.pk)
        miss = WorkflowRun.objects.get(rule=rule, record_id=small.pk)
        assert (hit.status, hit.matched, hit.values_seen) == (
            "succeeded",
            True,
            {"amount": "600000.00"},
        )
        assert (miss.status, miss.matched, miss.values_seen) == (
            "not_matched",
            False,
            {"amount": "9000.00"},
        )
        step = hit.steps.get()
        assert step.status == "succeeded" and step.detail["activity_id"] == task.pk
        assert hit.event_type == "deal.stage_changed" and hit.actor_id == crew["east_rep"].pk
        # Delivered twice (at least once): still one run and one task.
        _drain()
        assert Activity.objects.filter(deal=big, kind="task").count() == 1


@in_transaction
def test_batches_cost_a_bounded_number_of_queries(world, crew):
    """Throughput guard: the dispatcher reads rules and endpoints once per batch and
    writes its runs in one insert; a pass over many records takes their locks, runs and
    records with one query each and writes the run log with one insert and one update."""
    with tenant_context(world.a.tenant):
        rule_create(
            actor=crew["admin"],
            data={
                "entity": "deal",
                "name": "Review big deals",
                "trigger": {"type": "updated"},
                "conditions": {"all": [{"field": "amount", "op": "gt", "value": "500000"}]},
                "actions": [{"type": "create_task", "subject": "Review {name}"}],
            },
        )
        deals = [_deal(crew, f"Batch {n}", 1000) for n in range(8)]
        while outbox_dispatch_pending():
            pass
        for deal in deals:
            deal_update(deal=deal, actor=crew["east_rep"], data={"amount": Decimal(600000)})

        with CaptureQueriesContext(connection) as dispatch:
            assert outbox_dispatch_pending() == len(deals)
        sql = [query["sql"] for query in dispatch.captured_queries]
        # The rules' stamp once; the rules themselves are still cached from the last batch.
        assert sum("FROM customization_workflowrule" in q for q in sql) == 1
        assert sum('FROM "customization_workflowrule"' in q for q in sql) == 0
        assert sum('FROM "webhooks_endpoint"' in q for q in sql) == 1
        assert sum(q.startswith('INSERT INTO "customization_workflowrun"') for q in sql) == 1
        # The dispatcher's own (a savepoint in the test's transaction) and the batch's.
        assert sum(q.startswith("SAVEPOINT") for q in sql) == 2

        records = [("deal", deal.pk) for deal in deals]
        with CaptureQueriesContext(connection) as processed:
            assert runs_process_records(records=records, now=NOW) == len(deals)
        sql = [query["sql"] for query in processed.captured_queries]
        assert sum("pg_advisory_xact_lock" in q for q in sql) == 1
        assert sum("customization_workflow" in q for q in sql) == 3  # runs, steps, runs
        runs = WorkflowRun.objects.filter(record_type="deal", record_id__in=[d.pk for d in deals])
        assert {run.status for run in runs} == {"succeeded"}
        assert all(run.values_seen == {"amount": "600000.00"} and run.duration_ms for run in runs)
        assert WorkflowStep.objects.filter(run__in=runs, status="succeeded").count() == len(deals)
        assert Activity.objects.filter(deal__in=deals, kind="task").count() == len(deals)


@in_transaction
def test_cached_rules_follow_every_change(world, crew):
    """The dispatcher keeps a company's rules between batches: enabling, editing,
    deleting and the loop guard's flag must each apply to the very next event."""
    admin = crew["admin"]

    def notify_rule(name):
        return rule_create(
            actor=admin,
            data={
                "entity": "deal",
                "name": name,
                "trigger": {"type": "updated"},
                "actions": [{"type": "notify", "title": name}],
            },
        )

    def fired(deal) -> list[str]:
        """The rules one more change of the deal fires."""
        WorkflowRun.objects.all().delete()
        deal.refresh_from_db()
        deal_update(deal=deal, actor=crew["east_rep"], data={"amount": deal.amount + 1})
        outbox_dispatch_pending()
        return sorted(
            WorkflowRun.objects.filter(record_type="deal", record_id=deal.pk).values_list(
                "rule__name", flat=True
            )
        )

    with tenant_context(world.a.tenant):
        deal = _deal(crew, "Cached rules", 1000)
        outbox_dispatch_pending()
        rule = notify_rule("Cached")
        assert fired(deal) == ["Cached"]
        rule_update(rule=rule, actor=admin, data={"is_enabled": False})
        assert fired(deal) == []
        rule_update(rule=rule, actor=admin, data={"is_enabled": True})
        assert fired(deal) == ["Cached"]
        rule_update(rule=rule, actor=admin, data={"trigger": {"type": "created"}})
        assert fired(deal) == []
        rule_update(rule=rule, actor=admin, data={"trigger": {"type": "updated"}})
        assert fired(deal) == ["Cached"]
        _flag_loop(rule.pk)
        assert fired(deal) == []
        other = notify_rule("Other")
        assert fired(deal) == ["Other"]
        rule_delete(rule=other, actor=admin)
        assert fired(deal) == []


@in_transaction
def test_actions_run_as_the_versions_author_while_active(world, crew):
    """The pass reads each version's author with its runs: an active author's actions
    run as them; a deactivated or deleted author fails the run with a reason."""
    with tenant_context(world.a.tenant):
        author = User.objects.create_user(
            "wf-author@a.example.com", "x-Password-123", role=crew["admin"].role
        )
        rule_create(
            actor=author,
            data={
                "entity": "deal",
                "name": "Authored",
                "trigger": {"type": "updated"},
                "actions": [{"type": "create_task", "subject": "By the author"}],
            },
        )
        deal = _deal(crew, "Authored deal", 1000)
        _drain()

        def change_and_run():
            deal_update(deal=deal, actor=crew["east_rep"], data={"amount": Decimal(2000)})
            _drain()
            return WorkflowRun.objects.filter(record_type="deal", record_id=deal.pk).first()

        run = change_and_run()
        assert run.status == "succeeded"
        task = Activity.objects.get(deal=deal, subject="By the author")
        assert task.created_by_id == author.pk
        author.is_active = False
        author.save(update_fields=["is_active"])
        run = change_and_run()
        assert run.status == "failed" and "no longer active" in run.error
        author.delete()  # the version keeps no author
        run = change_and_run()
        assert run.status == "failed" and "no longer active" in run.error


@in_transaction
def test_a_long_pass_commits_and_queues_the_rest(
    world, crew, monkeypatch, django_capture_on_commit_callbacks
):
    """Past PASS_SECONDS a pass stops, keeps what it did and queues the records left, so a
    big backlog never runs into the task's time limit and starts over."""
    from customization.workflows import engine

    with tenant_context(world.a.tenant):
        _big_deal_rule(crew, trigger={"type": "updated"})
        deals = [_deal(crew, f"Long {n}", 1000) for n in range(3)]
        while outbox_dispatch_pending():
            pass
        for deal in deals:
            deal_update(deal=deal, actor=crew["east_rep"], data={"amount": Decimal(600000)})
        outbox_dispatch_pending()
        monkeypatch.setattr(engine, "PASS_SECONDS", 0)
        with django_capture_on_commit_callbacks() as callbacks:
            assert runs_process_records(records=[("deal", d.pk) for d in deals], now=NOW) == 1
        queued = [c for c in callbacks if not hasattr(c, "outbox_wakes")]
        assert len(queued) == 1  # the other two records, as a task
        runs = WorkflowRun.objects.filter(record_type="deal", record_id__in=[d.pk for d in deals])
        assert sorted(runs.values_list("status", flat=True)) == ["pending", "pending", "succeeded"]


@in_transaction
def test_invalid_rules_are_rejected_with_the_exact_place(world, crew):
    client = client_for(world.a, crew["tokens"]["admin"])
    response = client.post(
        "/api/v1/workflow-rules/",
        {
            "entity": "deal",
            "name": "Broken",
            "trigger": {"type": "stage_entered", "stage": "Negotiation"},
            "conditions": {
                "any": [
                    {"field": "amount", "op": "contains", "value": "5"},
                    {"field": "nope", "op": "eq", "value": 1},
                    {"field": "customer.value_tier", "op": "eq", "value": "Z"},
                ]
            },
            "actions": [{"type": "create_task", "subject": ""}, {"type": "wait", "days": 1}],
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) >= {
        "trigger.stage",
        "conditions.any.0.op",
        "conditions.any.1.field",
        "conditions.any.2.value",
        "actions.0.subject",
        "actions.1",
    }
    assert "gt" in fields["conditions.any.0.op"][0]  # says which operators fit
    with tenant_context(world.a.tenant):
        assert not WorkflowRule.objects.filter(name="Broken").exists()
    # Only admins manage rules.
    rep = client_for(world.a, crew["tokens"]["east_rep"])
    assert rep.get("/api/v1/workflow-rules/").status_code == 403


@in_transaction
def test_field_changed_from_to_and_the_actors_role(world, crew):
    with tenant_context(world.a.tenant):
        rule_create(
            actor=crew["admin"],
            data={
                "entity": "lead",
                "name": "Qualified by a rep",
                "trigger": {
                    "type": "field_changed",
                    "field": "status",
                    "from": "new",
                    "to": "qualified",
                },
                "conditions": {"all": [{"field": "actor.role", "op": "eq", "value": "sales_rep"}]},
                "actions": [{"type": "notify", "to": "owner_manager", "title": "{name} qualified"}],
            },
        )
        lead = lead_create(
            actor=crew["east_rep"], data={"name": "Lead Q", "owner": crew["east_rep"]}
        )
        lead_update(lead=lead, actor=crew["east_rep"], data={"status": Lead.Status.CONTACTED})
        _drain()
        assert not Notification.objects.filter(
            title="Lead Q qualified"
        ).exists()  # from "contacted"
        lead2 = lead_create(
            actor=crew["east_rep"], data={"name": "Lead R", "owner": crew["east_rep"]}
        )
        lead_update(lead=lead2, actor=crew["east_rep"], data={"status": Lead.Status.QUALIFIED})
        _drain()
        note = Notification.objects.get(title="Lead R qualified")
        assert note.user == crew["east_manager"] and note.kind == "automation"
        # The same change by an admin does not match the role condition.
        lead3 = lead_create(
            actor=crew["east_rep"], data={"name": "Lead S", "owner": crew["east_rep"]}
        )
        lead_update(lead=lead3, actor=crew["admin"], data={"status": Lead.Status.QUALIFIED})
        _drain()
        assert not Notification.objects.filter(title="Lead S qualified").exists()
        run = WorkflowRun.objects.get(record_type="lead", record_id=lead3.pk)
        assert run.values_seen == {"actor.role": "admin"} and run.status == "not_matched"


@in_transaction
def test_a_failing_action_is_logged_and_the_users_change_stands(world, crew):
    with tenant_context(world.a.tenant):
        rule_create(
            actor=crew["admin"],
            data={
                "entity": "deal",
                "name": "Bad update",
                "trigger": {"type": "created"},
                "conditions": {"all": [{"field": "name", "op": "starts_with", "value": "Fail"}]},
                "actions": [
                    {"type": "update_fields", "values": {"currency": "euro"}},
                    {"type": "notify", "title": "never"},
                ],
            },
        )
        deal = _deal(crew, "Fail me", "100")
        _drain()
        run = WorkflowRun.objects.get(record_type="deal", record_id=deal.pk)
        assert run.status == "failed" and "currency" in run.error
        assert [s.status for s in run.steps.all()] == ["failed"]  # the run stopped there
        deal.refresh_from_db()
        assert deal.name == "Fail me" and deal.currency == "CNY"  # the user's deal is intact


@in_transaction
def test_a_task_refused_inside_its_service_leaves_the_pass_usable(world, crew):
    """create_task runs without a savepoint of the engine's own (activity_create has
    one): a refusal inside the service fails its run, and the next run in the same pass
    still writes its task."""
    with tenant_context(world.a.tenant):
        demoted = User.objects.create_user(
            "wf-demoted@a.example.com", "x-Password-123", role=crew["admin"].role
        )
        for author, subject in ((demoted, "Refused"), (crew["admin"], "Written")):
            rule_create(
                actor=author,
                data={
                    "entity": "deal",
                    "name": subject,
                    "trigger": {"type": "created"},
                    "actions": [{"type": "create_task", "subject": subject}],
                },
            )
        demoted.role = crew["viewer"].role  # may no longer change records
        demoted.save(update_fields=["role"])
        deal = _deal(crew, "Two rules", "100")
        _drain()
        runs = {
            run.rule.name: run
            for run in WorkflowRun.objects.filter(record_type="deal", record_id=deal.pk)
        }
        assert runs["Refused"].status == "failed"
        assert "may not make this change" in runs["Refused"].error
        assert runs["Written"].status == "succeeded"
        assert [a.subject for a in Activity.objects.filter(deal=deal, kind="task")] == ["Written"]


@in_transaction
def test_a_rule_that_triggers_itself_is_stopped_and_flagged(world, crew):
    with tenant_context(world.a.tenant):
        rule = rule_create(
            actor=crew["admin"],
            data={
                "entity": "deal",
                "name": "Echo",
                "trigger": {"type": "updated"},
                "conditions": {"all": [{"field": "name", "op": "eq", "value": "Echo deal"}]},
                "actions": [{"type": "update_fields", "values": {"lost_reason": "again"}}],
            },
        )
        deal = _deal(crew, "Echo deal", "1")
        deal_update(deal=deal, actor=crew["east_rep"], data={"amount": Decimal("2")})
        _drain()
        runs = WorkflowRun.objects.filter(rule=rule).order_by("id")
        assert runs.count() == MAX_CHAIN_DEPTH + 1
        last = runs.last()
        assert last.status == "stopped" and last.chain_depth == MAX_CHAIN_DEPTH
        rule.refresh_from_db()
        assert not rule.is_enabled and "trigger itself" in rule.disabled_reason


@in_transaction
def test_wait_then_continue_on_the_controllable_clock(world, crew):
    with tenant_context(world.a.tenant):
        rule_create(
            actor=crew["admin"],
            data={
                "entity": "deal",
                "name": "Nudge",
                "trigger": {"type": "created"},
                "conditions": {"all": [{"field": "name", "op": "eq", "value": "Wait deal"}]},
                "actions": [
                    {"type": "notify", "title": "first {name}"},
                    {"type": "wait", "days": 2},
                    {"type": "notify", "title": "second {name}"},
                ],
            },
        )
        deal = _deal(crew, "Wait deal", "1")
        _drain(now=NOW)
        run = WorkflowRun.objects.get(record_type="deal", record_id=deal.pk)
        assert run.status == "waiting" and run.resume_at == NOW + timedelta(days=2)
        assert Notification.objects.filter(title="first Wait deal").exists()
        workflows_sweep(now=NOW + timedelta(days=1))
        runs_process_record(record_type="deal", record_id=deal.pk, now=NOW + timedelta(days=1))
        assert not Notification.objects.filter(title="second Wait deal").exists()
        runs_process_record(
            record_type="deal", record_id=deal.pk, now=NOW + timedelta(days=2, minutes=1)
        )
        run.refresh_from_db()
        assert run.status == "succeeded"
        assert Notification.objects.filter(title="second Wait deal").count() == 1
        assert [s.status for s in run.steps.all()] == ["succeeded"] * 3


@in_transaction
def test_time_triggers_fire_once_per_moment(world, crew):
    with tenant_context(world.a.tenant):
        customer = crew["customers"]["east_rep"]
        contact = Contact.objects.create(
            name="生日 联系人",
            customer=customer,
            owner=crew["east_rep"],
            birthday=date(1990, 5, 13),
        )
        rule_create(
            actor=crew["admin"],
            data={
                "entity": "contact",
                "name": "Birthday in 3 days",
                "trigger": {
                    "type": "date_relative",
                    "field": "birthday",
                    "days": -3,
                    "yearly": True,
                },
                "actions": [{"type": "create_task", "subject": "Card for {name}"}],
            },
        )
        idle = lead_create(
            actor=crew["east_rep"], data={"name": "Idle lead", "owner": crew["east_rep"]}
        )
        Lead.objects.filter(pk=idle.pk).update(last_activity_at=NOW - timedelta(days=10))
        rule_create(
            actor=crew["admin"],
            data={
                "entity": "lead",
                "name": "Idle for a week",
                "trigger": {"type": "no_activity", "days": 7},
                "conditions": {"all": [{"field": "name", "op": "eq", "value": "Idle lead"}]},
                "actions": [{"type": "notify", "title": "{name} is idle"}],
            },
        )
        workflows_sweep(now=NOW - timedelta(minutes=5))  # sets the bookmark
        workflows_sweep(now=NOW)
        _drain(now=NOW)
        assert Activity.objects.filter(contact=contact, subject="Card for 生日 联系人").count() == 1
        assert Notification.objects.filter(title="Idle lead is idle").count() == 1
        workflows_sweep(now=NOW + timedelta(hours=1))  # the same day: nothing new
        _drain(now=NOW)
        assert Activity.objects.filter(contact=contact, subject="Card for 生日 联系人").count() == 1
        assert Notification.objects.filter(title="Idle lead is idle").count() == 1
        # A new follow-up, then another quiet week: it fires again.
        Lead.objects.filter(pk=idle.pk).update(last_activity_at=NOW + timedelta(days=1))
        workflows_sweep(now=NOW + timedelta(days=9))
        _drain(now=NOW)
        assert Notification.objects.filter(title="Idle lead is idle").count() == 2


@in_transaction
def test_schedule_trigger_fires_once_per_slot(world, crew):
    with tenant_context(world.a.tenant):
        rule = rule_create(
            actor=crew["admin"],
            data={
                "entity": "deal",
                "name": "Monday review",
                "trigger": {"type": "schedule", "cron": "0 9 * * 1"},
                "conditions": {"all": [{"field": "name", "op": "eq", "value": "Weekly deal"}]},
                "actions": [{"type": "notify", "title": "Review {name}"}],
            },
        )
        _deal(crew, "Weekly deal", "10")
        monday = datetime(2027, 5, 10, 9, 5, tzinfo=UTC)  # a Monday
        workflows_sweep(now=monday - timedelta(minutes=20))
        workflows_sweep(now=monday)
        workflows_sweep(now=monday + timedelta(minutes=5))
        _drain(now=monday)
        assert Notification.objects.filter(title="Review Weekly deal").count() == 1
        assert WorkflowRun.objects.filter(rule=rule, status="succeeded").count() == 1


@in_transaction
def test_dry_run_shows_what_would_happen_and_changes_nothing(world, crew):
    with tenant_context(world.a.tenant):
        rule = _big_deal_rule(crew)
        deal = _deal(crew, "Dry 大单", "750000")
        result = rule_dry_run(rule=rule, record_id=deal.pk, actor=crew["admin"])
        assert result["matched"] is True and result["values_seen"] == {"amount": "750000.00"}
        (step,) = result["actions"]
        assert step["type"] == "create_task" and step["recipients"] == ["d-em@a.example.com"]
        assert not WorkflowRun.objects.filter(record_id=deal.pk).exists()
        assert not Activity.objects.filter(deal=deal).exists()
    response = client_for(world.a, crew["tokens"]["admin"]).post(
        f"/api/v1/workflow-rules/{rule.pk}/dry-run/",
        {"record_id": 999999},
        content_type="application/json",
    )
    assert response.status_code == 400 and "record_id" in response.json()["error"]["fields"]


@in_transaction
def test_editing_a_rule_adds_a_version_and_old_runs_keep_theirs(world, crew):
    with tenant_context(world.a.tenant):
        rule = _big_deal_rule(crew)
        deal = _deal(crew, "V deal", "600000")
        deal_move_stage(deal=deal, stage=crew["stages"]["Negotiation"], actor=crew["east_rep"])
        _drain()
        rule = rule_update(
            rule=rule,
            actor=crew["admin"],
            data={"conditions": {"all": [{"field": "amount", "op": "gt", "value": "900000"}]}},
        )
        assert rule.current_version.number == 2 and rule.versions.count() == 2
        run = WorkflowRun.objects.get(rule=rule)
        assert run.version.number == 1 and run.version.conditions["all"][0]["value"] == "500000"


@in_transaction
def test_archived_field_disables_its_rules_visibly(world, crew):
    with tenant_context(world.a.tenant):
        rule = _big_deal_rule(crew)
        assert rules_disable_for_field(entity="deal", path="amount", reason="amount archived") == 1
        rule.refresh_from_db()
        assert not rule.is_enabled and rule.disabled_reason == "amount archived"


@in_transaction
def test_send_email_in_each_recipients_language(world, crew):
    with tenant_context(world.a.tenant):
        User.objects.filter(pk=crew["east_manager"].pk).update(language="ja")
        rule_create(
            actor=crew["admin"],
            data={
                "entity": "deal",
                "name": "Mail the manager",
                "trigger": {"type": "created"},
                "conditions": {"all": [{"field": "name", "op": "eq", "value": "Mail deal"}]},
                "actions": [
                    {
                        "type": "send_email",
                        "to": "owner_manager",
                        "subject": {"en": "New deal {name}", "ja": "新しい商談 {name}"},
                        "body": {"en": "Amount {amount}", "ja": "金額 {amount}"},
                    }
                ],
            },
        )
        mail.outbox.clear()
        _deal(crew, "Mail deal", "1234")
        _drain()
        outbox_dispatch_pending()  # the e-mail event written by the action
        (message,) = [m for m in mail.outbox if "Mail deal" in m.subject]
        assert message.subject == "新しい商談 Mail deal" and message.body == "金額 1234.00"
        assert message.to == ["d-em@a.example.com"]


@in_transaction
def test_record_run_log_is_visible_to_who_sees_the_record(world, crew):
    with tenant_context(world.a.tenant):
        _big_deal_rule(crew)
        deal = _deal(crew, "Log deal", "600000")
        deal_move_stage(deal=deal, stage=crew["stages"]["Negotiation"], actor=crew["east_rep"])
        _drain()
    url = f"/api/v1/workflow-runs/?record_type=deal&record_id={deal.pk}"
    runs = client_for(world.a, crew["tokens"]["east_rep"]).get(url)
    assert runs.status_code == 200
    (run,) = runs.json()["results"]
    assert run["status"] == "succeeded" and run["steps"][0]["action_type"] == "create_task"
    assert client_for(world.a, crew["tokens"]["west_rep"]).get(url).status_code == 403
    page = signed_in(world.a, "d-er@a.example.com").get(
        f"/automation/runs/?record_type=deal&record_id={deal.pk}", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert page.status_code == 200 and "Review big deals in Negotiation" in page.content.decode()


@in_transaction
def test_builder_page_makes_a_rule_without_json(world, crew):
    client = signed_in(world.a, "d-admin@a.example.com")
    assert client.get("/settings/workflows/new/").status_code == 200
    form = {
        "name": "Builder rule",
        "entity": "deal",
        "is_enabled": "on",
        "trigger_type": "stage_entered",
        "trigger_stage": str(crew["stages"]["Negotiation"].pk),
        "grp-0-match": "all",
        "cond-0-0-field": "amount",
        "cond-0-0-op": "gte",
        "cond-0-0-value": "500000",
        "act-0-type": "create_task",
        "act-0-assignee": "owner_manager",
        "act-0-due_in_days": "1",
        "act-0-priority": "normal",
        "act-0-subject-en": "Review {name}",
    }
    grown = client.post("/settings/workflows/new/", {**form, "_change": "add-action"})
    assert grown.status_code == 200 and 'name="act-1-type"' in grown.content.decode()
    # Removing the first action moves the second one up; removing a condition likewise.
    two = {**form, "act-1-type": "notify", "act-1-title-en": "Second {name}"}
    two.update({"cond-0-1-field": "currency", "cond-0-1-op": "eq", "cond-0-1-value": "USD"})
    shrunk = client.post(
        "/settings/workflows/new/", {**two, "_change": "remove-action-0"}
    ).content.decode()
    assert 'name="act-0-title-en" value="Second {name}"' in shrunk
    assert 'name="act-1-type"' not in shrunk
    shrunk = client.post(
        "/settings/workflows/new/", {**two, "_change": "remove-condition-0-0"}
    ).content.decode()
    assert 'name="cond-0-0-value" value="USD"' in shrunk
    assert 'name="cond-0-1-field"' not in shrunk
    bad = client.post("/settings/workflows/new/", {**form, "cond-0-0-value": "lots"})
    assert bad.status_code == 200
    bad_row = bad.content.decode().split('data-condition="0-0"')[1].split("</div>")[0]
    assert "a number is needed" in bad_row  # shown on the row at fault
    # Two groups: (amount >= 500000) AND (owner's region is ... OR name contains "VIP").
    grouped = client.post(
        "/settings/workflows/new/",
        {
            **form,
            "name": "Grouped rule",
            "match": "all",
            "grp-1-match": "any",
            "cond-1-0-field": "name",
            "cond-1-0-op": "contains",
            "cond-1-0-value": "VIP",
            "cond-1-1-field": "currency",
            "cond-1-1-op": "in",
            "cond-1-1-value": "USD, EUR",
        },
    )
    assert grouped.status_code == 302
    with tenant_context(world.a.tenant):
        tree = WorkflowRule.objects.get(name="Grouped rule").current_version.conditions
    assert tree == {
        "all": [
            {"all": [{"field": "amount", "op": "gte", "value": "500000"}]},
            {
                "any": [
                    {"field": "name", "op": "contains", "value": "VIP"},
                    {"field": "currency", "op": "in", "value": ["USD", "EUR"]},
                ]
            },
        ]
    }
    regrouped = client.get(grouped["Location"]).content.decode()
    assert 'name="cond-1-1-value" value="USD, EUR"' in regrouped
    saved = client.post("/settings/workflows/new/", form)
    assert saved.status_code == 302
    with tenant_context(world.a.tenant):
        rule = WorkflowRule.objects.get(name="Builder rule")
        assert rule.current_version.conditions == {
            "all": [{"field": "amount", "op": "gte", "value": "500000"}]
        }
        assert rule.current_version.actions[0]["subject"] == {"en": "Review {name}"}
    edit = client.get(f"/settings/workflows/{rule.pk}/")
    assert 'value="Review {name}"' in edit.content.decode()
    assert signed_in(world.a, "d-er@a.example.com").get("/settings/workflows/").status_code == 403


@in_transaction
def test_rules_never_see_another_companys_records(world, crew):
    with tenant_context(world.a.tenant):
        _big_deal_rule(crew, conditions={})
        before = WorkflowRun.objects.count()
    with tenant_context(world.b.tenant):
        from crm_core.models import Pipeline, Stage

        b_before = WorkflowRun.objects.count()
        owner = User.objects.get(email=world.b.owner_email)
        pipeline = Pipeline.objects.first() or None
        if pipeline is not None:
            deal = deal_create(actor=owner, data={"name": "B deal", "pipeline": pipeline})
            deal_move_stage(
                deal=deal, stage=Stage.objects.filter(pipeline=pipeline).last(), actor=owner
            )
        _drain()
        assert WorkflowRun.objects.count() == b_before
    with tenant_context(world.a.tenant):
        assert WorkflowRun.objects.count() == before


def test_end_to_end_with_a_real_worker(world, committed, celery_worker):
    """A change through the API; the outbox, the rule and the action run in Celery."""
    token = uuid.uuid4().hex[:8]
    with tenant_context(world.b.tenant):
        admin = User.objects.get(email=world.b.owner_email)
        from crm_core.services.pipelines import pipeline_create

        pipeline = pipeline_create(actor=admin, data={"name": f"E2E {token}"})
        rule = rule_create(
            actor=admin,
            data={
                "entity": "deal",
                "name": f"E2E {token}",
                "trigger": {"type": "created"},
                "conditions": {"all": [{"field": "name", "op": "contains", "value": token}]},
                "actions": [{"type": "create_task", "subject": "Call about {name}"}],
            },
        )
    connection.set_schema_to_public()
    try:
        response = client_for(world.b, world.b.owner_token).post(
            "/api/v1/deals/",
            {"name": f"Deal {token}", "pipeline_id": pipeline.pk},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        deal_id = response.json()["id"]
        deadline = time.monotonic() + 30
        while True:
            with tenant_context(world.b.tenant):
                task = Activity.objects.filter(deal_id=deal_id, kind="task").first()
                run = WorkflowRun.objects.filter(rule=rule).first()
            if task is not None and run is not None and run.status == "succeeded":
                break
            assert time.monotonic() < deadline, "the rule's task did not appear"
            time.sleep(0.2)
        assert task.subject == f"Call about Deal {token}"
        assert run.duration_ms is not None and run.actor_id == admin.pk
        with tenant_context(world.b.tenant):
            assert WorkflowStep.objects.get(run=run).status == "succeeded"
    finally:
        with tenant_context(world.b.tenant):
            WorkflowRule.objects.filter(pk=rule.pk).delete()
        connection.set_schema_to_public()


@in_transaction
def test_create_a_related_record_for_the_owner(world, crew):
    with tenant_context(world.a.tenant):
        customer = crew["customers"]["east_rep2"]
        rule_create(
            actor=crew["admin"],
            data={
                "entity": "customer",
                "name": "Renewal deal for key accounts",
                "trigger": {"type": "field_changed", "field": "is_key_account", "to": True},
                "actions": [
                    {
                        "type": "create_record",
                        "entity": "deal",
                        "values": {"name": "Renewal · {name}", "amount": "120000"},
                    }
                ],
            },
        )
        from crm_core.services.customers import customer_update

        customer_update(customer=customer, actor=crew["admin"], data={"is_key_account": True})
        _drain()
        deal = Deal.objects.get(customer=customer, name=f"Renewal · {customer.name}")
        assert deal.owner == crew["east_rep2"] and deal.amount == Decimal("120000")
        with pytest.raises(Exception) as excinfo:
            rule_create(
                actor=crew["admin"],
                data={
                    "entity": "deal",
                    "name": "Impossible link",
                    "trigger": {"type": "created"},
                    "actions": [
                        {"type": "create_record", "entity": "customer", "values": {"name": "x"}}
                    ],
                },
            )
        assert "actions.0.entity" in excinfo.value.message_dict


@in_transaction
def test_assign_owner_round_robin_within_a_team(world, crew):
    with tenant_context(world.a.tenant):
        east = crew["east_rep"].team
        rule_create(
            actor=crew["admin"],
            data={
                "entity": "lead",
                "name": "East leads in turn",
                "trigger": {"type": "created"},
                "conditions": {"all": [{"field": "source", "op": "eq", "value": "website"}]},
                "actions": [{"type": "assign_owner", "team": east.pk}],
            },
        )
        leads = [
            lead_create(actor=crew["admin"], data={"name": f"RR {i}", "source": "website"})
            for i in range(4)
        ]
        _drain()
        owners = [Lead.objects.get(pk=lead.pk).owner for lead in leads]
        members = sorted(
            [crew["east_manager"], crew["east_rep"], crew["east_rep2"]], key=lambda u: u.pk
        )
        assert set(owners) == set(members)  # everyone had a turn
        assert sorted(owners.count(m) for m in members) == [1, 1, 2]  # then it wrapped


@in_transaction
def test_custom_fields_in_conditions_and_updates_and_archiving_disables(world, crew):
    from customization.services import definition_archive, definition_create

    with tenant_context(world.a.tenant):
        for api_name, field_type in (("contract_value", "currency"), ("segment", "picklist")):
            definition_create(
                actor=crew["admin"],
                entity="deal",
                data={
                    "api_name": api_name,
                    "label": api_name,
                    "field_type": field_type,
                    "choices": [{"value": "smb"}, {"value": "enterprise"}]
                    if field_type == "picklist"
                    else [],
                },
            )
        rule = rule_create(
            actor=crew["admin"],
            data={
                "entity": "deal",
                "name": "Big contracts are enterprise",
                "trigger": {"type": "updated"},
                "conditions": {
                    "all": [
                        {"field": "custom.contract_value", "op": "gte", "value": "500000"},
                        {"field": "custom.segment", "op": "ne", "value": "enterprise"},
                    ]
                },
                "actions": [{"type": "update_fields", "values": {"custom.segment": "enterprise"}}],
            },
        )
        deal = _deal(crew, "Custom deal", "1")
        deal_update(
            deal=deal,
            actor=crew["east_rep"],
            data={"custom_fields": {"contract_value": "750000.00"}},
        )
        _drain()
        deal.refresh_from_db()
        assert deal.custom_fields["segment"] == "enterprise"
        run = WorkflowRun.objects.filter(rule=rule).order_by("id").first()
        assert run.values_seen == {"custom.contract_value": "750000.00", "custom.segment": None}
        # A bad picklist value is refused when the rule is saved, naming the place.
        with pytest.raises(Exception) as excinfo:
            rule_update(
                rule=rule,
                actor=crew["admin"],
                data={"actions": [{"type": "update_fields", "values": {"custom.segment": "x"}}]},
            )
        assert "actions.0.values.custom.segment" in excinfo.value.message_dict
        from customization.models import FieldDefinition

        definition_archive(
            actor=crew["admin"],
            definition=FieldDefinition.objects.get(entity="deal", api_name="contract_value"),
        )
        rule.refresh_from_db()
        assert not rule.is_enabled and "contract_value" in rule.disabled_reason


@in_transaction
def test_call_a_webhook_sends_the_record_signed_once_per_step(world, crew):
    from standardwebhooks import Webhook

    from tests.webhooks.receiver import Receiver
    from webhooks import services as webhook_services
    from webhooks.models import Delivery

    receiver = Receiver().start()
    try:
        with tenant_context(world.a.tenant):
            endpoint, secret = webhook_services.endpoint_create(
                actor=crew["admin"], data={"url": receiver.url, "event_types": ["quote.sent"]}
            )
            rule_create(
                actor=crew["admin"],
                data={
                    "entity": "deal",
                    "name": "Tell the ERP about won deals",
                    "trigger": {"type": "created"},
                    "conditions": {"all": [{"field": "name", "op": "eq", "value": "ERP deal"}]},
                    "actions": [{"type": "call_webhook", "endpoint": endpoint.pk}],
                },
            )
            deal = _deal(crew, "ERP deal", "880")
            _drain()
            _drain()  # handed over twice: still one delivery
            (delivery,) = Delivery.objects.filter(endpoint=endpoint)
            assert delivery.event_type == "workflow.action"
            webhook_services.delivery_attempt(delivery_id=delivery.pk)
        (request,) = receiver.received
        body = Webhook(secret).verify(request.body, request.headers)
        assert body["type"] == "workflow.action"
        assert body["data"]["id"] == deal.pk and body["data"]["record_type"] == "deal"
        assert body["data"]["name"] == "ERP deal"
    finally:
        receiver.stop()
    with tenant_context(world.a.tenant):
        with pytest.raises(Exception) as excinfo:
            rule_create(
                actor=crew["admin"],
                data={
                    "entity": "deal",
                    "name": "Nowhere",
                    "trigger": {"type": "created"},
                    "actions": [{"type": "call_webhook", "endpoint": 999999}],
                },
            )
        assert "actions.0.endpoint" in excinfo.value.message_dict
