"""Reminders of lead to cash into the notification centre (beat task
`crm.lead_to_cash_sweep`, per company, idempotent through notify()'s dedupe keys):

- payment due: to the invoice's collections owner, `remind_days_before_due` days before
  each instalment's due date, and after it on days 1, 7, 14, 30, 60 and 90 while unpaid;
- contract ending / renewal: to the contract's owner, `remind_days_before_contract_end`
  days before its end or renewal date (once per date).
Also expires sent quotes and active contracts past their dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from ..models import Contract, Invoice, Notification
from ..money import round_money
from ..selectors.collections import open_instalments
from .contracts import contracts_expire
from .notifications import notify
from .products import sales_settings_get
from .quotes import quotes_expire

OVERDUE_DAYS = (1, 7, 14, 30, 60, 90)
TITLES = {
    "due_soon": gettext_lazy("Payment due %(date)s: %(invoice)s, %(amount)s"),
    "overdue": gettext_lazy("Payment overdue %(days)s days: %(invoice)s, %(amount)s"),
    "contract_end": gettext_lazy("Contract %(number)s ends on %(date)s"),
    "contract_renewal": gettext_lazy("Contract %(number)s renews on %(date)s"),
}
# Notification kinds of this area (Notification.kind is free text beyond its choices).
KIND_PAYMENT_DUE = Notification.Kind.PAYMENT_DUE
KIND_CONTRACT_DATE = Notification.Kind.CONTRACT_DATE


@dataclass
class SweepCounts:
    payment_reminders: int = 0
    contract_reminders: int = 0
    quotes_expired: int = 0
    contracts_expired: int = 0


def _title(user, key: str, **params) -> str:
    with translation.override(user.language or settings.LANGUAGE_CODE):
        return str(TITLES[key]) % params


def payment_reminders(*, today: date) -> int:
    before = sales_settings_get().remind_days_before_due
    created = 0
    instalments = (
        open_instalments()
        .filter(
            due_date__lte=today + timedelta(days=before),
            invoice__collections_owner__is_active=True,
        )
        .select_related("invoice", "invoice__collections_owner", "invoice__customer")
    )
    for instalment in instalments:
        invoice: Invoice = instalment.invoice
        owner = invoice.collections_owner
        owed = round_money(instalment.amount - instalment.paid_amount, invoice.currency)
        days = (today - instalment.due_date).days
        amount = f"{owed} {invoice.currency}"
        label = f"{invoice.number} ({invoice.customer.name})"
        if days <= 0:
            stage = "before"
            title = _title(
                owner,
                "due_soon",
                date=instalment.due_date.isoformat(),
                invoice=label,
                amount=amount,
            )
        else:
            passed = [mark for mark in OVERDUE_DAYS if mark <= days]
            if not passed:
                continue
            stage = f"after{passed[-1]}"
            title = _title(owner, "overdue", days=days, invoice=label, amount=amount)
        if notify(
            user=owner,
            kind=KIND_PAYMENT_DUE,
            title=title,
            record_type="invoice",
            record_id=invoice.pk,
            dedupe_key=f"payment_due:{instalment.pk}:{instalment.due_date:%Y%m%d}:{stage}",
        ):
            created += 1
    return created


def contract_reminders(*, today: date) -> int:
    horizon = today + timedelta(days=sales_settings_get().remind_days_before_contract_end)
    created = 0
    contracts = Contract.objects.filter(status=Contract.Status.ACTIVE, owner__is_active=True)
    for field, key in (("end_date", "contract_end"), ("renewal_date", "contract_renewal")):
        for contract in contracts.filter(
            **{f"{field}__gte": today, f"{field}__lte": horizon}
        ).select_related("owner"):
            when = getattr(contract, field)
            if notify(
                user=contract.owner,
                kind=KIND_CONTRACT_DATE,
                title=_title(contract.owner, key, number=contract.number, date=when.isoformat()),
                record_type="contract",
                record_id=contract.pk,
                dedupe_key=f"{key}:{contract.pk}:{when:%Y%m%d}",
            ):
                created += 1
    return created


def lead_to_cash_sweep(*, today: date | None = None) -> SweepCounts:
    today = today or timezone.localdate()
    return SweepCounts(
        quotes_expired=quotes_expire(today=today),
        contracts_expired=contracts_expire(today=today),
        payment_reminders=payment_reminders(today=today),
        contract_reminders=contract_reminders(today=today),
    )
