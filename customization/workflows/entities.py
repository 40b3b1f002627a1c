"""The kinds of record rules can watch, and the fields their conditions and actions use.

A field is named by a path: `amount`, `stage`, `customer.value_tier` (one hop through a
foreign key), `custom.<api name>` (a custom field) or `actor.role` (who made the change).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone, translation

from crm_core import models as crm
from crm_core.services import activities, contacts, customers, deals, leads, quotes


@dataclass(frozen=True)
class Entity:
    key: str  # the record type in outbox events ("deal")
    model: type[models.Model]
    update: object  # the crm_core update service: update(<key>=record, actor=, data=)
    create: object  # the crm_core create service: create(actor=, data=)
    payload: object  # the record as its events carry it: payload(record) -> dict
    # Fields that are not conditions' or actions' business (bookkeeping, denormalised).
    hidden: frozenset = frozenset(
        {
            "id",
            "search_text",
            "name_key",
            "phone_keys",
            "email_keys",
            "custom_fields",
            "pool_entered_at",
            "previous_owner",
            "reclaim_blocked_until",
            "pool_warned_at",
            "created_by",
        }
    )

    def update_record(self, record, *, actor, data):
        return self.update(**{self.key: record, "actor": actor, "data": data})


ENTITIES: dict[str, Entity] = {
    entity.key: entity
    for entity in (
        Entity(
            "customer",
            crm.Customer,
            customers.customer_update,
            customers.customer_create,
            customers.customer_payload,
        ),
        Entity(
            "contact",
            crm.Contact,
            contacts.contact_update,
            contacts.contact_create,
            contacts.contact_payload,
        ),
        Entity("lead", crm.Lead, leads.lead_update, leads.lead_create, leads.lead_payload),
        Entity("deal", crm.Deal, deals.deal_update, deals.deal_create, deals.deal_payload),
        Entity(
            "activity",
            crm.Activity,
            activities.activity_update,
            activities.activity_create,
            activities.activity_payload,
        ),
        # Approval processes' entry criteria read quotes (their discount, total...).
        Entity("quote", crm.Quote, quotes.quote_update, quotes.quote_create, quotes.quote_payload),
    )
}

# Value kinds, each with the operators that fit it.
TEXT, CHOICE, NUMBER, DATE, DATETIME, BOOLEAN, RECORD, TAGS = (
    "text",
    "choice",
    "number",
    "date",
    "datetime",
    "boolean",
    "record",
    "tags",
)
_COMMON = ("eq", "ne", "in", "not_in", "is_empty", "is_not_empty")
OPERATORS: dict[str, tuple[str, ...]] = {
    TEXT: (*_COMMON, "contains", "starts_with"),
    CHOICE: _COMMON,
    NUMBER: (*_COMMON, "gt", "gte", "lt", "lte"),
    DATE: (*_COMMON, "gt", "gte", "lt", "lte"),
    DATETIME: ("is_empty", "is_not_empty", "gt", "gte", "lt", "lte"),
    BOOLEAN: ("eq", "ne", "is_empty", "is_not_empty"),
    RECORD: _COMMON,
    TAGS: ("contains", "is_empty", "is_not_empty"),
}


@dataclass(frozen=True)
class Field:
    path: str
    label: str
    kind: str
    choices: tuple[tuple[str, str], ...] = ()
    related: type[models.Model] | None = None  # for RECORD fields
    writable: bool = False


def _kind(field: models.Field) -> str:
    if isinstance(field, ArrayField):
        return TAGS
    if field.is_relation:
        return RECORD
    if field.choices:
        return CHOICE
    if isinstance(field, models.BooleanField):
        return BOOLEAN
    if isinstance(field, models.DateTimeField):
        return DATETIME
    if isinstance(field, models.DateField):
        return DATE
    if isinstance(field, models.DecimalField | models.IntegerField | models.FloatField):
        return NUMBER
    return TEXT


def _model_fields(model, hidden, prefix="", label_prefix=""):
    for field in model._meta.concrete_fields:
        if field.name in hidden or (field.is_relation and not field.many_to_one):
            continue
        yield Field(
            path=prefix + field.name,
            label=label_prefix + str(field.verbose_name),
            kind=_kind(field),
            choices=tuple((str(v), str(label)) for v, label in field.choices or ()),
            related=field.related_model if field.is_relation else None,
            writable=not prefix and field.editable and not field.auto_created,
        )


def fields_of(entity: Entity) -> dict[str, Field]:
    """Every path a rule on `entity` may use: own fields, one hop into related records of
    the CRM, the entity's custom fields in use, and the acting user's role."""
    fields = dict(_standard_fields(entity.key, translation.get_language() or ""))
    actor = fields.pop("actor.role")
    fields.update({field.path: field for field in _custom_fields(entity)})
    fields["actor.role"] = actor
    return fields


@functools.lru_cache(maxsize=64)
def _standard_fields(entity_key: str, language: str) -> dict[str, Field]:
    """The model-derived paths: fixed per process, per language (their labels)."""
    entity = ENTITIES[entity_key]
    fields = {f.path: f for f in _model_fields(entity.model, entity.hidden)}
    for field in list(fields.values()):
        related = field.related
        if related is not None and related._meta.app_label == "crm_core":
            for sub in _model_fields(
                related, entity.hidden | {"owner", "team", "region"}, f"{field.path}.", ""
            ):
                fields[sub.path] = Field(
                    path=sub.path,
                    label=f"{field.label} › {sub.label}",
                    kind=sub.kind,
                    choices=sub.choices,
                    related=sub.related,
                )
    from accounts.roles import Role

    fields["actor.role"] = Field(
        path="actor.role",
        label="acting user › role",
        kind=CHOICE,
        choices=tuple((str(v), str(label)) for v, label in Role.choices),
    )
    return fields


def link_field(target: Entity, source: Entity) -> str | None:
    """The foreign key that ties a new `target` record to a `source` record, if any."""
    for field in target.model._meta.concrete_fields:
        if field.many_to_one and field.related_model is source.model:
            return field.name
    return None


# Custom field types as the kinds conditions and actions understand.
_CUSTOM_KINDS = {
    "integer": NUMBER,
    "decimal": NUMBER,
    "currency": NUMBER,
    "percent": NUMBER,
    "date": DATE,
    "datetime": DATETIME,
    "boolean": BOOLEAN,
    "picklist": CHOICE,
    "multi_select": TAGS,
    "lookup": RECORD,
    "user": RECORD,
}


def _custom_fields(entity: Entity):
    """The entity's custom fields in use, as `custom.<api name>` paths."""
    from customization.values import active_definitions

    for definition in active_definitions(entity.key):
        kind = _CUSTOM_KINDS.get(definition.field_type, TEXT)
        choices = ()
        if kind in (CHOICE, TAGS):
            choices = tuple((c["value"], c["label"]) for c in definition.choices if c["active"])
        yield Field(
            path=f"custom.{definition.api_name}",
            label=definition.label,
            kind=kind,
            choices=choices if kind == CHOICE else (),
            writable=True,
        )


def coerce(field: Field, value):
    """`value` (JSON) as the field's Python type; ValueError with a message if it is not."""
    if value is None or value == "":
        return None
    kind = field.kind
    if kind == NUMBER:
        try:
            return Decimal(str(value))
        except (InvalidOperation, ValueError):
            raise ValueError("a number is needed") from None
    if kind == DATE:
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise ValueError("a date (YYYY-MM-DD) is needed") from None
    if kind == DATETIME:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise ValueError("a date and time (ISO 8601) is needed") from None
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    if kind == BOOLEAN:
        if isinstance(value, bool):
            return value
        raise ValueError("true or false is needed")
    if kind == RECORD:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError("a record id is needed") from None
    if kind == CHOICE and field.choices and str(value) not in {c for c, _ in field.choices}:
        raise ValueError(f"one of {', '.join(c for c, _ in field.choices)} is needed")
    return str(value)


def read(record, path: str, *, actor=None):
    """The value at `path` on `record` (ids for records; None along a missing hop)."""
    if path == "actor.role":
        return getattr(actor, "role", None)
    if path.startswith("custom."):  # stored as JSON: the caller coerces for comparing
        return (record.custom_fields or {}).get(path.removeprefix("custom."))
    head, _, rest = path.partition(".")
    if rest:
        related = getattr(record, head, None)
        return None if related is None else read(related, rest)
    field = record._meta.get_field(head)
    if field.is_relation:
        return getattr(record, field.attname)
    return getattr(record, head)
