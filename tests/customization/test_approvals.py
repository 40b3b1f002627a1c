"""Approval processes: entry criteria, steps (owner's manager, a role, named users; any
one or all), the record lock, rejection, withdrawal, reminders on a controlled clock,
outcome actions after commit (once), the "request approval" workflow action, the ready
templates, the API and the pages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

from accounts.models import User
from crm_core.models import Activity, ApprovalRequest, Deal, Notification
from crm_core.services.approvals import (
    approval_decide,
    approval_pending,
    approval_withdraw,
    approvals_remind,
)
from crm_core.services.deals import deal_create, deal_move_stage, deal_update
from crm_platform.outbox.models import OutboxEvent
from crm_platform.outbox.services import outbox_dispatch_pending
from customization.approvals.models import ApprovalProcess
from customization.approvals.services import (
    approval_outcome_run,
    approval_submit,
    process_create,
    process_install_template,
    process_update,
)
from customization.services import definition_archive, definition_create
from customization.workflows.services import rule_create
from tests.conftest import client_for, signed_in
from tests.crm_core.test_deals import make_crew
from tests.customization.test_workflows import _drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(world):
    with translation.override("en"):
        return make_crew(world)


def _deal(crew, name="大单 Big", amount="600000", owner="east_rep"):
    return deal_create(
        actor=crew[owner],
        data={"name": name, "pipeline": crew["pipeline"], "amount": Decimal(amount)},
    )


def _large_deal(crew):
    with translation.override("en"):
        return process_install_template(actor=crew["admin"], template="large_deal")


def test_large_deal_goes_through_both_steps_locked_then_acts_once(world, crew):
    with tenant_context(world.a.tenant):
        process = _large_deal(crew)
        assert [s["approvers"] for s in process.steps] == ["owner_manager", "role:admin"]
        deal = _deal(crew)
        request = approval_submit(record_type="deal", record=deal, actor=crew["east_rep"])
        assert request.process == process and request.reason.startswith("Large deal")
        assert request.approver_ids == [crew["east_manager"].pk]
        assert Notification.objects.filter(
            user=crew["east_manager"], kind="approval", record_id=deal.pk
        ).exists()
        # Locked while pending: edits, stage moves and deletes are refused.
        with pytest.raises(ValidationError) as locked:
            deal_update(deal=deal, actor=crew["east_rep"], data={"name": "changed"})
        assert "status" in locked.value.message_dict
        with pytest.raises(ValidationError):
            deal_move_stage(deal=deal, stage=crew["stages"]["Negotiation"], actor=crew["east_rep"])
        for outsider in ("east_rep", "west_rep", "east_rep2"):  # own request; not an approver
            with pytest.raises(PermissionDenied):
                approval_decide(request=request, actor=crew[outsider], approve=True)
        request = approval_decide(request=request, actor=crew["east_manager"], approve=True)
        assert request.status == "pending" and request.step_index == 1
        admins = User.objects.filter(role="admin", is_active=True).exclude(pk=crew["east_rep"].pk)
        assert request.approver_ids == sorted(admins.values_list("pk", flat=True))
        assert crew["admin"].pk in request.approver_ids
        with pytest.raises(PermissionDenied):  # step 1 is decided; step 2 is not theirs
            approval_decide(request=request, actor=crew["east_manager"], approve=True)
        request = approval_decide(
            request=request, actor=crew["admin"], approve=True, comment="好的 OK"
        )
        assert request.status == "approved" and request.decided_by == crew["admin"]
        assert [d.user_id for d in request.decisions.order_by("id")] == [
            crew["east_manager"].pk,
            crew["admin"].pk,
        ]
        deal_update(deal=deal, actor=crew["east_rep"], data={"name": "unlocked"})  # no error
        # The outcome action runs from the outbox after the decision, once.
        assert not Activity.objects.filter(deal=deal, kind="task").exists()
        outbox_dispatch_pending()
        task = Activity.objects.get(deal=deal, kind="task")
        assert task.subject == "Prepare the contract for unlocked"
        assert task.assignee == crew["east_rep"]
        request.refresh_from_db()
        assert request.outcome["steps"][0]["status"] == "succeeded"
        decided = OutboxEvent.objects.get(event_type="approval.decided", aggregate_id=request.pk)
        approval_outcome_run(decided)  # handed over again: nothing more happens
        assert Activity.objects.filter(deal=deal, kind="task").count() == 1


def test_all_approvers_must_approve_and_one_rejection_ends_it(world, crew):
    with tenant_context(world.a.tenant):
        approvers = [crew["east_manager"].pk, crew["west_rep"].pk]
        process = process_create(
            actor=crew["admin"],
            data={
                "entity": "deal",
                "name": "Two signatures",
                "steps": [{"approvers": "users", "users": approvers, "mode": "all"}],
                "on_rejected": [{"type": "update_fields", "values": {"name": "{name} (rejected)"}}],
            },
        )
        first = approval_submit(record_type="deal", record=_deal(crew, "A"), actor=crew["east_rep"])
        assert first.approver_ids == sorted(approvers)
        first = approval_decide(request=first, actor=crew["west_rep"], approve=True)
        assert first.status == "pending"  # the manager has not approved yet
        with pytest.raises(PermissionDenied):  # one decision per approver and step
            approval_decide(request=first, actor=crew["west_rep"], approve=True)
        first = approval_decide(request=first, actor=crew["east_manager"], approve=True)
        assert first.status == "approved"

        deal = _deal(crew, "B")
        second = approval_submit(
            record_type="deal", record=deal, actor=crew["east_rep"], process=process
        )
        with pytest.raises(ValidationError) as no_reason:
            approval_decide(request=second, actor=crew["west_rep"], approve=False)
        assert "comment" in no_reason.value.message_dict
        second = approval_decide(
            request=second, actor=crew["west_rep"], approve=False, comment="价格太低"
        )
        assert second.status == "rejected" and second.comment == "价格太低"
        told = Notification.objects.get(user=crew["east_rep"], dedupe_key__endswith="decided",
                                        record_id=deal.pk)  # fmt: skip
        assert told.title.startswith("Rejected") and told.body == "价格太低"
        outbox_dispatch_pending()
        deal.refresh_from_db()
        assert deal.name == "B (rejected)"


def test_entry_criteria_withdrawal_and_reminders_on_a_clock(world, crew):
    with tenant_context(world.a.tenant):
        _large_deal(crew)
        small = _deal(crew, "Small", "9000")
        with pytest.raises(ValidationError) as none:
            approval_submit(record_type="deal", record=small, actor=crew["east_rep"])
        assert "process" in none.value.message_dict
        deal = _deal(crew, "Reminded")
        start = timezone.now()
        request = approval_submit(
            record_type="deal", record=deal, actor=crew["east_rep"], now=start
        )
        titles = Notification.objects.filter(user=crew["east_manager"], record_id=deal.pk)
        assert approvals_remind(now=start + timedelta(hours=23)) == 0
        assert approvals_remind(now=start + timedelta(hours=25)) == 1
        assert approvals_remind(now=start + timedelta(hours=26)) == 0  # once per interval
        assert approvals_remind(now=start + timedelta(hours=49)) == 1
        reminders = titles.filter(title__startswith="Still waiting")
        assert reminders.count() == 2
        with pytest.raises(PermissionDenied):  # only the requester (or an admin)
            approval_withdraw(request=request, actor=crew["west_rep"])
        approval_withdraw(request=request, actor=crew["east_rep"])
        assert approval_pending(record_type="deal", record_id=deal.pk) is None
        assert approvals_remind(now=start + timedelta(hours=100)) == 0
        deal_update(deal=deal, actor=crew["east_rep"], data={"name": "editable again"})


def test_a_workflow_rule_requests_approval_for_its_owner(world, crew):
    with tenant_context(world.a.tenant):
        process = _large_deal(crew)
        rule_create(
            actor=crew["admin"],
            data={
                "entity": "deal",
                "name": "Big deals need approval",
                "trigger": {"type": "created"},
                "actions": [{"type": "request_approval", "process": process.pk}],
            },
        )
        big, small = _deal(crew, "Auto big"), _deal(crew, "Auto small", "10")
        _drain()
        request = approval_pending(record_type="deal", record_id=big.pk)
        assert request.requested_by == crew["east_rep"] and request.process == process
        assert approval_pending(record_type="deal", record_id=small.pk) is None


def test_bad_definitions_are_refused_naming_the_place(world, crew):
    with tenant_context(world.a.tenant):
        with pytest.raises(ValidationError) as bad:
            process_create(
                actor=crew["admin"],
                data={
                    "entity": "deal",
                    "name": "",
                    "conditions": {"all": [{"field": "nope", "op": "eq", "value": 1}]},
                    "steps": [
                        {"approvers": "role:boss"},
                        {"approvers": "users", "users": []},
                        {"approvers": "owner_manager", "mode": "most"},
                    ],
                    "on_approved": [{"type": "wait", "days": 1}],
                    "remind_after_hours": -1,
                },
            )
        assert {
            "name",
            "conditions.all.0.field",
            "steps.0.approvers",
            "steps.1.users",
            "steps.2.mode",
            "on_approved.0.type",
            "remind_after_hours",
        } <= set(bad.value.message_dict)
        with pytest.raises(ValidationError) as no_steps:
            process_create(actor=crew["admin"], data={"entity": "quote", "name": "x", "steps": []})
        assert "steps" in no_steps.value.message_dict
        with pytest.raises(PermissionDenied):
            process_create(
                actor=crew["east_manager"],
                data={"entity": "deal", "name": "x", "steps": [{"approvers": "owner_manager"}]},
            )
        assert Deal.objects.filter(name="x").count() == 0


def test_quote_discount_process_is_installed_and_editable(world, crew):
    from crm_core.models import Quote
    from crm_core.services.quotes import quote_create, quote_submit

    with tenant_context(world.a.tenant):
        quote_process = ApprovalProcess.objects.get(template="quote_discount")
        assert quote_process.conditions == {
            "all": [{"field": "effective_discount_percent", "op": "gt", "value": "10"}]
        }

        def submitted(discount):
            quote = quote_create(
                actor=crew["east_rep"],
                data={
                    "customer": crew["customers"]["east_rep"],
                    "currency": "CNY",
                    "total_discount_percent": Decimal(discount),
                    "lines": [{"description": "x", "quantity": 1, "unit_price": 100}],
                },
            )
            return quote_submit(quote=quote, actor=crew["east_rep"]).status

        assert submitted(15) == Quote.Status.PENDING_APPROVAL
        process_update(
            process=quote_process,
            actor=crew["admin"],
            data={"conditions": {"all": [{"field": "effective_discount_percent", "op": "gt",
                                          "value": "20"}]}},
        )  # fmt: skip
        assert submitted(15) == Quote.Status.APPROVED
        assert submitted(25) == Quote.Status.PENDING_APPROVAL


def test_archiving_a_field_disables_the_processes_that_use_it(world, crew):
    with tenant_context(world.a.tenant):
        field = definition_create(
            actor=crew["admin"],
            entity="deal",
            data={"api_name": "risk", "label": "Risk", "field_type": "integer"},
        )
        process = process_create(
            actor=crew["admin"],
            data={
                "entity": "deal",
                "name": "Risky deals",
                "conditions": {"all": [{"field": "custom.risk", "op": "gt", "value": 3}]},
                "steps": [{"approvers": "owner_manager"}],
            },
        )
        definition_archive(actor=crew["admin"], definition=field)
        process.refresh_from_db()
        assert not process.is_enabled and "Risk" in process.disabled_reason


def test_api_processes_templates_submit_decide_withdraw(world, crew):
    admin = client_for(world.a, crew["tokens"]["admin"])
    rep = client_for(world.a, crew["tokens"]["east_rep"])
    manager = client_for(world.a, crew["tokens"]["east_manager"])
    json = {"content_type": "application/json"}
    assert rep.get("/api/v1/approval-processes/").status_code == 403
    templates = admin.get("/api/v1/approval-processes/templates/").json()
    assert {t["key"] for t in templates} == {"quote_discount", "large_deal"}
    bad = admin.post(
        "/api/v1/approval-processes/",
        {"entity": "deal", "name": "x", "steps": [{"approvers": "nobody"}]},
        **json,
    )
    assert bad.status_code == 400 and "steps.0.approvers" in bad.json()["error"]["fields"]
    made = admin.post("/api/v1/approval-processes/templates/", {"template": "large_deal"}, **json)
    assert made.status_code == 201, made.content
    process = made.json()
    changed = admin.patch(
        f"/api/v1/approval-processes/{process['id']}/", {"remind_after_hours": 4}, **json
    )
    assert changed.json()["remind_after_hours"] == 4
    with tenant_context(world.a.tenant):
        deal = _deal(crew, "API big")
    submitted = rep.post(
        "/api/v1/approvals/submit/", {"record_type": "deal", "record_id": deal.pk}, **json
    )
    assert submitted.status_code == 201, submitted.content
    request = submitted.json()
    assert request["status"] == "pending" and request["approver_ids"] == [crew["east_manager"].pk]
    again = rep.post(
        "/api/v1/approvals/submit/", {"record_type": "deal", "record_id": deal.pk}, **json
    )
    assert again.status_code == 400 and "status" in again.json()["error"]["fields"]
    locked = rep.patch(f"/api/v1/deals/{deal.pk}/", {"name": "nope"}, **json)
    assert locked.status_code == 400
    mine = manager.get("/api/v1/approvals/?status=pending&record_type=deal").json()["results"]
    assert [r["id"] for r in mine if r["record_id"] == deal.pk] == [request["id"]]
    assert mine[0]["can_decide"] is True
    decided = manager.post(
        f"/api/v1/approvals/{request['id']}/decide/", {"approve": True}, **json
    ).json()
    assert decided["step_index"] == 1 and decided["decisions"][0]["approved"] is True
    withdrawn = rep.post(f"/api/v1/approvals/{request['id']}/withdraw/")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "cancelled"
    other = client_for(world.a, crew["tokens"]["west_rep"])  # cannot see east's deal
    hidden = other.post(
        "/api/v1/approvals/submit/", {"record_type": "deal", "record_id": deal.pk}, **json
    )
    assert hidden.status_code == 400 and "record_id" in hidden.json()["error"]["fields"]
    assert other.get(f"/api/v1/approvals/{request['id']}/").status_code == 404
    assert admin.delete(f"/api/v1/approval-processes/{process['id']}/").status_code == 204


def test_pages_build_a_process_and_submit_and_decide_a_deal(world, crew):
    admin = signed_in(world.a, crew["admin"].email)
    page = admin.get("/settings/approval-processes/new/?entity=deal")
    assert page.status_code == 200 and "step-0-approvers" in page.content.decode()
    form = {
        "name": "页面审批 Page approval",
        "entity": "deal",
        "is_enabled": "on",
        "position": "0",
        "remind_after_hours": "24",
        "cond-0-0-field": "amount",
        "cond-0-0-op": "gte",
        "cond-0-0-value": "1000",
        "step-0-approvers": "owner_manager",
        "step-0-mode": "any",
        "step-1-approvers": "users",
        "step-1-users": [str(crew["admin"].pk), str(crew["west_rep"].pk)],
        "step-1-mode": "all",
        "act-0-type": "update_fields",
        "act-0-when": "rejected",
        "act-0-field": "lost_reason",
        "act-0-value": "needs rework",
    }
    grown = admin.post("/settings/approval-processes/new/", {**form, "_change": "add-step"})
    assert "step-2-approvers" in grown.content.decode()
    saved = admin.post("/settings/approval-processes/new/", form)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    with tenant_context(world.a.tenant):
        process = ApprovalProcess.objects.get(name="页面审批 Page approval")
        assert process.steps[1] == {
            "name": "",
            "approvers": "users",
            "users": sorted([crew["admin"].pk, crew["west_rep"].pk]),
            "mode": "all",
        }
        assert process.on_rejected == [
            {"type": "update_fields", "values": {"lost_reason": "needs rework"}}
        ]
        assert process.on_approved == []
        deal = _deal(crew, "Page deal", "5000")
    bad = admin.post("/settings/approval-processes/new/", {**form, "step-0-approvers": "users"})
    assert bad.status_code == 200 and "Choose at least one user." in bad.content.decode()
    edit = admin.get(f"/settings/approval-processes/{process.pk}/").content.decode()
    assert "needs rework" in edit and 'value="rejected" selected' in edit

    rep = signed_in(world.a, crew["east_rep"].email)
    deal_page = rep.get(f"/deals/{deal.pk}/").content.decode()
    assert "Submit for approval" in deal_page
    rep.post(
        "/approvals/submit/",
        {"record_type": "deal", "record_id": deal.pk, "process_id": process.pk,
         "next": f"/deals/{deal.pk}/"},
    )  # fmt: skip
    manager = signed_in(world.a, crew["east_manager"].email)
    waiting = manager.get("/approvals/?mine=1").content.decode()
    assert "Page deal" in waiting
    with tenant_context(world.a.tenant):
        request = approval_pending(record_type="deal", record_id=deal.pk)
    assert "Approve" in manager.get(f"/deals/{deal.pk}/").content.decode()
    manager.post(f"/approvals/{request.pk}/decide/", {"decision": "approve"})
    with tenant_context(world.a.tenant):
        request.refresh_from_db()
        assert request.step_index == 1
        assert sorted(request.approver_ids) == sorted([crew["admin"].pk, crew["west_rep"].pk])
    ja = signed_in(world.a, crew["east_rep"].email)
    ja.cookies["crm_language"] = "ja"
    assert "承認" in ja.get(f"/deals/{deal.pk}/").content.decode()


def test_request_records_in_other_companies_are_out_of_reach(world, crew):
    """B's token sees none of A's requests and cannot submit A's records."""
    with tenant_context(world.a.tenant):
        _large_deal(crew)
        deal = _deal(crew, "A only")
        request = approval_submit(record_type="deal", record=deal, actor=crew["east_rep"])
    b = client_for(world.b, world.b.owner_token)
    assert b.get(f"/api/v1/approvals/{request.pk}/").status_code == 404
    response = b.post(
        "/api/v1/approvals/submit/",
        {"record_type": "deal", "record_id": deal.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    with tenant_context(world.a.tenant):
        assert ApprovalRequest.objects.get(pk=request.pk).status == "pending"


def test_a_lead_waiting_for_approval_is_not_converted_edited_or_deleted(world, crew):
    from crm_core.services.leads import lead_convert, lead_create, lead_delete, lead_update

    with tenant_context(world.a.tenant):
        process_create(
            actor=crew["admin"],
            data={"entity": "lead", "name": "Every lead", "steps": [{"approvers": "role:admin"}]},
        )
        lead = lead_create(actor=crew["east_rep"], data={"name": "待审批 Lead"})
        approval_submit(record_type="lead", record=lead, actor=crew["east_rep"])
        for attempt in (
            lambda: lead_convert(lead=lead, actor=crew["east_rep"]),
            lambda: lead_update(lead=lead, actor=crew["east_rep"], data={"name": "x"}),
            lambda: lead_delete(lead=lead, actor=crew["admin"]),
        ):
            with pytest.raises(ValidationError) as locked:
                attempt()
            assert "status" in locked.value.message_dict
        lead.refresh_from_db()
        assert lead.name == "待审批 Lead" and lead.status != "converted"
