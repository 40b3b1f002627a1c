"""Operators' actions on a company, each written to the audit log in the same
transaction as the change it records (or right after a Stripe call succeeded)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from billing.models import BillingAccount, OperatorAction, Plan
from tenants.models import Tenant
from tenants.services import tenant_set_status

from .accounts import (
    account_cancel_now,
    account_change_plan,
    account_enforce_access,
    account_extend_trial,
)
from .plans import plan_save
from .seats import seat_sync_request, seat_sync_run

ACTIONS = (
    "extend_trial",
    "change_plan",
    "grant_free_seats",
    "suspend",
    "reactivate",
    "cancel",
    "sync_seats",
    "export",
    "purge",
)


def _audit(*, tenant: Tenant | None, operator, action: str, details: dict) -> OperatorAction:
    return OperatorAction.objects.create(
        tenant=tenant,
        tenant_label=f"{tenant.name} ({tenant.subdomain or tenant.schema_name})" if tenant else "",
        operator=operator.email,
        action=action,
        details=details,
    )


@transaction.atomic
def operator_plan_update(*, plan: Plan, operator, data: dict) -> Plan:
    """A plan's name, limits, trial and offer flags (its price stays: see plan_save)."""
    before = {key: getattr(plan, key) for key in data}
    plan = plan_save(plan=plan, price_per_user=plan.price_per_user, currency=plan.currency, **data)
    changes = {k: [before[k], getattr(plan, k)] for k in data if before[k] != getattr(plan, k)}
    _audit(
        tenant=None,
        operator=operator,
        action="plan_changed",
        details={"plan": plan.code, **changes},
    )
    return plan


def _account(tenant: Tenant) -> BillingAccount:
    account = BillingAccount.objects.select_related("plan", "tenant").filter(tenant=tenant).first()
    if account is None:
        raise ValidationError(_("This company has no billing account yet."))
    return account


def operator_extend_trial(*, tenant: Tenant, operator, days: int) -> BillingAccount:
    if not 1 <= days <= 365:
        raise ValidationError({"days": [_("Between 1 and 365 days.")]})
    account = account_extend_trial(account=_account(tenant), days=days)
    _audit(
        tenant=tenant,
        operator=operator,
        action="extend_trial",
        details={"days": days, "trial_ends_at": account.trial_ends_at.isoformat()},
    )
    return account


def operator_change_plan(*, tenant: Tenant, operator, plan: Plan) -> BillingAccount:
    account = _account(tenant)
    before = account.plan.code
    account = account_change_plan(account=account, plan=plan)
    _audit(
        tenant=tenant,
        operator=operator,
        action="change_plan",
        details={"from": before, "to": plan.code},
    )
    return account


@transaction.atomic
def operator_grant_free_seats(*, tenant: Tenant, operator, seats: int) -> BillingAccount:
    if not 0 <= seats <= 10000:
        raise ValidationError({"seats": [_("Between 0 and 10000.")]})
    account = BillingAccount.objects.select_for_update().get(pk=_account(tenant).pk)
    before = account.free_seats
    account.free_seats = seats
    account.save(update_fields=["free_seats", "updated_at"])
    seat_sync_request(tenant_id=tenant.pk)
    _audit(
        tenant=tenant,
        operator=operator,
        action="grant_free_seats",
        details={"from": before, "to": seats},
    )
    return account


@transaction.atomic
def operator_suspend(*, tenant: Tenant, operator, reason: str = "") -> Tenant:
    before = tenant.status
    tenant_set_status(tenant=tenant, status=Tenant.Status.SUSPENDED)
    _audit(
        tenant=tenant,
        operator=operator,
        action="suspend",
        details={"from": before, "reason": reason},
    )
    return tenant


@transaction.atomic
def operator_reactivate(*, tenant: Tenant, operator) -> Tenant:
    """Lift a suspension: the company gets the state its subscription allows."""
    before = tenant.status
    tenant_set_status(tenant=tenant, status=Tenant.Status.ACTIVE)
    account = BillingAccount.objects.filter(tenant=tenant).first()
    if account is not None:
        tenant = account_enforce_access(account=account)
    _audit(
        tenant=tenant,
        operator=operator,
        action="reactivate",
        details={"from": before, "to": tenant.status},
    )
    return tenant


def operator_sync_seats(*, tenant: Tenant, operator) -> BillingAccount:
    """Run a stuck or failing seat sync now (a Stripe error is shown and recorded)."""
    account = _account(tenant)
    before = account.seats_synced
    try:
        account = seat_sync_run(tenant_id=tenant.pk)
    finally:
        account.refresh_from_db()
        _audit(
            tenant=tenant,
            operator=operator,
            action="sync_seats",
            details={"from": before, "to": account.seats_synced, "state": account.seat_sync_state},
        )
    return account


def operator_cancel(*, tenant: Tenant, operator) -> BillingAccount:
    account = account_cancel_now(account=_account(tenant))
    _audit(tenant=tenant, operator=operator, action="cancel", details={})
    return account


def _export_models():
    """Every model of the company's own data (its tenant apps), users without passwords."""
    for label in ("accounts", "crm_core", "customization", "webhooks"):
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        yield from config.get_models()


def operator_export(*, tenant: Tenant, operator) -> bytes:
    """A zip of JSON Lines, one file per table of the company's data."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, tenant_context(tenant):
        for model in _export_models():
            fields = [f.attname for f in model._meta.concrete_fields if f.attname != "password"]
            if "key_hash" in fields:
                fields.remove("key_hash")
            lines = (
                json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False)
                for row in model.objects.values(*fields).iterator()
            )
            archive.writestr(f"{model._meta.db_table}.jsonl", "\n".join(lines))
    _audit(tenant=tenant, operator=operator, action="export", details={"bytes": buffer.tell()})
    return buffer.getvalue()


def purge_allowed_at(tenant: Tenant):
    account = BillingAccount.objects.filter(tenant=tenant).first()
    canceled_at = account.canceled_at if account else None
    if tenant.status != Tenant.Status.CANCELLED or canceled_at is None:
        return None
    return canceled_at + timedelta(days=settings.BILLING_RETENTION_DAYS)


@transaction.atomic
def operator_purge(*, tenant: Tenant, operator, confirm: str) -> None:
    """Delete a cancelled company and its schema once the retention period is over; the
    operator confirms by typing the subdomain. The audit row keeps the company's name."""
    allowed_at = purge_allowed_at(tenant)
    if allowed_at is None:
        raise ValidationError(_("Only a cancelled company can be deleted."))
    if allowed_at > timezone.now():
        raise ValidationError(
            _("The data is kept until %(day)s.") % {"day": allowed_at.date().isoformat()}
        )
    if confirm != tenant.subdomain:
        raise ValidationError({"confirm": [_("Type the subdomain to confirm.")]})
    _audit(tenant=tenant, operator=operator, action="purge", details={"schema": tenant.schema_name})
    tenant.delete(force_drop=True)
