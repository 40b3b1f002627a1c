"""Field-level security: per role, a field (standard or custom) of an entity may be
hidden or read-only. Enforced by the record services (writes), the API outputs and lean
lists, the pages, exports, search results and event payloads through the functions here.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .cache import cached
from .models import FieldAccess, FieldSecurity


def field_rules(entity: str, role: str) -> dict[str, str]:
    """{field: access} for one role ("field" is a standard field name or an API name)."""
    rules = cached(
        "rules",
        entity,
        role,
        load=lambda: dict(
            FieldSecurity.objects.filter(entity=entity, role=role).values_list("field", "access")
        ),
    )
    return dict(rules)


def hidden_fields(entity: str, user) -> set[str]:
    role = getattr(user, "role", None)
    return {f for f, a in field_rules(entity, role).items() if a == FieldAccess.HIDDEN}


def read_only_fields(entity: str, user) -> set[str]:
    """Fields the user may not change: read-only and hidden ones."""
    return set(field_rules(entity, getattr(user, "role", None)))


def shape_payload(entity: str, payload: dict, *, role: str | None) -> dict:
    """A record's payload (API output, list row, export row, search hit, event payload)
    as `role` may see it: hidden standard fields (and their `_id`/`_name` forms), hidden
    and archived custom fields removed. Webhooks reuse this for each subscriber's role."""
    return reader_view(entity, role).shape(payload)


class ReaderView:
    """What one role sees of one entity's records; `shape` applies it to a payload."""

    def __init__(self, hidden: set[str], active_custom: set[str]):
        self.hidden = hidden
        self.active_custom = active_custom - hidden
        self.names = hidden | {f"{f}_id" for f in hidden} | {f"{f}_name" for f in hidden}
        self.names |= {f"{f}__full_name" for f in hidden}

    def shape(self, payload: dict) -> dict:
        shaped = (
            {k: v for k, v in payload.items() if k not in self.names} if self.hidden else payload
        )
        custom = payload.get("custom_fields")
        if custom and isinstance(custom, dict) and not set(custom) <= self.active_custom:
            shaped = dict(shaped)
            shaped["custom_fields"] = {k: v for k, v in custom.items() if k in self.active_custom}
        return shaped


def reader_view(entity: str, role: str | None) -> ReaderView:
    """Kept with the rules and definitions it is built from (and dropped with them): a
    list page asks for it on every request."""
    from .values import active_definitions

    def build() -> ReaderView:
        rules = field_rules(entity, role)
        return ReaderView(
            {f for f, a in rules.items() if a == FieldAccess.HIDDEN},
            {d.api_name for d in active_definitions(entity)},
        )

    return cached("reader_view", entity, role, load=build)


def check_writable(entity: str, record, data: dict, actor) -> None:
    """Refuse changes to fields that are read-only (or hidden) for the actor's role;
    sending a field's current value unchanged is allowed (forms send whole records)."""
    locked = read_only_fields(entity, actor)
    if not locked:
        return
    errors = {}
    for field in locked & set(data):
        if data[field] != getattr(record, field, None):
            errors[field] = [_("This field is read-only for your role.")]
    current = record.custom_fields or {}
    for name, value in (data.get("custom_fields") or {}).items():
        if name in locked and value != current.get(name):
            errors[f"custom_fields.{name}"] = [_("This field is read-only for your role.")]
    if errors:
        raise ValidationError(errors)
