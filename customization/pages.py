"""Field filters and sorting on the record list pages: the same parser and field rules
as the list APIs (api_support.ListQuery), from a small filter bar (field, operator,
value, sort) or `f.<field>.<op>` parameters."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from .api_support import OPERATORS, FieldResolver, ListQuery

OPERATOR_LABELS = {
    "eq": gettext_lazy("equals"),
    "in": gettext_lazy("is one of"),
    "gte": gettext_lazy("at least"),
    "lte": gettext_lazy("at most"),
    "contains": gettext_lazy("contains"),
    "empty": gettext_lazy("is empty"),
}


@dataclass
class FieldFilterBar:
    fields: list[tuple[str, str]]
    operators: list[tuple[str, str]]
    field: str = ""
    op: str = "eq"
    value: str = ""
    sort: str = ""
    errors: list[str] = dataclasses.field(default_factory=list)


def list_page_query(request, queryset: QuerySet) -> tuple[QuerySet, FieldFilterBar]:
    """`queryset` narrowed and sorted by the page's field filter; errors for the bar."""
    resolver = FieldResolver(queryset.model, request.user)
    labels = [(name, str(f.verbose_name)) for name, f in resolver.standard.items()]
    labels += [(name, d.display_label) for name, d in resolver.custom.items()]
    bar = FieldFilterBar(
        fields=labels,
        operators=[(op, OPERATOR_LABELS[op]) for op in OPERATORS],
        field=request.GET.get("ff", ""),
        op=request.GET.get("fo", "eq"),
        value=request.GET.get("fv", ""),
        sort=request.GET.get("sort", ""),
    )
    query = ListQuery(user=request.user, sorted_values_only=False)
    for key, values in request.GET.lists():
        if key.startswith("f."):
            name, _dot, op = key[2:].partition(".")
            query.filters.extend((name, op or "eq", value) for value in values)
    if bar.field and (bar.value or bar.op == "empty"):
        query.filters.append((bar.field, bar.op, bar.value or "true"))
    query.order_by = bar.sort
    try:
        queryset = query.apply(queryset)
    except ValidationError as exc:
        bar.errors = [message for messages in exc.message_dict.values() for message in messages]
        return queryset.none(), bar
    if query.ordering:
        queryset = queryset.order_by(*query.ordering)
    return queryset, bar
