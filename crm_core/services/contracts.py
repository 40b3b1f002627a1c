"""Writes on contracts: from an accepted quote or from scratch, edit drafts, review
(approval by a manager, through services/approvals.py), terminate, expire.

Statuses: draft -> under_review -> active -> expired | terminated (a rejected review
goes back to draft).
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Perm, has_perm

from ..models import Contract, Quote
from ..records import can_see, ensure_can_change, record_apply, record_event, validate_model
from .approvals import approval_ensure_unlocked, approval_on_decided, approval_request
from .numbering import number_next
from .products import currency_errors

EDITABLE_FIELDS = (
    "title",
    "customer",
    "deal",
    "currency",
    "value",
    "start_date",
    "end_date",
    "renewal_date",
    "terms",
    "owner",
)


def contract_payload(contract: Contract) -> dict:
    return {
        "number": contract.number,
        "status": contract.status,
        "customer_id": contract.customer_id,
        "deal_id": contract.deal_id,
        "quote_id": contract.quote_id,
        "currency": contract.currency,
        "value": str(contract.value),
        "start_date": contract.start_date.isoformat() if contract.start_date else None,
        "end_date": contract.end_date.isoformat() if contract.end_date else None,
        "renewal_date": contract.renewal_date.isoformat() if contract.renewal_date else None,
        "owner_id": contract.owner_id,
    }


def _event(contract: Contract, action: str, **extra) -> None:
    record_event(
        record_type="contract",
        action=action,
        record=contract,
        payload={**contract_payload(contract), **extra},
    )


def _clean(contract: Contract, actor: User) -> None:
    contract.title = (contract.title or "").strip()
    errors = currency_errors(contract.currency)
    if not contract.title:
        errors["title"] = [_("Enter a title.")]
    if not contract.customer_id:
        errors["customer"] = [_("Choose a customer.")]
    elif not can_see(actor, contract.customer):
        errors["customer"] = [_("Choose a customer you can see.")]
    if contract.deal_id and contract.deal.customer_id not in (None, contract.customer_id):
        errors["deal"] = [_("This deal belongs to another customer.")]
    if contract.value is None or contract.value < 0:
        errors["value"] = [_("Enter an amount of zero or more.")]
    if contract.start_date and contract.end_date and contract.end_date < contract.start_date:
        errors["end_date"] = [_("The end is before the start.")]
    if (
        contract.renewal_date
        and contract.start_date
        and contract.renewal_date < contract.start_date
    ):
        errors["renewal_date"] = [_("The renewal is before the start.")]
    validate_model(contract, errors, exclude=["number", "customer", "owner", "created_by"])


def _apply(contract: Contract, data: dict, actor: User) -> None:
    if (
        "owner" in data
        and data["owner"] != contract.owner
        and not has_perm(actor, Perm.REASSIGN_RECORDS)
    ):
        raise PermissionDenied
    record_apply(contract, data, editable=EDITABLE_FIELDS)
    if "owner" in data and contract.owner_id:
        contract.team_id = contract.owner.team_id


@transaction.atomic
def contract_create(*, actor: User, data: dict) -> Contract:
    if not has_perm(actor, Perm.CHANGE_RECORDS):
        raise PermissionDenied
    contract = Contract(owner=actor, team_id=actor.team_id, created_by=actor)
    data = dict(data)
    if data.get("deal") is not None:
        data.setdefault("customer", data["deal"].customer)
        data.setdefault("currency", data["deal"].currency)
    _apply(contract, data, actor)
    _clean(contract, actor)
    contract.number = number_next(kind="contract")
    contract.save()
    _event(contract, "created")
    return contract


@transaction.atomic
def contract_from_quote(*, quote: Quote, actor: User, data: dict | None = None) -> Contract:
    """A draft contract for an accepted quote: its customer, deal, currency and total."""
    ensure_can_change(actor, quote)
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    if quote.status != Quote.Status.ACCEPTED:
        raise ValidationError({"quote": [_("Only an accepted quote becomes a contract.")]})
    if quote.contracts.exclude(status=Contract.Status.TERMINATED).exists():
        raise ValidationError({"quote": [_("This quote already has a contract.")]})
    data = {
        "title": _("Contract for quote %(number)s") % {"number": quote.number},
        "start_date": timezone.localdate(),
        "terms": quote.terms,
        **(data or {}),
    }
    contract = Contract(
        owner=quote.owner,
        team_id=quote.team_id,
        created_by=actor,
        quote=quote,
        customer=quote.customer,
        deal=quote.deal,
        currency=quote.currency,
        value=quote.total,
    )
    _apply(contract, data, actor)
    _clean(contract, actor)
    contract.number = number_next(kind="contract")
    contract.save()
    _event(contract, "created")
    return contract


@transaction.atomic
def contract_update(*, contract: Contract, actor: User, data: dict) -> Contract:
    """Edit a draft or an active contract's dates (renewal); not while under review."""
    ensure_can_change(actor, contract)
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    approval_ensure_unlocked(record_type="contract", record_id=contract.pk)
    if contract.status == Contract.Status.ACTIVE:
        if set(data) - {"end_date", "renewal_date", "terms"}:
            raise ValidationError(
                {"status": [_("An active contract only changes its dates and terms.")]}
            )
    elif contract.status != Contract.Status.DRAFT:
        raise ValidationError({"status": [_("This contract can no longer be edited.")]})
    _apply(contract, data, actor)
    _clean(contract, actor)
    contract.save()
    _event(contract, "updated", changed=sorted(data))
    return contract


@transaction.atomic
def contract_submit_review(*, contract: Contract, actor: User) -> Contract:
    ensure_can_change(actor, contract)
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status != Contract.Status.DRAFT:
        raise ValidationError({"status": [_("Only a draft can be sent for review.")]})
    contract.status = Contract.Status.UNDER_REVIEW
    contract.save(update_fields=["status", "updated_at"])
    approval_request(
        record_type="contract",
        record_id=contract.pk,
        rule="contract_review",
        requested_by=actor,
        team_id=contract.team_id,
        reason=_("Review of contract %(number)s.") % {"number": contract.number},
    )
    _event(contract, "review_requested")
    return contract


def _on_decided(*, record_id: int, approved: bool, actor: User, request) -> None:
    contract = Contract.objects.select_for_update().get(pk=record_id)
    if contract.status != Contract.Status.UNDER_REVIEW:
        return
    if approved:
        contract.status = Contract.Status.ACTIVE
        contract.activated_at = timezone.now()
    else:
        contract.status = Contract.Status.DRAFT
    contract.save(update_fields=["status", "activated_at", "updated_at"])
    _event(
        contract,
        "activated" if approved else "review_rejected",
        decided_by_id=actor.pk,
        comment=request.comment,
    )


approval_on_decided("contract", _on_decided)


@transaction.atomic
def contract_terminate(*, contract: Contract, actor: User, now: datetime | None = None) -> Contract:
    ensure_can_change(actor, contract)
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status != Contract.Status.ACTIVE:
        raise ValidationError({"status": [_("Only an active contract can be terminated.")]})
    contract.status = Contract.Status.TERMINATED
    contract.ended_at = now or timezone.now()
    contract.save(update_fields=["status", "ended_at", "updated_at"])
    _event(contract, "terminated")
    return contract


def contracts_expire(*, today: date | None = None) -> int:
    """Active contracts past their end date become expired (beat, idempotent)."""
    today = today or timezone.localdate()
    count = 0
    for contract_id in Contract.objects.filter(
        status=Contract.Status.ACTIVE, end_date__lt=today
    ).values_list("pk", flat=True):
        with transaction.atomic():
            contract = Contract.objects.select_for_update().get(pk=contract_id)
            if contract.status == Contract.Status.ACTIVE:
                contract.status = Contract.Status.EXPIRED
                contract.ended_at = timezone.now()
                contract.save(update_fields=["status", "ended_at", "updated_at"])
                _event(contract, "expired")
                count += 1
    return count
