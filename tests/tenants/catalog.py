"""A schema as the catalog describes it, with the schema's own name taken out, so two
schemas built differently (migrations, replayed SQL) can be compared for equality."""

from __future__ import annotations

import re

from django.db import connection

# Casts and parentheses in a deparsed expression. A dump and restore does not keep the
# expression tree as built: Django's `status IN (...)` predicate on a varchar column reads
# `(status)::text = ANY ((ARRAY['a'::character varying])::text[])` in the migrated schema
# and `(status)::text = ANY (ARRAY[('a'::character varying)::text])` once restored. The
# planner folds both to the same constant array; column types are compared exactly.
_CAST_OR_PARENTHESIS = re.compile(r"::[a-z ]+(?:\(\d+\))?(?:\[\])?|[()]")

# Each query takes the schema name as its only parameter and yields comparable rows.
_QUERIES = {
    "tables": """
        SELECT c.relname, c.relkind, c.relpersistence, c.reloptions, c.reltoastrelid <> 0
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f')""",
    # Column order among live columns: a template migrated through a RemoveField keeps a
    # dropped column (and its attnum) that no replay can reproduce, nor needs to.
    "columns": """
        SELECT c.relname, a.attname,
               row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),
               format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
               a.attgenerated, pg_get_expr(d.adbin, d.adrelid), co.collname,
               a.attstattarget
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
        WHERE n.nspname = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped""",
    "indexes": """
        SELECT i.relname, t.relname, pg_get_indexdef(x.indexrelid), x.indisunique,
               x.indisprimary, x.indimmediate, x.indisvalid
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = %s""",
    "constraints": """
        SELECT t.relname, k.conname, k.contype, pg_get_constraintdef(k.oid),
               k.condeferrable, k.condeferred, k.convalidated, i.relname
        FROM pg_constraint k
        JOIN pg_class t ON t.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        LEFT JOIN pg_class i ON i.oid = k.conindid
        WHERE n.nspname = %s""",
    # Foreign keys are enforced by triggers: same function, events and constraint.
    "triggers": """
        SELECT t.relname, g.tgfoid::regproc::text, g.tgtype, g.tgenabled, k.conname,
               g.tgdeferrable, g.tginitdeferred, count(*)
        FROM pg_trigger g
        JOIN pg_class t ON t.oid = g.tgrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        LEFT JOIN pg_constraint k ON k.oid = g.tgconstraint
        WHERE n.nspname = %s
        GROUP BY 1, 2, 3, 4, 5, 6, 7""",
    "sequences": """
        SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
               s.seqmax, s.seqmin, s.seqcache, s.seqcycle, owner.relname, a.attname,
               d.deptype
        FROM pg_sequence s
        JOIN pg_class c ON c.oid = s.seqrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
             AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        LEFT JOIN pg_class owner ON owner.oid = d.refobjid
        LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE n.nspname = %s""",
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid), md5(p.prosrc)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = %s""",
}


def schema_catalog(schema: str) -> dict[str, list[tuple]]:
    """Tables, columns, indexes, constraints, triggers, sequences (with their owning
    column and current value), functions and every table's rows of `schema`."""
    catalog = {}
    with connection.cursor() as cursor:
        for key, query in _QUERIES.items():
            cursor.execute(query, [schema])
            catalog[key] = sorted(_anonymous(row, schema) for row in cursor.fetchall())
        for key, definition in (("indexes", 2), ("constraints", 3)):
            catalog[key] = [_loose(row, definition) for row in catalog[key]]
        catalog["sequence_values"] = _per_relation(
            cursor, schema, "S", "SELECT last_value, is_called FROM {}"
        )
        catalog["rows"] = _per_relation(
            cursor,
            schema,
            "r",
            "SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), ''))"
            " FROM {} t",
        )
    return catalog


def _per_relation(cursor, schema: str, relkind: str, query: str) -> list[tuple]:
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind = %s ORDER BY 1",
        [schema, relkind],
    )
    rows = []
    for (name,) in cursor.fetchall():
        quote = connection.ops.quote_name
        cursor.execute(query.format(f"{quote(schema)}.{quote(name)}"))
        rows.append((name, *cursor.fetchone()))
    return rows


def _anonymous(row: tuple, schema: str) -> tuple:
    return tuple(
        value.replace(f"{schema}.", "<schema>.") if isinstance(value, str) else value
        for value in row
    )


def _loose(row: tuple, index: int) -> tuple:
    """`row` with the expression at `index` compared without casts and parentheses."""
    return (*row[:index], _CAST_OR_PARENTHESIS.sub("", row[index]), *row[index + 1 :])
