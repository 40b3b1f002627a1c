"""Writes on contacts: create, update (with key-field history), delete.

A contact belongs to the user who owns it (its visibility follows its owner and team,
like every owned record) and usually to a customer, which the user must be able to see.
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Perm, has_perm
from customization.search import record_search_words

from ..models import Contact
from ..records import (
    can_see,
    ensure_can_change,
    name_key,
    record_apply,
    record_event,
    record_updated,
    search_text,
    snapshot,
    user_field_valid,
    validate_model,
    visible,
)
from .approvals import approval_ensure_unlocked
from .bulk import records_bulk_save

EDITABLE_FIELDS = (
    "customer",
    "name",
    "job_title",
    "decision_role",
    "emails",
    "phones",
    "birthday",
    "preferred_channel",
    "notes",
    "owner",
    "team",
    "region",
)
KEY_FIELDS = ("owner", "team", "customer")
MAX_VALUES = 10  # e-mails or phones per contact
_PHONE = re.compile(r"^\+?[\d\s\-().#/x]+$", re.IGNORECASE)


def clean_emails(values, errors: dict) -> list[str]:
    cleaned: list[str] = []
    for value in values or []:
        value = (value or "").strip()
        if not value:
            continue
        try:
            validate_email(value)
        except ValidationError:
            errors.setdefault("emails", []).append(
                _("“%(value)s” is not a valid e-mail address.") % {"value": value}
            )
            continue
        if value.lower() not in {v.lower() for v in cleaned}:
            cleaned.append(value)
    if len(cleaned) > MAX_VALUES:
        errors.setdefault("emails", []).append(
            _("At most %(count)d e-mail addresses.") % {"count": MAX_VALUES}
        )
    return cleaned


def clean_phones(values, errors: dict) -> list[str]:
    cleaned: list[str] = []
    for value in values or []:
        value = (value or "").strip()
        if not value:
            continue
        digits = re.sub(r"\D", "", value)
        if len(value) > 50 or not _PHONE.match(value) or len(digits) < 3:
            errors.setdefault("phones", []).append(
                _("“%(value)s” is not a valid phone number.") % {"value": value[:60]}
            )
            continue
        if value not in cleaned:
            cleaned.append(value)
    if len(cleaned) > MAX_VALUES:
        errors.setdefault("phones", []).append(
            _("At most %(count)d phone numbers.") % {"count": MAX_VALUES}
        )
    return cleaned


def _clean(contact: Contact, actor: User) -> None:
    """Derived keys, then model validation; raises ValidationError naming the fields."""
    errors: dict[str, list[str]] = {}
    contact.name = (contact.name or "").strip()
    contact.emails = clean_emails(contact.emails, errors)
    contact.phones = clean_phones(contact.phones, errors)
    if contact.owner_id is None:
        errors["owner"] = [_("A contact needs an owner.")]
    elif not user_field_valid(contact, "owner"):
        errors["owner"] = [_("The owner must be an active user.")]
    if contact.customer_id and not can_see(actor, contact.customer):
        errors["customer"] = [_("Choose a customer you can see.")]
    validate_model(
        contact,
        errors,
        exclude=[
            "owner",
            "team",
            "region",
            "customer",
            "created_by",
            "previous_owner",
            "emails",
            "phones",
        ],
    )
    contact.name_key = name_key(contact.name)
    contact.search_text = search_text(
        contact.name, contact.emails, contact.phones, record_search_words(contact)
    )


def _apply(contact: Contact, data: dict, actor: User) -> None:
    record_apply(contact, data, editable=EDITABLE_FIELDS, actor=actor)


@transaction.atomic
def contact_create(*, actor: User, data: dict) -> Contact:
    """A new contact, owned by its creator unless a leader names another owner."""
    if not has_perm(actor, Perm.CHANGE_RECORDS):
        raise PermissionDenied
    if "owner" in data and data["owner"] != actor and not has_perm(actor, Perm.REASSIGN_RECORDS):
        raise PermissionDenied
    contact = Contact(created_by=actor, owner=actor)
    _apply(contact, data, actor)
    if contact.team_id is None and contact.owner_id:
        contact.team_id = contact.owner.team_id
    _clean(contact, actor)
    contact.save()
    record_event(
        record_type="contact", action="created", record=contact, payload=contact_payload(contact)
    )
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, actor: User, data: dict) -> Contact:
    ensure_can_change(actor, contact)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    before = snapshot(contact, KEY_FIELDS)
    _apply(contact, data, actor)
    _clean(contact, actor)
    contact.save()
    record_updated(
        record_type="contact",
        record=contact,
        before=before,
        data=data,
        actor=actor,
        payload=contact_payload(contact),
    )
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, actor: User) -> None:
    ensure_can_change(actor, contact)
    approval_ensure_unlocked(record_type="contact", record_id=contact.pk)
    if not has_perm(actor, Perm.DELETE_RECORDS):
        raise PermissionDenied
    record_event(
        record_type="contact", action="deleted", record=contact, payload={"name": contact.name}
    )
    contact.delete()


def contact_bulk_save(*, actor: User, items: list[dict]) -> list[Contact]:
    """Create (no "id") or update (with "id") up to 100 contacts, all or nothing."""
    return records_bulk_save(
        actor=actor,
        items=items,
        visible_records=visible(Contact.objects.all(), actor),
        create=contact_create,
        update=lambda record, **kwargs: contact_update(contact=record, **kwargs),
    )


def contact_payload(contact: Contact) -> dict:
    return {
        "name": contact.name,
        "customer_id": contact.customer_id,
        "job_title": contact.job_title,
        "decision_role": contact.decision_role,
        "emails": contact.emails,
        "phones": contact.phones,
        "birthday": contact.birthday.isoformat() if contact.birthday else None,
        "preferred_channel": contact.preferred_channel,
        "owner_id": contact.owner_id,
        "team_id": contact.team_id,
        "region_id": contact.region_id,
    }
