"""Writes on customers: create, update (with key-field history), delete, bulk."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Perm, has_perm
from customization.search import record_search_words

from ..models import Contract, Customer, Invoice, Order, Quote
from ..records import (
    ensure_can_change,
    name_key,
    phone_key,
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
from .assignment import assignee_for
from .bulk import records_bulk_save

# Fields a user may set; everything else is derived or bookkeeping.
EDITABLE_FIELDS = (
    "kind",
    "name",
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
    "addresses",
    "tags",
    "notes",
    "owner",
    "team",
    "region",
)
# Fields whose every change is kept in FieldChange (who, when, from, to).
KEY_FIELDS = ("owner", "team", "relationship_stage", "value_tier", "is_key_account")
ADDRESS_KEYS = {"kind", "line1", "line2", "city", "region", "postcode", "country"}


def _clean(customer: Customer) -> None:
    """Derived keys, then model validation; raises ValidationError naming the fields."""
    errors: dict[str, list[str]] = {}
    customer.name = (customer.name or "").strip()
    customer.tags = sorted({t.strip() for t in customer.tags or [] if t and t.strip()})
    if not isinstance(customer.addresses, list) or not all(
        isinstance(a, dict) and set(a) <= ADDRESS_KEYS for a in customer.addresses
    ):
        errors["addresses"] = [
            _("Each address is an object with: %(keys)s.")
            % {"keys": ", ".join(sorted(ADDRESS_KEYS))}
        ]
    if not user_field_valid(customer, "owner"):
        errors["owner"] = [_("The owner must be an active user.")]
    validate_model(
        customer,
        errors,
        exclude=["owner", "team", "region", "created_by", "previous_owner", "addresses"],
    )
    customer.name_key = name_key(customer.name)
    customer.phone_key = phone_key(customer.phone)
    customer.search_text = search_text(
        customer.name, customer.email, customer.phone, record_search_words(customer)
    )


def _apply(customer: Customer, data: dict, actor: User) -> None:
    record_apply(customer, data, editable=EDITABLE_FIELDS, actor=actor)


@transaction.atomic
def customer_create(*, actor: User, data: dict) -> Customer:
    """A new customer. An explicit owner (None: into the public pool) needs the right to
    reassign, unless it is the creator; otherwise a rep owns what they create, and for
    leaders the assignment rules decide, falling back to the creator."""
    if not has_perm(actor, Perm.CHANGE_RECORDS):
        raise PermissionDenied
    may_assign = has_perm(actor, Perm.REASSIGN_RECORDS)
    if "owner" in data and data["owner"] != actor and not may_assign:
        raise PermissionDenied
    customer = Customer(created_by=actor)
    _apply(customer, data, actor)
    if "owner" not in data:
        region = data.get("region")
        customer.owner = (
            may_assign and assignee_for(entity="customer", region_id=region.pk if region else None)
        ) or actor
    if customer.team_id is None and customer.owner_id:
        customer.team_id = customer.owner.team_id
    if customer.owner_id is None:
        customer.pool_entered_at = timezone.now()  # created straight into the public pool
    _clean(customer)
    customer.save()
    record_event(
        record_type="customer",
        action="created",
        record=customer,
        payload=customer_payload(customer),
    )
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, actor: User, data: dict) -> Customer:
    ensure_can_change(actor, customer)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    before = snapshot(customer, KEY_FIELDS)
    _apply(customer, data, actor)
    _clean(customer)
    customer.save()
    record_updated(
        record_type="customer",
        record=customer,
        before=before,
        data=data,
        actor=actor,
        payload=customer_payload(customer),
    )
    return customer


@transaction.atomic
def customer_delete(*, customer: Customer, actor: User) -> None:
    ensure_can_change(actor, customer)
    approval_ensure_unlocked(record_type="customer", record_id=customer.pk)
    if not has_perm(actor, Perm.DELETE_RECORDS):
        raise PermissionDenied
    if customer.deals.exists():
        raise ValidationError(_("This customer has deals; close or move them first."))
    if any(  # lead to cash: documents keep their customer
        model.objects.filter(customer=customer).exists()
        for model in (Quote, Contract, Order, Invoice)
    ):
        raise ValidationError(_("This customer has quotes, contracts, orders or invoices."))
    record_event(
        record_type="customer", action="deleted", record=customer, payload={"name": customer.name}
    )
    customer.delete()


def customer_bulk_save(*, actor: User, items: list[dict]) -> list[Customer]:
    """Create (no "id") or update (with "id") up to 100 customers, all or nothing."""
    return records_bulk_save(
        actor=actor,
        items=items,
        visible_records=visible(Customer.objects.all(), actor),
        create=customer_create,
        update=lambda record, **kwargs: customer_update(customer=record, **kwargs),
    )


def customer_payload(customer: Customer) -> dict:
    """The event payload: the record's standard fields as JSON values."""
    return {
        "name": customer.name,
        "kind": customer.kind,
        "email": customer.email,
        "phone": customer.phone,
        "industry": customer.industry,
        "source": customer.source,
        "relationship_stage": customer.relationship_stage,
        "lifecycle_stage": customer.lifecycle_stage,
        "value_tier": customer.value_tier,
        "is_key_account": customer.is_key_account,
        "owner_id": customer.owner_id,
        "team_id": customer.team_id,
        "region_id": customer.region_id,
        "tags": customer.tags,
    }
