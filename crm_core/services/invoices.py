"""Writes on invoices and payments: an invoice against an order (the whole remaining
amount, or one delivery's value) with its payment plan; payments recorded against an
invoice fill its instalments earliest due first; over-payments are kept as a credit."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Perm, has_perm

from ..models import Delivery, Instalment, Invoice, Order, OrderLine, Payment
from ..money import allocate_payment, round_money, split_instalments
from ..records import ensure_can_change, record_event
from ..selectors.sales import sales_visible
from .numbering import number_next
from .products import sales_settings_get
from .sales_lines import lines_totals

MAX_INSTALMENTS = 60


def invoice_payload(invoice: Invoice) -> dict:
    return {
        "number": invoice.number,
        "status": invoice.status,
        "order_id": invoice.order_id,
        "customer_id": invoice.customer_id,
        "deal_id": invoice.deal_id,
        "currency": invoice.currency,
        "total": str(invoice.total),
        "paid_amount": str(invoice.paid_amount),
        "collections_owner_id": invoice.collections_owner_id,
    }


def _event(invoice: Invoice, action: str, **extra) -> None:
    record_event(
        record_type="invoice",
        action=action,
        record=invoice,
        payload={**invoice_payload(invoice), **extra},
    )


def order_invoiced(order: Order) -> Decimal:
    return order.invoices.exclude(status=Invoice.Status.CANCELLED).aggregate(s=Sum("total"))[
        "s"
    ] or Decimal(0)


def _delivery_value(order: Order, delivery: Delivery) -> Decimal:
    """What a delivery is worth: its quantities at the order's prices, discounts, taxes."""
    delivered = {line.order_line_id: line.quantity for line in delivery.lines.all()}
    lines = [
        OrderLine(
            quantity=delivered[line.pk],
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            tax_rate=line.tax_rate,
        )
        for line in order.lines.all()
        if line.pk in delivered
    ]
    return lines_totals(
        lines, currency=order.currency, total_discount_percent=order.total_discount_percent
    ).total


def invoice_amount(*, order: Order, delivery: Delivery | None = None) -> Decimal:
    """What an invoice would be for: what is not invoiced yet, or a delivery's value
    (capped by that)."""
    remaining = order.total - order_invoiced(order)
    if delivery is None:
        return remaining
    return min(_delivery_value(order, delivery), remaining)


def _plan(
    plan: list[dict] | None, *, total: Decimal, currency: str, issue_date: date
) -> list[tuple[date, Decimal]]:
    """The instalments: given as [{"due_date", "amount"}] summing to the total, or one
    instalment due after the company's payment terms."""
    if not plan:
        days = sales_settings_get().payment_terms_days
        return [(issue_date + timedelta(days=days), total)]
    if len(plan) > MAX_INSTALMENTS:
        raise ValidationError({"instalments": [_("At most 60 instalments.")]})
    errors, parsed = {}, []
    for index, item in enumerate(plan):
        due, amount = item.get("due_date"), item.get("amount")
        try:
            amount = Decimal(str(amount))
            if not amount.is_finite() or amount <= 0 or amount != round_money(amount, currency):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors[f"instalments.{index}.amount"] = [
                _("Enter an amount above zero in the currency's smallest unit.")
            ]
            continue
        if not isinstance(due, date):
            errors[f"instalments.{index}.due_date"] = [_("Enter a due date.")]
            continue
        if due < issue_date:
            errors[f"instalments.{index}.due_date"] = [_("Due before the invoice date.")]
        parsed.append((due, amount))
    if not errors and sum(amount for _due, amount in parsed) != total:
        errors["instalments"] = [
            _("The instalments add up to %(sum)s, the invoice to %(total)s.")
            % {"sum": sum(amount for _due, amount in parsed), "total": total}
        ]
    if errors:
        raise ValidationError(errors)
    return sorted(parsed)


def instalments_even(
    *, total: Decimal, currency: str, count: int, first_due: date, every_days: int
) -> list[dict]:
    """An even plan as instalment input (the last one takes the rounding remainder)."""
    return [
        {"due_date": due, "amount": amount}
        for due, amount in split_instalments(
            total, currency=currency, count=count, first_due=first_due, every_days=every_days
        )
    ]


@transaction.atomic
def invoice_create(
    *,
    order: Order,
    actor: User,
    delivery: Delivery | None = None,
    instalments: list[dict] | None = None,
    issue_date: date | None = None,
    collections_owner: User | None = None,
) -> Invoice:
    """Issue an invoice against `order`: the amount not yet invoiced, or `delivery`'s
    value (capped by what is left), payable by `instalments`."""
    ensure_can_change(actor, order)
    order = Order.objects.select_for_update(of=("self",)).select_related("deal").get(pk=order.pk)
    if order.status == Order.Status.CANCELLED:
        raise ValidationError({"order": [_("This order is cancelled.")]})
    issue_date = issue_date or timezone.localdate()
    if delivery is not None:
        if delivery.order_id != order.pk:
            raise ValidationError({"delivery": [_("Not a delivery of this order.")]})
        if delivery.invoices.exclude(status=Invoice.Status.CANCELLED).exists():
            raise ValidationError({"delivery": [_("This delivery is already invoiced.")]})
    total = invoice_amount(order=order, delivery=delivery)
    if total <= 0:
        raise ValidationError({"order": [_("Nothing is left to invoice on this order.")]})
    if collections_owner is not None and not collections_owner.is_active:
        raise ValidationError({"collections_owner": [_("Choose an active user.")]})
    plan = _plan(instalments, total=total, currency=order.currency, issue_date=issue_date)
    owner = collections_owner or (order.deal.collections_owner if order.deal_id else None)
    invoice = Invoice.objects.create(
        number=number_next(kind="invoice"),
        order=order,
        delivery=delivery,
        customer_id=order.customer_id,
        deal_id=order.deal_id,
        currency=order.currency,
        issue_date=issue_date,
        total=total,
        owner_id=order.owner_id,
        team_id=order.team_id,
        created_by=actor,
        collections_owner=owner or order.owner,
    )
    Instalment.objects.bulk_create(
        Instalment(invoice=invoice, position=index, due_date=due, amount=amount)
        for index, (due, amount) in enumerate(plan)
    )
    _event(
        invoice,
        "issued",
        instalments=[{"due_date": due.isoformat(), "amount": str(amount)} for due, amount in plan],
    )
    return invoice


@transaction.atomic
def invoice_cancel(*, invoice: Invoice, actor: User) -> Invoice:
    ensure_can_change(actor, invoice)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.payments.exists():
        raise ValidationError({"status": [_("An invoice with payments cannot be cancelled.")]})
    if invoice.status == Invoice.Status.CANCELLED:
        return invoice
    invoice.status = Invoice.Status.CANCELLED
    invoice.save(update_fields=["status", "updated_at"])
    _event(invoice, "cancelled")
    return invoice


@transaction.atomic
def payment_record(
    *,
    invoice: Invoice,
    actor: User,
    amount: Decimal,
    received_on: date | None = None,
    method: str = Payment.Method.BANK_TRANSFER,
    reference: str = "",
) -> Payment:
    """Record money received against `invoice`. It fills the open instalments earliest
    due first; what is beyond the invoice's balance stays on it as a credit."""
    visible = sales_visible(Invoice.objects.filter(pk=invoice.pk), actor).exists()
    if not has_perm(actor, Perm.RECORD_PAYMENTS) or not visible:
        raise PermissionDenied
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    errors = {}
    if invoice.status == Invoice.Status.CANCELLED:
        errors["invoice"] = [_("This invoice is cancelled.")]
    try:
        amount = Decimal(str(amount))
        if not amount.is_finite() or amount <= 0 or amount != round_money(amount, invoice.currency):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["amount"] = [_("Enter an amount above zero in the currency's smallest unit.")]
    if method not in Payment.Method.values:
        errors["method"] = [_("Choose a payment method.")]
    received_on = received_on or timezone.localdate()
    if received_on > timezone.localdate() + timedelta(days=1):
        errors["received_on"] = [_("A payment cannot be received in the future.")]
    if errors:
        raise ValidationError(errors)
    instalments = list(invoice.instalments.select_for_update().order_by("due_date", "position"))
    parts, left = allocate_payment(amount, [i.amount - i.paid_amount for i in instalments])
    for instalment, part in zip(instalments, parts, strict=True):
        if part:
            instalment.paid_amount += part
            instalment.save(update_fields=["paid_amount"])
    payment = Payment.objects.create(
        invoice=invoice,
        received_on=received_on,
        amount=amount,
        method=method,
        reference=(reference or "").strip()[:100],
        unapplied_amount=left,
        recorded_by=actor,
    )
    invoice.paid_amount += amount
    invoice.status = (
        Invoice.Status.PAID
        if invoice.paid_amount >= invoice.total
        else Invoice.Status.PARTIALLY_PAID
    )
    invoice.save(update_fields=["paid_amount", "status", "updated_at"])
    record_event(
        record_type="payment",
        action="received",
        record=payment,
        payload={
            "invoice_id": invoice.pk,
            "invoice_number": invoice.number,
            "customer_id": invoice.customer_id,
            "amount": str(amount),
            "currency": invoice.currency,
            "received_on": received_on.isoformat(),
            "method": method,
            "over_payment": str(left),
        },
    )
    if invoice.status == Invoice.Status.PAID:
        _event(invoice, "paid")
    return payment
