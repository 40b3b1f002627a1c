"""A real browser imports a CSV: upload, map columns, watch the progress bar reach done
(htmx polling, a real Celery worker) and read the per-row error report."""

import pytest

from tests.browser import in_company
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_upload_a_csv_and_watch_it_finish_with_an_error_report(browser, live_web, world, committed):
    from crm_core.models import Customer, ImportJob

    rows = ["客户名称,邮箱,电话"]
    rows += [f"浏览器导入 {i},b{i}@browser-import.example,+86 138 0000 {i:04d}" for i in range(500)]
    rows.append("浏览器导入 坏行,not-an-email,")
    csv_file = ("\n".join(rows) + "\n").encode("utf-8")
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(live_web.url(world.a.host, "/accounts/login/"))
        page.fill("#id_username", world.a.owner_email)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(live_web.url(world.a.host, "/"))
        page.click("nav.mainnav >> text=Import")
        page.set_input_files(
            "#id_file", {"name": "客户.csv", "mimeType": "text/csv", "buffer": csv_file}
        )
        page.select_option("#id_entity", "customer")
        page.select_option("#id_mode", "skip_bad_rows")
        page.click("text=Upload and map columns")
        # The mapping step guessed the Chinese headers.
        assert page.locator("h1").inner_text() == "Map columns"
        assert page.locator("#id_column_0").input_value() == "name"
        assert page.locator("#id_column_1").input_value() == "email"
        assert page.locator("#id_column_2").input_value() == "phone"
        page.click("text=Start import")
        page.locator('#import-progress[data-status="done"]').wait_for(timeout=30_000)
        assert page.locator("progress").get_attribute("value") == "100"
        assert page.locator(".created-rows").inner_text() == "500"
        assert page.locator(".error-rows").inner_text() == "1"
        report = page.locator("table.import-errors")
        assert "502" in report.inner_text() and "e-mail" in report.inner_text()
        assert page.locator("text=Download every error (CSV)").is_visible()
    finally:
        context.close()

        def cleanup():
            Customer.objects.filter(name__startswith="浏览器导入").delete()
            ImportJob.objects.filter(file_name="客户.csv").delete()

        in_company(world.a.tenant, cleanup)
