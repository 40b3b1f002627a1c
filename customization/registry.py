"""Which entities take custom fields: every model inheriting CustomizableModel, keyed by
its model name ("customer", "deal", ...). An entity added later joins by declaring it."""

from __future__ import annotations

from django.apps import apps
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm_platform.kernel.models import CustomizableModel

# What a lookup field may point at (user has its own field type).
LOOKUP_TARGETS = ("customer", "contact", "lead", "deal")


def customizable_models() -> dict[str, type[models.Model]]:
    return {
        model._meta.model_name: model
        for model in apps.get_models()
        if issubclass(model, CustomizableModel)
    }


def entity_of(model: type[models.Model]) -> str:
    return model._meta.model_name


def model_for(entity: str) -> type[models.Model] | None:
    return customizable_models().get(entity)


# The navigation's own words for today's entities; one added later shows its model's name.
ENTITY_LABELS = {
    "customer": _("Customers"),
    "contact": _("Contacts"),
    "lead": _("Leads"),
    "deal": _("Deals"),
    "activity": _("Activities"),
}


def entity_choices() -> list[tuple[str, str]]:
    return [
        (key, str(ENTITY_LABELS.get(key) or model._meta.verbose_name_plural).capitalize())
        for key, model in customizable_models().items()
    ]


def lookup_model(entity: str) -> type[models.Model]:
    if entity == "user":
        return apps.get_model("accounts", "User")
    return apps.get_model("crm_core", entity)


def standard_field_names(model: type[models.Model]) -> list[str]:
    """The model's own concrete fields (names a custom field may not take)."""
    names = []
    for field in model._meta.concrete_fields:
        names.append(field.name)
        names.append(field.attname)
    return names
