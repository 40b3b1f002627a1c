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
