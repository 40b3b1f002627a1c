"""Filters of the lead-to-cash pages: money in its currency's minor unit, plain numbers
without trailing zeros (never in exponent form: Decimal("100").normalize() is 1E+2)."""

from decimal import Decimal

from django import template

from ..money import minor_units

register = template.Library()


@register.filter
def money(amount, currency: str = "") -> str:
    if amount is None or amount == "":
        return "—"
    return f"{Decimal(amount):,.{minor_units(currency or 'XXX')}f}"


@register.filter
def number(value) -> str:
    """12.500 -> "12.5", 100.000 -> "100"."""
    if value is None or value == "":
        return "—"
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.inclusion_tag("crm_core/sales/_record_panel.html", takes_context=True)
def sales_panel(context, record):
    """Quotes, contracts, orders and invoices of a deal or customer the user sees, with
    what is overdue: the deal and customer pages show it with one tag."""
    from accounts.roles import Perm, has_perm

    from ..models import Contract, Customer, Deal, Invoice, Order, Quote
    from ..selectors.collections import balances, customer_overdue, deal_overdue
    from ..selectors.sales import sales_queryset

    user = context["request"].user
    key = "deal" if isinstance(record, Deal) else "customer"
    filters = {key: record.pk}
    overdue = (
        deal_overdue(deal=record) if isinstance(record, Deal) else customer_overdue(customer=record)
    )
    invoices = sales_queryset(Invoice, user=user, filters=filters)
    return {
        "record": record,
        "balances": balances(invoices),
        "is_deal": key == "deal",
        "quotes": sales_queryset(Quote, user=user, filters=filters)[:20],
        "contracts": sales_queryset(Contract, user=user, filters=filters)[:20],
        "orders": sales_queryset(Order, user=user, filters=filters)[:20],
        "invoices": invoices[:20],
        "overdue": overdue,
        "can_quote": has_perm(user, Perm.CHANGE_RECORDS) and not isinstance(record, Customer),
    }
