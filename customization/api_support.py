"""What crm_core's record APIs take from customization: the `custom_fields` input, the
outputs shaped by field security, and list filters/orderings on any field (standard or
custom) for the lean lists."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, QuerySet
from django.db.models.lookups import Exact, GreaterThanOrEqual, IContains, In, LessThanOrEqual
from django.utils.translation import gettext as _
from rest_framework import serializers

from crm_platform.kernel.models import CustomizableModel

from .expressions import SORTABLE, value_expression
from .models import FieldDefinition, FieldType
from .security import hidden_fields, reader_view
from .values import InvalidValue, active_definitions, clean_value

FILTER_PREFIX = "f."
OPERATORS = ("eq", "in", "gte", "lte", "contains", "empty")
# Standard columns that are bookkeeping, not fields a user filters on.
INTERNAL_FIELDS = {"search_text", "name_key", "phone_key", "custom_fields"}
MAX_IN = 100


class CustomFieldsInput(serializers.Serializer):
    custom_fields = serializers.JSONField(
        required=False,
        help_text="Custom field values by API name (see the company's field definitions).",
    )


class SecuredRecordOutput(serializers.ModelSerializer):
    """A customizable record's output with its custom fields, without the fields hidden
    from the reader's role (the view passes the request in the context)."""

    def get_field_names(self, declared_fields, info):
        return [*super().get_field_names(declared_fields, info), "custom_fields"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        cache = self.context.setdefault("_reader_views", {})
        entity = type(instance)._meta.model_name
        if entity not in cache:
            user = getattr(self.context.get("request"), "user", None)
            cache[entity] = reader_view(entity, getattr(user, "role", None))
        return cache[entity].shape(data)


def secured_rows(user, model, rows: list[dict]) -> list[dict]:
    view = reader_view(model._meta.model_name, getattr(user, "role", None))
    return [view.shape(row) for row in rows]


@dataclass
class ListQuery:
    """Parsed `f.<field>[.<op>]=value` filters and a field ordering, resolved against the
    queryset's model (so one parser serves every entity)."""

    user: object
    filters: list[tuple[str, str, str]] = field(default_factory=list)
    order_by: str = ""
    ordering: tuple[str, str] | None = None
    # Cursor pages cannot position on an empty (NULL) sort value, so the API's field
    # orderings list the records that have a value (`f.<field>.empty=true` lists the
    # others); the pages (numbered) keep them, last.
    sorted_values_only: bool = True

    def apply(self, queryset: QuerySet) -> QuerySet:
        fields = FieldResolver(queryset.model, self.user)
        condition = Q()
        for name, op, raw in self.filters:
            condition &= fields.condition(name, op, raw)
        queryset = queryset.filter(condition)
        if self.order_by:
            name = self.order_by.lstrip("-")
            desc = self.order_by.startswith("-")
            queryset = queryset.annotate(sort_key=fields.sort_expression(name))
            if self.sorted_values_only:
                queryset = queryset.filter(sort_key__isnull=False)
            # The tie-breaker follows the direction so an `(expr, id)` index serves it.
            self.ordering = ("-sort_key", "-id") if desc else ("sort_key", "id")
        return queryset


def list_query(filters_class, params, *, user) -> tuple[ListQuery | None, dict]:
    """Split the query string: field filters and field orderings for ListQuery, the
    entity's own filters (returned) for its serializer."""
    own_orderings = set()
    ordering_field = filters_class().fields.get("ordering")
    if ordering_field is not None:
        own_orderings = set(ordering_field.choices)
    rest = params.copy()
    query = ListQuery(user=user)
    for key in list(rest):
        if key.startswith(FILTER_PREFIX):
            name, _dot, op = key[len(FILTER_PREFIX) :].partition(".")
            for raw in rest.pop(key):
                query.filters.append((name, op or "eq", raw))
    ordering = rest.get("ordering")
    if ordering and ordering not in own_orderings:
        query.order_by = rest.pop("ordering")[0]
    if not query.filters and not query.order_by:
        return None, params
    return query, rest


class FieldResolver:
    """The fields of one model a user may filter and sort on: its plain columns and its
    active custom fields, less those hidden from the user's role."""

    def __init__(self, model, user):
        self.model = model
        entity = model._meta.model_name
        hidden = hidden_fields(entity, user)
        self.custom = {}
        if issubclass(model, CustomizableModel):
            self.custom = {
                d.api_name: d for d in active_definitions(entity) if d.api_name not in hidden
            }
        self.standard = {
            f.name: f
            for f in model._meta.concrete_fields
            if f.name not in INTERNAL_FIELDS | hidden
            and not isinstance(f, models.JSONField | ArrayField | models.BinaryField)
        }

    def _unknown(self, name: str) -> ValidationError:
        return ValidationError({f"{FILTER_PREFIX}{name}": [_("Unknown field.")]})

    def sort_expression(self, name: str):
        if name in self.custom and self.custom[name].field_type in SORTABLE:
            return value_expression(self.custom[name])
        if name in self.standard:
            return F(self.standard[name].attname)
        raise ValidationError({"ordering": [_("Unknown field.")]})

    def condition(self, name: str, op: str, raw: str) -> Q:
        if op not in OPERATORS:
            raise ValidationError({f"{FILTER_PREFIX}{name}.{op}": [_("Unknown operator.")]})
        if name in self.custom:
            return self._custom(self.custom[name], op, raw)
        if name in self.standard:
            return self._standard(self.standard[name], op, raw)
        raise self._unknown(name)

    def _custom(self, definition: FieldDefinition, op: str, raw: str) -> Q:
        key = f"{FILTER_PREFIX}{definition.api_name}.{op}"
        column = f"custom_fields__{definition.api_name}"
        if op == "empty":
            empty = Q(**{"custom_fields__has_key": definition.api_name})
            return ~empty if _flag(raw, key) else empty
        try:
            if definition.field_type == FieldType.MULTI_SELECT:
                if op not in ("eq", "contains", "in"):
                    raise InvalidValue(_("Use eq, in, contains or empty."))
                values = clean_value(definition, raw) or []
                return _any(Q(**{f"{column}__contains": [v]}) for v in values)
            if op == "contains":
                return _lookup(definition, "icontains", raw)
            if op == "in":
                values = [clean_value(definition, part) for part in _split(raw, key)]
                return _lookup(definition, "in", [v for v in values if v is not None])
            value = clean_value(definition, raw)
        except InvalidValue as exc:
            raise ValidationError({key: [str(exc)]}) from None
        lookup = {"eq": "exact", "gte": "gte", "lte": "lte"}[op]
        return _lookup(definition, lookup, value)

    def _standard(self, column: models.Field, op: str, raw: str) -> Q:
        key = f"{FILTER_PREFIX}{column.name}.{op}"
        name = column.attname
        if op == "empty":
            empty = Q(**{f"{name}__isnull": True})
            if isinstance(column, models.CharField | models.TextField):
                empty |= Q(**{name: ""})
            return empty if _flag(raw, key) else ~empty
        try:
            if op == "contains":
                return Q(**{f"{name}__icontains": raw})
            if op == "in":
                return Q(**{f"{name}__in": [column.to_python(v) for v in _split(raw, key)]})
            value = column.to_python(raw)
        except ValidationError as exc:
            raise ValidationError({key: exc.messages}) from None
        return Q(**{f"{name}__{ {'eq': 'exact', 'gte': 'gte', 'lte': 'lte'}[op] }": value})


def _lookup(definition: FieldDefinition, lookup: str, value) -> Q:
    """A condition on the custom field's value expression (as its index has it)."""
    expression = value_expression(definition)
    classes = {
        "exact": Exact,
        "gte": GreaterThanOrEqual,
        "lte": LessThanOrEqual,
        "icontains": IContains,
        "in": In,
    }
    return Q(classes[lookup](expression, value))


def _any(conditions) -> Q:
    result = Q(pk__in=[])
    for condition in conditions:
        result |= condition
    return result


def _split(raw: str, key: str) -> list[str]:
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts or len(parts) > MAX_IN:
        raise ValidationError({key: [_("Give 1 to 100 values separated by commas.")]})
    return parts


def _flag(raw: str, key: str) -> bool:
    word = raw.strip().lower()
    if word in ("true", "1", "yes"):
        return True
    if word in ("false", "0", "no"):
        return False
    raise ValidationError({key: [_("Enter true or false.")]})
