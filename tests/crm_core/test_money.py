"""crm_core.money: totals, taxes, rounding per currency, instalments, payment allocation
and ageing. Pure functions: property-based (hypothesis) plus worked examples."""

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.money import (
    LineInput,
    ageing_bucket,
    allocate_payment,
    compute_totals,
    minor_units,
    quantum,
    round_money,
    split_instalments,
)

D = Decimal
CURRENCIES = st.sampled_from(["CNY", "JPY", "USD", "KWD"])
PERCENTS = st.decimals(min_value=0, max_value=100, places=2)
LINES = st.lists(
    st.builds(
        LineInput,
        quantity=st.decimals(min_value=D("0.001"), max_value=10_000, places=3),
        unit_price=st.decimals(min_value=0, max_value=1_000_000, places=3),
        discount_percent=PERCENTS,
        tax_rate=st.sampled_from([D(0), D(6), D(8), D(10), D(13), D("7.5")]),
    ),
    min_size=1,
    max_size=12,
)


def test_minor_units_follow_iso_4217():
    assert (minor_units("JPY"), minor_units("CNY"), minor_units("KWD")) == (0, 2, 3)
    assert round_money(D("1234.5"), "JPY") == D("1235")
    assert round_money(D("0.125"), "CNY") == D("0.13")  # half up, not banker's


def test_a_worked_quote():
    totals = compute_totals(
        [
            LineInput(D("3"), D("19.99"), D("10"), D("13")),  # 59.97 - 6.00 = 53.97
            LineInput(D("1"), D("100"), D("0"), D("6")),  # 100.00
        ],
        currency="CNY",
        total_discount_percent=D("5"),
    )
    assert totals.gross == D("159.97")
    assert [line.net for line in totals.lines] == [D("53.97"), D("100.00")]
    assert totals.subtotal == D("153.97")
    assert totals.total_discount == D("7.70")
    # The discount is spread 2.70 / 5.00: taxable 51.27 at 13%, 95.00 at 6%.
    assert [line.total_discount_share for line in totals.lines] == [D("2.70"), D("5.00")]
    assert totals.taxes == {D("13"): D("6.67"), D("6"): D("5.70")}
    assert totals.total == D("153.97") - D("7.70") + D("12.37")
    assert totals.effective_discount_percent == D("8.5641")  # (159.97 - 146.27) / 159.97


def test_yen_has_no_decimals():
    totals = compute_totals(
        [LineInput(D("3"), D("333"), D("10"), D("10"))],
        currency="JPY",
        total_discount_percent=D("3"),
    )
    assert totals.subtotal == D("899")  # 999 - 100 (99.9 rounded)
    assert totals.total_discount == D("27")
    assert totals.tax == D("87")
    assert totals.total == D("959")
    assert totals.total.as_tuple().exponent == 0


@settings(max_examples=300, deadline=None)
@given(lines=LINES, currency=CURRENCIES, discount=PERCENTS)
def test_totals_add_up_exactly_in_the_currency_unit(lines, currency, discount):
    totals = compute_totals(lines, currency=currency, total_discount_percent=discount)
    step = quantum(currency)
    for amount in (totals.gross, totals.subtotal, totals.total_discount, totals.tax, totals.total):
        assert amount == amount.quantize(step)
    assert totals.total == totals.subtotal - totals.total_discount + totals.tax
    assert totals.subtotal == sum((line.net for line in totals.lines), D(0))
    assert totals.gross - totals.line_discounts == totals.subtotal
    shares = sum((line.total_discount_share for line in totals.lines), D(0))
    assert shares == totals.total_discount
    assert all(line.total_discount_share <= line.net for line in totals.lines)
    assert totals.tax == sum(totals.taxes.values(), D(0))
    assert totals.total >= 0
    assert D(0) <= totals.effective_discount_percent <= D(100)


@settings(max_examples=200, deadline=None)
@given(lines=LINES, currency=CURRENCIES)
def test_without_discounts_the_net_is_the_rounded_list_price(lines, currency):
    plain = [LineInput(line.quantity, line.unit_price, D(0), line.tax_rate) for line in lines]
    totals = compute_totals(plain, currency=currency)
    assert totals.subtotal == sum(
        (round_money(line.quantity * line.unit_price, currency) for line in plain), D(0)
    )
    assert totals.total_discount == 0 and totals.effective_discount_percent == 0


@settings(max_examples=200, deadline=None)
@given(
    total=st.decimals(min_value=D("0.01"), max_value=10_000_000, places=2),
    count=st.integers(min_value=1, max_value=24),
)
def test_instalments_sum_to_the_total(total, count):
    plan = split_instalments(
        total, currency="CNY", count=count, first_due=date(2026, 1, 31), every_days=30
    )
    assert len(plan) == count
    assert sum(amount for _due, amount in plan) == total
    assert [due for due, _amount in plan] == sorted(due for due, _amount in plan)
    assert plan[-1][1] >= plan[0][1]


@given(
    amount=st.decimals(min_value=D("0.01"), max_value=100_000, places=2),
    owed=st.lists(st.decimals(min_value=0, max_value=50_000, places=2), max_size=6),
)
def test_payments_fill_the_earliest_first_and_keep_the_rest(amount, owed):
    parts, left = allocate_payment(amount, owed)
    assert sum(parts, D(0)) + left == amount
    assert all(0 <= part <= debt for part, debt in zip(parts, owed, strict=True))
    filled = [part == debt for part, debt in zip(parts, owed, strict=True)]
    if False in filled:  # nothing after a partly filled instalment gets money
        first_open = filled.index(False)
        assert all(part == 0 for part in parts[first_open + 1 :])
        assert left == 0


def test_ageing_buckets():
    assert [ageing_bucket(days) for days in (1, 30, 31, 60, 61, 90, 91, 400)] == [
        "0-30", "0-30", "31-60", "31-60", "61-90", "61-90", "90+", "90+"
    ]  # fmt: skip
