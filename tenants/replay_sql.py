"""pg_dump's SQL for the template schema, rewritten into a faster script with the same result.

pg_dump writes a restore script for any database: each table bare, its rows, then one
`ALTER TABLE` per identity column, primary key, unique constraint and foreign key. Each
`ALTER TABLE` is another pass over the catalog (lock, relcache rebuild of the table and of
the referenced one), and a foreign key added to an existing table is validated by a join
query that is planned and run even when the table is empty.

Here each table is created once, with its identity column, keys and foreign keys inside
the `CREATE TABLE`, ordered so that a referenced table exists first. A foreign key
declared in `CREATE TABLE` needs no validation scan because the table is new and empty:
it is created valid, exactly as a validated one, and every row inserted afterwards is
checked by its triggers like any insert. Foreign keys that close a cycle between tables
are added afterwards with `ALTER TABLE`, on empty tables. Rows come last, after the
indexes: a table with pending (deferred) foreign-key checks cannot be indexed.

Moving rows after the indexes and keys is only equivalent because nothing else in the dump
reacts to rows. So only the statements pg_dump writes for this project's schema are
rewritten (tables, identity columns, column settings, constraints, indexes, rows, sequence
values); any other statement after the first table (a trigger, a view, a NOT VALID
constraint...) returns the dump unchanged: slower, never wrong (a test checks the
template is rewritten).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Pieces of a dump: quoted strings and identifiers, dollar-quoted bodies (all may hold ";"
# or "--"), comments, psql meta-commands (pg_dump's \restrict), statement ends, the rest.
_PIECE = re.compile(
    r"(?P<quoted>'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\$(?P<tag>\w*)\$.*?\$(?P=tag)\$)"
    r"|(?P<skip>--[^\n]*|^\\[^\n]*)"
    r"|(?P<end>;)"
    r"|[^'\"$;\\-]+|.",
    re.DOTALL | re.MULTILINE,
)
# Session settings pg_dump writes first; they would change the replaying connection.
_SESSION_SETTING = re.compile(r"SET |SELECT pg_catalog\.set_config\(")
_CREATE_TABLE = re.compile(r"CREATE TABLE (?P<table>\S+) \(\n(?P<body>.*)\n\)", re.DOTALL)
_ADD_IDENTITY = re.compile(
    r"ALTER TABLE (?P<table>\S+) ALTER COLUMN (?P<column>\S+) "
    r"ADD (?P<identity>GENERATED (?:BY DEFAULT|ALWAYS) AS IDENTITY \(.*\))",
    re.DOTALL,
)
_ADD_CONSTRAINT = re.compile(
    r"ALTER TABLE ONLY (?P<table>\S+)\n\s+ADD (?P<constraint>CONSTRAINT \S+ "
    r"(?:PRIMARY KEY|UNIQUE|CHECK|EXCLUDE|FOREIGN KEY) .*)",
    re.DOTALL,
)
# Per-column settings (options such as n_distinct, statistics target, storage) pg_dump
# writes one statement each after the table; they do not depend on keys or rows.
_COLUMN_SETTING = re.compile(
    r"ALTER TABLE ONLY (?P<table>\S+) (?P<setting>ALTER COLUMN \S+ "
    r"SET (?:\(.*\)|STATISTICS \S+|STORAGE \S+|COMPRESSION \S+))",
    re.DOTALL,
)
_REFERENCES = re.compile(r"\bREFERENCES (?P<table>[^\s(]+)\(")
_CREATE_INDEX = re.compile(r"CREATE (?:UNIQUE )?INDEX ")
_ROWS = re.compile(r"INSERT INTO |SELECT pg_catalog\.setval\(")


def split_statements(sql: str) -> list[str]:
    """The statements of `sql`, without comments, psql meta-commands and semicolons."""
    statements, current = [], []
    for piece in _PIECE.finditer(sql):
        if piece["end"]:
            statements.append("".join(current).strip())
            current = []
        elif not piece["skip"]:
            current.append(piece.group())
    statements.append("".join(current).strip())
    return [statement for statement in statements if statement]


@dataclass
class _Table:
    name: str
    body: str
    constraints: list[str] = field(default_factory=list)
    foreign_keys: list[tuple[str, str]] = field(default_factory=list)  # (referenced, clause)
    column_settings: list[str] = field(default_factory=list)

    def add_identity(self, column: str, identity: str) -> bool:
        # Only on a plain "<column> <type> NOT NULL" line, at its end.
        line = re.compile(rf"^(    {re.escape(column)} [A-Za-z ]+)(,?)$", re.MULTILINE)
        identity = re.sub(r"\n\s*", " ", identity)
        self.body, found = line.subn(lambda m: f"{m[1]} {identity}{m[2]}", self.body, count=1)
        return bool(found)

    def can_hold(self, referenced: str, created: set[str], tables: dict[str, _Table]) -> bool:
        """Whether a foreign key to `referenced` can be declared in this CREATE TABLE."""
        return referenced in created or referenced == self.name or referenced not in tables

    def create(self, created: set[str], tables: dict[str, _Table]) -> tuple[list[str], list[str]]:
        """This table's CREATE TABLE (and one ALTER TABLE with its column settings, which
        CREATE TABLE cannot hold), and the foreign keys to tables not created yet."""
        inline, later = [], []
        for referenced, clause in self.foreign_keys:
            (inline if self.can_hold(referenced, created, tables) else later).append(clause)
        body = ",\n".join([self.body, *(f"    {c}" for c in [*self.constraints, *inline])])
        statements = [f"CREATE TABLE {self.name} (\n{body}\n)"]
        if self.column_settings:
            statements.append(_alter(self.name, self.column_settings))
        return statements, later


def replay_script(dump: str) -> str:
    """`dump` (pg_dump's plain SQL for one schema) as a script building the same schema."""
    statements = [s for s in split_statements(dump) if not _SESSION_SETTING.match(s)]
    before_tables: list[str] = []
    tables: dict[str, _Table] = {}
    indexes: list[str] = []
    rows: list[str] = []
    for statement in statements:
        if match := _CREATE_TABLE.fullmatch(statement):
            tables[match["table"]] = _Table(match["table"], match["body"])
        elif not tables:
            before_tables.append(statement)
        elif (
            (match := _ADD_IDENTITY.fullmatch(statement))
            and match["table"] in tables
            and tables[match["table"]].add_identity(match["column"], match["identity"])
        ):
            continue
        elif (
            (match := _ADD_CONSTRAINT.fullmatch(statement))
            and match["table"] in tables
            and "NOT VALID" not in match["constraint"]
        ):
            table, constraint = tables[match["table"]], match["constraint"]
            if reference := _REFERENCES.search(constraint):
                table.foreign_keys.append((reference["table"], constraint))
            else:
                table.constraints.append(constraint)
        elif (match := _COLUMN_SETTING.fullmatch(statement)) and match["table"] in tables:
            tables[match["table"]].column_settings.append(match["setting"])
        elif _CREATE_INDEX.match(statement):
            indexes.append(statement)
        elif _ROWS.match(statement):
            rows.append(statement)
        else:
            return _script(statements)  # a statement whose place is not known here
    return _script([*before_tables, *_tables_in_reference_order(tables), *indexes, *rows])


def _script(statements: list[str]) -> str:
    return "".join(f"{statement};\n" for statement in statements)


def _alter(table: str, actions: list[str]) -> str:
    """One ALTER TABLE for several actions: one pass over the catalog, not one each."""
    return f"ALTER TABLE ONLY {table}\n    " + ",\n    ".join(actions)


def _tables_in_reference_order(tables: dict[str, _Table]) -> list[str]:
    """CREATE TABLE statements, each after the tables its foreign keys reference (pg_dump's
    order otherwise), then ALTER TABLE statements adding the foreign keys closing a cycle."""
    statements: list[str] = []
    cycle_keys: list[str] = []
    created: set[str] = set()
    pending = list(tables.values())
    while pending:
        table = next(
            (t for t in pending if all(t.can_hold(r, created, tables) for r, _ in t.foreign_keys)),
            None,
        )
        if table is None:  # only cycles left, or tables waiting for one: break a cycle
            table = next(t for t in pending if _in_cycle(t, tables, created))
        pending.remove(table)
        create, later = table.create(created, tables)
        statements += create
        if later:
            cycle_keys.append(_alter(table.name, [f"ADD {clause}" for clause in later]))
        created.add(table.name)
    return statements + cycle_keys


def _in_cycle(start: _Table, tables: dict[str, _Table], created: set[str]) -> bool:
    """Whether `start` reaches itself through foreign keys to tables not created yet
    (a table referencing itself is no cycle: its CREATE TABLE can hold that key)."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        table = stack.pop()
        for referenced, _clause in table.foreign_keys:
            if referenced == table.name or referenced in created or referenced not in tables:
                continue
            if referenced == start.name:
                return True
            if referenced not in seen:
                seen.add(referenced)
                stack.append(tables[referenced])
    return False
