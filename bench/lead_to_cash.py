"""Benchmark "lead to cash": the write path of a quote (10 lines, totals, numbering) and
of a payment (allocation over instalments), and the reads of collections (work list,
ageing) and of the manager's summary, on a company with many open invoices.

Customers, orders, invoices and instalments are written with bulk inserts (their
contents are not the subject); the quotes and
payments measured go through the product's services. The reading user is the owner (an
administrator: visibility does not narrow the queries, the worst case).
"""

from __future__ import annotations

import gc
import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from time import perf_counter_ns

from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context
from psycopg import sql

from .crm_import import company
from .stats import Check, Section, Series

SUBDOMAIN = "benchcash"
# Our own budgets (design.md has none for lead to cash): a page's work within a blink.
QUOTE_P95_LIMIT_MS = 150.0
PAYMENT_P95_LIMIT_MS = 60.0
COLLECTIONS_P95_LIMIT_MS = 300.0
SUMMARY_P95_LIMIT_MS = 1500.0


@dataclass(frozen=True)
class Sizes:
    customers: int = 2_000
    invoices: int = 20_000
    instalments_per_invoice: int = 3
    quotes: int = 40
    payments: int = 40
    reads: int = 15


def _documents(sizes: Sizes, owner) -> int:
    """Orders and invoices with their instalments, due dates spread over a year."""
    from crm_core.models import Customer, Instalment, Invoice, Order

    rng = random.Random(11)  # noqa: S311 - sample data
    today = timezone.localdate()
    customers = list(Customer.objects.values_list("pk", flat=True))
    common = {"currency": "CNY", "owner": owner}
    orders = Order.objects.bulk_create(
        Order(number=f"SO-B{index:07d}", customer_id=customers[index % len(customers)],
              total=Decimal(3000), **common)
        for index in range(sizes.invoices)
    )  # fmt: skip
    invoices = Invoice.objects.bulk_create(
        Invoice(
            number=f"INV-B{index:07d}", order=order, customer_id=order.customer_id,
            issue_date=today - timedelta(days=rng.randint(0, 365)), total=Decimal(3000),
            collections_owner=owner, **common,
        )
        for index, order in enumerate(orders)
    )  # fmt: skip
    per = sizes.instalments_per_invoice
    Instalment.objects.bulk_create(
        (
            Instalment(
                invoice=invoice, position=part, amount=Decimal(3000) / per,
                due_date=invoice.issue_date + timedelta(days=30 * (part + 1)),
                paid_amount=Decimal(3000) / per if rng.random() < 0.5 else Decimal(0),
            )
            for invoice in invoices
            for part in range(per)
        ),
        batch_size=5000,
    )  # fmt: skip
    with connection.cursor() as cursor:
        for table in ("crm_core_invoice", "crm_core_instalment", "crm_core_order"):
            cursor.execute(
                sql.SQL("ANALYZE {}").format(sql.Identifier(connection.schema_name, table))
            )
    return len(invoices)


def _timed(series: Series, work) -> None:
    start = perf_counter_ns()
    work()
    series.add(perf_counter_ns() - start)


def run(sizes: Sizes, progress) -> Section:
    from accounts.models import User
    from crm_core.models import Customer, Invoice
    from crm_core.selectors.collections import ageing, collections_list, sales_summary
    from crm_core.services.invoices import payment_record
    from crm_core.services.products import price_list_item_set, price_list_save, product_save
    from crm_core.services.quotes import quote_create

    section = Section(
        "lead_to_cash", f"Benchmark: lead to cash with {sizes.invoices // 1000}k open invoices"
    )
    tenant = company(SUBDOMAIN, "Bench cash 回款 回収")
    with tenant_context(tenant):
        owner = User.objects.get(is_owner=True)
        progress(f"{sizes.customers} customers, {sizes.invoices} invoices")
        Customer.objects.bulk_create(
            Customer(name=f"客户 {index}", name_key=f"客户{index}", owner=owner)
            for index in range(sizes.customers)
        )
        section.facts["invoices"] = _documents(sizes, owner)
        section.facts["instalments"] = sizes.invoices * sizes.instalments_per_invoice
        products = [
            product_save(actor=owner, data={"code": f"B-{index}", "name": f"产品 {index}"})
            for index in range(10)
        ]
        prices = price_list_save(actor=owner, data={"name": "Bench", "currency": "CNY"})
        for index, product in enumerate(products):
            price_list_item_set(
                actor=owner, price_list=prices, product=product, unit_price=Decimal(100 + index)
            )
        customers = list(Customer.objects.values_list("pk", flat=True)[:50])
        lines = [
            {"product": product, "quantity": Decimal(index + 1), "discount_percent": Decimal(3)}
            for index, product in enumerate(products)
        ]

        quote = Series("quote_create", "quote create: 10 lines, totals, number")
        payment = Series("payment_record", "payment: allocate over instalments")
        work_list = Series("collections_list", "collections work list (500 rows)")
        buckets = Series("collections_ageing", "overdue ageing per currency")
        summary = Series("sales_summary", "summary per customer (all documents)")
        progress(f"{sizes.quotes} quotes, {sizes.payments} payments, {sizes.reads} reads each")
        gc.collect()
        for index in range(sizes.quotes):
            _timed(
                quote,
                lambda index=index: quote_create(
                    actor=owner,
                    data={
                        "customer": Customer(pk=customers[index % len(customers)]),
                        "currency": "CNY",
                        "total_discount_percent": Decimal(5),
                        "lines": lines,
                    },
                ),
            )
        open_invoices = list(Invoice.objects.order_by("id")[: sizes.payments])
        for invoice in open_invoices:
            _timed(payment, lambda invoice=invoice: payment_record(
                invoice=invoice, actor=owner, amount=Decimal("1500.50")
            ))  # fmt: skip
        for _round in range(sizes.reads):
            _timed(work_list, lambda: collections_list(user=owner, filters={"overdue": True}))
            _timed(buckets, lambda: ageing(user=owner))
            _timed(summary, lambda: sales_summary(user=owner, by="customer"))
    connection.set_schema_to_public()
    section.series += [quote, payment, work_list, buckets, summary]
    section.checks += [
        Check("quote create p95", quote.p95, QUOTE_P95_LIMIT_MS, "ms"),
        Check("payment p95", payment.p95, PAYMENT_P95_LIMIT_MS, "ms"),
        Check("collections work list p95", work_list.p95, COLLECTIONS_P95_LIMIT_MS, "ms"),
        Check("summary per customer p95", summary.p95, SUMMARY_P95_LIMIT_MS, "ms"),
    ]
    return section
