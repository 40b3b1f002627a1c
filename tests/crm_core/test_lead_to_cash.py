"""Lead to cash end to end through the API: deal -> quote (lines, totals, discount
approval gating, PDF by e-mail) -> contract (review) -> order -> partial delivery ->
invoice with instalments -> partial and over-payments -> overdue, collections, summary."""

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context
from pypdf import PdfReader

from accounts.models import User
from accounts.roles import Role
from crm_core.models import (
    ApprovalRequest,
    Contract,
    Deal,
    Instalment,
    Invoice,
    Notification,
    Order,
    Quote,
)
from crm_core.selectors.collections import (
    ageing,
    collections_list,
    customer_overdue,
    deal_overdue,
    sales_summary,
)
from crm_core.services.collections import lead_to_cash_sweep, payment_reminders
from crm_core.services.products import (
    price_list_item_set,
    price_list_save,
    product_save,
    sales_settings_update,
)
from crm_platform.outbox.models import OutboxEvent
from crm_platform.outbox.services import outbox_dispatch_pending
from tests.conftest import client_for, signed_in
from tests.crm_core.test_deals import make_crew

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def sales(world):
    """Company A: the deals crew, a deal of the east rep (collections owner: east rep 2),
    a product priced 100.00 CNY in a general price list, approval limit 10%, tax 13%."""
    crew = make_crew(world)
    with tenant_context(world.a.tenant):
        admin = crew["admin"]
        sales_settings_update(actor=admin, data={"default_tax_rate": D("13")})
        product = product_save(
            actor=admin, data={"code": "SKU-1", "name": "软件许可 License", "unit": "seat"}
        )
        price_list = price_list_save(actor=admin, data={"name": "List 2026", "currency": "CNY"})
        price_list_item_set(actor=admin, price_list=price_list, product=product, unit_price=D(100))
        customer = crew["customers"]["east_rep"]
        customer.email = "buyer@customer.example.com"
        customer.save()
        deal = Deal.objects.create(
            name="Big deal",
            customer=customer,
            pipeline=crew["pipeline"],
            stage=crew["stages"]["Won"]
            if "Won" in crew["stages"]
            else crew["pipeline"].stages.first(),
            owner=crew["east_rep"],
            team=crew["east_rep"].team,
            currency="CNY",
            collections_owner=crew["east_rep2"],
        )
    crew.update(product=product, price_list=price_list, deal=deal, customer=customer)
    return crew


def api(world, crew, who):
    return client_for(world.a, crew["tokens"][who])


def _quote_input(sales, **extra):
    return {
        "deal_id": sales["deal"].pk,
        "lines": [
            {"product_id": sales["product"].pk, "quantity": "10", "discount_percent": "5"},
            {
                "description": "安装 Installation",
                "quantity": "1",
                "unit_price": "50",
                "tax_rate": "6",
            },
        ],  # fmt: skip
        "total_discount_percent": "10",
        **extra,
    }


def test_the_whole_path_from_deal_to_cash(world, sales, django_capture_on_commit_callbacks):
    rep = api(world, sales, "east_rep")
    manager = api(world, sales, "east_manager")

    # A quote from the deal: prices from the price list, exact totals.
    response = rep.post("/api/v1/quotes/", _quote_input(sales), content_type="application/json")
    assert response.status_code == 201, response.json()
    quote = response.json()
    assert quote["customer_id"] == sales["customer"].pk and quote["currency"] == "CNY"
    assert quote["number"].startswith("Q-") and quote["version"] == 1
    assert [line["net_amount"] for line in quote["lines"]] == ["950.000", "50.000"]
    # subtotal 1000, -10% = 900 (855 + 45 taxable); tax 111.15 + 2.70.
    assert (D(quote["subtotal"]), D(quote["total_discount"])) == (D(1000), D(100))
    assert D(quote["tax_amount"]) == D("113.85")
    assert D(quote["total"]) == D("1013.85")
    assert D(quote["effective_discount_percent"]) == D("14.2857")  # (1050 - 900) / 1050
    qid = quote["id"]

    # Above the 10% limit: it cannot be sent before a manager approves.
    response = rep.post(f"/api/v1/quotes/{qid}/send/", {}, content_type="application/json")
    assert response.status_code == 400 and "status" in response.json()["error"]["fields"]
    response = rep.post(f"/api/v1/quotes/{qid}/submit/")
    assert response.json()["status"] == "pending_approval"
    response = rep.post(f"/api/v1/quotes/{qid}/send/", {}, content_type="application/json")
    assert response.status_code == 400
    # Locked while pending.
    response = rep.patch(f"/api/v1/quotes/{qid}/", {"terms": "x"}, content_type="application/json")
    assert response.status_code == 400
    approvals = manager.get("/api/v1/approvals/?status=pending").json()["results"]
    approval = next(a for a in approvals if a["record_type"] == "quote" and a["record_id"] == qid)
    assert approval["can_decide"] is True
    assert rep.post(
        f"/api/v1/approvals/{approval['id']}/decide/", {"approve": True},
        content_type="application/json",
    ).status_code == 403  # fmt: skip
    response = manager.post(
        f"/api/v1/approvals/{approval['id']}/decide/",
        {"approve": True, "comment": "ok"},
        content_type="application/json",
    )
    assert response.json()["status"] == "approved"
    assert rep.get(f"/api/v1/quotes/{qid}/").json()["status"] == "approved"

    # Sent: the PDF goes by e-mail after commit, through the outbox.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False):
        response = rep.post(f"/api/v1/quotes/{qid}/send/", {}, content_type="application/json")
    assert response.json()["status"] == "sent"
    with tenant_context(world.a.tenant):
        assert OutboxEvent.objects.filter(event_type="quote.sent", aggregate_id=str(qid)).exists()
        outbox_dispatch_pending()
        outbox_dispatch_pending()  # a second run sends nothing twice
    sent = [m for m in mail.outbox if m.to == ["buyer@customer.example.com"]]
    assert len(sent) == 1
    name, content, mimetype = sent[0].attachments[0]
    assert mimetype == "application/pdf" and name.endswith(".pdf")
    assert quote["number"] in PdfReader(io.BytesIO(content)).pages[0].extract_text()

    # Accepted -> contract -> review -> active -> order.
    assert rep.post(f"/api/v1/quotes/{qid}/accept/").json()["status"] == "accepted"
    contract = rep.post(
        f"/api/v1/quotes/{qid}/contract/",
        {"end_date": "2027-12-31", "renewal_date": "2027-11-30"},
        content_type="application/json",
    ).json()
    assert contract["status"] == "draft" and D(contract["value"]) == D("1013.85")
    again = rep.post(f"/api/v1/quotes/{qid}/contract/")
    assert again.status_code == 400 and "quote_id" in again.json()["error"]["fields"]
    assert rep.post(f"/api/v1/contracts/{contract['id']}/submit/").json()["status"] == (
        "under_review"
    )
    with tenant_context(world.a.tenant):
        review = ApprovalRequest.objects.get(record_type="contract", record_id=contract["id"])
    manager.post(
        f"/api/v1/approvals/{review.pk}/decide/", {"approve": True},
        content_type="application/json",
    )  # fmt: skip
    assert rep.get(f"/api/v1/contracts/{contract['id']}/").json()["status"] == "active"
    order = rep.post(f"/api/v1/contracts/{contract['id']}/order/").json()
    assert D(order["total"]) == D("1013.85") and len(order["lines"]) == 2
    assert order["contract_id"] == contract["id"] and order["deal_id"] == sales["deal"].pk

    # A partial delivery.
    first_line = order["lines"][0]["id"]
    response = rep.post(
        f"/api/v1/orders/{order['id']}/deliveries/",
        {"lines": [{"order_line_id": first_line, "quantity": "11"}]},
        content_type="application/json",
    )
    assert response.status_code == 400  # more than ordered
    response = rep.post(
        f"/api/v1/orders/{order['id']}/deliveries/",
        {"lines": [{"order_line_id": first_line, "quantity": "4"}]},
        content_type="application/json",
    )
    assert response.json()["status"] == "partially_delivered"

    # The invoice: two instalments that must add up to the total.
    today = timezone.localdate()
    plan = [
        {"due_date": str(today + timedelta(days=10)), "amount": "500.00"},
        {"due_date": str(today + timedelta(days=40)), "amount": "500.00"},
    ]
    response = rep.post(
        f"/api/v1/orders/{order['id']}/invoices/", {"instalments": plan},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400 and "instalments" in response.json()["error"]["fields"]
    plan[1]["amount"] = "513.85"
    response = rep.post(
        f"/api/v1/orders/{order['id']}/invoices/", {"instalments": plan},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    invoice = response.json()
    assert invoice["collections_owner_id"] == sales["east_rep2"].pk
    assert [i["amount"] for i in invoice["instalments"]] == ["500.000", "513.850"]
    nothing_left = rep.post(f"/api/v1/orders/{order['id']}/invoices/")
    assert nothing_left.status_code == 400

    # Payments: partial, then an over-payment kept as a credit.
    pay = f"/api/v1/invoices/{invoice['id']}/payments/"
    response = rep.post(
        pay, {"amount": "600", "reference": "TT-1"}, content_type="application/json"
    )
    invoice = response.json()
    assert invoice["status"] == "partially_paid"
    assert [i["paid_amount"] for i in invoice["instalments"]] == ["500.000", "100.000"]
    assert rep.post(pay, {"amount": "0.001"}, content_type="application/json").status_code == 400
    invoice = rep.post(pay, {"amount": "500"}, content_type="application/json").json()
    assert invoice["status"] == "paid" and D(invoice["balance"]) == D("-86.15")
    assert D(invoice["payments"][0]["unapplied_amount"]) == D("86.15")
    with tenant_context(world.a.tenant):
        events = set(OutboxEvent.objects.values_list("event_type", flat=True))
    assert {"quote.created", "quote.approval_requested", "quote.approved", "quote.sent",
            "quote.accepted", "contract.created", "contract.activated", "order.created",
            "order.delivered", "invoice.issued", "payment.received", "invoice.paid",
            "approval.requested", "approval.decided"} <= events  # fmt: skip


def _invoice(world, sales, *, plan_days, amounts, issue_days_ago=120):
    """An invoice on the deal (services), issued `issue_days_ago`, due on the given days
    relative to today."""
    from crm_core.services.invoices import invoice_create
    from crm_core.services.orders import order_from_quote
    from crm_core.services.quotes import quote_answer, quote_create, quote_send

    rep = sales["east_rep"]
    today = timezone.localdate()
    quote = quote_create(
        actor=rep,
        data={
            "deal": sales["deal"],
            "lines": [
                {"description": "Service", "quantity": 1, "unit_price": sum(amounts), "tax_rate": 0}
            ],
        },  # fmt: skip
    )
    quote = quote_send(quote=quote, actor=rep)
    quote = quote_answer(quote=quote, actor=rep, accepted=True)
    order = order_from_quote(quote=quote, actor=rep)
    return invoice_create(
        order=order,
        actor=rep,
        issue_date=today - timedelta(days=issue_days_ago),
        instalments=[
            {"due_date": today + timedelta(days=days), "amount": D(amount)}
            for days, amount in zip(plan_days, amounts, strict=True)
        ],
    )


def test_overdue_ageing_and_the_collections_list(world, sales):
    with tenant_context(world.a.tenant):
        invoice = _invoice(world, sales, plan_days=[-95, -45, -5, 20], amounts=[100, 200, 300, 400])
        today = timezone.localdate()
        assert customer_overdue(customer=sales["customer"], today=today) == {"CNY": D(600)}
        assert deal_overdue(deal=sales["deal"], today=today) == {"CNY": D(600)}
        buckets = ageing(user=sales["east_manager"], today=today)["CNY"]
        assert buckets == {"0-30": D(300), "31-60": D(200), "61-90": D(0), "90+": D(100)}
        # The collections owner sees the invoices they chase (not the rep's other records).
        rows = collections_list(user=sales["east_rep2"], today=today, filters={"owner": "me"})
        assert len(rows) == 4
        rows = collections_list(user=sales["west_rep"], today=today, filters={})
        assert rows == []
        rows = collections_list(user=sales["east_rep"], today=today, filters={"overdue": True})
        assert [(row.owed, row.bucket) for row in rows] == [
            (D(100), "90+"), (D(200), "31-60"), (D(300), "0-30")
        ]  # fmt: skip
        # A later date ages everything further (the clock is a parameter).
        later = ageing(user=sales["east_rep"], today=today + timedelta(days=30))["CNY"]
        assert later["90+"] == D(100) and later["61-90"] == D(200)
        assert invoice.status == Invoice.Status.ISSUED


def test_the_collections_owner_is_reminded_before_and_after_each_due_date(world, sales):
    owner = sales["east_rep2"]
    with tenant_context(world.a.tenant):
        invoice = _invoice(world, sales, plan_days=[10], amounts=[100], issue_days_ago=0)
        due = invoice.instalments.get().due_date

        def reminders():
            return list(
                Notification.objects.filter(user=owner, record_type="invoice", record_id=invoice.pk)
                .order_by("id")
                .values_list("dedupe_key", flat=True)
            )

        assert payment_reminders(today=due - timedelta(days=4)) == 0
        assert payment_reminders(today=due - timedelta(days=3)) == 1
        assert payment_reminders(today=due - timedelta(days=2)) == 0  # once before
        assert payment_reminders(today=due) == 0
        assert payment_reminders(today=due + timedelta(days=1)) == 1
        assert payment_reminders(today=due + timedelta(days=3)) == 0
        assert payment_reminders(today=due + timedelta(days=8)) == 1
        assert [key.rsplit(":", 1)[1] for key in reminders()] == ["before", "after1", "after7"]
        # Paid: no more reminders.
        from crm_core.services.invoices import payment_record

        payment_record(invoice=invoice, actor=sales["east_rep"], amount=D(100))
        assert payment_reminders(today=due + timedelta(days=14)) == 0


def test_contract_ending_and_renewal_reminders_and_expiry(world, sales):
    from crm_core.services.approvals import approval_decide, approval_pending
    from crm_core.services.contracts import contract_create, contract_submit_review

    with tenant_context(world.a.tenant):
        today = timezone.localdate()
        contract = contract_create(
            actor=sales["east_rep"],
            data={
                "title": "Support 2026",
                "customer": sales["customer"],
                "currency": "CNY",
                "value": D(1200),
                "start_date": today - timedelta(days=300),
                "end_date": today + timedelta(days=20),
                "renewal_date": today + timedelta(days=10),
            },
        )
        contract_submit_review(contract=contract, actor=sales["east_rep"])
        request = approval_pending(record_type="contract", record_id=contract.pk)
        approval_decide(request=request, actor=sales["east_manager"], approve=True)
        counts = lead_to_cash_sweep(today=today)
        assert counts.contract_reminders == 2
        assert lead_to_cash_sweep(today=today).contract_reminders == 0
        titles = Notification.objects.filter(
            user=sales["east_rep"], record_type="contract"
        ).values_list("title", flat=True)
        assert any("renews" in title for title in titles) and any(
            "ends" in title for title in titles
        )
        assert lead_to_cash_sweep(today=today + timedelta(days=21)).contracts_expired == 1
        contract.refresh_from_db()
        assert contract.status == Contract.Status.EXPIRED


def test_approval_rules(world, sales):
    from django.core.exceptions import PermissionDenied, ValidationError

    from crm_core.services.approvals import approval_decide, approval_pending
    from crm_core.services.quotes import quote_create, quote_submit

    with tenant_context(world.a.tenant):
        manager = sales["east_manager"]
        quote = quote_create(
            actor=manager,
            data={
                "customer": sales["customer"],
                "currency": "CNY",
                "total_discount_percent": D(30),
                "lines": [{"description": "x", "quantity": 1, "unit_price": 10}],
            },
        )
        quote_submit(quote=quote, actor=manager)
        request = approval_pending(record_type="quote", record_id=quote.pk)
        with pytest.raises(PermissionDenied):  # not one's own request
            approval_decide(request=request, actor=manager, approve=True)
        with pytest.raises(PermissionDenied):  # west is not the manager's team... but admin may
            approval_decide(request=request, actor=sales["west_rep"], approve=True)
        with pytest.raises(ValidationError):  # a rejection says why
            approval_decide(request=request, actor=sales["admin"], approve=False)
        # The manager's own request goes to the administrators.
        told = Notification.objects.filter(record_type="quote", record_id=quote.pk)
        admins = set(
            User.objects.filter(role=Role.ADMIN, is_active=True).values_list("pk", flat=True)
        )
        assert set(told.values_list("user_id", flat=True)) == admins
        assert sales["admin"].pk in admins and manager.pk not in admins
        approval_decide(request=request, actor=sales["admin"], approve=False, comment="too much")
        quote.refresh_from_db()
        assert quote.status == Quote.Status.DRAFT  # back to the rep, editable again
        assert ApprovalRequest.objects.get(pk=request.pk).comment == "too much"
        answer = told.get(user=manager)
        assert answer.title.startswith("Rejected") and answer.body == "too much"


def test_visibility_and_field_errors(world, sales):
    rep = api(world, sales, "east_rep")
    west = api(world, sales, "west_rep")
    manager = api(world, sales, "east_manager")
    quote = rep.post("/api/v1/quotes/", _quote_input(sales), content_type="application/json")
    qid = quote.json()["id"]
    assert west.get(f"/api/v1/quotes/{qid}/").status_code == 404
    assert qid not in [q["id"] for q in west.get("/api/v1/quotes/").json()["results"]]
    assert manager.get(f"/api/v1/quotes/{qid}/").status_code == 200  # team
    response = rep.post(
        "/api/v1/quotes/",
        {
            "deal_id": sales["deal"].pk,
            "currency": "cny",
            "lines": [{"quantity": "-1", "description": "x", "unit_price": "1"}],
        },
        content_type="application/json",
    )
    fields = response.json()["error"]["fields"]
    assert response.status_code == 400
    assert {"currency", "lines.0.quantity"} <= set(fields)
    response = rep.post(
        "/api/v1/quotes/", {"deal_id": sales["deal"].pk, "lines": [], "bogus": 1},
        content_type="application/json",
    )  # fmt: skip
    assert "bogus" in response.json()["error"]["fields"]


def test_revising_a_sent_quote_makes_a_new_version(world, sales):
    rep = api(world, sales, "east_rep")
    quote = rep.post(
        "/api/v1/quotes/", _quote_input(sales, total_discount_percent="0"),
        content_type="application/json",
    ).json()  # fmt: skip
    # 5% on one line only: within the limit, sent at once.
    assert rep.post(f"/api/v1/quotes/{quote['id']}/send/").json()["status"] == "sent"
    revision = rep.post(f"/api/v1/quotes/{quote['id']}/revise/").json()
    assert (revision["number"], revision["version"]) == (quote["number"], 2)
    assert revision["status"] == "draft" and revision["previous_id"] == quote["id"]
    numbers = [q["id"] for q in rep.get("/api/v1/quotes/").json()["results"]]
    assert revision["id"] in numbers and quote["id"] not in numbers  # latest versions only
    assert rep.post(f"/api/v1/quotes/{quote['id']}/revise/").status_code == 400


def test_pages_gate_sending_until_approved(world, sales):
    client = signed_in(world.a, sales["east_rep"].email)
    response = client.get(f"/quotes/new/?deal={sales['deal'].pk}")
    assert response.status_code == 200
    data = {
        "deal": sales["deal"].pk,
        "currency": "CNY",
        "language": "zh-hans",
        "total_discount_percent": "20",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": sales["product"].pk,
        "lines-0-quantity": "2",
        "lines-1-description": "",
    }
    preview = client.post("/quotes/preview/", data).content.decode()
    assert "180.80" in preview  # the form's live totals, nothing saved
    response = client.post("/quotes/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(world.a.tenant):
        quote = Quote.objects.get(deal=sales["deal"])
        assert quote.total == D("180.80")  # 200 - 20% = 160, +13% tax
    response = client.post(f"/quotes/{quote.pk}/send/", {"to": "x@example.com"}, follow=True)
    assert "approval" in response.content.decode()
    client.post(f"/quotes/{quote.pk}/submit/")
    client.post(f"/quotes/{quote.pk}/send/", {"to": "x@example.com"})
    with tenant_context(world.a.tenant):
        quote.refresh_from_db()
        assert quote.status == Quote.Status.PENDING_APPROVAL
    manager = signed_in(world.a, sales["east_manager"].email)
    page = manager.get(f"/quotes/{quote.pk}/").content.decode()
    assert "decision" in page
    with tenant_context(world.a.tenant):
        request = ApprovalRequest.objects.get(record_type="quote", record_id=quote.pk)
    manager.post(f"/approvals/{request.pk}/decide/", {"decision": "approve"})
    client.post(f"/quotes/{quote.pk}/send/", {"to": "x@example.com"})
    with tenant_context(world.a.tenant):
        quote.refresh_from_db()
        assert quote.status == Quote.Status.SENT and quote.sent_to == "x@example.com"
    pdf = client.get(f"/quotes/{quote.pk}/pdf/")
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "报价单" in text and "软件许可" in text


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("ja", ["見積書", "合計", "株式会社テスト"]),
        ("zh-hans", ["报价单", "合计"]),
        ("en", ["Quote", "Total"]),
    ],
)
def test_the_pdf_renders_in_the_customers_language(world, sales, language, words):
    from crm_core.services.quote_pdf import quote_pdf
    from crm_core.services.quotes import quote_create

    with tenant_context(world.a.tenant):
        quote = quote_create(
            actor=sales["east_rep"],
            data={
                "deal": sales["deal"],
                "language": language,
                "lines": [
                    {"description": "株式会社テスト 专用 & <b>", "quantity": 1, "unit_price": 1}
                ],
            },  # fmt: skip
        )
        text = PdfReader(io.BytesIO(quote_pdf(quote))).pages[0].extract_text()
    for word in words:
        assert word in text


def test_summary_per_rep_and_customer(world, sales):
    from crm_core.services.invoices import payment_record

    with tenant_context(world.a.tenant):
        invoice = _invoice(world, sales, plan_days=[-10, 30], amounts=[100, 50])
        payment_record(invoice=invoice, actor=sales["east_rep"], amount=D(40))
        rows = sales_summary(user=sales["east_manager"], by="owner")
        row = next(r for r in rows if r.key == sales["east_rep"].pk and r.currency == "CNY")
        assert row.amounts == {
            "quoted": D(150), "contracted": D(0), "invoiced": D(150), "received": D(40),
            "overdue": D(60),
        }  # fmt: skip
        by_customer = sales_summary(user=sales["east_manager"], by="customer")
        assert any(
            r.key == sales["customer"].pk and r.amounts["overdue"] == 60 for r in by_customer
        )
        assert Order.objects.filter(deal=sales["deal"]).count() == 1
        assert Instalment.objects.filter(invoice=invoice).count() == 2


def test_deal_and_customer_pages_show_documents_and_overdue(world, sales):
    with tenant_context(world.a.tenant):
        invoice = _invoice(world, sales, plan_days=[-40, 10], amounts=[600, 400])
    client = signed_in(world.a, sales["east_rep"].email)
    for path in (f"/deals/{sales['deal'].pk}/", f"/customers/{sales['customer'].pk}/"):
        page = client.get(path).content.decode()
        assert "600.00" in page and invoice.number in page, path
    page = client.get("/collections/?overdue=on").content.decode()
    assert invoice.number in page and "31-60" in page
    for path in ("/quotes/", "/contracts/", "/orders/", "/invoices/", f"/invoices/{invoice.pk}/",
                 f"/orders/{invoice.order_id}/", "/products/", "/approvals/"):  # fmt: skip
        assert client.get(path).status_code == 200, path
    assert client.get("/sales-summary/").status_code == 403  # reps see their own only
    manager = signed_in(world.a, sales["east_manager"].email)
    assert "1,000.00" in manager.get("/sales-summary/?by=customer").content.decode()


def test_catalogue_settings_collections_and_summary_api(world, sales):
    admin = api(world, sales, "admin")
    rep = api(world, sales, "east_rep")
    response = rep.post(
        "/api/v1/products/", {"code": "X", "name": "X"}, content_type="application/json"
    )
    assert response.status_code == 403  # the catalogue is the managers'
    response = admin.post(
        "/api/v1/products/", {"code": "sku-1", "name": "dup"}, content_type="application/json"
    )
    assert response.status_code == 400 and "code" in response.json()["error"]["fields"]
    price_list = admin.post(
        "/api/v1/price-lists/",
        {"name": "VIP", "currency": "CNY", "customer_id": sales["customer"].pk},
        content_type="application/json",
    ).json()
    admin.post(
        f"/api/v1/price-lists/{price_list['id']}/items/",
        {"product_id": sales["product"].pk, "unit_price": "80"},
        content_type="application/json",
    )
    # The customer's own price list wins over the general one.
    quote = rep.post(
        "/api/v1/quotes/",
        {
            "deal_id": sales["deal"].pk,
            "lines": [{"product_id": sales["product"].pk, "quantity": 1}],
        },
        content_type="application/json",
    ).json()
    assert (
        quote["price_list_id"] == price_list["id"] and quote["lines"][0]["unit_price"] == "80.000"
    )
    assert rep.get("/api/v1/sales-settings/").status_code == 403
    response = admin.patch(
        "/api/v1/sales-settings/", {"quote_validity_days": -1},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400
    with tenant_context(world.a.tenant):
        _invoice(world, sales, plan_days=[-70], amounts=[300])
    collections = rep.get("/api/v1/collections/?overdue=true").json()
    assert collections["ageing"]["CNY"]["61-90"] == "300.000", collections
    assert collections["rows"][0]["bucket"] == "61-90"
    summary = admin.get("/api/v1/sales-summary/?by=owner").json()
    row = next(r for r in summary if r["key"] == sales["east_rep"].pk)
    assert row["overdue"] == "300.000" and row["invoiced"] == "300.000"


def test_the_quote_language_follows_the_customer(world, sales):
    from crm_core.models import Customer
    from crm_core.services.quotes import quote_create, quote_language_for

    assert quote_language_for(Customer(name="株式会社テスト")) == "ja"
    assert quote_language_for(Customer(name="上海明华贸易有限公司")) == "zh-hans"
    assert quote_language_for(Customer(name="ACME Inc.")) == "en"
    assert quote_language_for(Customer(name="ACME", addresses=[{"country": "jp"}])) == "ja"
    with tenant_context(world.a.tenant):
        quote = quote_create(
            actor=sales["east_rep"],
            data={"deal": sales["deal"], "lines": [{"description": "x", "quantity": 1,
                                                     "unit_price": 1}]},
        )  # fmt: skip
        assert quote.language == "zh-hans"  # "east_rep 客户"


def test_a_customer_with_documents_is_not_deleted(world, sales):
    from django.core.exceptions import ValidationError

    from crm_core.services.customers import customer_delete
    from crm_core.services.quotes import quote_create

    with tenant_context(world.a.tenant):
        customer = sales["customers"]["west_rep"]
        quote_create(
            actor=sales["west_rep"],
            data={
                "customer": customer,
                "currency": "CNY",
                "lines": [{"description": "x", "quantity": 1, "unit_price": 1}],
            },
        )
        with pytest.raises(ValidationError):
            customer_delete(customer=customer, actor=sales["admin"])


def test_invoices_per_delivery_add_up_to_the_order(world, sales):
    from django.core.exceptions import ValidationError

    from crm_core.services.invoices import invoice_cancel, invoice_create, payment_record
    from crm_core.services.orders import delivery_record, order_cancel, order_from_quote
    from crm_core.services.quotes import quote_answer, quote_create, quote_send

    rep = sales["east_rep"]
    with tenant_context(world.a.tenant):
        quote = quote_create(
            actor=rep,
            data={
                "deal": sales["deal"],
                "total_discount_percent": D("3"),
                "lines": [
                    {"description": "A", "quantity": 3, "unit_price": D("33.33"), "tax_rate": 13},
                    {"description": "B", "quantity": 7, "unit_price": D("9.99"), "tax_rate": 6},
                ],
            },
        )
        quote = quote_answer(quote=quote_send(quote=quote, actor=rep), actor=rep, accepted=True)
        order = order_from_quote(quote=quote, actor=rep)
        assert order.total == quote.total
        with pytest.raises(ValidationError):  # one order per quote
            order_from_quote(quote=quote, actor=rep)
        a, b = order.lines.all()
        first = delivery_record(order=order, actor=rep, quantities={a.pk: 1, b.pk: 2})
        second = delivery_record(order=order, actor=rep, quantities={a.pk: 2, b.pk: 5})
        order.refresh_from_db()
        assert order.status == Order.Status.DELIVERED
        with pytest.raises(ValidationError):
            delivery_record(order=order, actor=rep, quantities={a.pk: 1})
        one = invoice_create(order=order, actor=rep, delivery=first)
        with pytest.raises(ValidationError):  # a delivery is invoiced once
            invoice_create(order=order, actor=rep, delivery=first)
        two = invoice_create(order=order, actor=rep, delivery=second)
        # Rounding per delivery may leave a cent or two: the rest is invoiced last.
        rest = order.total - one.total - two.total
        assert abs(rest) <= D("0.05")
        if rest > 0:
            invoice_create(order=order, actor=rep)
        totals = Invoice.objects.filter(order=order).values_list("total", flat=True)
        assert sum(totals) == order.total
        with pytest.raises(ValidationError):
            order_cancel(order=order, actor=rep)
        payment_record(invoice=one, actor=rep, amount=D("1.00"))
        with pytest.raises(ValidationError):  # paid in part: it stays
            invoice_cancel(invoice=one, actor=rep)
        assert invoice_cancel(invoice=two, actor=rep).status == Invoice.Status.CANCELLED
        # Cancelled: its amount can be invoiced again.
        again = invoice_create(order=order, actor=rep, delivery=second)
        assert again.total == two.total


def test_sent_quotes_expire_after_their_validity(world, sales):
    from django.core.exceptions import ValidationError

    from crm_core.services.quotes import quote_create, quote_send

    with tenant_context(world.a.tenant):
        quote = quote_create(
            actor=sales["east_rep"],
            data={
                "deal": sales["deal"],
                "valid_until": date(2026, 1, 31),
                "lines": [{"description": "x", "quantity": 1, "unit_price": 1}],
            },
            today=date(2026, 1, 1),
        )
        with pytest.raises(ValidationError):  # too late now
            quote_send(quote=quote, actor=sales["east_rep"])
        sent_on = datetime(2026, 1, 2, 10, tzinfo=UTC)
        quote_send(quote=quote, actor=sales["east_rep"], now=sent_on)
        assert lead_to_cash_sweep(today=date(2026, 1, 31)).quotes_expired == 0
        assert lead_to_cash_sweep(today=date(2026, 2, 1)).quotes_expired == 1
        quote.refresh_from_db()
        assert quote.status == Quote.Status.EXPIRED
        assert OutboxEvent.objects.filter(event_type="quote.expired").exists()


def test_contract_order_delivery_invoice_and_payment_pages(world, sales):
    client = signed_in(world.a, sales["east_rep"].email)
    today = timezone.localdate()
    response = client.post(
        "/contracts/new/",
        {
            "title": "年度维护合同",
            "customer": sales["customer"].pk,
            "deal": sales["deal"].pk,
            "currency": "CNY",
            "value": "1200",
            "start_date": str(today),
            "end_date": str(today + timedelta(days=365)),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(world.a.tenant):
        contract = Contract.objects.get(title="年度维护合同")
    client.post(f"/contracts/{contract.pk}/submit/")
    with tenant_context(world.a.tenant):
        request = ApprovalRequest.objects.get(record_type="contract", record_id=contract.pk)
    manager = signed_in(world.a, sales["east_manager"].email)
    response = manager.post(
        f"/approvals/{request.pk}/decide/", {"decision": "reject", "comment": ""}, follow=True
    )
    assert "Say why" in response.content.decode()
    manager.post(f"/approvals/{request.pk}/decide/", {"decision": "approve"})
    response = client.post(f"/contracts/{contract.pk}/order/")
    assert response.status_code == 302
    with tenant_context(world.a.tenant):
        order = Order.objects.get(contract=contract)
        line = order.lines.get()
    assert order.total == D(1200)
    client.post(f"/orders/{order.pk}/deliver/", {f"quantity_{line.pk}": "1", "note": "全部"})
    response = client.post(
        f"/orders/{order.pk}/invoice/",
        {
            "delivery": "",
            "issue_date": str(today),
            "instalments": "3",
            "first_due": str(today + timedelta(days=30)),
            "every_days": "30",
            "collections_owner": sales["east_rep2"].pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(world.a.tenant):
        invoice = Invoice.objects.get(order=order)
        amounts = list(invoice.instalments.values_list("amount", flat=True))
    assert amounts == [D(400), D(400), D(400)]
    assert invoice.collections_owner_id == sales["east_rep2"].pk
    response = client.post(
        f"/invoices/{invoice.pk}/",
        {"amount": "-5", "received_on": str(today), "method": "cash"},
    )
    assert response.status_code == 400
    client.post(
        f"/invoices/{invoice.pk}/",
        {"amount": "450", "received_on": str(today), "method": "bank_transfer", "reference": "R1"},
    )
    page = client.get(f"/invoices/{invoice.pk}/").content.decode()
    assert "R1" in page and "750.00" in page  # the balance
    for path in (
        f"/contracts/{contract.pk}/",
        f"/orders/{order.pk}/",
        f"/deals/{sales['deal'].pk}/",
    ):
        balances = client.get(path).content.decode()
        assert '<td class="balance">750.00</td>' in balances, path
    with tenant_context(world.a.tenant):
        invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PARTIALLY_PAID


def test_catalogue_and_settings_pages(world, sales):
    from crm_core.models import PriceList, Product, SalesSettings

    admin = signed_in(world.a, sales["admin"].email)
    assert admin.post("/products/new/", {"code": "", "name": ""}).status_code == 400
    response = admin.post(
        "/products/new/", {"code": "P-页面", "name": "页面产品", "unit": "件", "is_active": "on"}
    )
    assert response.status_code == 302
    response = admin.post(
        "/price-lists/new/",
        {"name": "JPY 2026", "currency": "JPY", "valid_from": "2026-01-01",
         "valid_until": "2025-12-31", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 400  # ends before it starts
    admin.post("/price-lists/new/", {"name": "JPY 2026", "currency": "JPY", "is_active": "on"})
    with tenant_context(world.a.tenant):
        product = Product.objects.get(code="P-页面")
        price_list = PriceList.objects.get(name="JPY 2026")
    admin.post(f"/price-lists/{price_list.pk}/", {"product": product.pk, "unit_price": "1200"})
    assert "1,200 JPY" in admin.get(f"/price-lists/{price_list.pk}/").content.decode()
    response = admin.post(
        "/sales-settings/",
        {"default_tax_rate": "10", "quote_validity_days": "14",
         "payment_terms_days": "45", "remind_days_before_due": "5",
         "remind_days_before_contract_end": "60"},
    )  # fmt: skip
    assert response.status_code == 302
    with tenant_context(world.a.tenant):
        assert SalesSettings.objects.get().quote_validity_days == 14
    rep = signed_in(world.a, sales["east_rep"].email)
    assert rep.get("/products/new/").status_code == 403
    assert rep.get("/sales-settings/").status_code == 403


def test_editing_and_revising_quotes_on_pages(world, sales):
    from crm_core.services.quotes import quote_create

    with tenant_context(world.a.tenant):
        quote = quote_create(
            actor=sales["east_rep"],
            data={"deal": sales["deal"], "lines": [{"product": sales["product"], "quantity": 1}]},
        )
    client = signed_in(world.a, sales["east_rep"].email)
    page = client.get(f"/quotes/{quote.pk}/edit/").content.decode()
    assert "lines-TOTAL_FORMS" in page
    data = {
        "deal": sales["deal"].pk,
        "customer": sales["customer"].pk,
        "currency": "CNY",
        "language": "ja",
        "total_discount_percent": "0",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": sales["product"].pk,
        "lines-0-quantity": "0",
    }
    response = client.post(f"/quotes/{quote.pk}/edit/", data)
    assert (
        response.status_code == 400 and "Enter a quantity above zero." in response.content.decode()
    )
    data["lines-0-quantity"] = "3"
    assert client.post(f"/quotes/{quote.pk}/edit/", data).status_code == 302
    client.post(f"/quotes/{quote.pk}/send/", {"to": "buyer@customer.example.com"})
    response = client.post(f"/quotes/{quote.pk}/revise/")
    with tenant_context(world.a.tenant):
        revision = Quote.objects.get(number=quote.number, version=2)
        assert revision.lines.get().quantity == 3 and revision.language == "ja"
    assert response["Location"] == f"/quotes/{revision.pk}/"
    assert client.get(f"/quotes/{quote.pk}/edit/").status_code == 200  # shown, not saved
    assert client.post(f"/quotes/{quote.pk}/edit/", data).status_code == 400


def test_cancel_and_terminate_through_the_api(world, sales):
    from crm_core.services.approvals import approval_decide, approval_pending

    rep = api(world, sales, "east_rep")
    contract = rep.post(
        "/api/v1/contracts/",
        {"title": "API contract", "deal_id": sales["deal"].pk, "value": "500",
         "start_date": "2026-01-01", "end_date": "2025-12-31"},
        content_type="application/json",
    )  # fmt: skip
    assert contract.status_code == 400 and "end_date" in contract.json()["error"]["fields"]
    contract = rep.post(
        "/api/v1/contracts/",
        {"title": "API contract", "deal_id": sales["deal"].pk, "value": "500",
         "start_date": "2026-01-01"},
        content_type="application/json",
    ).json()  # fmt: skip
    assert contract["customer_id"] == sales["customer"].pk and contract["number"].startswith("C-")
    assert rep.post(f"/api/v1/contracts/{contract['id']}/terminate/").status_code == 400
    rep.post(f"/api/v1/contracts/{contract['id']}/submit/")
    locked = rep.patch(
        f"/api/v1/contracts/{contract['id']}/", {"value": "1"}, content_type="application/json"
    )
    assert locked.status_code == 400
    with tenant_context(world.a.tenant):
        request = approval_pending(record_type="contract", record_id=contract["id"])
        approval_decide(request=request, actor=sales["east_manager"], approve=True)
    order = rep.post(f"/api/v1/contracts/{contract['id']}/order/").json()
    assert order["lines"][0]["description"] == "API contract" and order["total"] == "500.000"
    invoice = rep.post(f"/api/v1/orders/{order['id']}/invoices/").json()
    assert rep.post(f"/api/v1/orders/{order['id']}/cancel/").status_code == 400
    assert rep.post(f"/api/v1/invoices/{invoice['id']}/cancel/").json()["status"] == "cancelled"
    assert rep.post(f"/api/v1/orders/{order['id']}/cancel/").json()["status"] == "cancelled"
    response = rep.post(f"/api/v1/contracts/{contract['id']}/terminate/")
    assert response.json()["status"] == "terminated"
    listed = rep.get("/api/v1/invoices/?status=cancelled").json()["results"]
    assert [row["id"] for row in listed] == [invoice["id"]]


def test_a_price_can_be_removed_from_a_price_list(world, sales):
    price_list, product = sales["price_list"], sales["product"]
    url = f"/api/v1/price-lists/{price_list.pk}/items/?product_id={product.pk}"
    assert api(world, sales, "east_rep").delete(url).status_code == 403  # reps only read
    response = api(world, sales, "admin").delete(url)
    assert response.status_code == 200
    with tenant_context(world.a.tenant):
        assert not price_list.items.filter(product=product).exists()
    again = api(world, sales, "admin").delete(url)
    assert again.status_code == 400 and "product_id" in again.json()["error"]["fields"]
    # The page's remove button.
    with tenant_context(world.a.tenant):
        price_list_item_set(
            actor=sales["admin"], price_list=price_list, product=product, unit_price=D(90)
        )
    page = signed_in(world.a, "d-admin@a.example.com")
    assert 'name="remove"' in page.get(f"/price-lists/{price_list.pk}/").content.decode()
    assert page.post(f"/price-lists/{price_list.pk}/", {"remove": product.pk}).status_code == 302
    with tenant_context(world.a.tenant):
        assert not price_list.items.exists()
