"""Custom fields on the record pages' forms. Form fields only parse; the one validator
(values.py, called by the record services) decides, so a page shows the same errors as
the API. Field security applies: hidden fields are left out, read-only ones disabled."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from accounts.models import User

from .layouts import ordered_sections
from .models import FieldDefinition, FieldType
from .security import field_rules
from .values import active_definitions

PREFIX = "custom_fields."
LOOKUP_CHOICES_SHOWN = 200


class ValidatorChoiceField(forms.ChoiceField):
    """A select whose value the one validator checks (same message as API and import)."""

    def valid_value(self, value):
        return True


class ValidatorMultipleChoiceField(forms.MultipleChoiceField):
    def valid_value(self, value):
        return True


def _choices_field(definition: FieldDefinition, **common) -> forms.Field:
    choices = [(c["value"], c["label"]) for c in definition.active_choices]
    if definition.field_type == FieldType.MULTI_SELECT:
        return ValidatorMultipleChoiceField(
            choices=choices, widget=forms.CheckboxSelectMultiple, **common
        )
    return ValidatorChoiceField(choices=[("", "—"), *choices], **common)


def _lookup_field(definition: FieldDefinition, current, **common) -> forms.Field:
    from .registry import lookup_model

    if definition.field_type == FieldType.USER:
        shown = [(u.pk, str(u)) for u in User.objects.filter(is_active=True).order_by("full_name")]
    else:
        queryset = lookup_model(definition.lookup_entity).objects.order_by("-id")
        shown = list(queryset.values_list("pk", "name")[:LOOKUP_CHOICES_SHOWN])
        if current and current not in {pk for pk, _n in shown}:
            shown += list(queryset.filter(pk=current).values_list("pk", "name"))
    return ValidatorChoiceField(choices=[("", "—"), *shown], **common)


def form_field(definition: FieldDefinition, current=None) -> forms.Field:
    common = {
        "label": definition.display_label,
        "required": False,  # the validator decides (same message as the API)
        "help_text": definition.help_text,
    }
    kind = definition.field_type
    if kind in (FieldType.PICKLIST, FieldType.MULTI_SELECT):
        return _choices_field(definition, **common)
    if kind in (FieldType.LOOKUP, FieldType.USER):
        return _lookup_field(definition, current, **common)
    if kind == FieldType.BOOLEAN:
        return ValidatorChoiceField(
            choices=[("", "—"), ("true", gettext_lazy("Yes")), ("false", gettext_lazy("No"))],
            **common,
        )
    widgets = {
        FieldType.LONG_TEXT: forms.Textarea(attrs={"rows": 3}),
        FieldType.DATE: forms.DateInput(attrs={"type": "date"}),
        FieldType.DATETIME: forms.DateTimeInput(attrs={"type": "datetime-local"}),
        FieldType.INTEGER: forms.NumberInput(attrs={"step": "1"}),
        FieldType.DECIMAL: forms.NumberInput(attrs={"step": "any"}),
        FieldType.CURRENCY: forms.NumberInput(attrs={"step": "any"}),
        FieldType.PERCENT: forms.NumberInput(attrs={"step": "any"}),
        FieldType.EMAIL: forms.EmailInput(),
        FieldType.URL: forms.URLInput(),
        FieldType.PHONE: forms.TextInput(attrs={"type": "tel"}),
    }
    return forms.CharField(widget=widgets.get(kind, forms.TextInput()), strip=False, **common)


def _initial(definition: FieldDefinition, value):
    if value is None:
        return None
    if definition.field_type == FieldType.BOOLEAN:
        return "true" if value else "false"
    if definition.field_type == FieldType.DATETIME:
        return value[:16]  # datetime-local shows minutes (UTC)
    return value


def custom_fields_add(form: forms.Form, *, entity: str, user, record=None) -> None:
    """Add the entity's custom fields to `form` (named `custom_fields.<api_name>`), apply
    the user's field security to all its fields, and group them by the layout."""
    rules = field_rules(entity, getattr(user, "role", None))
    values = (record.custom_fields if record is not None and record.pk else None) or {}
    for definition in active_definitions(entity):
        access = rules.get(definition.api_name)
        if access == "hidden":
            continue
        field = form_field(definition, values.get(definition.api_name))
        field.disabled = access == "read_only"
        name = PREFIX + definition.api_name
        form.fields[name] = field
        form.initial[name] = _initial(definition, values.get(definition.api_name))
    for name, access in rules.items():
        if name in form.fields:
            if access == "hidden":
                del form.fields[name]
            else:
                form.fields[name].disabled = True
    names = [n.removeprefix(PREFIX) for n in form.fields]
    form.sections = [
        (title, [PREFIX + n if PREFIX + n in form.fields else n for n in fields])
        for title, fields in ordered_sections(entity, names)
    ]
    form.order_fields([n for _t, fields in form.sections for n in fields])


def custom_service_data(form: forms.Form, data: dict) -> dict:
    """Move the form's `custom_fields.<name>` values into data["custom_fields"] (the
    services' input), leaving out disabled ones."""
    values = {}
    for key in [k for k in data if k.startswith(PREFIX)]:
        value = data.pop(key)
        if key in form.fields and not form.fields[key].disabled:
            values[key.removeprefix(PREFIX)] = value
    if values:
        data["custom_fields"] = values
    return data


CONVERSION_RECORDS = (
    ("customer", gettext_lazy("Customer")),
    ("contact", gettext_lazy("Contact")),
    ("deal", gettext_lazy("Deal")),
)


def conversion_fields_add(form: forms.Form, *, lead, user) -> None:
    """On the lead conversion form: the new records' required custom fields that the
    lead's own values do not fill, named `<record>.custom_fields.<api_name>`."""
    carried = lead.custom_fields or {}
    for entity, record_label in CONVERSION_RECORDS:
        rules = field_rules(entity, getattr(user, "role", None))
        for definition in active_definitions(entity):
            if not definition.required or definition.api_name in carried:
                continue
            if rules.get(definition.api_name):  # hidden or read-only for this user
                continue
            field = form_field(definition)
            field.label = f"{record_label} · {definition.display_label}"
            form.fields[f"{entity}.{PREFIX}{definition.api_name}"] = field


def conversion_service_data(data: dict) -> dict:
    """Move `<record>.custom_fields.<name>` values into data["custom_fields"]
    ({"customer": {...}, ...}: the conversion service's input)."""
    custom: dict[str, dict] = {}
    for key in [k for k in data if f".{PREFIX}" in k]:
        entity, _dot, name = key.partition(f".{PREFIX}")
        value = data.pop(key)
        if value not in (None, "", []):
            custom.setdefault(entity, {})[name] = value
    if custom:
        data["custom_fields"] = custom
    return data
