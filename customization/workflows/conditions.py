"""Condition trees: `{"all": [...]}` / `{"any": [...]}` groups of
`{"field": <path>, "op": <operator>, "value": ...}` leaves, nested freely.

`conditions_clean` rejects a bad tree with a message naming the exact place;
`conditions_evaluate` returns the result and every value it looked at, for the run log.
"""

from __future__ import annotations

from .entities import OPERATORS, TAGS, TEXT, Entity, Field, coerce, fields_of, read

MAX_LEAVES = 50
MAX_DEPTH = 5


class RuleError(ValueError):
    """An invalid rule; `errors` maps a location ("conditions.all.0.value") to a message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{where}: {message}" for where, message in errors.items()))
        self.errors = errors


def conditions_clean(entity: Entity, tree) -> dict:
    """The tree with values in their JSON form, or RuleError."""
    errors: dict[str, str] = {}
    fields = fields_of(entity)
    leaves = [0]

    def clean(node, where, depth):
        if not isinstance(node, dict):
            errors[where] = "expected a group or a condition"
            return None
        groups = [key for key in ("all", "any") if key in node]
        if groups:
            if len(node) != 1:
                errors[where] = 'a group has exactly one key, "all" or "any"'
                return None
            if depth >= MAX_DEPTH:
                errors[where] = f"groups nest at most {MAX_DEPTH} deep"
                return None
            items = node[groups[0]]
            if not isinstance(items, list):
                errors[f"{where}.{groups[0]}"] = "expected a list"
                return None
            return {
                groups[0]: [
                    clean(item, f"{where}.{groups[0]}.{i}", depth + 1)
                    for i, item in enumerate(items)
                ]
            }
        leaves[0] += 1
        return _clean_leaf(node, where, fields, errors)

    cleaned = clean(tree if tree else {"all": []}, "conditions", 0)
    if leaves[0] > MAX_LEAVES:
        errors["conditions"] = f"at most {MAX_LEAVES} conditions"
    if errors:
        raise RuleError(errors)
    return cleaned


def _clean_leaf(node, where, fields, errors):
    unknown = set(node) - {"field", "op", "value"}
    if unknown:
        errors[where] = f"unknown keys: {', '.join(sorted(unknown))}"
        return None
    field = fields.get(node.get("field"))
    if field is None:
        errors[f"{where}.field"] = f"unknown field {node.get('field')!r}"
        return None
    op = node.get("op")
    if op not in OPERATORS[field.kind]:
        errors[f"{where}.op"] = (
            f"{op!r} does not fit {field.path} ({field.kind}); use one of "
            + ", ".join(OPERATORS[field.kind])
        )
        return None
    leaf = {"field": field.path, "op": op}
    if op in ("is_empty", "is_not_empty"):
        return leaf
    value = node.get("value")
    try:
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value:
                raise ValueError("a non-empty list is needed")
            [_coerce_for(field, v) for v in value]
        else:
            if _coerce_for(field, value) is None:
                raise ValueError("a value is needed")
    except ValueError as exc:
        errors[f"{where}.value"] = str(exc)
        return None
    leaf["value"] = value
    return leaf


def _coerce_for(field: Field, value):
    if field.kind == TAGS:  # "contains" on tags compares one tag
        return None if value in (None, "") else str(value)
    return coerce(field, value)


def condition_fields(tree) -> set[str]:
    """Every field path the tree mentions."""
    if not tree:
        return set()
    if "field" in tree:
        return {tree["field"]}
    return {path for item in next(iter(tree.values())) for path in condition_fields(item)}


def conditions_evaluate(entity: Entity, tree, record, *, actor=None) -> tuple[bool, dict]:
    """(result, {path: value seen}). An empty tree is true."""
    fields = fields_of(entity)
    seen: dict[str, object] = {}

    def value_of(path):
        if path not in seen:
            seen[path] = read(record, path, actor=actor)
        return seen[path]

    def compared(field):
        value = value_of(field.path)
        if field.path.startswith("custom.") and field.kind != TAGS and value is not None:
            try:
                return coerce(field, value)  # a custom field's JSON as its type
            except ValueError:
                return value
        return value

    def evaluate(node) -> bool:
        if "all" in node:
            return all(evaluate(item) for item in node["all"])
        if "any" in node:
            return any(evaluate(item) for item in node["any"])
        field = fields[node["field"]]
        return _compare(field, node["op"], compared(field), node.get("value"))

    result = evaluate(tree or {"all": []})
    return result, {path: _jsonable(value) for path, value in seen.items()}


def _compare(field: Field, op: str, actual, expected) -> bool:
    empty = actual is None or actual == "" or actual == []
    if op == "is_empty":
        return empty
    if op == "is_not_empty":
        return not empty
    if field.kind == TAGS:
        return str(expected) in (actual or [])
    if op in ("in", "not_in"):
        found = any(_equal(field, actual, item) for item in expected)
        return found if op == "in" else not found
    if op == "eq":
        return _equal(field, actual, expected)
    if op == "ne":
        return not _equal(field, actual, expected)
    if empty:
        return False  # an empty value is neither above nor below anything
    if field.kind == TEXT:
        text, needle = str(actual).casefold(), str(expected).casefold()
        return needle in text if op == "contains" else text.startswith(needle)
    wanted = coerce(field, expected)
    if hasattr(actual, "date") and not hasattr(wanted, "date"):
        actual = actual.date()  # a datetime compared with a date
    return {
        "gt": actual > wanted,
        "gte": actual >= wanted,
        "lt": actual < wanted,
        "lte": actual <= wanted,
    }[op]


def _equal(field: Field, actual, expected) -> bool:
    if actual is None or expected in (None, ""):
        return (actual is None or actual == "") and expected in (None, "")
    return actual == coerce(field, expected)


def _jsonable(value):
    if value is None or isinstance(value, bool | int | float | str | list):
        return value
    return str(value)
