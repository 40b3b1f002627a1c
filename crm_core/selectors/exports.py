"""Reads for export: the records a user may see, narrowed by the filters of the entity's
list (its own selector: the same visibility, the same filters), as rows."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from customization.display import visible_definitions
from customization.security import hidden_fields

from ..models import Contact, Customer, Lead
from .contacts import contact_queryset
from .customers import customer_queryset
from .leads import lead_queryset

CHUNK = 2000
# (column, header source): a field name (its label heads the column) or a lookup.
COLUMNS = {
    "customer": (
        "id",
        "name",
        "kind",
        "industry",
        "source",
        "relationship_stage",
        "lifecycle_stage",
        "value_tier",
        "is_key_account",
        "email",
        "phone",
        "website",
        "birthday",
        "tags",
        "owner__email",
        "team__name",
        "region__name",
        "created_at",
    ),
    "contact": (
        "id",
        "name",
        "customer__name",
        "job_title",
        "decision_role",
        "emails",
        "phones",
        "birthday",
        "preferred_channel",
        "owner__email",
        "team__name",
        "region__name",
        "created_at",
    ),
    "lead": (
        "id",
        "name",
        "company_name",
        "job_title",
        "email",
        "phone",
        "source",
        "status",
        "has_money",
        "has_authority",
        "has_need",
        "purchase_window",
        "owner__email",
        "team__name",
        "region__name",
        "created_at",
    ),
}
MODELS = {"customer": Customer, "contact": Contact, "lead": Lead}


def export_queryset(*, entity: str, user, filters: dict) -> QuerySet:
    """The rows of the entity's list for `user` and `filters` (visibility included)."""
    if entity == "customer":
        return customer_queryset(user=user, filters=filters)
    if entity == "contact":
        return contact_queryset(user=user, filters=filters)
    return lead_queryset(user=user, filters=filters)


def export_columns(entity: str, user) -> tuple[list[str], list]:
    """(standard columns, custom field definitions) the user may see: field security
    leaves out hidden fields; archived custom fields are left out too."""
    hidden = hidden_fields(entity, user)
    columns = [c for c in COLUMNS[entity] if c.split("__")[0] not in hidden]
    return columns, visible_definitions(entity, user)


def export_headers(entity: str, user) -> list[str]:
    """Column headers in the user's language: the fields' labels (an import maps them
    back), the related ones by their name, custom fields by their label."""
    model = MODELS[entity]
    related = {"owner__email": _("owner"), "team__name": _("team"), "region__name": _("region")}
    headers = []
    columns, definitions = export_columns(entity, user)
    for column in columns:
        if column in related:
            headers.append(str(related[column]))
        elif column == "customer__name":
            headers.append(str(model._meta.get_field("customer").verbose_name))
        elif column == "id":
            headers.append("ID")
        else:
            headers.append(str(model._meta.get_field(column).verbose_name))
    return headers + [d.display_label for d in definitions]


def export_rows(*, entity: str, user, filters: dict) -> Iterator[list]:
    """Every row, newest first, fetched in keyset chunks (no long-open cursor)."""
    queryset = export_queryset(entity=entity, user=user, filters=filters).order_by("-id")
    columns, definitions = export_columns(entity, user)
    names = [d.api_name for d in definitions]
    last_id = None
    while True:
        chunk = queryset if last_id is None else queryset.filter(id__lt=last_id)
        rows = list(chunk.values_list("id", "custom_fields", *columns)[:CHUNK])
        for row in rows:
            custom = row[1] or {}
            yield [_cell(value) for value in row[2:]] + [_cell(custom.get(n)) for n in names]
        if len(rows) < CHUNK:
            return
        last_id = rows[-1][0]


def _cell(value):
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if value is None:
        return ""
    if hasattr(value, "tzinfo") and value.tzinfo is not None:
        return value.replace(microsecond=0).isoformat()
    return value
