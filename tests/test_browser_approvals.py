"""A real browser builds an approval process with two steps (htmx adds the step and shows
the user picker in place), then a rep submits a deal from its page and the manager
approves the first step there."""

from decimal import Decimal

import pytest

from accounts.models import Team, User
from accounts.roles import Role
from crm_core.models import ApprovalRequest, Deal, Pipeline
from customization.approvals.models import ApprovalProcess
from tests.browser import in_company
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _sign_in(page, live_web, host, email):
    page.context.clear_cookies()
    page.goto(live_web.url(host, "/accounts/login/"))
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_web.url(host, "/"))


def test_browser_builds_a_process_and_a_deal_goes_through_it(page, world, live_web, committed):
    def setup():
        team = Team.objects.create(name="Approvals browser team")
        make = User.objects.create_user
        people = {
            "admin": make("ap-admin@alpha.example.com", PASSWORD, role=Role.ADMIN),
            "manager": make(
                "ap-manager@alpha.example.com", PASSWORD, role=Role.MANAGER, team=team,
                full_name="审批 经理",
            ),
            "rep": make("ap-rep@alpha.example.com", PASSWORD, role=Role.SALES_REP, team=team),
            "director": make(
                "ap-director@alpha.example.com", PASSWORD, role=Role.MANAGER,
                full_name="Director 部長",
            ),
        }  # fmt: skip
        team.manager = people["manager"]
        team.save()
        pipeline = Pipeline.objects.create(name="Approvals browser pipeline", position=98)
        stage = pipeline.stages.create(name="Qualify", position=1, probability=10)
        deal = Deal.objects.create(
            name="浏览器 Browser deal", pipeline=pipeline, stage=stage, owner=people["rep"],
            team=team, amount=Decimal("800000"),
        )  # fmt: skip
        return people, pipeline, deal, team

    people, pipeline, deal, team = in_company(world.a.tenant, setup)
    host = world.a.host

    def settle():
        page.wait_for_function(
            "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
        )

    try:
        _sign_in(page, live_web, host, people["admin"].email)
        page.goto(live_web.url(host, "/settings/approval-processes/new/"))
        page.fill("#process-name", "Browser large deals")
        page.evaluate("window.__no_reload = true")
        page.select_option("select[name=cond-0-0-field]", "amount")
        settle()
        page.locator("select[name=cond-0-0-op] option[value=gte]").wait_for(state="attached")
        settle()
        page.select_option("select[name=cond-0-0-op]", "gte")
        page.fill("input[name=cond-0-0-value]", "500000")
        page.fill("input[name=step-0-name]", "Manager")
        page.click("button:has-text('Add step')")
        settle()
        page.locator("#step-1-approvers").wait_for()
        settle()
        page.select_option("#step-1-approvers", "users")  # htmx shows the user picker
        settle()
        page.locator("select[name=step-1-users]").wait_for()
        settle()
        page.select_option("select[name=step-1-users]", [str(people["director"].pk)])
        assert page.evaluate("window.__no_reload") is True
        page.click("button.save")
        page.locator(".flash", has_text="Approval process created").wait_for()

        def saved():
            process = ApprovalProcess.objects.get(name="Browser large deals")
            return process.conditions, process.steps

        conditions, steps = in_company(world.a.tenant, saved)
        assert conditions == {"all": [{"field": "amount", "op": "gte", "value": "500000"}]}
        assert [s["approvers"] for s in steps] == ["owner_manager", "users"]
        assert steps[1]["users"] == [people["director"].pk]

        _sign_in(page, live_web, host, people["rep"].email)
        page.goto(live_web.url(host, f"/deals/{deal.pk}/"))
        page.click("button:has-text('Submit for approval')")
        page.locator(".approval-panel", has_text="Locked while it waits").wait_for()

        _sign_in(page, live_web, host, people["manager"].email)
        page.goto(live_web.url(host, f"/deals/{deal.pk}/"))
        page.fill(".approval-panel textarea[name=comment]", "看过了 fine")
        page.click(".approval-panel button[value=approve]")
        page.locator(".approval-panel li.current", has_text="Director 部長").wait_for()

        def state():
            request = ApprovalRequest.objects.get(record_type="deal", record_id=deal.pk)
            return request.status, request.step_index, request.approver_ids

        assert in_company(world.a.tenant, state) == ("pending", 1, [people["director"].pk])
    finally:

        def cleanup():
            ApprovalRequest.objects.filter(record_type="deal", record_id=deal.pk).delete()
            ApprovalProcess.objects.filter(name="Browser large deals").delete()
            Deal.objects.filter(pk=deal.pk).delete()
            pipeline.delete()
            User.objects.filter(pk__in=[p.pk for p in people.values()]).delete()
            team.delete()

        in_company(world.a.tenant, cleanup)
