"""The company's OpenAPI description lists its custom fields: a drf-spectacular
post-processing hook that replaces each customizable record's generic `custom_fields`
object with the current company's definitions (types and constraints)."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import get_public_schema_name

from .models import FieldDefinition, FieldType
from .registry import customizable_models

STRING_FORMATS = {
    FieldType.DATE: "date",
    FieldType.DATETIME: "date-time",
    FieldType.EMAIL: "email",
    FieldType.URL: "uri",
}


def field_schema(definition: FieldDefinition) -> dict:
    kind = definition.field_type
    schema: dict = {"title": definition.label, "nullable": True}
    if definition.help_text:
        schema["description"] = definition.help_text
    if kind in (FieldType.TEXT, FieldType.LONG_TEXT, FieldType.PHONE):
        schema["type"] = "string"
        schema["maxLength"] = definition.max_length or (
            255 if kind != FieldType.LONG_TEXT else 10000
        )
        if definition.pattern:
            schema["pattern"] = definition.pattern
    elif kind == FieldType.INTEGER:
        schema["type"] = "integer"
        _bounds(schema, definition)
    elif kind in (FieldType.DECIMAL, FieldType.CURRENCY, FieldType.PERCENT):
        schema.update(type="string", format="decimal")
        schema["pattern"] = rf"^-?\d+(\.\d{{0,{definition.decimal_places}}})?$"
        _bounds(schema, definition, extension=True)
        if definition.currency:
            schema["x-currency"] = definition.currency
    elif kind == FieldType.BOOLEAN:
        schema["type"] = "boolean"
    elif kind == FieldType.PICKLIST:
        schema.update(type="string", enum=[c["value"] for c in definition.active_choices])
    elif kind == FieldType.MULTI_SELECT:
        schema.update(
            type="array",
            items={"type": "string", "enum": [c["value"] for c in definition.active_choices]},
        )
    elif kind in (FieldType.LOOKUP, FieldType.USER):
        target = "user" if kind == FieldType.USER else definition.lookup_entity
        schema.update(type="integer", description=f"The id of a {target}.")
    else:
        schema["type"] = "string"
        if kind in STRING_FORMATS:
            schema["format"] = STRING_FORMATS[kind]
    if definition.unique:
        schema["x-unique"] = True
    return schema


def _bounds(schema: dict, definition: FieldDefinition, *, extension: bool = False) -> None:
    for option, key in (("min_value", "minimum"), ("max_value", "maximum")):
        value = getattr(definition, option)
        if value is not None:
            schema[f"x-{key}" if extension else key] = (
                str(value.normalize()) if extension else int(value)
            )


def custom_fields_hook(result, generator, request, public):
    """Per request (the company's host sets the schema): each component with a
    `custom_fields` property whose name starts with a customizable entity's name."""
    if connection.schema_name == get_public_schema_name():
        return result
    definitions: dict[str, list[FieldDefinition]] = {}
    for definition in FieldDefinition.objects.filter(archived_at__isnull=True):
        definitions.setdefault(definition.entity, []).append(definition)
    entities = sorted(customizable_models(), key=len, reverse=True)
    for name, component in result.get("components", {}).get("schemas", {}).items():
        properties = component.get("properties", {})
        if "custom_fields" not in properties:
            continue
        bare = name.removeprefix("Patched").lower()
        entity = next((e for e in entities if bare.startswith(e)), None)
        if entity is None:
            continue
        fields = definitions.get(entity, [])
        schema = {
            "type": "object",
            "additionalProperties": False,
            "description": "Custom fields of this company, by API name.",
            "properties": {d.api_name: field_schema(d) for d in fields},
        }
        is_request = name.endswith("Request") and not name.startswith("Patched")
        required = [d.api_name for d in fields if d.required]
        if is_request and required:
            schema["required"] = required
        properties["custom_fields"] = schema
    _list_parameters(result, definitions, entities)
    return result


FILTER_OPERATIONS = {
    "": "equals",
    ".in": "is one of (comma-separated)",
    ".gte": "at least",
    ".lte": "at most",
    ".contains": "contains (case-insensitive)",
    ".empty": "is empty (true) or has a value (false)",
}


def _list_parameters(result: dict, definitions: dict, entities: list[str]) -> None:
    """The lean list endpoints filter (`f.<api_name>[.<op>]`) and sort (`ordering`) on
    each custom field: document them on `/api/v1/<entities>/`."""
    from .expressions import SORTABLE

    for entity in entities:
        for plural in (f"{entity}s", f"{entity[:-1]}ies"):
            operation = result.get("paths", {}).get(f"/api/v1/{plural}/", {}).get("get")
            if operation is None:
                continue
            parameters = operation.setdefault("parameters", [])
            for definition in definitions.get(entity, []):
                schema = field_schema(definition)
                for suffix, meaning in FILTER_OPERATIONS.items():
                    parameters.append(
                        {
                            "in": "query",
                            "name": f"f.{definition.api_name}{suffix}",
                            "required": False,
                            "description": f"{definition.label}: {meaning}",
                            "schema": {"type": "boolean"}
                            if suffix == ".empty"
                            else {"type": "string"}
                            if suffix == ".in" or schema.get("type") == "array"
                            else {k: v for k, v in schema.items() if k in ("type", "format")},
                        }
                    )
            for parameter in parameters:
                if parameter.get("name") == "ordering" and "enum" in parameter.get("schema", {}):
                    names = [
                        d.api_name for d in definitions.get(entity, []) if d.field_type in SORTABLE
                    ]
                    parameter["schema"]["enum"] += [v for n in names for v in (n, f"-{n}")]
