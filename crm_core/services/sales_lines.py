"""Lines of quotes and orders: validating the input, prices from the price list, and
the document's totals (through crm_core.money, the one place amounts are computed)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from ..models import PriceList, PriceListItem, SalesLine
from ..money import HUNDRED, LineInput, Totals, compute_totals, round_money

MAX_LINES = 200
MAX_QUANTITY = Decimal("99999999999")
MAX_PRICE = Decimal("999999999999999")


def _decimal(value, *, default: Decimal | None = None) -> Decimal | None:
    if value in (None, ""):
        return default
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _prices(price_list: PriceList | None, products: list) -> dict:
    """The price list's prices of `products` (one query for all the lines)."""
    ids = {product.pk for product in products if product is not None}
    if price_list is None or not ids:
        return {}
    return dict(
        PriceListItem.objects.filter(price_list=price_list, product_id__in=ids).values_list(
            "product_id", "unit_price"
        )
    )


def lines_build(
    line_class: type[SalesLine],
    lines: list[dict],
    *,
    currency: str,
    price_list: PriceList | None,
    default_tax_rate: Decimal,
    errors: dict[str, list[str]],
) -> list[SalesLine]:
    """Unsaved line objects from input dicts (product, description, quantity, unit_price,
    discount_percent, tax_rate). A product without a price takes the price list's; bad
    values are named "lines.<position>.<field>" in `errors`."""
    if not lines:
        errors["lines"] = [_("Add at least one line.")]
        return []
    if len(lines) > MAX_LINES:
        errors["lines"] = [_("At most 200 lines.")]
        return []
    prices = _prices(price_list, [data.get("product") for data in lines])
    built = []
    for index, data in enumerate(lines):
        key = f"lines.{index}"
        product = data.get("product")
        description = (data.get("description") or "").strip() or (product.name if product else "")
        if not description:
            errors[f"{key}.description"] = [_("Choose a product or describe the line.")]
        if len(description) > 300:
            errors[f"{key}.description"] = [_("At most 300 characters.")]
        quantity = _decimal(data.get("quantity"))
        if quantity is None or quantity <= 0 or quantity > MAX_QUANTITY:
            errors[f"{key}.quantity"] = [_("Enter a quantity above zero.")]
        unit_price = _decimal(data.get("unit_price"))
        if data.get("unit_price") in (None, "") and product is not None:
            unit_price = prices.get(product.pk)
            if unit_price is None:
                errors[f"{key}.unit_price"] = [_("The price list has no price for this product.")]
        elif unit_price is None or unit_price < 0 or unit_price > MAX_PRICE:
            errors[f"{key}.unit_price"] = [_("Enter a price of zero or more.")]
        discount = _decimal(data.get("discount_percent"), default=Decimal(0))
        if discount is None or not (0 <= discount <= HUNDRED):
            errors[f"{key}.discount_percent"] = [_("Enter a percent between 0 and 100.")]
        tax_rate = _decimal(data.get("tax_rate"), default=default_tax_rate)
        if tax_rate is None or not (0 <= tax_rate <= HUNDRED):
            errors[f"{key}.tax_rate"] = [_("Enter a percent between 0 and 100.")]
        built.append(
            line_class(
                position=index,
                product=product,
                description=description[:300],
                quantity=quantity or 0,
                unit_price=round_money(unit_price, currency) if unit_price is not None else 0,
                discount_percent=discount or 0,
                tax_rate=tax_rate or 0,
            )
        )
    return built


def lines_totals(
    lines: list[SalesLine], *, currency: str, total_discount_percent: Decimal
) -> Totals:
    """The totals of `lines`; sets each line's net amount."""
    totals = compute_totals(
        [
            LineInput(
                quantity=Decimal(line.quantity),
                unit_price=Decimal(line.unit_price),
                discount_percent=Decimal(line.discount_percent),
                tax_rate=Decimal(line.tax_rate),
            )
            for line in lines
        ],
        currency=currency,
        total_discount_percent=Decimal(total_discount_percent),
    )
    for line, amounts in zip(lines, totals.lines, strict=True):
        line.net_amount = amounts.net
    return totals


def line_input(line: SalesLine) -> dict:
    """A saved line as input for a copy (a new quote version, an order)."""
    return {
        "product": line.product,
        "description": line.description,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "discount_percent": line.discount_percent,
        "tax_rate": line.tax_rate,
    }
