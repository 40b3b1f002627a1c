"""The one validator of custom field values, used by the API, the pages, CSV import and
workflows: unknown keys refused, types parsed and normalised, options enforced (required,
unique, min/max, length, pattern, picklist values), lookups checked in this schema.

Stored forms (the JSONB column, keyed by API name; an empty value is no key):
text-like and picklist -> str; integer, lookup, user -> int; decimal, currency, percent
-> str with the field's decimal places; date -> "YYYY-MM-DD"; datetime -> UTC
"YYYY-MM-DDTHH:MM:SS.ffffffZ" (so text order is time order); boolean -> bool;
multi-select -> list of values in picklist order.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from .cache import cached
from .models import FieldDefinition, FieldType
from .registry import lookup_model

TEXT_MAX = 255
LONG_TEXT_MAX = 10_000
NUMBER_DIGITS = 20  # digits before the point for decimal, currency, percent
PHONE_PATTERN = re.compile(r"^\+?[0-9 ()./-]{3,30}$")
TRUE_WORDS = {"true", "yes", "1", "on", "y"}
FALSE_WORDS = {"false", "no", "0", "off", "n"}
NUMERIC_TYPES = {FieldType.DECIMAL, FieldType.CURRENCY, FieldType.PERCENT}
ID_TYPES = {FieldType.LOOKUP, FieldType.USER}


class InvalidValue(ValueError):
    """A value one field refuses; the message is for the user."""


def key_of(definition: FieldDefinition) -> str:
    """The error key naming a custom field (API, forms and import use the same)."""
    return f"custom_fields.{definition.api_name}"


def active_definitions(entity: str) -> list[FieldDefinition]:
    """The entity's fields in use (not archived), in their order; cached per process."""
    return list(
        cached(
            "definitions",
            entity,
            load=lambda: tuple(
                FieldDefinition.objects.filter(entity=entity, archived_at__isnull=True)
            ),
        )
    )


def _is_empty(raw) -> bool:
    return raw is None or (isinstance(raw, str | list | tuple) and len(raw) == 0)


def _text(definition: FieldDefinition, raw, limit: int) -> str:
    if not isinstance(raw, str):
        raise InvalidValue(_("Enter text."))
    value = raw.strip() if definition.field_type != FieldType.LONG_TEXT else raw
    limit = min(definition.max_length or limit, limit)
    if len(value) > limit:
        raise InvalidValue(_("At most %(n)d characters.") % {"n": limit})
    if definition.pattern and not re.fullmatch(definition.pattern, value):
        raise InvalidValue(_("This value does not have the expected format."))
    return value


def _bounds(definition: FieldDefinition, number: Decimal) -> None:
    if definition.min_value is not None and number < definition.min_value:
        raise InvalidValue(_("At least %(n)s.") % {"n": definition.min_value.normalize()})
    if definition.max_value is not None and number > definition.max_value:
        raise InvalidValue(_("At most %(n)s.") % {"n": definition.max_value.normalize()})


def _integer(definition: FieldDefinition, raw) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise InvalidValue(_("Enter a whole number."))
    text = raw.strip() if isinstance(raw, str) else raw
    try:
        value = int(text)
    except ValueError:
        raise InvalidValue(_("Enter a whole number.")) from None
    if abs(value) >= 10**18:
        raise InvalidValue(_("This number is too large."))
    _bounds(definition, Decimal(value))
    return value


def _decimal(definition: FieldDefinition, raw) -> str:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise InvalidValue(_("Enter a number."))
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        raise InvalidValue(_("Enter a number.")) from None
    if not number.is_finite():
        raise InvalidValue(_("Enter a number."))
    if abs(number) >= Decimal(10) ** NUMBER_DIGITS:
        raise InvalidValue(_("This number is too large."))
    places = Decimal(1).scaleb(-definition.decimal_places)
    if number != number.quantize(places):
        raise InvalidValue(_("At most %(n)d decimal places.") % {"n": definition.decimal_places})
    _bounds(definition, number)
    return str(number.quantize(places))


def _date(raw) -> str:
    if isinstance(raw, dt.datetime):
        raise InvalidValue(_("Enter a date (YYYY-MM-DD)."))
    value = raw if isinstance(raw, dt.date) else None
    if isinstance(raw, str):
        try:
            value = parse_date(raw.strip())
        except ValueError:
            value = None
    if value is None:
        raise InvalidValue(_("Enter a date (YYYY-MM-DD)."))
    return value.isoformat()


def _datetime(raw) -> str:
    value = raw if isinstance(raw, dt.datetime) else None
    if isinstance(raw, str):
        try:
            value = parse_datetime(raw.strip())
        except ValueError:
            value = None
    if value is None:
        raise InvalidValue(_("Enter a date and time (ISO 8601)."))
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return datetime_text(value)


def datetime_text(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _boolean(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    word = raw.strip().lower() if isinstance(raw, str) else None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InvalidValue(_("Enter true or false."))


def _choice(definition: FieldDefinition, raw) -> str:
    values = [choice["value"] for choice in definition.active_choices]
    if not isinstance(raw, str) or raw.strip() not in values:
        raise InvalidValue(_("Choose one of: %(values)s.") % {"values": ", ".join(values)})
    return raw.strip()


def _choices(definition: FieldDefinition, raw) -> list[str]:
    if isinstance(raw, str):
        raw = [part for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list | tuple):
        raise InvalidValue(_("Enter a list of values."))
    picked = {_choice(definition, item) for item in raw}
    return [c["value"] for c in definition.active_choices if c["value"] in picked]


def _email(raw) -> str:
    if not isinstance(raw, str):
        raise InvalidValue(_("Enter a valid e-mail address."))
    try:
        validate_email(raw.strip())
    except ValidationError:
        raise InvalidValue(_("Enter a valid e-mail address.")) from None
    return raw.strip()


def _phone(raw) -> str:
    if not isinstance(raw, str) or not PHONE_PATTERN.match(raw.strip()):
        raise InvalidValue(_("Enter a phone number (digits, spaces, + - ( ) . /)."))
    return raw.strip()


_url_validator = URLValidator(schemes=["http", "https"])


def _url(raw) -> str:
    if not isinstance(raw, str) or len(raw) > 500:
        raise InvalidValue(_("Enter a valid URL."))
    try:
        _url_validator(raw.strip())
    except ValidationError:
        raise InvalidValue(_("Enter a valid URL.")) from None
    return raw.strip()


def _record_id(raw) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise InvalidValue(_("Enter a record id."))
    try:
        value = int(raw.strip() if isinstance(raw, str) else raw)
    except ValueError:
        raise InvalidValue(_("Enter a record id.")) from None
    if value <= 0:
        raise InvalidValue(_("Enter a record id."))
    return value


def clean_value(definition: FieldDefinition, raw):
    """One field's value in its stored form, or None for empty; raises InvalidValue.
    (Lookups are only parsed here: `check_lookups` checks that the records exist.)"""
    if _is_empty(raw) or (isinstance(raw, str) and not raw.strip()):
        return None
    kind = definition.field_type
    if kind in (FieldType.TEXT, FieldType.LONG_TEXT):
        return _text(definition, raw, TEXT_MAX if kind == FieldType.TEXT else LONG_TEXT_MAX)
    if kind == FieldType.INTEGER:
        return _integer(definition, raw)
    if kind in NUMERIC_TYPES:
        return _decimal(definition, raw)
    if kind == FieldType.DATE:
        return _date(raw)
    if kind == FieldType.DATETIME:
        return _datetime(raw)
    if kind == FieldType.BOOLEAN:
        return _boolean(raw)
    if kind == FieldType.PICKLIST:
        return _choice(definition, raw)
    if kind == FieldType.MULTI_SELECT:
        return _choices(definition, raw) or None
    if kind == FieldType.EMAIL:
        return _email(raw)
    if kind == FieldType.PHONE:
        return _phone(raw)
    if kind == FieldType.URL:
        return _url(raw)
    if kind in ID_TYPES:
        return _record_id(raw)
    raise InvalidValue(_("Unknown field type."))


def check_lookups(definitions: Iterable[FieldDefinition], values: dict) -> dict[str, list[str]]:
    """Lookups must point at existing records of the right type in this company's schema
    (the connection's schema: another company's ids simply do not exist here)."""
    errors: dict[str, list[str]] = {}
    for definition in definitions:
        value = values.get(definition.api_name)
        if value is None or definition.field_type not in ID_TYPES:
            continue
        target = "user" if definition.field_type == FieldType.USER else definition.lookup_entity
        queryset = lookup_model(target).objects.filter(pk=value)
        if target == "user":
            queryset = queryset.filter(is_active=True)
        if not queryset.exists():
            errors[key_of(definition)] = [_("No such record.")]
    return errors


def custom_values_clean(
    *,
    model,
    entity: str,
    values,
    current: dict | None = None,
    record_pk: int | None = None,
    definitions: list[FieldDefinition] | None = None,
    database: bool = True,
) -> dict:
    """The record's new custom_fields: `current` (kept as is, archived fields included)
    updated with `values` (an object of API name -> value), defaults filled on create.
    Raises one ValidationError naming every bad field as `custom_fields.<api_name>`.
    With database=False the checks that query (lookups, uniqueness) are left to
    `custom_values_check_database` (CSV import validates rows in a thread without one)."""
    if definitions is None:
        definitions = active_definitions(entity)
    if not isinstance(values, dict):
        raise ValidationError({"custom_fields": [_("An object of field names and values.")]})
    by_name = {d.api_name: d for d in definitions}
    errors: dict[str, list[str]] = {
        f"custom_fields.{name}": [_("Unknown field.")]
        for name in sorted(set(values) - set(by_name))
    }
    result = dict(current or {})
    for name, raw in values.items():
        definition = by_name.get(name)
        if definition is None:
            continue
        try:
            value = clean_value(definition, raw)
        except InvalidValue as exc:
            errors[key_of(definition)] = [str(exc)]
            continue
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    for definition in definitions:
        name = definition.api_name
        if record_pk is None and name not in values and definition.default is not None:
            try:
                result[name] = clean_value(definition, definition.default)
            except InvalidValue:
                pass  # a default made invalid by later option changes is skipped
        # Required on create, and when an update empties it (older records may lack it).
        asked = record_pk is None or name in values
        if (
            definition.required
            and asked
            and result.get(name) is None
            and key_of(definition) not in errors
        ):
            errors[key_of(definition)] = [_("This field is required.")]
    if database:
        errors.update(custom_values_check_database(model, definitions, values, result, record_pk))
    if errors:
        raise ValidationError(errors)
    return result


def _lock_value(model, definition: FieldDefinition, value) -> None:
    """Serialise saves of one unique value until the saving transaction ends: a second
    save of the same value waits here for the first to commit, then its check sees the
    first record (no unique index needed, and no race between check and insert)."""
    if not connection.in_atomic_block:
        return  # nothing to hold the lock for; the record services always run atomic
    key = f"{model._meta.db_table}:{definition.api_name}:{json.dumps(value, default=str)}"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [UNIQUE_LOCK_NAMESPACE, key]
        )


def custom_values_check_database(
    model, definitions, values: dict, result: dict, record_pk: int | None = None
) -> dict[str, list[str]]:
    """The checks that need the company's schema: lookups exist, unique values are free."""
    by_name = {d.api_name: d for d in definitions}
    errors = check_lookups([by_name[n] for n in values if n in by_name], result)
    errors.update(_check_unique(model, definitions, values, result, record_pk))
    return errors


# Advisory lock namespace of unique custom values (the second key hashes table, field, value).
UNIQUE_LOCK_NAMESPACE = 7_301


def _check_unique(model, definitions, values: dict, result: dict, record_pk) -> dict:
    errors = {}
    for definition in definitions:
        value = result.get(definition.api_name)
        if not definition.unique or value is None or definition.api_name not in values:
            continue
        _lock_value(model, definition, value)
        clash = model.objects.filter(custom_fields__contains={definition.api_name: value})
        if record_pk:
            clash = clash.exclude(pk=record_pk)
        if clash.exists():
            errors[key_of(definition)] = [_("Another record already has this value.")]
    return errors
