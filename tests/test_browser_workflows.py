"""A real browser builds a workflow rule with the no-code builder: htmx re-renders the
form in place as the trigger, fields and actions are chosen; nothing is typed as JSON."""

import pytest

from accounts.models import User
from accounts.roles import Role
from crm_core.models import Pipeline
from customization.workflows.models import WorkflowRule
from tests.browser import in_company
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_browser_builds_a_rule_without_typing_json(page, world, live_web, committed):
    def setup():
        admin = User.objects.create_user(
            "wf-browser@alpha.example.com", PASSWORD, role=Role.ADMIN, full_name="WF Admin"
        )
        pipeline = Pipeline.objects.create(name="Browser WF pipeline", position=99)
        stage = pipeline.stages.create(name="谈判 Negotiation", position=3, probability=80)
        return admin, pipeline, stage

    admin, pipeline, stage = in_company(world.a.tenant, setup)
    try:
        host = world.a.host
        page.goto(live_web.url(host, "/accounts/login/"))
        page.fill("#id_username", admin.email)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(live_web.url(host, "/"))
        page.goto(live_web.url(host, "/settings/workflows/new/"))
        page.fill("#rule-name", "Browser big deals")
        page.evaluate("window.__no_reload = true")

        def settle():
            # The builder's htmx re-render has landed and htmx has wired up the new form
            # (a change made before that would reach no handler).
            page.wait_for_function(
                "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
            )

        page.select_option("#trigger-type", "stage_entered")  # htmx shows the stage picker
        settle()
        page.locator("#trigger-stage").wait_for()
        settle()
        page.select_option("#trigger-stage", str(stage.pk))
        page.select_option("select[name=cond-0-0-field]", "amount")
        settle()
        page.locator("select[name=cond-0-0-op] option[value=gte]").wait_for(state="attached")
        settle()
        page.select_option("select[name=cond-0-0-op]", "gte")
        page.fill("input[name=cond-0-0-value]", "500000")
        page.select_option("#act-0-type", "create_task")
        settle()
        page.locator("select[name=act-0-assignee]").wait_for()
        settle()
        page.select_option("select[name=act-0-assignee]", "owner_manager")
        page.fill("input[name=act-0-subject-en]", "Review {name}")
        page.fill("input[name=act-0-subject-ja]", "{name} をレビュー")
        page.click("button:has-text('Add action')")
        settle()
        page.locator("#act-1-type").wait_for()
        settle()
        page.select_option("#act-1-type", "notify")
        settle()
        page.locator("input[name=act-1-title-en]").wait_for()
        settle()
        page.fill("input[name=act-1-title-en]", "Big deal {name}")
        assert page.evaluate("window.__no_reload") is True  # all of it without a page load
        page.click("button.save")
        page.locator(".flash", has_text="Rule created").wait_for()

        def saved():
            rule = WorkflowRule.objects.get(name="Browser big deals")
            return (
                rule.current_version.trigger,
                rule.current_version.conditions,
                [a["type"] for a in rule.current_version.actions],
            )

        trigger, conditions, actions = in_company(world.a.tenant, saved)
        assert trigger == {"type": "stage_entered", "stage": stage.pk}
        assert conditions == {"all": [{"field": "amount", "op": "gte", "value": "500000"}]}
        assert actions == ["create_task", "notify"]
    finally:

        def cleanup():
            WorkflowRule.objects.filter(name="Browser big deals").delete()
            pipeline.delete()
            User.objects.filter(pk=admin.pk).delete()

        in_company(world.a.tenant, cleanup)
