"""A real browser: an administrator adds a picklist to customers in Settings; the form,
the record page and the list's field filter then use it."""

import pytest

from accounts.models import User
from crm_core.models import Customer
from customization.models import DefinitionChange, FieldDefinition
from tests.browser import in_company
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_admin_adds_a_picklist_and_uses_it_everywhere(page, world, live_web, committed):
    host = world.a.host
    try:
        page.goto(live_web.url(host, "/accounts/login/"))
        page.fill("#id_username", world.a.owner_email)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(live_web.url(host, "/"))
        page.click("details.usermenu summary")
        page.click("details.usermenu >> text=Custom fields")
        page.wait_for_url("**/settings/fields/**")
        page.fill("#id_api_name", "browser_segment")
        page.fill("#id_label", "Browser segment")
        page.select_option("#id_field_type", "picklist")
        page.fill("#id_choices", "smb | Small business | #22aa22\nent | Enterprise | #aa2222")
        page.click("text=Create field")
        page.locator("#field-rows", has_text="browser_segment").wait_for()

        page.goto(live_web.url(host, "/customers/new/"))
        page.fill("#id_name", "Browser picklist customer")
        page.select_option("select[name='custom_fields.browser_segment']", "ent")
        page.click("button[type=submit] >> text=Save")
        page.locator("h1", has_text="Browser picklist customer").wait_for()
        badge = page.locator(".custom-fields .badge", has_text="Enterprise")
        assert badge.get_attribute("style") == "background: #aa2222"

        page.goto(live_web.url(host, "/customers/"))
        page.select_option("select[name=ff]", "browser_segment")
        page.select_option("select[name=fo]", "eq")
        page.fill("input[name=fv]", "ent")
        page.click("text=Apply")
        page.wait_for_url("**fv=ent**")
        rows = page.locator("#customer-rows tbody tr")
        assert rows.count() == 1 and "Browser picklist customer" in rows.first.inner_text()
    finally:

        def cleanup():
            Customer.objects.filter(name="Browser picklist customer").delete()
            FieldDefinition.objects.filter(api_name="browser_segment").delete()
            DefinitionChange.objects.filter(api_name="browser_segment").delete()
            assert User.objects.filter(email=world.a.owner_email).exists()

        in_company(world.a.tenant, cleanup)
