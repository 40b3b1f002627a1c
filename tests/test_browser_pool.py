"""A real browser claims a lead from the public pool in place (htmx, no page load)."""

import pytest

from accounts.models import User
from accounts.roles import Role
from crm_core.models import FieldChange, Lead, PoolMove
from tests.browser import in_company
from tests.conftest import PASSWORD
from tests.crm_core.test_pool import _lead

pytestmark = pytest.mark.browser


def test_browser_claims_from_the_pool_without_a_page_load(page, world, live_web, committed):
    def setup():
        rep = User.objects.create_user(
            "pool-browser@alpha.example.com", PASSWORD, role=Role.SALES_REP, full_name="Pool Rep"
        )
        return rep, _lead(name="ブラウザ公海リード"), _lead(name="Other pooled lead")

    rep, lead, other = in_company(world.a.tenant, setup)
    try:
        host = world.a.host
        page.goto(live_web.url(host, "/accounts/login/"))
        page.fill("#id_username", rep.email)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(live_web.url(host, "/"))
        page.click("nav.mainnav >> text=Public pool")
        page.fill("form.filters input[name=q]", "公海リ")  # htmx live search narrows the rows
        page.locator("#pool-rows tr", has_text="Other pooled lead").wait_for(state="detached")
        page.evaluate("window.__no_reload = true")
        row = page.locator(f"#pool-lead-{lead.pk}")
        row.locator("button", has_text="Claim").click()
        message = page.locator(f"#pool-lead-{lead.pk} .row-message")
        message.wait_for()
        assert "is yours now" in message.inner_text()
        assert page.evaluate("window.__no_reload") is True
        owner = in_company(world.a.tenant, lambda: Lead.objects.get(pk=lead.pk).owner_id)
        assert owner == rep.pk
    finally:

        def cleanup():
            ids = [lead.pk, other.pk]
            PoolMove.objects.filter(record_type="lead", record_id__in=ids).delete()
            FieldChange.objects.filter(record_type="lead", record_id__in=ids).delete()
            Lead.objects.filter(pk__in=ids).delete()
            User.objects.filter(pk=rep.pk).delete()

        in_company(world.a.tenant, cleanup)
