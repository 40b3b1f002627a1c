"""Settings pages of custom fields: definitions per record type (with index state),
one field's options and lifecycle, field security per role, layouts, the audit log."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import page_permission
from accounts.roles import Perm, Role
from crm_platform.kernel.forms import form_add_errors

from . import selectors, services
from .indexes import index_progress
from .layouts import layout_field_names, layout_for
from .models import FieldAccess, FieldType, IndexState
from .registry import LOOKUP_TARGETS, entity_choices, model_for
from .security import field_rules


def _entity(request) -> str:
    entity = request.GET.get("entity") or request.POST.get("entity") or "customer"
    if model_for(entity) is None:
        raise Http404
    return entity


def _choices_text(choices: list[dict]) -> str:
    return "\n".join(
        " | ".join(
            [
                c["value"],
                c["label"],
                c.get("color", ""),
                "" if c.get("active", True) else "inactive",
            ]
        ).rstrip(" |")
        for c in choices
    )


def _parse_choices(text: str) -> list[dict]:
    """One value a line: `value | label | #rrggbb | inactive` (all but the value optional)."""
    choices = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if not parts[0]:
            continue
        choices.append(
            {
                "value": parts[0],
                "label": parts[1] if len(parts) > 1 and parts[1] else parts[0],
                "color": parts[2] if len(parts) > 2 else "",
                "active": not (len(parts) > 3 and parts[3].lower() == "inactive"),
            }
        )
    return choices


class DefinitionForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("Label"), max_length=100)
    label_zh_hans = forms.CharField(
        label=gettext_lazy("Label (Chinese)"), required=False, max_length=100
    )
    label_ja = forms.CharField(
        label=gettext_lazy("Label (Japanese)"), required=False, max_length=100
    )
    help_text = forms.CharField(label=gettext_lazy("Help text"), required=False, max_length=300)
    required = forms.BooleanField(label=gettext_lazy("Required"), required=False)
    unique = forms.BooleanField(label=gettext_lazy("Unique"), required=False)
    filterable = forms.BooleanField(
        label=gettext_lazy("Filterable"),
        required=False,
        help_text=gettext_lazy("Builds an index in the background so lists filter and sort fast."),
    )
    min_value = forms.DecimalField(label=gettext_lazy("Minimum"), required=False)
    max_value = forms.DecimalField(label=gettext_lazy("Maximum"), required=False)
    max_length = forms.IntegerField(
        label=gettext_lazy("Maximum length"), required=False, min_value=1
    )
    pattern = forms.CharField(label=gettext_lazy("Pattern (regular expression)"), required=False)
    decimal_places = forms.IntegerField(
        label=gettext_lazy("Decimal places"), min_value=0, max_value=6, initial=2
    )
    currency = forms.CharField(label=gettext_lazy("Currency"), required=False, max_length=3)
    lookup_entity = forms.ChoiceField(
        label=gettext_lazy("Lookup of"),
        required=False,
        choices=[("", "—"), *[(e, e) for e in LOOKUP_TARGETS]],
    )
    choices = forms.CharField(
        label=gettext_lazy("Picklist values"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("One a line: value | label | #colour | inactive"),
    )
    position = forms.IntegerField(label=gettext_lazy("Position"), min_value=0, required=False)

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        translations = {"zh-hans": data.pop("label_zh_hans"), "ja": data.pop("label_ja")}
        data["label_translations"] = {k: v for k, v in translations.items() if v}
        data["choices"] = _parse_choices(data["choices"])
        if data.get("position") is None:
            data.pop("position", None)
        return data


class NewDefinitionForm(DefinitionForm):
    api_name = forms.CharField(
        label=gettext_lazy("API name"),
        max_length=40,
        help_text=gettext_lazy("Lowercase letters, digits and _; cannot be changed later."),
    )
    field_type = forms.ChoiceField(label=gettext_lazy("Type"), choices=FieldType.choices)
    field_order = ["api_name", "label", "field_type"]

    def service_data(self) -> dict:
        return super().service_data()


def _call(form, action):
    try:
        return action()
    except ValidationError as exc:
        form_add_errors(form, exc)
        return None


@login_required
@page_permission(Perm.MANAGE_CUSTOM_FIELDS)
def field_list(request):
    entity = _entity(request)
    form = NewDefinitionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        definition = _call(
            form,
            lambda: services.definition_create(
                actor=request.user, entity=entity, data=form.service_data()
            ),
        )
        if definition:
            messages.success(request, _("Field created."))
            return redirect(f"{request.path}?entity={entity}")
    definitions = list(selectors.definition_list(entity=entity))
    for definition in definitions:
        definition.progress = (
            index_progress(definition) if definition.index_state == IndexState.BUILDING else None
        )
    return render(
        request,
        "customization/fields.html",
        {
            "entity": entity,
            "entities": entity_choices(),
            "definitions": definitions,
            "form": form,
            "building": any(
                d.index_state in (IndexState.PENDING, IndexState.BUILDING) for d in definitions
            ),
        },
    )


@login_required
@page_permission(Perm.MANAGE_CUSTOM_FIELDS)
def field_edit(request, pk):
    definition = selectors.definition_get(pk=pk)
    initial = {
        name: getattr(definition, name)
        for name in DefinitionForm.base_fields
        if hasattr(definition, name)
    }
    initial["choices"] = _choices_text(definition.choices)
    initial["label_zh_hans"] = definition.label_translations.get("zh-hans", "")
    initial["label_ja"] = definition.label_translations.get("ja", "")
    form = DefinitionForm(request.POST or None, initial=initial)
    report = None
    action = request.POST.get("action", "save")
    if request.method == "POST" and action == "save" and form.is_valid():
        if _call(
            form,
            lambda: services.definition_update(
                actor=request.user, definition=definition, data=form.service_data()
            ),
        ):
            messages.success(request, _("Saved."))
            return redirect("customization:field_edit", pk=pk)
    elif request.method == "POST":
        form = DefinitionForm(initial=initial)
        try:
            if action == "archive":
                services.definition_archive(actor=request.user, definition=definition)
                messages.success(request, _("Field archived; its data is kept."))
            elif action == "restore":
                services.definition_restore(actor=request.user, definition=definition)
                messages.success(request, _("Field restored."))
            elif action == "purge":
                count = services.definition_purge(
                    actor=request.user,
                    definition=definition,
                    confirm=request.POST.get("confirm", ""),
                )
                messages.success(
                    request, _("Field purged; %(n)d records lost their value.") % {"n": count}
                )
                return redirect(f"{_fields_url()}?entity={definition.entity}")
            elif action == "change_type":
                report = services.definition_change_type(
                    actor=request.user,
                    definition=definition,
                    field_type=request.POST.get("field_type", ""),
                    options={"choices": _parse_choices(request.POST.get("choices", ""))}
                    if request.POST.get("choices")
                    else None,
                )
                if not report["failed"]:
                    messages.success(
                        request,
                        _("Type changed; %(n)d records converted.") % {"n": report["changed"]},
                    )
                    return redirect("customization:field_edit", pk=pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        definition.refresh_from_db()
    return render(
        request,
        "customization/field_edit.html",
        {
            "definition": definition,
            "form": form,
            "report": report,
            "types": FieldType.choices,
            "progress": index_progress(definition)
            if definition.index_state == IndexState.BUILDING
            else None,
        },
    )


def _fields_url() -> str:
    from django.urls import reverse

    return reverse("customization:fields")


ACCESS_CHOICES = [("full", gettext_lazy("Full access")), *FieldAccess.choices]
ROLES = [(value, label) for value, label in Role.choices if value != Role.ADMIN]


@login_required
@page_permission(Perm.MANAGE_CUSTOM_FIELDS)
def field_security(request):
    entity = _entity(request)
    names = layout_field_names(entity)
    if request.method == "POST":
        try:
            for name in names:
                for role, _label in ROLES:
                    access = request.POST.get(f"{name}:{role}", "full")
                    current = field_rules(entity, role).get(name, "full")
                    if access != current:
                        services.field_security_set(
                            actor=request.user,
                            entity=entity,
                            field=name,
                            role=role,
                            access=None if access == "full" else access,
                        )
            messages.success(request, _("Saved."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect(f"{request.path}?entity={entity}")
    rules = {role: field_rules(entity, role) for role, _label in ROLES}
    rows = [
        (name, [(role, rules[role].get(name, "full")) for role, _label in ROLES]) for name in names
    ]
    return render(
        request,
        "customization/security.html",
        {
            "entity": entity,
            "entities": entity_choices(),
            "roles": ROLES,
            "rows": rows,
            "access_choices": ACCESS_CHOICES,
        },
    )


def _layout_text(sections: list[dict]) -> str:
    lines = []
    for section in sections:
        lines.append(f"## {section.get('title') or ''}".rstrip())
        lines.extend(section["fields"])
    return "\n".join(lines)


def _parse_layout(text: str) -> list[dict]:
    """`## Title` starts a section; other lines are field names, in order."""
    sections: list[dict] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if line.startswith("##"):
            sections.append({"title": line[2:].strip(), "fields": []})
        elif line:
            if not sections:
                sections.append({"title": "", "fields": []})
            sections[-1]["fields"].append(line)
    return sections


@login_required
@page_permission(Perm.MANAGE_CUSTOM_FIELDS)
def layout_edit(request):
    entity = _entity(request)
    layout = layout_for(entity)
    text = _layout_text(layout.sections)
    columns = ", ".join(layout.list_columns)
    if request.method == "POST":
        text, columns = request.POST.get("sections", ""), request.POST.get("list_columns", "")
        try:
            services.layout_save(
                actor=request.user,
                entity=entity,
                sections=_parse_layout(text),
                list_columns=[c.strip() for c in columns.split(",") if c.strip()],
            )
            messages.success(request, _("Saved."))
            return redirect(f"{request.path}?entity={entity}")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return render(
        request,
        "customization/layout.html",
        {
            "entity": entity,
            "entities": entity_choices(),
            "sections_text": text,
            "list_columns": columns,
            "names": layout_field_names(entity),
        },
    )


@login_required
@page_permission(Perm.MANAGE_CUSTOM_FIELDS)
def change_log(request):
    return render(
        request, "customization/changes.html", {"changes": selectors.definition_changes()}
    )
