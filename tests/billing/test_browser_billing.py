"""A company administrator's Billing page in a real browser: add a card, see the invoice."""

import pytest

from tests.conftest import PASSWORD

from .conftest import new_company
from .test_browser_console import _in_thread

pytestmark = pytest.mark.browser


def test_admin_adds_a_card_on_the_billing_page(page, live_web, billing):
    def setup():
        account = new_company("pay")
        return account.tenant, account.plan.price_display

    tenant, price = _in_thread(setup)
    page.goto(live_web.url(tenant.host, "/accounts/login/"))
    page.fill("#id_username", f"owner@{tenant.subdomain}.example.com")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_web.url(tenant.host, "/"))
    page.click("details.usermenu summary")
    page.click("details.usermenu >> text=Billing")
    page.wait_for_url("**/settings/billing/")
    assert page.locator("#billing-status").inner_text() == "free trial"
    assert page.locator("#payment-method").inner_text() == "No card yet"
    assert "No invoices yet." in page.locator("#invoices").inner_text()

    page.click("#add-card")
    page.locator(".flash").wait_for()
    assert page.locator("#billing-status").inner_text() == "active"
    assert page.locator("#payment-method").inner_text() == "visa •••• 4242"
    rows = page.locator("#invoices tbody tr")
    assert rows.count() == 1 and "paid" in rows.first.inner_text()
    assert price.split()[0] in rows.first.inner_text()

    page.click("#cancel-subscription")
    page.locator(".flash").wait_for()
    assert "The subscription ends on" in page.locator("#billing-summary").inner_text()
