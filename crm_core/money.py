"""Money arithmetic of quotes, orders and invoices: pure functions on Decimal, no float.

Every amount is rounded (half up) to its currency's minor unit (ISO 4217: JPY has none,
CNY and USD two, KWD three). A document's totals are computed here and nowhere else:

    gross     = quantity x unit price                      (per line, rounded)
    line net  = gross - gross x line discount %            (per line, rounded)
    subtotal  = sum of line nets
    discount  = subtotal x total discount %                (rounded), spread over the lines
                in proportion to their nets so that the parts add up exactly
    tax       = per tax rate: (nets - their share of the discount) x rate  (rounded)
    total     = subtotal - discount + tax
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

# ISO 4217 currencies whose minor unit is not 2 (all others have cents).
_MINOR_UNITS = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
         "VND", "VUV", "XAF", "XOF", "XPF"),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}  # fmt: skip
HUNDRED = Decimal(100)
ZERO = Decimal(0)


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    return Decimal(amount).quantize(quantum(currency), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal = ZERO
    tax_rate: Decimal = ZERO  # percent


@dataclass(frozen=True)
class LineAmounts:
    gross: Decimal
    line_discount: Decimal
    net: Decimal  # after the line discount: what the line shows
    total_discount_share: Decimal
    taxable: Decimal  # net minus its share of the total discount


@dataclass(frozen=True)
class Totals:
    currency: str
    lines: tuple[LineAmounts, ...]
    gross: Decimal
    line_discounts: Decimal
    subtotal: Decimal
    total_discount: Decimal
    taxes: dict[Decimal, Decimal]  # tax rate -> tax
    tax: Decimal
    total: Decimal
    # All discounts as a percent of the list amount: what approval rules compare.
    effective_discount_percent: Decimal


def _spread(amount: Decimal, weights: Sequence[Decimal], step: Decimal) -> list[Decimal]:
    """Split `amount` in proportion to `weights`, in multiples of `step`, summing exactly
    (largest remainder: the leftover steps go to the lines with the biggest remainders)."""
    total_weight = sum(weights, ZERO)
    if not amount or not total_weight:
        return [ZERO for _ in weights]
    exact = [amount * weight / total_weight for weight in weights]
    parts = [value.quantize(step, rounding=ROUND_DOWN) for value in exact]
    leftover = int((amount - sum(parts, ZERO)) / step)
    order = sorted(range(len(weights)), key=lambda i: (exact[i] - parts[i], -i), reverse=True)
    for index in order[:leftover]:
        parts[index] += step
    return parts


def compute_totals(
    lines: Iterable[LineInput], *, currency: str, total_discount_percent: Decimal = ZERO
) -> Totals:
    lines = list(lines)
    step = quantum(currency)
    gross = [round_money(line.quantity * line.unit_price, currency) for line in lines]
    line_discount = [
        round_money(amount * line.discount_percent / HUNDRED, currency)
        for amount, line in zip(gross, lines, strict=True)
    ]
    nets = [amount - discount for amount, discount in zip(gross, line_discount, strict=True)]
    subtotal = sum(nets, ZERO)
    total_discount = round_money(subtotal * total_discount_percent / HUNDRED, currency)
    shares = _spread(total_discount, nets, step)
    taxable = [net - share for net, share in zip(nets, shares, strict=True)]
    bases: dict[Decimal, Decimal] = {}
    for line, base in zip(lines, taxable, strict=True):
        rate = Decimal(line.tax_rate).normalize()
        bases[rate] = bases.get(rate, ZERO) + base
    taxes = {rate: round_money(base * rate / HUNDRED, currency) for rate, base in bases.items()}
    tax = sum(taxes.values(), ZERO)
    gross_total = sum(gross, ZERO)
    net_total = subtotal - total_discount
    effective = (
        ((gross_total - net_total) * HUNDRED / gross_total).quantize(Decimal("0.0001"))
        if gross_total
        else ZERO
    )
    return Totals(
        currency=currency,
        lines=tuple(
            LineAmounts(*values)
            for values in zip(gross, line_discount, nets, shares, taxable, strict=True)
        ),
        gross=gross_total + ZERO * step,
        line_discounts=sum(line_discount, ZERO) + ZERO * step,
        subtotal=subtotal + ZERO * step,
        total_discount=total_discount,
        taxes=taxes,
        tax=tax + ZERO * step,
        total=net_total + tax + ZERO * step,
        effective_discount_percent=effective,
    )


def split_instalments(
    total: Decimal, *, currency: str, count: int, first_due: date, every_days: int
) -> list[tuple[date, Decimal]]:
    """`count` instalments due every `every_days` from `first_due`; equal parts rounded
    down to the minor unit, the last one takes the remainder so they sum to `total`."""
    if count < 1:
        raise ValueError("count must be at least 1")
    part = (total / count).quantize(quantum(currency), rounding=ROUND_DOWN)
    amounts = [part] * (count - 1) + [total - part * (count - 1)]
    return [
        (first_due + timedelta(days=every_days * index), amount)
        for index, amount in enumerate(amounts)
    ]


def allocate_payment(
    amount: Decimal, outstanding: Sequence[Decimal]
) -> tuple[list[Decimal], Decimal]:
    """Fill the outstanding amounts in order (earliest due first); returns the part
    paid into each and what is left over (an over-payment)."""
    parts = []
    left = amount
    for owed in outstanding:
        paid = min(left, max(owed, ZERO))
        parts.append(paid)
        left -= paid
    return parts, left


AGEING_BUCKETS = ("0-30", "31-60", "61-90", "90+")


def ageing_bucket(days_overdue: int) -> str:
    if days_overdue <= 30:
        return "0-30"
    if days_overdue <= 60:
        return "31-60"
    if days_overdue <= 90:
        return "61-90"
    return "90+"
