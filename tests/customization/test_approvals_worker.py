"""Approvals end to end with a real Celery worker: a rep's new deal is sent into an
approval process by a workflow rule (outbox -> rule -> action, in Celery), the admin
approves it through the API, and the process's outcome action runs in Celery too."""

import time
import uuid

from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import User
from crm_core.models import Activity, ApprovalRequest, Deal, Pipeline
from customization.approvals.models import ApprovalProcess
from customization.approvals.services import process_create
from customization.workflows.models import WorkflowRule
from customization.workflows.services import rule_create
from tests.conftest import client_for


def _wait_for(what, found, seconds=30):
    deadline = time.monotonic() + seconds
    while True:
        value = found()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} did not happen"
        time.sleep(0.2)


def test_rule_requests_approval_and_the_outcome_runs_in_a_worker(world, committed, celery_worker):
    token = uuid.uuid4().hex[:8]
    with tenant_context(world.b.tenant):
        owner = User.objects.get(email=world.b.owner_email)
        pipeline = Pipeline.objects.order_by("id").first()
        process = process_create(
            actor=owner,
            data={
                "entity": "deal",
                "name": f"E2E approval {token}",
                "conditions": {"all": [{"field": "name", "op": "contains", "value": token}]},
                "steps": [{"approvers": "owner_manager"}],
                "on_approved": [{"type": "create_task", "subject": "Kick-off {name}"}],
            },
        )
        rule = rule_create(
            actor=owner,
            data={
                "entity": "deal",
                "name": f"E2E approval {token}",
                "trigger": {"type": "created"},
                "actions": [{"type": "request_approval", "process": process.pk}],
            },
        )
    connection.set_schema_to_public()
    deal_id = None
    try:
        created = client_for(world.b, world.b.rep_token).post(
            "/api/v1/deals/",
            {"name": f"Deal {token}", "pipeline_id": pipeline.pk},
            content_type="application/json",
        )
        assert created.status_code == 201, created.content
        deal_id = created.json()["id"]

        def pending():
            with tenant_context(world.b.tenant):
                return ApprovalRequest.objects.filter(
                    record_type="deal", record_id=deal_id, status="pending"
                ).first()

        request = _wait_for("the rule's approval request", pending)
        assert request.approver_ids == [owner.pk]  # the rep's team has no manager: admins
        decided = client_for(world.b, world.b.owner_token).post(
            f"/api/v1/approvals/{request.pk}/decide/",
            {"approve": True, "comment": "go"},
            content_type="application/json",
        )
        assert decided.status_code == 200 and decided.json()["status"] == "approved"

        def kick_off():
            with tenant_context(world.b.tenant):
                return Activity.objects.filter(deal_id=deal_id, kind="task").first()

        task = _wait_for("the outcome action's task", kick_off)
        assert task.subject == f"Kick-off Deal {token}"
        with tenant_context(world.b.tenant):
            outcome = ApprovalRequest.objects.get(pk=request.pk).outcome
        assert outcome["steps"][0]["status"] == "succeeded"
    finally:
        with tenant_context(world.b.tenant):  # B's ids must stay below A's (isolation tests)
            WorkflowRule.objects.filter(pk=rule.pk).delete()
            if deal_id is not None:
                Activity.objects.filter(deal_id=deal_id).delete()
                ApprovalRequest.objects.filter(record_type="deal", record_id=deal_id).delete()
                Deal.objects.filter(pk=deal_id).delete()
            ApprovalProcess.objects.filter(pk=process.pk).delete()
        connection.set_schema_to_public()
