"""A real browser: an admin adds an endpoint, copies its secret, sends a test event and
sees it delivered in the log; the receiver verifies the signature with that secret."""

import time

import pytest
from standardwebhooks import Webhook

from tests.browser import in_company
from tests.conftest import PASSWORD
from webhooks.models import Endpoint

pytestmark = pytest.mark.browser


def test_browser_endpoint_secret_test_event_and_log(page, world, live_web, committed, receiver):
    host = world.a.host
    try:
        page.goto(live_web.url(host, "/accounts/login/"))
        page.fill("#id_username", world.a.owner_email)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(live_web.url(host, "/"))
        page.click("details.usermenu summary")
        page.click("details.usermenu >> text=Webhooks")
        page.fill("#id_url", receiver.url)
        page.fill("#id_description", "ERP ブラウザ")
        page.check("input[name=event_types][value='customer.created']")
        page.click("button:has-text('Create endpoint')")
        secret = page.locator("#new-secret").inner_text().strip()
        assert secret.startswith("whsec_")
        page.click(f"a:has-text('{receiver.url}')")
        page.click("button:has-text('Send test event')")
        page.locator(".flash", has_text="Test event queued").wait_for()
        page.click("a:has-text('Delivery log')")
        deadline = time.monotonic() + 30
        while "succeeded" not in page.locator("table.deliveries").inner_text():
            assert time.monotonic() < deadline, "the test event was not delivered"
            time.sleep(0.5)
            page.reload()
        [request] = receiver.received
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "webhook.test"
        page.click("table.deliveries >> text=webhook.test")
        assert "200" in page.locator("table.attempts").inner_text()
    finally:
        in_company(world.a.tenant, lambda: Endpoint.objects.filter(url=receiver.url).delete())
