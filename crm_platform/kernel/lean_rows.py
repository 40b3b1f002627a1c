"""Lean list rows: a `.values()` queryset set up once (`values_base`) and its SQL compiled
once per shape (`lean`).

Django compiles a queryset's whole statement on every evaluation: the select list, joins
and ordering of a 20-column list page cost more than running the query (~1 ms of a
~2 ms request). A list page differs from the last one only in its WHERE clause (the
reader's visibility, filters, the cursor position), so `lean()` gives a values queryset
an iterable that compiles only the WHERE clause per request and takes the rest of the
statement from a per-process cache keyed by everything else the SQL depends on: the
model, the selected columns, the joins (table, type, parent, whether used), the ordering,
the slice and the compiled WHERE text itself. Its parameters are the WHERE's.

Anything beyond a sliced page of plain columns, joins and a WHERE (annotations, extra(),
DISTINCT, grouping, aggregates or windows in the filter, filtered relations, locking) is
evaluated by Django as usual. A statement is only cached when Django's own compile yields exactly
the WHERE's parameters; `VERIFY` (set by the test suite) compares every cached statement
with Django's full compile.

JSON columns (custom_fields on every list) are parsed with orjson rather than Django's
`JSONField.from_db_value` (json.loads): that took ~40% of a 50-row page's row loading.
"""

from __future__ import annotations

import json
import threading

import orjson
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import JSONField
from django.db.models.fields.json import KeyTransform
from django.db.models.query import QuerySet, ValuesIterable

MAX_STATEMENTS = 2_000  # shapes per process; the cache is dropped when full
VERIFY = False  # the test suite sets it: every cached statement checked against Django's

_statements: dict[tuple, tuple[str, list[str], dict]] = {}
_bases: dict[tuple, QuerySet] = {}  # never evaluated, only cloned
_lock = threading.Lock()


def values_base(model, fields: tuple[str, ...]) -> QuerySet:
    """`model.objects.values(*fields)`, set up once per process (resolving a list's
    columns and joins cost ~0.3 ms a request); each call returns a clone to narrow."""
    key = (model, fields)
    base = _bases.get(key)
    if base is None:
        base = _bases[key] = model._default_manager.values(*fields)
    return base.all()


def lean(queryset: QuerySet) -> QuerySet:
    """`queryset` (from `.values()`) evaluated through the statement cache; filters,
    ordering and slices applied afterwards keep it."""
    if not issubclass(queryset._iterable_class, ValuesIterable):
        raise TypeError("lean() takes a .values() queryset")
    queryset = queryset.all()
    queryset._iterable_class = LeanValuesIterable
    return queryset


def _plain(query) -> bool:
    """Whether the statement is columns + joins + WHERE + ORDER BY + LIMIT only."""
    return not (
        query.annotations
        or query.extra
        or query.extra_tables
        or query.extra_order_by
        or query.distinct
        or query.group_by is not None
        or query.combinator
        or query.select_for_update
        or query.select_related
        or not query.values_select
        or not query.is_sliced  # fetched whole: pages only
        or query.where.contains_aggregate
        or query.where.contains_over_clause
        or any(getattr(join, "filtered_relation", None) for join in query.alias_map.values())
    )


def _shape(query, using: str, where_sql: str) -> tuple:
    joins = tuple(
        (
            alias,
            join.table_name,
            getattr(join, "join_type", None),
            getattr(join, "parent_alias", None),
            getattr(join, "join_field", None),
            query.alias_refcount.get(alias, 0) > 0,
        )
        for alias, join in query.alias_map.items()
    )
    return (
        using,
        query.model,
        query.values_select,
        tuple(query.selected or ()),
        tuple(str(o) for o in query.order_by),
        query.default_ordering,
        query.standard_ordering,
        query.low_mark,
        query.high_mark,
        joins,
        where_sql,
    )


class LeanValuesIterable(ValuesIterable):
    def __iter__(self):
        queryset = self.queryset
        query = queryset.query
        if not _plain(query):
            yield from super().__iter__()
            return
        connection = connections[queryset.db]
        try:
            where_sql, where_params = query.get_compiler(queryset.db).compile(query.where)
        except FullResultSet:
            where_sql, where_params = "", []
        except EmptyResultSet:  # Django answers "no rows" without a query
            yield from super().__iter__()
            return
        key = _shape(query, queryset.db, where_sql)
        statement = _statements.get(key)
        if statement is None:
            statement = self._compile(query, queryset.db, list(where_params))
            if statement is None:  # parameters outside the WHERE: not cacheable
                yield from super().__iter__()
                return
            with _lock:
                if len(_statements) >= MAX_STATEMENTS:
                    _statements.clear()
                _statements[key] = statement
        elif VERIFY:
            full_sql, full_params = query.get_compiler(queryset.db).as_sql()
            assert (full_sql, list(full_params)) == (statement[0], list(where_params)), (
                f"lean statement differs from Django's:\n{statement[0]}\n{full_sql}"
            )
        sql, names, converters = statement
        with connection.cursor() as cursor:
            cursor.execute(sql, where_params)
            rows = cursor.fetchall()
        if converters:
            rows = [list(row) for row in rows]
            for index, (functions, expression) in converters.items():
                for row in rows:
                    value = row[index]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[index] = value
        yield from [dict(zip(names, row, strict=True)) for row in rows]

    @staticmethod
    def _compile(query, using: str, where_params: list):
        """Django's statement for `query`, its column names and value converters; None
        when its parameters are not exactly the WHERE's."""
        compiler = query.get_compiler(using)
        sql, params = compiler.as_sql()
        if list(params) != where_params:
            return None
        names = list(query.selected) if query.selected else list(query.values_select)
        columns = [select[0] for select in compiler.select[: compiler.col_count]]
        if len(columns) != len(names):
            return None
        return sql, names, _with_orjson(compiler.get_converters(columns))


def _load_json(value, expression, connection):
    """JSONField.from_db_value with orjson. jsonb text is always valid JSON; what orjson
    refuses (numbers beyond a double) goes to json.loads as before. (orjson reads integers
    beyond 64 bits as floats: custom field integers are kept below 10**18.)"""
    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return json.loads(value)


def _with_orjson(converters: dict) -> dict:
    """`converters` with plain JSONFields' json.loads swapped for `_load_json` (a field
    with its own decoder, or a key transform, keeps Django's)."""
    swapped = {}
    for index, (functions, expression) in converters.items():
        field = expression.output_field
        if (
            isinstance(field, JSONField)
            and field.decoder is None
            and not isinstance(expression, KeyTransform)
        ):
            functions = [
                _load_json if function == field.from_db_value else function
                for function in functions
            ]
        swapped[index] = (functions, expression)
    return swapped
