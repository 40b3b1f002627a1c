"""Writes on leads: create, update (with key-field history), delete, and conversion into
a customer, a contact and a deal in one transaction."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Perm, has_perm
from customization.search import record_search_words

from ..models import Customer, Lead, Pipeline, Stage
from ..records import (
    can_see,
    ensure_can_change,
    name_key,
    phone_key,
    record_apply,
    record_event,
    record_field_changes,
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
from .contacts import contact_create
from .customers import customer_create

EDITABLE_FIELDS = (
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
    "notes",
    "owner",
    "team",
    "region",
)
# Fields whose every change is kept in FieldChange (who, when, from, to).
KEY_FIELDS = ("owner", "team", "status")


def _clean(lead: Lead) -> None:
    """Derived keys, then model validation; raises ValidationError naming the fields."""
    errors: dict[str, list[str]] = {}
    lead.name = (lead.name or "").strip()
    lead.company_name = (lead.company_name or "").strip()
    if not user_field_valid(lead, "owner"):
        errors["owner"] = [_("The owner must be an active user.")]
    validate_model(
        lead,
        errors,
        exclude=[
            "owner",
            "team",
            "region",
            "created_by",
            "previous_owner",
            "converted_customer",
            "converted_contact",
            "converted_deal",
        ],
    )
    lead.name_key = name_key(lead.name)
    lead.phone_key = phone_key(lead.phone)
    lead.search_text = search_text(
        lead.name, lead.company_name, lead.email, lead.phone, record_search_words(lead)
    )


def _apply(lead: Lead, data: dict, actor: User) -> None:
    if lead.status == Lead.Status.CONVERTED:
        raise ValidationError(_("A converted lead cannot be changed."))
    if data.get("status") == Lead.Status.CONVERTED:
        raise ValidationError({"status": [_("Convert the lead to mark it converted.")]})
    record_apply(lead, data, editable=EDITABLE_FIELDS, actor=actor)


@transaction.atomic
def lead_create(*, actor: User, data: dict) -> Lead:
    """A new lead. A rep owns what they create; for leaders without an explicit owner the
    assignment rules for leads decide, falling back to the creator. An explicit owner of
    None puts the lead straight into the public pool (leaders only)."""
    if not has_perm(actor, Perm.CHANGE_RECORDS):
        raise PermissionDenied
    may_assign = has_perm(actor, Perm.REASSIGN_RECORDS)
    if "owner" in data and data["owner"] != actor and not may_assign:
        raise PermissionDenied
    lead = Lead(created_by=actor)
    _apply(lead, data, actor)
    if "owner" not in data:
        region = data.get("region")
        lead.owner = (
            may_assign and assignee_for(entity="lead", region_id=region.pk if region else None)
        ) or actor
    if lead.team_id is None and lead.owner_id:
        lead.team_id = lead.owner.team_id
    if lead.owner_id is None:
        lead.pool_entered_at = timezone.now()
    _clean(lead)
    lead.save()
    record_event(record_type="lead", action="created", record=lead, payload=lead_payload(lead))
    return lead


@transaction.atomic
def lead_update(*, lead: Lead, actor: User, data: dict) -> Lead:
    ensure_can_change(actor, lead)
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    before = snapshot(lead, KEY_FIELDS)
    _apply(lead, data, actor)
    _clean(lead)
    lead.save()
    changed = record_updated(
        record_type="lead",
        record=lead,
        before=before,
        data=data,
        actor=actor,
        payload=lead_payload(lead),
    )
    if "status" in changed:
        record_event(
            record_type="lead",
            action="status_changed",
            record=lead,
            payload={"from": before["status"], "to": lead.status},
        )
    return lead


@transaction.atomic
def lead_delete(*, lead: Lead, actor: User) -> None:
    ensure_can_change(actor, lead)
    approval_ensure_unlocked(record_type="lead", record_id=lead.pk)
    if not has_perm(actor, Perm.DELETE_RECORDS):
        raise PermissionDenied
    record_event(record_type="lead", action="deleted", record=lead, payload={"name": lead.name})
    lead.delete()


@transaction.atomic
def lead_convert(
    *,
    lead: Lead,
    actor: User,
    customer: Customer | None = None,
    create_deal: bool = True,
    deal_name: str = "",
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    amount: Decimal | None = None,
    currency: str = "",
    expected_close_date: date | None = None,
    custom_fields: dict[str, dict] | None = None,
    now: datetime | None = None,
) -> Lead:
    """Turn a lead into a customer (or attach it to `customer`), a contact and, unless
    `create_deal` is false, a deal: all in one transaction, or nothing.

    Custom fields: the lead's values go to the new records' fields of the same API name
    and type; `custom_fields` ({"customer"|"contact"|"deal": {api_name: value}}) adds or
    overrides values. An error names its record: `deal.custom_fields.<api_name>`.

    The new records belong to the lead's owner. Without a pipeline or stage the deal
    starts in the default pipeline's first open stage (the pipelines area creates the
    default pipeline if the company has none). Converting twice is refused.
    """
    ensure_can_change(actor, lead)
    now = now or timezone.now()
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.status == Lead.Status.CONVERTED:
        raise ValidationError({"status": [_("This lead has already been converted.")]})
    approval_ensure_unlocked(record_type="lead", record_id=lead.pk)
    errors: dict[str, list[str]] = {}
    if customer is not None and not can_see(actor, customer, include_pool=False):
        errors["customer"] = [_("Choose a customer you can see.")]
    if create_deal:
        if stage is not None and pipeline is not None and stage.pipeline_id != pipeline.pk:
            errors["stage"] = [_("Choose a stage of the deal's pipeline.")]
    if errors:
        raise ValidationError(errors)

    owner = lead.owner or actor
    given = custom_fields or {}
    if customer is None:
        customer = _converting(
            "customer",
            customer_create,
            actor=actor,
            custom=_carried_custom(lead, "customer", given.get("customer")),
            data={
                "kind": Customer.Kind.COMPANY if lead.company_name else Customer.Kind.INDIVIDUAL,
                "name": lead.company_name or lead.name,
                "email": lead.email if not lead.company_name else "",
                "phone": lead.phone if not lead.company_name else "",
                "source": lead.source,
                "owner": owner,
                "team": lead.team,
                "region": lead.region,
            },
        )
    contact = _converting(
        "contact",
        contact_create,
        actor=actor,
        custom=_carried_custom(lead, "contact", given.get("contact")),
        data={
            "customer": customer,
            "name": lead.name,
            "job_title": lead.job_title,
            "emails": [lead.email] if lead.email else [],
            "phones": [lead.phone] if lead.phone else [],
            "notes": lead.notes,
            "owner": owner,
            "team": lead.team,
            "region": lead.region,
        },
    )
    deal = None
    if create_deal:
        from .deals import deal_create  # the deals area imports pipelines; keep it lazy

        deal_data = {
            "name": (deal_name or "").strip() or customer.name,
            "customer": customer,
            "contact": contact,
            "owner": owner,
            "team": lead.team,
            "region": lead.region,
        }
        if pipeline is not None:
            deal_data["pipeline"] = pipeline
        if stage is not None:
            deal_data["stage"] = stage
        if amount is not None:
            deal_data["amount"] = amount
        if currency := (currency or "").strip().upper():
            deal_data["currency"] = currency
        if expected_close_date is not None:
            deal_data["expected_close_date"] = expected_close_date
        deal = _converting(
            "deal",
            deal_create,
            actor=actor,
            custom=_carried_custom(lead, "deal", given.get("deal")),
            data=deal_data,
            now=now,
        )

    before = snapshot(lead, KEY_FIELDS)
    lead.status = Lead.Status.CONVERTED
    lead.converted_at = now
    lead.converted_customer = customer
    lead.converted_contact = contact
    lead.converted_deal = deal
    lead.save(
        update_fields=[
            "status",
            "converted_at",
            "converted_customer",
            "converted_contact",
            "converted_deal",
            "updated_at",
        ]
    )
    record_field_changes(record_type="lead", record=lead, before=before, actor=actor)
    record_event(
        record_type="lead",
        action="converted",
        record=lead,
        payload={
            "customer_id": customer.pk,
            "contact_id": contact.pk,
            "deal_id": deal.pk if deal else None,
            "converted_at": now.isoformat(),
        },
    )
    return lead


def _carried_custom(lead: Lead, entity: str, given: dict | None) -> dict:
    """The lead's custom values that fit `entity`'s fields (same API name and type),
    then the values given for it."""
    from customization.values import active_definitions

    lead_types = {d.api_name: d.field_type for d in active_definitions("lead")}
    values = lead.custom_fields or {}
    carried = {
        d.api_name: values[d.api_name]
        for d in active_definitions(entity)
        if d.api_name in values and lead_types.get(d.api_name) == d.field_type
    }
    return {**carried, **(given or {})}


def _converting(entity: str, create, *, actor: User, custom: dict, data: dict, **extra):
    """Create one of the conversion's records; its errors name it (`contact.emails`)."""
    if custom:
        data = {**data, "custom_fields": custom}
    try:
        return create(actor=actor, data=data, **extra)
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {f"{entity}.{field}": messages for field, messages in exc.message_dict.items()}
        ) from exc


def lead_bulk_save(*, actor: User, items: list[dict]) -> list[Lead]:
    """Create (no "id") or update (with "id") up to 100 leads, all or nothing."""
    return records_bulk_save(
        actor=actor,
        items=items,
        visible_records=visible(Lead.objects.all(), actor),
        create=lead_create,
        update=lambda record, **kwargs: lead_update(lead=record, **kwargs),
    )


def lead_payload(lead: Lead) -> dict:
    return {
        "name": lead.name,
        "company_name": lead.company_name,
        "email": lead.email,
        "phone": lead.phone,
        "source": lead.source,
        "status": lead.status,
        "has_money": lead.has_money,
        "has_authority": lead.has_authority,
        "has_need": lead.has_need,
        "purchase_window": lead.purchase_window,
        "owner_id": lead.owner_id,
        "team_id": lead.team_id,
        "region_id": lead.region_id,
    }
