"""Benchmark: filter + sort on a custom field over a large table of one company.

A company's customers (1M by default) get a currency custom field "contract_value"
(stored in the JSONB column as the validator stores it) and, for reference, the same
values in a real numeric column `bench_value` with a `(bench_value, id)` btree. The
field is made filterable: its `((custom_fields ->> 'contract_value')::numeric, id)`
index is built by the product's own build (CREATE INDEX CONCURRENTLY) while another
connection keeps updating rows, to measure how long writes wait meanwhile.

Then the list query as the product builds it (range filter + sort + 50 rows, first page
and a later cursor page, and an equals filter) is timed against the same query on the
real column, in alternating rounds; the plans are printed (EXPLAIN ANALYZE).
"""

from __future__ import annotations

import os
import random
import threading
from dataclasses import dataclass
from time import perf_counter_ns

from django.db import connection
from django_tenants.utils import schema_context, tenant_context
from psycopg import sql

from .crm_import import company
from .stats import Check, Ratio, Section, Series

SUBDOMAIN = "benchcf"
RATIO_LIMIT = 1.5  # issue 4: custom field filter + sort <= 1.5x a real column
WRITE_BLOCK_LIMIT_MS = 100.0  # issue 4: adding a filterable field blocks writes <= 100 ms
VALUE_RANGE = 1_000_000  # contract values 0..1M, two decimals


@dataclass(frozen=True)
class Sizes:
    # BENCH_CUSTOM_FIELD_ROWS: a smaller table for a quick run while developing.
    customers: int = int(os.environ.get("BENCH_CUSTOM_FIELD_ROWS", "1000000"))
    rounds: int = 7
    repeats: int = 30  # queries per round and kind


def _fill(schema: str, count: int, owner_id: int) -> float:
    """`count` customers in one INSERT ... SELECT (server side, no Python per row);
    returns seconds."""
    table = sql.Identifier(schema, "crm_core_customer")
    start = perf_counter_ns()
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("ALTER TABLE {} ADD COLUMN bench_value numeric").format(table))
        cursor.execute(
            sql.SQL(
                """
                INSERT INTO {} (created_at, updated_at, kind, name, industry, source,
                    relationship_stage, lifecycle_stage, value_tier, is_key_account, email,
                    phone, website, addresses, tags, notes, name_key, phone_key, search_text,
                    owner_id, created_by_id, custom_fields, bench_value)
                SELECT now(), now(), 'company', 'Customer ' || i, '', '', 'potential', '',
                    '', false, '', '', '', '[]'::jsonb, '{{}}'::varchar[], '',
                    'customer' || i, '', 'customer ' || i, %(owner)s, %(owner)s,
                    jsonb_build_object('contract_value', to_char(v, 'FM9999999990.00')), v
                FROM (
                    SELECT i, round((hashint4(i)::bigint & 2147483647) %% %(range)s
                        + (i %% 100) / 100.0, 2) AS v
                    FROM generate_series(1, %(count)s) AS i
                ) AS data
                """
            ).format(table),
            {"owner": owner_id, "count": count, "range": VALUE_RANGE},
        )
        cursor.execute(
            sql.SQL("CREATE INDEX bench_value_idx ON {} (bench_value, id)").format(table)
        )
        cursor.execute(sql.SQL("VACUUM ANALYZE {}").format(table))
    return (perf_counter_ns() - start) / 1e9


def _build_while_writing(schema: str, definition_id: int, max_id: int) -> tuple[Series, float]:
    """Build the field's index (the product's build, in a thread, its own connection)
    while this connection updates random rows; returns the write latencies and the
    build's duration."""
    from customization.indexes import field_index_build

    result: dict = {}

    def build():
        with schema_context(schema):
            start = perf_counter_ns()
            result["state"] = field_index_build(definition_id=definition_id)
            result["seconds"] = (perf_counter_ns() - start) / 1e9
        connection.close()

    writes = Series("write_during_build", "UPDATE of one row during the build")
    rng = random.Random(11)  # noqa: S311 - sample ids
    table = sql.Identifier(schema, "crm_core_customer")
    update = sql.SQL("UPDATE {} SET updated_at = now() WHERE id = %s").format(table)
    thread = threading.Thread(target=build)
    thread.start()
    with connection.cursor() as cursor:
        while thread.is_alive():
            start = perf_counter_ns()
            cursor.execute(update, [rng.randint(1, max_id)])
            writes.add(perf_counter_ns() - start)
    thread.join()
    if result.get("state") != "ready":
        raise RuntimeError(f"index build ended in state {result.get('state')}")
    return writes, result["seconds"]


def _queries(owner) -> dict[str, tuple[str, str]]:
    """(custom SQL, real-column SQL) per query kind. The custom query is
    the product's (ListQuery on the list's .values()); the reference swaps the expression
    for the real column."""
    from crm_core.models import Customer
    from customization.api_support import ListQuery

    def product(filters, order_by, after=None):
        query = ListQuery(user=owner, filters=filters, order_by=order_by)
        queryset = query.apply(Customer.objects.values("id", "name", "custom_fields"))
        if after is not None:
            queryset = queryset.filter(sort_key__gt=after)
        return queryset.order_by(*query.ordering or ("-id",))[:50].query.sql_with_params()

    expression = """(("crm_core_customer"."custom_fields" ->> 'contract_value'))::numeric"""
    kinds = {
        "range_first_page": product(
            [("contract_value", "gte", "400000"), ("contract_value", "lte", "600000")],
            "contract_value",
        ),
        "range_later_page": product(
            [("contract_value", "gte", "400000"), ("contract_value", "lte", "600000")],
            "contract_value",
            after="512345.5",
        ),
        "equals": product([("contract_value", "eq", "777777.77")], ""),
    }
    out = {}
    with connection.cursor() as cursor:
        for kind, (text, params) in kinds.items():
            # Parameters inlined as the product's client-side binding sends them.
            literal = cursor.cursor.mogrify(text, params)
            if expression not in literal:
                raise RuntimeError(f"unexpected SQL for {kind}: {literal}")
            real = literal.replace(expression, '"crm_core_customer"."bench_value"')
            out[kind] = (literal, real)
    return out


def _time(cursor, text: str) -> int:
    start = perf_counter_ns()
    cursor.execute(text)
    cursor.fetchall()
    return perf_counter_ns() - start


def _plan(cursor, text: str) -> str:
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + text)
    return "\n      ".join(row[0] for row in cursor.fetchall())


def run(sizes: Sizes, progress) -> Section:
    from accounts.models import User
    from customization.expressions import index_name
    from customization.models import FieldDefinition, IndexState

    count = sizes.customers
    section = Section(
        "custom_fields", f"Custom fields: filter + sort on {count // 1000}k customers"
    )
    tenant = company(SUBDOMAIN, "Bench custom fields 自定义字段")
    schema = tenant.schema_name
    with tenant_context(tenant):
        owner = User.objects.get(is_owner=True)
        progress(f"INSERT ... SELECT of {count} customers with a custom field and a real column")
        section.facts["setup_rows_s"] = round(_fill(schema, count, owner.pk), 1)
        definition = FieldDefinition.objects.create(
            entity="customer",
            api_name="contract_value",
            label="Contract value",
            field_type="currency",
            currency="USD",
            filterable=True,
            index_state=IndexState.PENDING,
        )
        progress("building the field's index CONCURRENTLY while writing")
        with connection.cursor() as cursor:  # the write baseline, before the build
            baseline = Series("write_baseline", "UPDATE of one row, no build running")
            table = sql.Identifier(schema, "crm_core_customer")
            update = sql.SQL("UPDATE {} SET updated_at = now() WHERE id = %s").format(table)
            for index in range(300):
                start = perf_counter_ns()
                cursor.execute(update, [1 + (index * 7919) % count])
                baseline.add(perf_counter_ns() - start)
        writes, build_s = _build_while_writing(schema, definition.pk, count)
        section.facts["index_build_s"] = round(build_s, 1)
        section.facts["writes_during_build"] = len(writes.samples_ns)
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("ANALYZE {}").format(table))

        queries = _queries(owner)
        series = {}
        progress(f"timing {len(queries)} queries, {sizes.rounds} rounds")
        with connection.cursor() as cursor:
            for kind, (custom, real) in queries.items():
                series[kind] = (
                    Series(f"{kind}_custom", f"{kind.replace('_', ' ')}: custom field"),
                    Series(f"{kind}_column", f"{kind.replace('_', ' ')}: real column"),
                )
                for _ in range(5):  # warm
                    _time(cursor, custom)
                    _time(cursor, real)
            for _round in range(sizes.rounds):
                for kind, (custom, real) in queries.items():
                    for _ in range(sizes.repeats):
                        series[kind][0].add(_time(cursor, custom))
                        series[kind][1].add(_time(cursor, real))
            custom, real = queries["range_first_page"]
            plan_custom = _plan(cursor, custom)
            plan_real = _plan(cursor, real)
        section.facts["plan_custom_field"] = "\n      " + plan_custom
        section.facts["plan_real_column"] = "\n      " + plan_real
        uses_index = index_name(definition) in plan_custom
        section.facts["custom_query_uses_its_index"] = uses_index
        if not uses_index:
            raise RuntimeError("the custom field query does not use its index:\n" + plan_custom)

    section.series = [baseline, writes, *[s for pair in series.values() for s in pair]]
    for kind, (custom_series, column_series) in series.items():
        ratio = custom_series.p50 / column_series.p50
        section.ratios.append(Ratio(f"{kind}: custom / real column", ratio, "p50, same run"))
        section.checks.append(Check(f"{kind}: custom / real column (p50)", ratio, RATIO_LIMIT, "x"))
    worst_ms = max(writes.samples_ns) / 1e6
    section.checks.append(
        Check("writes blocked during the index build (max)", worst_ms, WRITE_BLOCK_LIMIT_MS, "ms")
    )
    return section
