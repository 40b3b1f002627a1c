"""A real browser: a rep builds a quote from a deal with a discount above the limit,
cannot send it, requests approval; a manager approves; the rep sends it and the worker
e-mails the PDF."""

import time
import uuid

import pytest

from accounts.models import Team, User
from accounts.roles import Role
from tests.browser import in_company
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _deal_with_a_priced_product():
    from crm_core.models import Customer, Deal
    from crm_core.records import name_key
    from crm_core.services.pipelines import pipeline_ensure_default
    from crm_core.services.products import price_list_item_set, price_list_save, product_save

    tag = uuid.uuid4().hex[:8]
    team = Team.objects.create(name=f"Quotes {tag}")
    manager = User.objects.create_user(
        f"q-manager-{tag}@alpha.example.com", PASSWORD, full_name="审批 经理",
        role=Role.MANAGER, team=team,
    )  # fmt: skip
    team.manager = manager
    team.save()
    rep = User.objects.create_user(
        f"q-rep-{tag}@alpha.example.com", PASSWORD, full_name="报价 销售",
        role=Role.SALES_REP, team=team,
    )  # fmt: skip
    customer = Customer.objects.create(
        name=f"浏览器客户 {tag}", name_key=name_key(f"浏览器客户 {tag}"), owner=rep, team=team,
        email=f"buyer-{tag}@customer.example.com",
    )  # fmt: skip
    pipeline = pipeline_ensure_default()
    deal = Deal.objects.create(
        name=f"报价商机 {tag}", customer=customer, pipeline=pipeline,
        stage=pipeline.stages.first(), owner=rep, team=team, currency="CNY",
    )  # fmt: skip
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()
    product = product_save(actor=admin, data={"code": f"BR-{tag}", "name": "浏览器产品"})
    prices = price_list_save(actor=admin, data={"name": f"Browser {tag}", "currency": "CNY"})
    price_list_item_set(actor=admin, price_list=prices, product=product, unit_price=250)
    return {
        "rep": rep.email,
        "manager": manager.email,
        "deal": deal.pk,
        "product": product.pk,
        "customer_email": customer.email,
    }


def _sign_in(page, live_web, host, email):
    page.goto(live_web.url(host, "/accounts/login/"))
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_web.url(host, "/"))


def test_quote_approval_then_send(page, browser, live_web, world, committed, mail_dir):
    data = in_company(world.a.tenant, _deal_with_a_priced_product)
    host = world.a.host
    _sign_in(page, live_web, host, data["rep"])

    page.goto(live_web.url(host, f"/deals/{data['deal']}/"))
    page.click("text=New quote")
    page.select_option("#id_lines-0-product", str(data["product"]))
    page.fill("#id_lines-0-quantity", "4")
    page.fill("#id_total_discount_percent", "25")
    page.press("#id_total_discount_percent", "Tab")  # a change: htmx shows the totals
    page.wait_for_function("document.querySelector('.preview-total')?.innerText.includes('750.00')")
    page.click("button:has-text('Save')")
    page.wait_for_url("**/quotes/*/")
    quote_url = page.url
    assert "750.00" in page.locator(".quote-total").inner_text()  # 1000 - 25%

    # Above the limit: sending is refused until a manager approves.
    page.click("button:has-text('Send')")
    assert "approval" in page.locator(".flash").inner_text()
    page.click("button:has-text('Request approval')")
    assert page.locator(".quote-status").inner_text() == "pending approval"
    page.click("button:has-text('Send')")
    assert "approval" in page.locator(".flash").inner_text()

    manager = browser.new_context(locale="en-US").new_page()
    _sign_in(manager, live_web, host, data["manager"])
    manager.goto(live_web.url(host, "/approvals/"))
    manager.fill("input[name=comment]", "OK for this customer")
    manager.click("button:has-text('Approve')")
    assert "Approved." in manager.locator(".flash").inner_text()
    manager.context.close()

    page.goto(quote_url)
    assert page.locator(".quote-status").inner_text() == "approved"
    page.click("button:has-text('Send')")
    assert page.locator(".quote-status").inner_text() == "sent"

    # The worker runs the outbox: the customer gets the PDF.
    deadline = time.monotonic() + 60
    while not [
        path for path in mail_dir.glob("*.log") if data["customer_email"] in path.read_text()
    ]:
        assert time.monotonic() < deadline, "the quote e-mail was not sent"
        time.sleep(0.5)
    message = next(
        path.read_text() for path in mail_dir.glob("*.log")
        if data["customer_email"] in path.read_text()
    )  # fmt: skip
    assert "application/pdf" in message
