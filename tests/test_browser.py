"""A real browser (Playwright driving Debian's Chromium) against a real web server.

Locally these tests are skipped when Chromium is missing; CI sets CRM_REQUIRE_BROWSER=1
(and installs Chromium), so there a missing browser fails instead.
"""

import time

import pytest

from accounts.models import User
from tests.browser import in_company
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_signup_lands_logged_in_on_the_company_host(page, live_web, committed):
    page.goto(live_web.url("localhost", "/"))
    page.fill("#id_company_name", "Browser 株式会社")
    page.fill("#id_subdomain", "browser-co")
    page.fill("#id_email", "founder@browser.example.com")
    page.fill("#id_password", PASSWORD)
    started = time.monotonic()
    page.click("button[type=submit]")
    page.wait_for_url(f"http://browser-co.localhost:{live_web.port}/")
    elapsed = time.monotonic() - started
    # On the company's own host, signed in, inside the CRM shell.
    assert page.locator("h1").inner_text().startswith("Welcome")
    assert page.locator(".brand").inner_text() == "Browser 株式会社"
    assert "Free trial" in page.locator(".banner").inner_text()
    page.click(".usermenu summary")
    assert page.locator(".usermenu >> text=Users").is_visible()
    assert elapsed < 5, f"signup to CRM took {elapsed:.2f}s"
    # The session cookie belongs to the company host only.
    cookies = page.context.cookies()
    session = next(c for c in cookies if c["name"] == "sessionid")
    assert session["domain"] == "browser-co.localhost"


def test_signup_errors_are_shown_next_to_the_fields(page, live_web, committed):
    page.goto(live_web.url("localhost", "/"))
    page.fill("#id_company_name", "Err Co")
    page.fill("#id_subdomain", "www")
    page.fill("#id_email", "someone@example.com")
    page.fill("#id_password", "123")
    page.click("button[type=submit]")
    errors = page.locator(".errorlist").all_inner_texts()
    assert any("reserved" in e for e in errors)
    assert any("password" in e.lower() for e in errors)
    assert page.url.startswith(live_web.url("localhost", "/"))


def test_owner_invites_a_colleague_and_switches_language(page, live_web, world, committed):
    colleague = in_company(
        world.a.tenant, lambda: User.objects.create_user("role-change@alpha.example.com", PASSWORD)
    )
    host = world.a.host
    page.goto(live_web.url(host, "/accounts/login/"))
    page.fill("#id_username", world.a.owner_email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_web.url(host, "/"))
    page.click(".usermenu summary")
    page.click(".usermenu >> text=Users")
    page.fill("#id_email", "colleague-browser@example.com")
    page.select_option("#id_role", "manager")
    page.click("#invite-form button[type=submit]")
    assert "Invitation sent" in page.locator(".flash").inner_text()
    assert page.locator("td", has_text="colleague-browser@example.com").is_visible()

    # Change a colleague's role in place (htmx swaps the row; no page load).
    row = page.locator("tr", has_text=colleague.email)
    page.evaluate("window.__no_reload = true")
    row.locator("select[name=role]").select_option("manager")
    row.locator("button", has_text="Save").click()
    status = page.locator("tr", has_text=colleague.email).locator(".row-message")
    status.wait_for()
    assert "Saved" in status.inner_text()
    assert page.evaluate("window.__no_reload") is True
    role = in_company(world.a.tenant, lambda: User.objects.get(pk=colleague.pk).role)
    assert role == "manager"

    with page.expect_navigation():
        page.select_option("#language-select", "zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("h1").inner_text() == "用户"
    with page.expect_navigation():
        page.select_option("#language-select", "ja")
    assert page.locator("h1").inner_text() == "ユーザー"
    with page.expect_navigation():  # leave the owner's saved language as it was
        page.select_option("#language-select", "en")


def test_the_shell_fits_a_phone(browser, live_web, world, committed):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    page.goto(live_web.url(world.b.host, "/accounts/login/"))
    page.fill("#id_username", world.b.owner_email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_web.url(world.b.host, "/"))
    nav = page.locator("nav.mainnav")
    assert not nav.is_visible()  # folded behind the menu button
    page.click("label.nav-toggle-label")
    assert nav.is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways on a phone"
    context.close()
