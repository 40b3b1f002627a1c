"""Writes about plans: operator-defined, mirrored to Stripe products and prices."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from billing import gateway
from billing.models import Plan


def plan_default() -> Plan:
    """The plan new companies start on (a 'Standard' plan is created the first time)."""
    plan = Plan.objects.filter(is_default=True, is_active=True).first()
    if plan is None:
        plan = Plan.objects.filter(is_active=True).first()
    if plan is None:
        plan, _created = Plan.objects.get_or_create(
            code="standard",
            defaults={
                "name": "Standard",
                "price_per_user": 1500,
                "currency": settings.BILLING_CURRENCY,
                "trial_days": settings.TENANT_TRIAL_DAYS,
                "is_default": True,
            },
        )
    return plan


@transaction.atomic
def plan_save(
    *,
    name: str,
    price_per_user: int,
    currency: str = "",
    trial_days: int = 30,
    max_users: int | None = None,
    max_custom_fields: int | None = None,
    api_rate_per_minute: int = 600,
    is_active: bool = True,
    is_default: bool = False,
    code: str = "",
    plan: Plan | None = None,
) -> Plan:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Give the plan a name.")]
    if price_per_user is None or price_per_user < 0:
        errors["price_per_user"] = [_("Enter a price of zero or more.")]
    currency = (currency or settings.BILLING_CURRENCY).lower()
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = [_("Enter a three-letter currency code.")]
    code = plan.code if plan else slugify(code or name)[:40]
    if not plan and code and Plan.objects.filter(code=code).exists():
        errors["code"] = [_("A plan with this code already exists.")]
    if errors:
        raise ValidationError(errors)
    plan = plan or Plan(code=code)
    plan.name, plan.price_per_user, plan.currency = name, price_per_user, currency
    plan.trial_days, plan.max_users, plan.max_custom_fields = (
        trial_days,
        max_users,
        max_custom_fields,
    )
    plan.api_rate_per_minute, plan.is_active, plan.is_default = (
        api_rate_per_minute,
        is_active,
        is_default,
    )
    plan.save()
    if is_default:
        Plan.objects.exclude(pk=plan.pk).update(is_default=False)
    return plan


def plan_sync_stripe(*, plan: Plan) -> Plan:
    """Make sure Stripe has the plan's product and its current price. Idempotent: the
    idempotency keys name the plan and amount, so a retry never makes a second price."""
    if not gateway.enabled():
        return plan
    price_for = f"{plan.price_per_user}-{plan.currency}"
    fields = []
    if not plan.stripe_product_id:
        plan.stripe_product_id = gateway.product_create(name=plan.name, code=plan.code)
        fields.append("stripe_product_id")
    if plan.stripe_price_for != price_for or not plan.stripe_price_id:
        plan.stripe_price_id = gateway.price_create(
            product_id=plan.stripe_product_id,
            code=plan.code,
            amount=plan.price_per_user,
            currency=plan.currency,
        )
        plan.stripe_price_for = price_for
        fields += ["stripe_price_id", "stripe_price_for"]
    if fields:
        plan.save(update_fields=[*fields, "updated_at"])
    return plan
