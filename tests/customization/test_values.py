"""The one validator, type by type (property-based): valid values are stored in their
normal form and clean again to themselves; invalid ones are refused with a message."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customization.models import FieldDefinition, FieldType
from customization.values import InvalidValue, clean_value

FAST = settings(max_examples=60, deadline=None)


def field(field_type, **options) -> FieldDefinition:
    return FieldDefinition(
        entity="customer", api_name="x", label="X", field_type=field_type, **options
    )


def idempotent(definition, value):
    cleaned = clean_value(definition, value)
    assert clean_value(definition, cleaned) == cleaned
    return cleaned


@FAST
@given(st.text(max_size=255).filter(lambda t: t.strip()))
def test_text_is_stripped_and_capped(text):
    assert idempotent(field(FieldType.TEXT), text) == text.strip()


@FAST
@given(st.text(min_size=256, max_size=400).filter(lambda t: len(t.strip()) > 255))
def test_text_over_the_cap_is_refused(text):
    with pytest.raises(InvalidValue):
        clean_value(field(FieldType.TEXT), text)


@FAST
@given(st.from_regex(r"[A-Z]{2}-[0-9]{3}", fullmatch=True), st.text(min_size=1, max_size=20))
def test_text_pattern(good, other):
    definition = field(FieldType.TEXT, pattern=r"[A-Z]{2}-[0-9]{3}")
    assert clean_value(definition, good) == good
    if not __import__("re").fullmatch(r"[A-Z]{2}-[0-9]{3}", other.strip()) and other.strip():
        with pytest.raises(InvalidValue):
            clean_value(definition, other)


@FAST
@given(st.integers(min_value=-(10**17), max_value=10**17))
def test_integer_with_bounds(number):
    definition = field(FieldType.INTEGER, min_value=Decimal(0), max_value=Decimal(10**9))
    if 0 <= number <= 10**9:
        assert idempotent(definition, number) == number
        assert clean_value(definition, str(number)) == number
    else:
        with pytest.raises(InvalidValue):
            clean_value(definition, number)


@FAST
@given(st.one_of(st.booleans(), st.floats(allow_nan=True), st.lists(st.integers(), min_size=1)))
def test_integer_refuses_other_types(value):
    with pytest.raises(InvalidValue):
        clean_value(field(FieldType.INTEGER), value)


@FAST
@given(
    st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False),
    st.sampled_from([FieldType.DECIMAL, FieldType.CURRENCY, FieldType.PERCENT]),
)
def test_numbers_keep_their_places(number, field_type):
    definition = field(field_type, decimal_places=2, min_value=Decimal(0))
    if number < 0:
        with pytest.raises(InvalidValue):
            clean_value(definition, str(number))
        return
    cleaned = idempotent(definition, str(number))
    assert Decimal(cleaned) == number and cleaned == f"{number:.2f}"


def test_numbers_refuse_more_places_nan_and_infinity():
    definition = field(FieldType.CURRENCY, decimal_places=2)
    for bad in ("1.234", "NaN", "Infinity", "abc", True, [1]):
        with pytest.raises(InvalidValue):
            clean_value(definition, bad)


@FAST
@given(st.dates())
def test_dates(day):
    assert idempotent(field(FieldType.DATE), day.isoformat()) == day.isoformat()
    assert clean_value(field(FieldType.DATE), day) == day.isoformat()


@FAST
@given(st.datetimes(timezones=st.just(dt.UTC), min_value=dt.datetime(1900, 1, 1)))  # noqa: DTZ001
def test_datetimes_are_utc_text_in_time_order(moment):
    text = idempotent(field(FieldType.DATETIME), moment.isoformat())
    assert text.endswith("Z") and len(text) == 27
    assert dt.datetime.fromisoformat(text) == moment


def test_datetime_text_sorts_as_time():
    definition = field(FieldType.DATETIME)
    early = clean_value(definition, "2026-01-02T10:00:00+09:00")  # 01:00 UTC
    late = clean_value(definition, "2026-01-02T02:00:00+00:00")
    assert early < late


@FAST
@given(st.text(max_size=10))
def test_dates_refuse_garbage(text):
    try:
        dt.date.fromisoformat(text.strip())
    except ValueError:
        if text.strip():
            with pytest.raises(InvalidValue):
                clean_value(field(FieldType.DATE), text)


@FAST
@given(
    st.sampled_from(["true", "YES", "1", "on", True]), st.sampled_from(["false", "no", "0", False])
)
def test_booleans(yes, no):
    assert clean_value(field(FieldType.BOOLEAN), yes) is True
    assert clean_value(field(FieldType.BOOLEAN), no) is False


CHOICES = [
    {"value": "smb", "label": "SMB", "color": "#00aa00", "active": True},
    {"value": "ent", "label": "Enterprise", "color": "#aa0000", "active": True},
    {"value": "old", "label": "Old", "color": "", "active": False},
]


@FAST
@given(st.text(max_size=10))
def test_picklist_takes_active_values_only(text):
    definition = field(FieldType.PICKLIST, choices=CHOICES)
    if text.strip() in ("smb", "ent"):
        assert clean_value(definition, text) == text.strip()
    elif text.strip():
        with pytest.raises(InvalidValue):
            clean_value(definition, text)


@FAST
@given(st.lists(st.sampled_from(["smb", "ent"]), max_size=5))
def test_multi_select_keeps_picklist_order_without_repeats(values):
    definition = field(FieldType.MULTI_SELECT, choices=CHOICES)
    cleaned = clean_value(definition, values)
    expected = [v for v in ("smb", "ent") if v in values] or None
    assert cleaned == expected
    with pytest.raises(InvalidValue):
        clean_value(definition, [*values, "old"])


@FAST
@given(st.emails())
def test_emails(address):
    assert idempotent(field(FieldType.EMAIL), address) == address


@pytest.mark.parametrize("bad", ["no-at-sign", "a@", 5])
def test_bad_emails(bad):
    with pytest.raises(InvalidValue):
        clean_value(field(FieldType.EMAIL), bad)


@FAST
@given(st.from_regex(r"\+?[0-9][0-9 \-]{5,20}", fullmatch=True))
def test_phones(number):
    assert idempotent(field(FieldType.PHONE), number) == number.strip()


def test_urls_and_lookup_ids():
    assert clean_value(field(FieldType.URL), "https://example.com/x") == "https://example.com/x"
    for bad in ("javascript:alert(1)", "ftp://x.example.com", "not a url"):
        with pytest.raises(InvalidValue):
            clean_value(field(FieldType.URL), bad)
    lookup = field(FieldType.LOOKUP, lookup_entity="contact")
    assert clean_value(lookup, "12") == 12
    for bad in ("-1", "x", True, 0):
        with pytest.raises(InvalidValue):
            clean_value(lookup, bad)


@pytest.mark.parametrize("field_type", FieldType.values)
def test_empty_is_none_for_every_type(field_type):
    definition = field(field_type, choices=CHOICES, lookup_entity="contact")
    for empty in (None, "", "   ", []):
        assert clean_value(definition, empty) is None
