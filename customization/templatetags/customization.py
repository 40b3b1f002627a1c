"""Custom fields on record pages: form sections, the record's fields card, list columns."""

from django import template

from ..display import displayed_record, list_cells, list_columns, record_sections

register = template.Library()


@register.filter
def form_sections(form):
    """[(title, [BoundField])] by the layout (custom_fields_add sets form.sections)."""
    sections = getattr(form, "sections", None) or [("", list(form.fields))]
    return [(title, [form[n] for n in names if n in form.fields]) for title, names in sections]


@register.inclusion_tag("customization/_record_fields.html", takes_context=True)
def record_fields(context, record):
    return {"sections": record_sections(record, context["request"].user)}


@register.simple_tag(takes_context=True)
def custom_columns(context, entity):
    return list_columns(entity, context["request"].user)


@register.filter
def custom_cells(record, columns):
    return list_cells(record, columns)


@register.simple_tag(takes_context=True)
def secured_record(context, record):
    """A display copy of `record` without the values of standard fields (relations
    included) hidden from the reader's role."""
    return displayed_record(record, context["request"].user)
