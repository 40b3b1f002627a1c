"""Writes on custom field definitions, field security and layouts. Every definition
change is recorded in the audit log (DefinitionChange) in the same transaction; index
builds and drops are queued after commit."""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.roles import Perm, Role, has_perm

from .cache import invalidate
from .expressions import SORTABLE
from .models import (
    API_NAME_PATTERN,
    DefinitionChange,
    FieldAccess,
    FieldDefinition,
    FieldSecurity,
    FieldType,
    IndexState,
    Layout,
)
from .registry import LOOKUP_TARGETS, model_for, standard_field_names
from .values import InvalidValue, clean_value

# Options an admin may change after creation (api_name, entity and type are fixed; the
# type changes only through definition_change_type).
EDITABLE_OPTIONS = (
    "label",
    "label_translations",
    "required",
    "unique",
    "default",
    "help_text",
    "min_value",
    "max_value",
    "max_length",
    "pattern",
    "decimal_places",
    "currency",
    "lookup_entity",
    "choices",
    "position",
    "filterable",
)
CHOICE_TYPES = (FieldType.PICKLIST, FieldType.MULTI_SELECT)
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}
logger = logging.getLogger(__name__)


def _ensure_admin(actor: User) -> None:
    """Every write starts here: the caller's right, and the caches dropped (their rows
    are about to change; see cache.py)."""
    if not has_perm(actor, Perm.MANAGE_CUSTOM_FIELDS):
        raise PermissionDenied
    invalidate()


def fields_limit() -> int:
    """The company's plan cap on custom fields per entity (archived ones count: they keep
    data); CUSTOM_FIELDS_PER_ENTITY when the plan sets none."""
    from billing.selectors import plan_limits

    limit = plan_limits(schema_name=connection.schema_name)["max_custom_fields"]
    return limit if limit is not None else settings.CUSTOM_FIELDS_PER_ENTITY


def _audit(definition: FieldDefinition, action: str, actor, changes: dict | None = None):
    DefinitionChange.objects.create(
        entity=definition.entity,
        api_name=definition.api_name,
        action=action,
        changes=changes or {},
        actor=actor if getattr(actor, "pk", None) else None,
    )


def _json(value):
    return str(value) if isinstance(value, Decimal) else value


def _clean_choices(raw) -> tuple[list[dict], list[str]]:
    if not isinstance(raw, list):
        return [], [_("A list of values.")]
    choices, seen, errors = [], set(), []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("value"), str):
            errors.append(_("Each value is an object with a value, a label and a colour."))
            continue
        value = item["value"].strip()
        color = item.get("color") or ""
        if not value or len(value) > 100 or value in seen:
            errors.append(_("Values must be unique and 1 to 100 characters: %(v)s") % {"v": value})
        if color and not COLOR.match(color):
            errors.append(_("Colours are written #rrggbb: %(c)s") % {"c": color})
        seen.add(value)
        choices.append(
            {
                "value": value,
                "label": str(item.get("label") or value)[:100],
                "color": color,
                "active": bool(item.get("active", True)),
            }
        )
    return choices, errors


def _clean(definition: FieldDefinition) -> None:
    """The definition's own rules; raises one ValidationError naming every bad option."""
    errors: dict[str, list[str]] = {}
    definition.label = (definition.label or "").strip()
    if not definition.label:
        errors["label"] = [_("Enter a label.")]
    if (
        not isinstance(definition.label_translations, dict)
        or not set(definition.label_translations) <= LANGUAGE_CODES
    ):
        errors["label_translations"] = [
            _("An object with labels by language: %(codes)s.")
            % {"codes": ", ".join(sorted(LANGUAGE_CODES))}
        ]
    if definition.field_type not in FieldType.values:
        errors["field_type"] = [_("Unknown field type.")]
    if definition.field_type == FieldType.LOOKUP:
        if definition.lookup_entity not in LOOKUP_TARGETS:
            errors["lookup_entity"] = [
                _("Choose one of: %(v)s.") % {"v": ", ".join(LOOKUP_TARGETS)}
            ]
    else:
        definition.lookup_entity = ""
    if definition.field_type in CHOICE_TYPES:
        definition.choices, choice_errors = _clean_choices(definition.choices)
        if choice_errors or not definition.choices:
            errors["choices"] = choice_errors or [_("Give at least one value.")]
    else:
        definition.choices = []
    if definition.pattern:
        try:
            re.compile(definition.pattern)
        except re.error:
            errors["pattern"] = [_("This is not a valid regular expression.")]
    if (
        definition.min_value is not None
        and definition.max_value is not None
        and definition.min_value > definition.max_value
    ):
        errors["max_value"] = [_("The maximum is below the minimum.")]
    if not 0 <= definition.decimal_places <= 6:
        errors["decimal_places"] = [_("From 0 to 6.")]
    if definition.currency and not re.match(r"^[A-Z]{3}$", definition.currency):
        errors["currency"] = [_("A three-letter currency code (ISO 4217).")]
    if definition.filterable and definition.field_type not in SORTABLE:
        errors["filterable"] = [_("Fields of this type cannot be indexed for filtering.")]
    if definition.unique and definition.field_type in (FieldType.BOOLEAN, FieldType.MULTI_SELECT):
        errors["unique"] = [_("Fields of this type cannot be unique.")]
    if definition.default is not None and not errors:
        try:
            definition.default = clean_value(definition, definition.default)
        except InvalidValue as exc:
            errors["default"] = [str(exc)]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def definition_create(*, actor: User, entity: str, data: dict) -> FieldDefinition:
    _ensure_admin(actor)
    model = model_for(entity)
    if model is None:
        raise ValidationError({"entity": [_("This record type has no custom fields.")]})
    api_name = data.get("api_name") or ""
    errors = {}
    if not re.match(API_NAME_PATTERN, api_name):
        errors["api_name"] = [
            _("Lowercase letters, digits and _, starting with a letter (at most 40).")
        ]
    elif api_name in standard_field_names(model):
        errors["api_name"] = [_("A standard field already has this name.")]
    elif FieldDefinition.objects.filter(entity=entity, api_name=api_name).exists():
        errors["api_name"] = [_("Another field already has this API name.")]
    limit = fields_limit()
    if FieldDefinition.objects.filter(entity=entity).count() >= limit:
        errors["entity"] = [
            ngettext(
                "Your plan allows %(n)d custom field per record type.",
                "Your plan allows %(n)d custom fields per record type.",
                limit,
            )
            % {"n": limit}
        ]
    if errors:
        raise ValidationError(errors)
    unknown = set(data) - {"api_name", "field_type", *EDITABLE_OPTIONS}
    if unknown:
        raise ValidationError({field: [_("Unknown field.")] for field in sorted(unknown)})
    definition = FieldDefinition(entity=entity, api_name=api_name)
    definition.position = FieldDefinition.objects.filter(entity=entity).count()
    for name, value in data.items():
        setattr(definition, name, value)
    _clean(definition)
    if definition.filterable:
        definition.index_state = IndexState.PENDING
    definition.save()
    _audit(definition, "created", actor, _snapshot(definition))
    if definition.filterable:
        _queue_index(definition, build=True)
    return definition


def _snapshot(definition: FieldDefinition) -> dict:
    return {name: _json(getattr(definition, name)) for name in ("field_type", *EDITABLE_OPTIONS)}


@transaction.atomic
def definition_update(*, actor: User, definition: FieldDefinition, data: dict) -> FieldDefinition:
    """Change options; `api_name` and `entity` are immutable."""
    _ensure_admin(actor)
    definition = FieldDefinition.objects.select_for_update().get(pk=definition.pk)
    fixed = {"api_name", "entity", "field_type"} & set(data)
    errors = {
        name: [_("This cannot be changed.")]
        for name in fixed
        if data[name] != getattr(definition, name)
    }
    if "field_type" in errors:
        errors["field_type"] = [_("Change the type with a type change (its records are checked).")]
    unknown = set(data) - set(EDITABLE_OPTIONS) - fixed
    errors.update({field: [_("Unknown field.")] for field in sorted(unknown)})
    if errors:
        raise ValidationError(errors)
    before = _snapshot(definition)
    for name in EDITABLE_OPTIONS:
        if name in data:
            setattr(definition, name, data[name])
    _clean(definition)
    index_change = None
    if definition.filterable != (before["filterable"] is True):
        index_change = definition.filterable
        definition.index_state = IndexState.PENDING if definition.filterable else IndexState.NONE
        definition.index_error = ""
    definition.save()
    after = _snapshot(definition)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        _audit(definition, "updated", actor, changes)
    if index_change is not None:
        _queue_index(definition, build=index_change)
    return definition


@transaction.atomic
def definition_archive(*, actor: User, definition: FieldDefinition) -> FieldDefinition:
    """Hide a field everywhere and stop accepting values; its data stays (restorable)."""
    _ensure_admin(actor)
    if definition.archived_at is None:
        definition.archived_at = timezone.now()
        definition.save(update_fields=["archived_at", "updated_at"])
        _audit(definition, "archived", actor)
        from .approvals.services import processes_disable_for_field
        from .workflows.services import rules_disable_for_field

        reason = _("Disabled: it uses the custom field “%(label)s”, which was archived.") % {
            "label": definition.label
        }
        for disable in (rules_disable_for_field, processes_disable_for_field):
            disable(entity=definition.entity, path=f"custom.{definition.api_name}", reason=reason)
    return definition


@transaction.atomic
def definition_restore(*, actor: User, definition: FieldDefinition) -> FieldDefinition:
    _ensure_admin(actor)
    if definition.archived_at is not None:
        definition.archived_at = None
        definition.save(update_fields=["archived_at", "updated_at"])
        _audit(definition, "restored", actor)
    return definition


@transaction.atomic
def definition_purge(*, actor: User, definition: FieldDefinition, confirm: str) -> int:
    """Delete an archived field and its values from every record; `confirm` must repeat
    the API name. Returns how many records lost a value."""
    _ensure_admin(actor)
    if definition.archived_at is None:
        raise ValidationError({"confirm": [_("Archive the field before purging it.")]})
    if confirm != definition.api_name:
        raise ValidationError({"confirm": [_("Type the field's API name to confirm.")]})
    model = model_for(definition.entity)
    cleared = model.objects.filter(custom_fields__has_key=definition.api_name).update(
        custom_fields=_without_key(definition.api_name)
    )
    _audit(definition, "purged", actor, {"records": cleared})
    if definition.filterable:
        _queue_index(definition, build=False)
    definition.delete()
    return cleared


def _without_key(api_name: str):
    from django.db.models import F, Func, Value

    return Func(F("custom_fields"), Value(api_name), template="%(expressions)s", arg_joiner=" - ")


MAX_REPORTED_FAILURES = 100


@transaction.atomic
def definition_change_type(
    *, actor: User, definition: FieldDefinition, field_type: str, options: dict | None = None
) -> dict:
    """Convert every record's value to `field_type` (with `options`, e.g. choices for a
    picklist). If any record's value does not convert, nothing changes and the report
    lists the failures: {"changed": n, "failures": [{"id", "value", "error"}]}."""
    _ensure_admin(actor)
    definition = FieldDefinition.objects.select_for_update().get(pk=definition.pk)
    if definition.filterable:
        raise ValidationError(
            {"field_type": [_("Turn off filtering (its index) before changing the type.")]}
        )
    target = FieldDefinition(
        entity=definition.entity,
        api_name=definition.api_name,
        field_type=field_type,
        **{name: getattr(definition, name) for name in EDITABLE_OPTIONS if name != "choices"},
    )
    target.choices = definition.choices
    for name, value in (options or {}).items():
        if name not in EDITABLE_OPTIONS:
            raise ValidationError({name: [_("Unknown field.")]})
        setattr(target, name, value)
    target.default = None
    _clean(target)
    model = model_for(definition.entity)
    rows = model.objects.select_for_update().filter(custom_fields__has_key=definition.api_name)
    converted, failures = [], []
    for pk, values in rows.values_list("pk", "custom_fields").iterator():
        raw = values[definition.api_name]
        try:
            converted.append((pk, clean_value(target, _convertible(raw))))
        except InvalidValue as exc:
            failures.append({"id": pk, "value": raw, "error": str(exc)})
    report = {"changed": 0, "failures": failures[:MAX_REPORTED_FAILURES], "failed": len(failures)}
    if failures:
        return report
    for pk, value in converted:
        record = model.objects.get(pk=pk)
        record.custom_fields[definition.api_name] = value
        record.save(update_fields=["custom_fields"])
    before = definition.field_type
    for name in ("field_type", *EDITABLE_OPTIONS):
        setattr(definition, name, getattr(target, name))
    definition.save()
    _audit(definition, "type_changed", actor, {"field_type": [before, field_type]})
    report["changed"] = len(converted)
    return report


def _convertible(raw):
    """Stored values as the next type's parser reads them (lists as comma text)."""
    if isinstance(raw, list):
        return ",".join(raw)
    if isinstance(raw, bool | int):
        return str(raw).lower()
    return raw


def _queue_index(definition: FieldDefinition, *, build: bool) -> None:
    from .tasks import field_index_build_task, field_index_drop_task

    def send():
        try:
            if build:
                field_index_build_task.delay(definition.pk)
            else:
                field_index_drop_task.delay(definition.pk, definition.entity)
        except Exception:  # broker down: the beat sweep builds it later
            logger.warning("custom field index task not queued", exc_info=True)

    transaction.on_commit(send)


@transaction.atomic
def field_security_set(
    *, actor: User, entity: str, field: str, role: str, access: str | None
) -> None:
    """Hide a field from a role, make it read-only, or (access None) give full access.
    `field` is a standard field name or a custom field's API name."""
    _ensure_admin(actor)
    model = model_for(entity)
    errors = {}
    if model is None:
        errors["entity"] = [_("This record type has no custom fields.")]
    elif (
        field not in standard_field_names(model)
        and not FieldDefinition.objects.filter(entity=entity, api_name=field).exists()
    ):
        errors["field"] = [_("Unknown field.")]
    if role not in Role.values or role == Role.ADMIN:
        errors["role"] = [_("Choose a role other than administrator.")]
    if access not in (None, *FieldAccess.values):
        errors["access"] = [_("Choose hidden, read-only or full access.")]
    if errors:
        raise ValidationError(errors)
    if access is None:
        FieldSecurity.objects.filter(entity=entity, field=field, role=role).delete()
    else:
        FieldSecurity.objects.update_or_create(
            entity=entity, field=field, role=role, defaults={"access": access}
        )
    DefinitionChange.objects.create(
        entity=entity,
        api_name=field,
        action="security",
        changes={"role": role, "access": access or "full"},
        actor=actor,
    )


@transaction.atomic
def layout_save(*, actor: User, entity: str, sections: list, list_columns: list) -> Layout:
    """Sections ([{"title", "fields"}]) order a record's form and page; `list_columns`
    the list page's columns. Every field named must exist (standard or custom)."""
    _ensure_admin(actor)
    from .layouts import layout_field_names

    known = set(layout_field_names(entity))
    errors: dict[str, list[str]] = {}
    if not isinstance(sections, list) or not all(
        isinstance(s, dict) and isinstance(s.get("fields"), list) for s in sections
    ):
        errors["sections"] = [_("A list of sections, each with a title and its fields.")]
    else:
        named = [f for s in sections for f in s["fields"]]
        bad = sorted({str(f) for f in named} - known)
        if bad:
            errors["sections"] = [_("Unknown fields: %(f)s.") % {"f": ", ".join(bad)}]
        elif len(named) != len(set(named)):
            errors["sections"] = [_("A field appears twice.")]
    if not isinstance(list_columns, list) or sorted({str(c) for c in list_columns} - known):
        errors["list_columns"] = [_("Unknown fields in the list columns.")]
    if errors:
        raise ValidationError(errors)
    layout, _created = Layout.objects.update_or_create(
        entity=entity,
        defaults={
            "sections": [
                {"title": str(s.get("title") or "")[:100], "fields": s["fields"]} for s in sections
            ],
            "list_columns": list_columns,
        },
    )
    DefinitionChange.objects.create(
        entity=entity,
        api_name="",
        action="layout",
        changes={"sections": layout.sections},
        actor=actor,
    )
    return layout
