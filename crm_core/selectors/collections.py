"""Reads of what is owed: balances, overdue amounts with ageing (0-30, 31-60, 61-90,
90+ days), the collections work list, and the manager's summary of quoted, contracted,
invoiced, received and overdue amounts per rep and per customer. Amounts are summed per
currency: different currencies are never added together."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Case, F, QuerySet, Sum, Value, When
from django.utils import timezone

from ..models import Contract, Customer, Deal, Instalment, Invoice, Payment, Quote
from ..money import AGEING_BUCKETS, ageing_bucket
from ..records import visible
from .sales import sales_visible

OPEN_INVOICE = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)


def open_instalments(*, user=None) -> QuerySet[Instalment]:
    """Instalments with money still owed, on open invoices (the user's visible ones)."""
    queryset = Instalment.objects.filter(
        invoice__status__in=OPEN_INVOICE, paid_amount__lt=F("amount")
    )
    if user is not None:
        queryset = queryset.filter(invoice__in=sales_visible(Invoice.objects.all(), user))
    return queryset


def overdue_by_currency(queryset: QuerySet[Instalment], today: date) -> dict[str, Decimal]:
    rows = (
        queryset.filter(due_date__lt=today)
        .values("invoice__currency")
        .annotate(owed=Sum(F("amount") - F("paid_amount")))
    )
    return {row["invoice__currency"]: row["owed"] for row in rows}


def customer_overdue(*, customer: Customer, today: date | None = None) -> dict[str, Decimal]:
    today = today or timezone.localdate()
    return overdue_by_currency(open_instalments().filter(invoice__customer=customer), today)


def deal_overdue(*, deal: Deal, today: date | None = None) -> dict[str, Decimal]:
    today = today or timezone.localdate()
    return overdue_by_currency(open_instalments().filter(invoice__deal=deal), today)


@dataclass
class CollectionRow:
    instalment: Instalment
    owed: Decimal
    days_overdue: int
    bucket: str  # "" when not yet due


def collections_list(
    *, user, today: date | None = None, filters: dict | None = None, limit: int = 500
) -> list[CollectionRow]:
    """The work list: open instalments, earliest due first; filters: owner ("me" or a
    collections owner id), customer, overdue (only those past due)."""
    today = today or timezone.localdate()
    filters = filters or {}
    queryset = open_instalments(user=user).select_related(
        "invoice", "invoice__customer", "invoice__collections_owner"
    )
    owner = filters.get("owner")
    if owner == "me":
        queryset = queryset.filter(invoice__collections_owner=user)
    elif owner:
        queryset = queryset.filter(invoice__collections_owner_id=owner)
    if filters.get("customer"):
        queryset = queryset.filter(invoice__customer_id=filters["customer"])
    if filters.get("overdue"):
        queryset = queryset.filter(due_date__lt=today)
    rows = []
    for instalment in queryset.order_by("due_date", "id")[:limit]:
        days = (today - instalment.due_date).days
        rows.append(
            CollectionRow(
                instalment=instalment,
                owed=instalment.amount - instalment.paid_amount,
                days_overdue=max(days, 0),
                bucket=ageing_bucket(days) if days > 0 else "",
            )
        )
    return rows


def ageing(*, user, today: date | None = None) -> dict[str, dict[str, Decimal]]:
    """Overdue amounts per currency and ageing bucket (summed in the database)."""
    today = today or timezone.localdate()
    bucket = Case(
        When(due_date__gte=today - timedelta(days=30), then=Value("0-30")),
        When(due_date__gte=today - timedelta(days=60), then=Value("31-60")),
        When(due_date__gte=today - timedelta(days=90), then=Value("61-90")),
        default=Value("90+"),
    )
    rows = (
        open_instalments(user=user)
        .filter(due_date__lt=today)
        .annotate(bucket=bucket)
        .values("invoice__currency", "bucket")
        .annotate(owed=Sum(F("amount") - F("paid_amount")))
    )
    result: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        buckets = result.setdefault(
            row["invoice__currency"], dict.fromkeys(AGEING_BUCKETS, Decimal(0))
        )
        buckets[row["bucket"]] += row["owed"]
    return result


@dataclass
class SummaryRow:
    key: int | None
    name: str
    currency: str
    amounts: dict[str, Decimal] = field(
        default_factory=lambda: dict.fromkeys(SUMMARY_COLUMNS, Decimal(0))
    )


SUMMARY_COLUMNS = ("quoted", "contracted", "invoiced", "received", "overdue")


def sales_summary(
    *, user, by: str, today: date | None = None, since: date | None = None
) -> list[SummaryRow]:
    """Per rep (by="owner") or per customer (by="customer"), per currency: quoted (sent
    and accepted current quotes), contracted (active and past contracts), invoiced,
    received (payments) and overdue; `since` limits by document date."""
    today = today or timezone.localdate()
    key = "owner" if by == "owner" else "customer"
    name = "owner__full_name" if key == "owner" else "customer__name"
    rows: dict[tuple, SummaryRow] = {}

    def add(column: str, queryset: QuerySet, amount, prefix: str = "") -> None:
        values = queryset.values(f"{prefix}{key}_id", f"{prefix}{name}", f"{prefix}currency")
        for row in values.annotate(total=Sum(amount)):
            ident, label = row[f"{prefix}{key}_id"], row[f"{prefix}{name}"] or "—"
            currency = row[f"{prefix}currency"]
            summary = rows.setdefault(
                (ident, currency), SummaryRow(key=ident, name=label, currency=currency)
            )
            summary.amounts[column] += row["total"] or 0

    quotes = visible(Quote.objects.all(), user).filter(
        is_current=True, status__in=(Quote.Status.SENT, Quote.Status.ACCEPTED)
    )
    contracts = visible(Contract.objects.all(), user).filter(
        status__in=(Contract.Status.ACTIVE, Contract.Status.EXPIRED, Contract.Status.TERMINATED)
    )
    invoices = sales_visible(Invoice.objects.all(), user).exclude(status=Invoice.Status.CANCELLED)
    payments = Payment.objects.filter(invoice__in=invoices)
    if since:
        quotes = quotes.filter(sent_at__date__gte=since)
        contracts = contracts.filter(start_date__gte=since)
        invoices = invoices.filter(issue_date__gte=since)
        payments = payments.filter(received_on__gte=since)
    add("quoted", quotes, "total")
    add("contracted", contracts, "value")
    add("invoiced", invoices, "total")
    add("received", payments, "amount", prefix="invoice__")
    overdue = open_instalments(user=user).filter(due_date__lt=today)
    add("overdue", overdue, F("amount") - F("paid_amount"), prefix="invoice__")
    return sorted(rows.values(), key=lambda row: (row.name, row.currency))


def balances(queryset: QuerySet[Invoice]) -> dict[str, dict[str, Decimal]]:
    """Invoiced, paid and balance per currency of `queryset` (cancelled ones left out)."""
    result: dict[str, dict[str, Decimal]] = defaultdict(dict)
    rows = (
        queryset.exclude(status=Invoice.Status.CANCELLED)
        .values("currency")
        .annotate(total=Sum("total"), paid=Sum("paid_amount"))
    )
    for row in rows:
        result[row["currency"]] = {
            "invoiced": row["total"],
            "paid": row["paid"],
            "balance": row["total"] - row["paid"],
        }
    return dict(result)
