from django import template

register = template.Library()


@register.filter
def cents(amount, currency: str = "") -> str:
    """1500, "usd" -> "15.00 USD"."""
    value = f"{(amount or 0) / 100:,.2f}"
    return f"{value} {currency.upper()}" if currency else value
