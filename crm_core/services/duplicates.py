"""Merging duplicates: one record survives, the other's relations move to it."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Perm, has_perm
from customization.search import record_search_words

from ..models import Activity, Contact, Deal, FieldChange, Lead, Notification, PoolMove
from ..records import (
    ensure_can_change,
    name_key,
    phone_key,
    record_event,
    record_field_changes,
    search_text,
    snapshot,
)
from ..selectors.duplicates import MERGE_FIELDS, MODELS, UNION_FIELDS

KEY_FIELDS = {
    "customer": ("owner", "team", "relationship_stage", "value_tier", "is_key_account"),
    "contact": ("owner", "team"),
    "lead": ("owner", "team", "status"),
}


def _repoint(entity: str, keep, merge) -> dict[str, int]:
    """Every relation of `merge` now points at `keep`; returns rows moved per relation."""
    moved = {}
    if entity == "customer":
        moved["contacts"] = Contact.objects.filter(customer=merge).update(customer=keep)
        moved["deals"] = Deal.objects.filter(customer=merge).update(customer=keep)
        moved["activities"] = Activity.objects.filter(customer=merge).update(customer=keep)
        moved["leads"] = Lead.objects.filter(converted_customer=merge).update(
            converted_customer=keep
        )
    elif entity == "contact":
        moved["deals"] = Deal.objects.filter(contact=merge).update(contact=keep)
        moved["activities"] = Activity.objects.filter(contact=merge).update(contact=keep)
        moved["leads"] = Lead.objects.filter(converted_contact=merge).update(converted_contact=keep)
    else:
        moved["activities"] = Activity.objects.filter(lead=merge).update(lead=keep)
    by_record = {"record_type": entity, "record_id": merge.pk}
    moved["field_changes"] = FieldChange.objects.filter(**by_record).update(record_id=keep.pk)
    moved["pool_moves"] = PoolMove.objects.filter(**by_record).update(record_id=keep.pk)
    moved["notifications"] = Notification.objects.filter(**by_record).update(record_id=keep.pk)
    return moved


def _union(values_a: list, values_b: list) -> list:
    seen, result = set(), []
    for value in [*values_a, *values_b]:
        marker = repr(value) if isinstance(value, dict) else value
        if value and marker not in seen:
            seen.add(marker)
            result.append(value)
    return result


def _validate_choices(entity: str, fields: dict) -> None:
    if not isinstance(fields, dict):
        raise ValidationError({"fields": [_('An object of field: "keep" or "merge".')]})
    errors = {}
    for field, choice in fields.items():
        if field not in MERGE_FIELDS[entity]:
            errors[f"fields.{field}"] = [_("This field cannot be chosen in a merge.")]
        elif choice not in ("keep", "merge"):
            errors[f"fields.{field}"] = [_('Choose "keep" or "merge".')]
    if errors:
        raise ValidationError(errors)


def _refresh_keys(entity: str, record) -> None:
    """Derived keys and model validation, as the entity's own services do on save."""
    record.name = (record.name or "").strip()
    try:
        record.full_clean(
            exclude=[
                "owner",
                "team",
                "region",
                "created_by",
                "previous_owner",
                "customer",
                "converted_customer",
                "converted_contact",
                "converted_deal",
            ],
            validate_unique=False,
        )
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    record.name_key = name_key(record.name)
    if entity == "contact":
        record.search_text = search_text(
            record.name, record.emails, record.phones, record_search_words(record)
        )
    else:
        # As the entity's own services compute it (leads add their company's name).
        company = record.company_name if entity == "lead" else ""
        record.phone_key = phone_key(record.phone)
        record.search_text = search_text(
            record.name, company, record.email, record.phone, record_search_words(record)
        )


@transaction.atomic
def record_merge(*, entity: str, keep_id: int, merge_id: int, fields: dict, actor: User):
    """Merge record `merge_id` into `keep_id` (both of `entity`: customer, contact, lead).

    `fields` chooses, per field, whose value survives ("keep" or "merge"); a field not
    chosen keeps the surviving record's value, or takes the other's when it is empty.
    Lists (tags, e-mails, phones, addresses) are united. Every relation of the merged
    record moves over, the merged record is deleted, and `<entity>.merged` is recorded.
    """
    if entity not in MODELS:
        raise ValidationError({"type": [_("Choose customer, contact or lead.")]})
    if not has_perm(actor, Perm.MERGE_RECORDS):
        raise PermissionDenied
    if keep_id == merge_id:
        raise ValidationError({"merge": [_("Choose two different records.")]})
    _validate_choices(entity, fields)
    model = MODELS[entity]
    # Lock both rows in id order so two merges of the same pair cannot interleave.
    locked = {r.pk: r for r in model.objects.select_for_update().filter(pk__in=[keep_id, merge_id])}
    keep, merge = locked.get(keep_id), locked.get(merge_id)
    if keep is None or merge is None:
        raise ValidationError({"keep" if keep is None else "merge": [_("No such record.")]})
    ensure_can_change(actor, keep)
    ensure_can_change(actor, merge)
    if (fields.get("owner") == "merge" or fields.get("team") == "merge") and not has_perm(
        actor, Perm.REASSIGN_RECORDS
    ):
        raise PermissionDenied
    before = snapshot(keep, KEY_FIELDS[entity])
    taken = []
    for field in MERGE_FIELDS[entity]:
        model_field = model._meta.get_field(field)
        attname = model_field.attname
        mine, theirs = getattr(keep, attname), getattr(merge, attname)
        choice = fields.get(field)
        if choice == "merge" or (
            choice is None and mine in (None, "") and theirs not in (None, "")
        ):
            if mine != theirs:
                setattr(keep, attname, theirs)
                taken.append(field)
    for field in UNION_FIELDS[entity]:
        setattr(keep, field, _union(getattr(keep, field), getattr(merge, field)))
    if entity == "customer":
        keep.tags = sorted(set(keep.tags))
    if merge.last_activity_at and (
        keep.last_activity_at is None or merge.last_activity_at > keep.last_activity_at
    ):
        keep.last_activity_at = merge.last_activity_at
    if entity == "lead":
        for field in ("converted_at", "converted_customer", "converted_deal", "converted_contact"):
            attname = model._meta.get_field(field).attname
            if getattr(keep, attname) is None and getattr(merge, attname) is not None:
                setattr(keep, attname, getattr(merge, attname))
    _refresh_keys(entity, keep)
    moved = _repoint(entity, keep, merge)
    merge_name = merge.name
    merge.delete()
    keep.save()
    record_field_changes(record_type=entity, record=keep, before=before, actor=actor)
    record_event(
        record_type=entity,
        action="merged",
        record=keep,
        payload={
            "merged_id": merge_id,
            "merged_name": merge_name,
            "fields_taken": taken,
            "moved": moved,
            "by": actor.pk,
        },
    )
    return keep
