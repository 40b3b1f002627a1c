"""Writes on orders and deliveries: an order from an accepted quote (its lines) or from
an active contract (the quote's lines, or one line of the contract's value); partial
deliveries; cancelling an order with nothing invoiced."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from ..models import Contract, Delivery, DeliveryLine, Invoice, Order, OrderLine, Quote
from ..records import ensure_can_change, record_event
from .numbering import number_next
from .sales_lines import line_input, lines_build, lines_totals


def order_payload(order: Order) -> dict:
    return {
        "number": order.number,
        "status": order.status,
        "customer_id": order.customer_id,
        "deal_id": order.deal_id,
        "contract_id": order.contract_id,
        "quote_id": order.quote_id,
        "currency": order.currency,
        "total": str(order.total),
        "owner_id": order.owner_id,
    }


def _event(order: Order, action: str, **extra) -> None:
    record_event(
        record_type="order", action=action, record=order, payload={**order_payload(order), **extra}
    )


def _create(*, actor: User, source, lines: list[dict], discount: Decimal, **links) -> Order:
    order = Order(
        owner=source.owner,
        team_id=source.team_id,
        created_by=actor,
        customer=source.customer,
        currency=source.currency,
        total_discount_percent=discount,
        **links,
    )
    errors: dict[str, list[str]] = {}
    built = lines_build(
        OrderLine,
        lines,
        currency=order.currency,
        price_list=None,
        default_tax_rate=Decimal(0),
        errors=errors,
    )
    if errors:
        raise ValidationError(errors)
    totals = lines_totals(built, currency=order.currency, total_discount_percent=discount)
    order.subtotal, order.total_discount = totals.subtotal, totals.total_discount
    order.tax_amount, order.total = totals.tax, totals.total
    order.number = number_next(kind="order")
    order.save()
    for line in built:
        line.order = order
    OrderLine.objects.bulk_create(built)
    _event(order, "created")
    return order


@transaction.atomic
def order_from_quote(*, quote: Quote, actor: User) -> Order:
    ensure_can_change(actor, quote)
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    if quote.status != Quote.Status.ACCEPTED:
        raise ValidationError({"quote": [_("Only an accepted quote becomes an order.")]})
    if quote.orders.exclude(status=Order.Status.CANCELLED).exists():
        raise ValidationError({"quote": [_("This quote already has an order.")]})
    contract = quote.contracts.exclude(status=Contract.Status.TERMINATED).order_by("-id").first()
    return _create(
        actor=actor,
        source=quote,
        lines=[line_input(line) for line in quote.lines.select_related("product")],
        discount=quote.total_discount_percent,
        quote=quote,
        deal=quote.deal,
        contract=contract,
    )


@transaction.atomic
def order_from_contract(*, contract: Contract, actor: User) -> Order:
    ensure_can_change(actor, contract)
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status != Contract.Status.ACTIVE:
        raise ValidationError({"contract": [_("Only an active contract becomes an order.")]})
    if contract.quote_id:
        quote = contract.quote
        lines = [line_input(line) for line in quote.lines.select_related("product")]
        discount = quote.total_discount_percent
    else:
        lines = [{"description": contract.title, "quantity": 1, "unit_price": contract.value}]
        discount = Decimal(0)
    return _create(
        actor=actor,
        source=contract,
        lines=lines,
        discount=discount,
        contract=contract,
        quote=contract.quote,
        deal=contract.deal,
    )


def _delivery_status(order: Order) -> str:
    lines = list(order.lines.all())
    if all(line.delivered_quantity >= line.quantity for line in lines):
        return Order.Status.DELIVERED
    if any(line.delivered_quantity > 0 for line in lines):
        return Order.Status.PARTIALLY_DELIVERED
    return Order.Status.OPEN


@transaction.atomic
def delivery_record(
    *,
    order: Order,
    actor: User,
    quantities: dict[int, Decimal],
    delivered_on: date | None = None,
    note: str = "",
) -> Delivery:
    """Record a (partial) delivery: `quantities` maps order line ids to what was
    delivered now; no line can be delivered beyond its ordered quantity."""
    ensure_can_change(actor, order)
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status in (Order.Status.CANCELLED, Order.Status.DELIVERED):
        raise ValidationError({"status": [_("This order takes no more deliveries.")]})
    lines = {line.pk: line for line in order.lines.select_for_update()}
    errors = {}
    wanted = {}
    for line_id, quantity in quantities.items():
        line = lines.get(int(line_id))
        if line is None:
            errors[f"lines.{line_id}"] = [_("Not a line of this order.")]
            continue
        quantity = Decimal(quantity or 0)
        if quantity < 0 or line.delivered_quantity + quantity > line.quantity:
            errors[f"lines.{line_id}"] = [_("More than is left to deliver.")]
        elif quantity > 0:
            wanted[line.pk] = quantity
    if not wanted and not errors:
        errors["lines"] = [_("Enter the quantity delivered of at least one line.")]
    if errors:
        raise ValidationError(errors)
    delivery = Delivery.objects.create(
        order=order,
        delivered_on=delivered_on or timezone.localdate(),
        note=(note or "").strip()[:300],
        created_by=actor,
    )
    for line_id, quantity in wanted.items():
        DeliveryLine.objects.create(delivery=delivery, order_line_id=line_id, quantity=quantity)
        lines[line_id].delivered_quantity += quantity
        lines[line_id].save(update_fields=["delivered_quantity"])
    order.status = _delivery_status(order)
    order.save(update_fields=["status", "updated_at"])
    _event(order, "delivered", delivery_id=delivery.pk)
    return delivery


@transaction.atomic
def order_cancel(*, order: Order, actor: User) -> Order:
    ensure_can_change(actor, order)
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.invoices.exclude(status=Invoice.Status.CANCELLED).exists():
        raise ValidationError({"status": [_("Cancel its invoices first.")]})
    if order.deliveries.exists():
        raise ValidationError({"status": [_("A delivered order cannot be cancelled.")]})
    order.status = Order.Status.CANCELLED
    order.save(update_fields=["status", "updated_at"])
    _event(order, "cancelled")
    return order
