"""Writes on deals: create, update, delete, and moving a deal between stages (with the
stage history that gives stage ageing, key-field history and outbox events)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Perm, has_perm

from ..models import Deal, DealStageChange, Pipeline, Stage
from ..records import (
    can_see,
    ensure_can_change,
    record_apply,
    record_event,
    record_field_changes,
    record_updated,
    snapshot,
    user_field_valid,
    visible,
)
from .approvals import approval_ensure_unlocked
from .bulk import records_bulk_save
from .pipelines import pipeline_ensure_default

EDITABLE_FIELDS = (
    "name",
    "customer",
    "contact",
    "pipeline",
    "stage",
    "amount",
    "currency",
    "expected_close_date",
    "lost_reason",
    "owner",
    "team",
    "region",
    "finder",
    "delivery_owner",
    "collections_owner",
)
# Fields whose every change is kept in FieldChange (who, when, from, to).
KEY_FIELDS = ("owner", "stage", "amount")
TEAM_FIELDS = ("finder", "delivery_owner", "collections_owner")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_AMOUNT = Decimal("9999999999999999.99")


def _check_links(deal: Deal, actor: User, errors: dict) -> None:
    """Customer and contact must be records the actor may see; the contact must belong to
    the deal's customer; the deal team must be active users."""
    if deal.customer_id and not can_see(actor, deal.customer):
        errors["customer"] = [_("Choose a customer you can see.")]
    if deal.contact_id:
        if not can_see(actor, deal.contact):
            errors["contact"] = [_("Choose a contact you can see.")]
        elif deal.customer_id and deal.contact.customer_id not in (None, deal.customer_id):
            errors["contact"] = [_("This contact belongs to another customer.")]
    for field in ("owner", *TEAM_FIELDS):
        if not user_field_valid(deal, field):
            errors[field] = [_("Choose an active user.")]


def _clean(deal: Deal, actor: User) -> None:
    """Model rules plus the deal's own; raises ValidationError naming the fields."""
    errors: dict[str, list[str]] = {}
    deal.name = (deal.name or "").strip()
    deal.currency = (deal.currency or "").strip()
    deal.lost_reason = (deal.lost_reason or "").strip()
    if not deal.name:
        errors["name"] = [_("Enter a name.")]
    elif len(deal.name) > 200:
        errors["name"] = [_("At most 200 characters.")]
    if not deal.owner_id:
        errors["owner"] = [_("Choose an owner.")]
    if not _CURRENCY.match(deal.currency):
        errors["currency"] = [
            _("Enter a three-letter ISO 4217 currency code in capitals, e.g. CNY.")
        ]
    try:
        deal.amount = Decimal(str(deal.amount if deal.amount is not None else "0"))
        if not deal.amount.is_finite() or deal.amount < 0 or deal.amount > MAX_AMOUNT:
            raise InvalidOperation
        deal.amount = deal.amount.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors["amount"] = [_("Enter an amount of zero or more.")]
    if deal.stage_id and deal.stage.pipeline_id != deal.pipeline_id:
        errors["stage"] = [_("Choose a stage of the deal's pipeline.")]
    elif deal.stage_id and deal.stage.kind == Stage.Kind.LOST and not deal.lost_reason:
        errors["lost_reason"] = [_("Give the lost reason.")]
    _check_links(deal, actor, errors)
    if errors:
        raise ValidationError(errors)


def _first_open_stage(pipeline: Pipeline) -> Stage | None:
    stages = pipeline.stages.order_by("position", "id")
    return stages.filter(kind=Stage.Kind.OPEN).first() or stages.first()


def _apply(deal: Deal, data: dict, actor: User) -> None:
    """Deals also refuse a new deal owned by someone else without the right to reassign."""
    if (
        not deal.pk
        and data.get("owner", actor) != actor
        and not has_perm(actor, Perm.REASSIGN_RECORDS)
    ):
        raise PermissionDenied
    record_apply(deal, data, editable=EDITABLE_FIELDS, actor=actor)


def _stage_entered(deal: Deal, at: datetime) -> None:
    """Bookkeeping of entering deal.stage at `at`: closed for won and lost stages."""
    deal.stage_entered_at = at
    closed = deal.stage.kind in (Stage.Kind.WON, Stage.Kind.LOST)
    deal.closed_at = at if closed else None
    if deal.stage.kind != Stage.Kind.LOST:
        deal.lost_reason = ""


@transaction.atomic
def deal_create(*, actor: User, data: dict, now: datetime | None = None) -> Deal:
    """A new deal owned by its creator (leaders may choose the owner), in the default
    pipeline's first open stage unless a pipeline or stage is given."""
    if not has_perm(actor, Perm.CHANGE_RECORDS):
        raise PermissionDenied
    now = now or timezone.now()
    data = dict(data)
    deal = Deal(created_by=actor, owner=actor)
    stage = data.get("stage")
    if data.get("pipeline") is None:
        data["pipeline"] = stage.pipeline if stage else pipeline_ensure_default()
    if stage is None:
        data["stage"] = _first_open_stage(data["pipeline"])
        if data["stage"] is None:
            raise ValidationError({"stage": [_("This pipeline has no stages yet.")]})
    _apply(deal, data, actor)
    if deal.team_id is None and deal.owner_id:
        deal.team_id = deal.owner.team_id
    if deal.customer_id and deal.region_id is None:
        deal.region_id = deal.customer.region_id
    _clean(deal, actor)
    _stage_entered(deal, now)
    deal.save()
    DealStageChange.objects.create(
        deal=deal, from_stage=None, to_stage=deal.stage, changed_at=now, changed_by=actor
    )
    record_event(record_type="deal", action="created", record=deal, payload=deal_payload(deal))
    return deal


@transaction.atomic
def deal_update(*, deal: Deal, actor: User, data: dict, now: datetime | None = None) -> Deal:
    """Edit a deal; a new stage is a move (stage history, deal.stage_changed)."""
    ensure_can_change(actor, deal)
    now = now or timezone.now()
    deal = Deal.objects.select_for_update().select_related("stage").get(pk=deal.pk)
    before = snapshot(deal, KEY_FIELDS)
    old_stage = deal.stage
    data = dict(data)
    if "pipeline" in data and data["pipeline"] != deal.pipeline and "stage" not in data:
        data["stage"] = _first_open_stage(data["pipeline"])
    _apply(deal, data, actor)
    _clean(deal, actor)
    moved = deal.stage_id != old_stage.pk
    if moved:
        _stage_entered(deal, now)
        _record_move(deal=deal, old_stage=old_stage, actor=actor, now=now)
    deal.save()
    record_updated(
        record_type="deal",
        record=deal,
        before=before,
        data=data,
        actor=actor,
        payload=deal_payload(deal),
    )
    return deal


def _record_move(*, deal: Deal, old_stage: Stage, actor, now) -> None:
    """The DealStageChange row and deal.stage_changed event of a move (deal unsaved)."""
    entered = Deal.objects.filter(pk=deal.pk).values_list("stage_entered_at", flat=True)[0]
    seconds = max(0, int((now - entered).total_seconds())) if entered else None
    DealStageChange.objects.create(
        deal=deal,
        from_stage=old_stage,
        to_stage=deal.stage,
        changed_at=now,
        changed_by=actor,
        seconds_in_previous=seconds,
    )
    record_event(
        record_type="deal",
        action="stage_changed",
        actor=actor,
        record=deal,
        payload={
            "from_stage_id": old_stage.pk,
            "from_stage": old_stage.name,
            "to_stage_id": deal.stage_id,
            "to_stage": deal.stage.name,
            "kind": deal.stage.kind,
            "amount": str(deal.amount),
            "currency": deal.currency,
            "lost_reason": deal.lost_reason,
            "seconds_in_previous": seconds,
        },
    )


@transaction.atomic
def deal_move_stage(
    *, deal: Deal, stage: Stage, actor: User, lost_reason: str = "", now: datetime | None = None
) -> Deal:
    """Move a deal to another stage of its pipeline (a lost stage needs the lost reason).

    Writes the stage change with the time spent in the previous stage, the stage field
    history and the event deal.stage_changed. Moving to the current stage changes nothing.
    """
    ensure_can_change(actor, deal)
    now = now or timezone.now()
    deal = Deal.objects.select_for_update().select_related("stage").get(pk=deal.pk)
    if stage.pk == deal.stage_id:
        return deal
    approval_ensure_unlocked(record_type="deal", record_id=deal.pk)
    if stage.pipeline_id != deal.pipeline_id:
        raise ValidationError({"stage": [_("Choose a stage of the deal's pipeline.")]})
    lost_reason = (lost_reason or "").strip()
    if stage.kind == Stage.Kind.LOST and not lost_reason:
        raise ValidationError({"lost_reason": [_("Give the lost reason.")]})
    if len(lost_reason) > 200:
        raise ValidationError({"lost_reason": [_("At most 200 characters.")]})
    before = snapshot(deal, KEY_FIELDS)
    old_stage = deal.stage
    deal.stage = stage
    deal.lost_reason = lost_reason
    _stage_entered(deal, now)
    _record_move(deal=deal, old_stage=old_stage, actor=actor, now=now)
    deal.save(update_fields=["stage", "lost_reason", "stage_entered_at", "closed_at", "updated_at"])
    record_field_changes(record_type="deal", record=deal, before=before, actor=actor)
    return deal


@transaction.atomic
def deal_delete(*, deal: Deal, actor: User) -> None:
    ensure_can_change(actor, deal)
    approval_ensure_unlocked(record_type="deal", record_id=deal.pk)
    if not has_perm(actor, Perm.DELETE_RECORDS):
        raise PermissionDenied
    # Activities also linked to the customer stay on the customer's timeline.
    deal.activities.filter(customer__isnull=False).update(deal=None)
    record_event(record_type="deal", action="deleted", record=deal, payload={"name": deal.name})
    deal.delete()


def deal_payload(deal: Deal) -> dict:
    """The event payload: the deal's standard fields as JSON values."""
    return {
        "name": deal.name,
        "customer_id": deal.customer_id,
        "contact_id": deal.contact_id,
        "pipeline_id": deal.pipeline_id,
        "stage_id": deal.stage_id,
        "amount": str(deal.amount),
        "currency": deal.currency,
        "expected_close_date": (
            deal.expected_close_date.isoformat() if deal.expected_close_date else None
        ),
        "owner_id": deal.owner_id,
        "team_id": deal.team_id,
        "region_id": deal.region_id,
        "finder_id": deal.finder_id,
        "delivery_owner_id": deal.delivery_owner_id,
        "collections_owner_id": deal.collections_owner_id,
    }


def deal_bulk_save(*, actor: User, items: list[dict]) -> list[Deal]:
    """Create (no "id") or update (with "id") up to 100 deals, all or nothing."""
    return records_bulk_save(
        actor=actor,
        items=items,
        visible_records=visible(Deal.objects.all(), actor),
        create=deal_create,
        update=lambda record, **kwargs: deal_update(deal=record, **kwargs),
    )
