"""Writes on quotes: create and edit drafts, submit (discount approval), send (PDF by
e-mail after commit), the customer's answer, revisions, expiry.

Statuses: draft -> (pending_approval ->) approved -> sent -> accepted | rejected |
expired. A quote whose discount is above the company's limit waits for a manager's
decision (services/approvals.py) and cannot be sent before it is approved.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Perm, has_perm

from ..models import Deal, Quote, QuoteLine
from ..records import can_see, ensure_can_change, record_apply, record_event, validate_model
from .approvals import (
    approval_cancel,
    approval_ensure_unlocked,
    approval_on_decided,
    approval_request,
)
from .numbering import number_next
from .products import currency_errors, price_list_for, sales_settings_get
from .sales_lines import line_input, lines_build, lines_totals

EDITABLE_FIELDS = (
    "customer",
    "deal",
    "contact",
    "price_list",
    "currency",
    "language",
    "valid_until",
    "total_discount_percent",
    "terms",
    "owner",
)
RESENDABLE = (Quote.Status.APPROVED, Quote.Status.SENT)
REVISABLE = (
    Quote.Status.APPROVED,
    Quote.Status.SENT,
    Quote.Status.REJECTED,
    Quote.Status.EXPIRED,
)


def _locked(quote: Quote) -> Quote:
    return (
        Quote.objects.select_for_update(of=("self",))
        .select_related("customer", "deal")
        .get(pk=quote.pk)
    )


def _check_links(quote: Quote, actor: User, errors: dict) -> None:
    if quote.customer_id and not can_see(actor, quote.customer):
        errors["customer"] = [_("Choose a customer you can see.")]
    if quote.deal_id:
        if not can_see(actor, quote.deal):
            errors["deal"] = [_("Choose a deal you can see.")]
        elif quote.deal.customer_id and quote.deal.customer_id != quote.customer_id:
            errors["deal"] = [_("This deal belongs to another customer.")]
    if quote.contact_id and quote.contact.customer_id not in (None, quote.customer_id):
        errors["contact"] = [_("This contact belongs to another customer.")]
    if quote.price_list_id and quote.price_list.currency != quote.currency:
        errors["price_list"] = [_("Choose a price list in the quote's currency.")]


def _fill(quote: Quote, *, actor: User, data: dict, today: date) -> list[QuoteLine]:
    """Apply `data` (with "lines"), validate everything, compute the totals."""
    data = dict(data)
    lines = data.pop("lines", None)
    if (
        "owner" in data
        and data["owner"] != quote.owner
        and not has_perm(actor, Perm.REASSIGN_RECORDS)
    ):
        raise PermissionDenied
    record_apply(quote, data, editable=EDITABLE_FIELDS)
    if "owner" in data and quote.owner_id:
        quote.team_id = quote.owner.team_id
    if quote.deal_id and not quote.customer_id:
        quote.customer_id = quote.deal.customer_id
    settings = sales_settings_get()
    if quote.valid_until is None:
        quote.valid_until = today + timedelta(days=settings.quote_validity_days)
    quote.currency = (quote.currency or (quote.deal.currency if quote.deal_id else "")).strip()
    errors = currency_errors(quote.currency)
    if not quote.customer_id:
        errors["customer"] = [_("Choose a customer.")]
    else:
        _check_links(quote, actor, errors)
    if quote.price_list_id is None and not errors.get("currency"):
        quote.price_list = price_list_for(
            customer_id=quote.customer_id, currency=quote.currency, on=today
        )
    discount = quote.total_discount_percent
    if discount is None or not (0 <= discount <= 100):
        errors["total_discount_percent"] = [_("Enter a percent between 0 and 100.")]
    if lines is None:  # an edit without lines keeps them
        lines = [line_input(line) for line in quote.lines.all()] if quote.pk else []
    built = lines_build(
        QuoteLine,
        lines,
        currency=quote.currency if not errors.get("currency") else "XXX",
        price_list=quote.price_list,
        default_tax_rate=settings.default_tax_rate,
        errors=errors,
    )
    validate_model(quote, errors, exclude=["number", "customer", "owner", "created_by"])
    totals = lines_totals(
        built, currency=quote.currency, total_discount_percent=quote.total_discount_percent
    )
    quote.gross_amount = totals.gross
    quote.subtotal = totals.subtotal
    quote.total_discount = totals.total_discount
    quote.tax_amount = totals.tax
    quote.total = totals.total
    quote.effective_discount_percent = totals.effective_discount_percent
    return built


def _save_lines(quote: Quote, lines: list[QuoteLine]) -> None:
    quote.lines.all().delete()
    for line in lines:
        line.quote = quote
    QuoteLine.objects.bulk_create(lines)


def quote_payload(quote: Quote) -> dict:
    return {
        "number": quote.number,
        "version": quote.version,
        "status": quote.status,
        "customer_id": quote.customer_id,
        "deal_id": quote.deal_id,
        "currency": quote.currency,
        "total": str(quote.total),
        "effective_discount_percent": str(quote.effective_discount_percent),
        "owner_id": quote.owner_id,
    }


def _event(quote: Quote, action: str, **extra) -> None:
    record_event(
        record_type="quote", action=action, record=quote, payload={**quote_payload(quote), **extra}
    )


@transaction.atomic
def quote_create(*, actor: User, data: dict, today: date | None = None) -> Quote:
    """A draft quote (from a deal: its customer and currency), numbered per company."""
    if not has_perm(actor, Perm.CHANGE_RECORDS):
        raise PermissionDenied
    today = today or timezone.localdate()
    data = dict(data)
    deal = data.get("deal")
    if isinstance(deal, Deal):
        data.setdefault("customer", deal.customer)
        data.setdefault("contact", deal.contact)
        data.setdefault("currency", deal.currency)
    if data.get("language") is None and data.get("customer") is not None:
        data["language"] = quote_language_for(data["customer"])
    quote = Quote(owner=actor, team_id=actor.team_id, created_by=actor)
    lines = _fill(quote, actor=actor, data=data, today=today)
    quote.number = number_next(kind="quote")
    quote.team_id = quote.owner.team_id if quote.owner_id else actor.team_id
    quote.save()
    _save_lines(quote, lines)
    _event(quote, "created")
    return quote


_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_COUNTRY_LANGUAGES = {
    "CN": Quote.Language.ZH_HANS,
    "中国": Quote.Language.ZH_HANS,
    "JP": Quote.Language.JA,
    "日本": Quote.Language.JA,
}


def quote_language_for(customer) -> str:
    """The customer's language, as far as its record tells: the country of an address,
    else the script of its name (kana: Japanese; Chinese characters only: Chinese)."""
    for address in customer.addresses or []:
        country = str((address or {}).get("country", "")).strip().upper()
        if country in _COUNTRY_LANGUAGES:
            return _COUNTRY_LANGUAGES[country]
    if _KANA.search(customer.name) or "株式会社" in customer.name:
        return Quote.Language.JA
    if _HAN.search(customer.name):
        return Quote.Language.ZH_HANS
    return Quote.Language.EN


def quote_preview(*, actor: User, data: dict, today: date | None = None) -> Quote:
    """The quote `data` would make, with its totals, unsaved: what the form shows while
    the rep types."""
    quote = Quote(owner=actor, team_id=actor.team_id)
    data = dict(data)
    if isinstance(data.get("deal"), Deal) and not data.get("customer"):
        data["customer"] = data["deal"].customer
    _fill(quote, actor=actor, data=data, today=today or timezone.localdate())
    return quote


@transaction.atomic
def quote_update(*, quote: Quote, actor: User, data: dict, today: date | None = None) -> Quote:
    """Edit a draft. Anything further along is changed by a new version (quote_revise)."""
    ensure_can_change(actor, quote)
    quote = _locked(quote)
    approval_ensure_unlocked(record_type="quote", record_id=quote.pk)
    if quote.status != Quote.Status.DRAFT:
        raise ValidationError({"status": [_("Only a draft can be edited; revise the quote.")]})
    lines = _fill(quote, actor=actor, data=data, today=today or timezone.localdate())
    quote.save()
    _save_lines(quote, lines)
    _event(quote, "updated")
    return quote


def quote_approval_process(quote: Quote):
    """The approval process the quote must go through (the company's "quote discount"
    process, or any other whose entry criteria it meets), or None."""
    from customization.approvals.services import approval_process_for  # it reads quotes

    return approval_process_for(entity="quote", record=quote)


def quote_needs_approval(quote: Quote) -> bool:
    return quote_approval_process(quote) is not None


@transaction.atomic
def quote_submit(*, quote: Quote, actor: User) -> Quote:
    """Finish a draft: approved at once, or pending approval when an approval process
    applies to it (by default: its discount is above the company's limit)."""
    ensure_can_change(actor, quote)
    quote = _locked(quote)
    if quote.status != Quote.Status.DRAFT:
        raise ValidationError({"status": [_("Only a draft can be submitted.")]})
    process = quote_approval_process(quote)
    if process is not None:
        quote.status = Quote.Status.PENDING_APPROVAL
        quote.save(update_fields=["status", "updated_at"])
        approval_request(
            record_type="quote",
            record_id=quote.pk,
            rule=process.template or "process",
            process=process,
            steps=process.steps,
            remind_after_hours=process.remind_after_hours,
            requested_by=actor,
            team_id=quote.team_id,
            reason=_("%(process)s: discount %(discount)s%%")
            % {"process": process.name, "discount": quote.effective_discount_percent.normalize()},
        )
        _event(quote, "approval_requested")
    else:
        quote.status = Quote.Status.APPROVED
        quote.save(update_fields=["status", "updated_at"])
        _event(quote, "approved")
    return quote


def _on_decided(*, record_id: int, approved: bool, actor: User, request) -> None:
    """The approval's decision: approved, or back to draft with the manager's comment."""
    quote = Quote.objects.select_for_update().get(pk=record_id)
    if quote.status != Quote.Status.PENDING_APPROVAL:
        return
    quote.status = Quote.Status.APPROVED if approved else Quote.Status.DRAFT
    quote.save(update_fields=["status", "updated_at"])
    _event(
        quote,
        "approved" if approved else "approval_rejected",
        decided_by_id=actor.pk,
        comment=request.comment,
    )


approval_on_decided("quote", _on_decided)


@transaction.atomic
def quote_send(*, quote: Quote, actor: User, to: str = "", now: datetime | None = None) -> Quote:
    """Send the quote's PDF by e-mail (after commit, by the outbox handler). A draft
    within the discount limit is approved on the way; otherwise it must be approved."""
    ensure_can_change(actor, quote)
    quote = _locked(quote)
    if quote.status == Quote.Status.DRAFT:
        if quote_needs_approval(quote):
            raise ValidationError(
                {"status": [_("Its discount needs a manager's approval: request it first.")]}
            )
        quote = quote_submit(quote=quote, actor=actor)
    if quote.status == Quote.Status.PENDING_APPROVAL:
        raise ValidationError(
            {"status": [_("This quote waits for a manager's approval of its discount.")]}
        )
    if quote.status not in RESENDABLE:
        raise ValidationError({"status": [_("This quote cannot be sent any more.")]})
    now = now or timezone.now()
    if quote.valid_until and quote.valid_until < timezone.localdate(now):
        raise ValidationError({"valid_until": [_("Its validity has passed: revise the quote.")]})
    to = (to or "").strip() or _default_recipient(quote)
    try:
        validate_email(to)
    except ValidationError:
        raise ValidationError(
            {"to": [_("Enter the e-mail address to send the quote to.")]}
        ) from None
    quote.status = Quote.Status.SENT
    quote.sent_at = now
    quote.sent_to = to
    quote.emailed_at = None
    quote.save(update_fields=["status", "sent_at", "sent_to", "emailed_at", "updated_at"])
    _event(quote, "sent", to=to)
    return quote


def _default_recipient(quote: Quote) -> str:
    if quote.contact_id and quote.contact.emails:
        return quote.contact.emails[0]
    return quote.customer.email


@transaction.atomic
def quote_answer(*, quote: Quote, actor: User, accepted: bool, now: datetime | None = None):
    """Record the customer's answer to a sent quote."""
    ensure_can_change(actor, quote)
    quote = _locked(quote)
    if quote.status != Quote.Status.SENT:
        raise ValidationError({"status": [_("Only a sent quote can be accepted or rejected.")]})
    quote.status = Quote.Status.ACCEPTED if accepted else Quote.Status.REJECTED
    quote.decided_at = now or timezone.now()
    quote.save(update_fields=["status", "decided_at", "updated_at"])
    _event(quote, "accepted" if accepted else "rejected")
    return quote


@transaction.atomic
def quote_revise(*, quote: Quote, actor: User, today: date | None = None) -> Quote:
    """A new draft version with the same number and lines; the old one stays as it was."""
    ensure_can_change(actor, quote)
    quote = _locked(quote)
    if not quote.is_current:
        raise ValidationError({"status": [_("Revise the latest version.")]})
    if quote.status not in REVISABLE:
        raise ValidationError({"status": [_("Edit the draft instead.")]})
    today = today or timezone.localdate()
    approval_cancel(record_type="quote", record_id=quote.pk)
    lines = [line_input(line) for line in quote.lines.select_related("product")]
    Quote.objects.filter(pk=quote.pk).update(is_current=False)
    revision = Quote(
        number=quote.number,
        version=quote.version + 1,
        previous=quote,
        customer=quote.customer,
        deal=quote.deal,
        contact=quote.contact,
        price_list=quote.price_list,
        currency=quote.currency,
        language=quote.language,
        total_discount_percent=quote.total_discount_percent,
        terms=quote.terms,
        owner=quote.owner,
        team=quote.team,
        created_by=actor,
    )
    built = _fill(revision, actor=actor, data={"lines": lines}, today=today)
    revision.save()
    _save_lines(revision, built)
    _event(revision, "revised", previous_id=quote.pk)
    return revision


def quotes_expire(*, today: date | None = None) -> int:
    """Sent quotes past their validity date become expired (beat, idempotent)."""
    today = today or timezone.localdate()
    expired = 0
    for quote_id in Quote.objects.filter(
        status=Quote.Status.SENT, valid_until__lt=today
    ).values_list("pk", flat=True):
        with transaction.atomic():
            quote = Quote.objects.select_for_update().get(pk=quote_id)
            if quote.status == Quote.Status.SENT:
                quote.status = Quote.Status.EXPIRED
                quote.save(update_fields=["status", "updated_at"])
                _event(quote, "expired")
                expired += 1
    return expired
