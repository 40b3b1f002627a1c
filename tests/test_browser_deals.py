"""A real browser drags a deal card on the kanban board to another stage.

Same launch pattern as tests/test_browser.py (Playwright + Debian's Chromium; skipped
locally without Chromium, required in CI with CRM_REQUIRE_BROWSER=1).
"""

import pytest

from accounts.models import User
from accounts.roles import Role
from tests.browser import in_company
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _board_with_a_deal():
    from crm_core.services.deals import deal_create
    from crm_core.services.pipelines import pipeline_create

    rep = User.objects.create_user(
        "kanban-rep@alpha.example.com", PASSWORD, full_name="看板 销售", role=Role.SALES_REP
    )
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()
    pipeline = pipeline_create(actor=admin, data={"name": "Kanban browser pipeline"})
    deal = deal_create(
        actor=rep, data={"name": "拖拽测试商机", "pipeline": pipeline, "amount": "8800"}
    )
    stages = {stage.name: stage.pk for stage in pipeline.stages.all()}
    return rep.email, pipeline.pk, deal.pk, stages


def test_dragging_a_card_moves_the_deal(page, live_web, world, committed):
    email, pipeline_id, deal_id, stages = in_company(world.a.tenant, _board_with_a_deal)
    host = world.a.host
    page.goto(live_web.url(host, "/accounts/login/"))
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_web.url(host, "/"))

    page.goto(live_web.url(host, f"/deals/?pipeline={pipeline_id}"))
    card = page.locator(f"#deal-{deal_id}")
    assert card.get_attribute("data-stage") == str(stages["Qualification"])
    page.evaluate("window.__no_reload = true")
    target = page.locator(f'.kanban-col[data-stage="{stages["Negotiation"]}"]')
    card.drag_to(target)
    # htmx swaps the board: the card now sits in the Negotiation column, no page load.
    moved = target.locator(f"#deal-{deal_id}")
    moved.wait_for()
    assert page.evaluate("window.__no_reload") is True
    assert "1 deal" in target.locator(".count").inner_text()

    def stage_of_deal():
        from crm_core.models import Deal

        deal = Deal.objects.select_related("stage").get(pk=deal_id)
        return deal.stage.name, deal.stage_changes.count()

    assert in_company(world.a.tenant, stage_of_deal) == ("Negotiation", 2)

    # The lost column asks for the lost reason.
    page.once("dialog", lambda dialog: dialog.accept("预算不足"))
    lost = page.locator(f'.kanban-col[data-stage="{stages["Lost"]}"]')
    page.locator(f"#deal-{deal_id}").drag_to(lost)
    lost.locator(f"#deal-{deal_id}").wait_for()

    def lost_reason():
        from crm_core.models import Deal

        return Deal.objects.get(pk=deal_id).lost_reason

    assert in_company(world.a.tenant, lost_reason) == "预算不足"
