"""The operator console in a real browser: sign in, find a company, act on it, metrics."""

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from tests.conftest import PASSWORD

from .conftest import new_company

pytestmark = pytest.mark.browser


def _in_thread(work):
    """Database work outside Playwright's event-loop thread (see tests/browser.py)."""

    def run():
        try:
            return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def test_operator_console_in_a_browser(page, live_web, billing):
    from accounts.models import User
    from billing.models import BillingAccount, OperatorAction

    email = f"op{secrets.token_hex(3)}@example.com"

    def setup():
        User.objects.create_superuser(email, PASSWORD, full_name="Console Operator")
        account = new_company("brow")
        return account, account.tenant

    account, tenant = _in_thread(setup)
    page.goto(live_web.url("localhost", "/console/"))
    page.wait_for_url("**/admin/login/**")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_web.url("localhost", "/console/"))

    page.fill("#q", tenant.subdomain)
    page.click("#console-filters button[type=submit]")
    rows = page.locator("#tenants tbody tr")
    assert rows.count() == 1 and tenant.name in rows.first.inner_text()
    rows.first.locator("a").click()
    page.wait_for_url(f"**/console/tenants/{tenant.pk}/")
    assert page.locator("#subscription-status").inner_text() == "free trial"

    page.fill("#days", "7")
    page.click("#extend-trial")
    page.locator(".flash").wait_for()
    assert "extend_trial" in page.locator("#tenant-audit").inner_text()
    page.click("#suspend")
    page.locator("#reactivate").wait_for()
    assert page.locator("#tenant-status").inner_text() == "suspended"

    def check():
        fresh = BillingAccount.objects.get(pk=account.pk)
        actions = list(
            OperatorAction.objects.filter(tenant=tenant).values_list("action", flat=True)
        )
        return fresh.trial_ends_at, sorted(actions)

    trial_end, actions = _in_thread(check)
    assert (trial_end - account.trial_ends_at).days == 7
    assert actions == ["extend_trial", "suspend"]

    page.click("text=Metrics")
    page.wait_for_url("**/console/metrics/")
    assert page.locator("svg.chart").count() == 6
